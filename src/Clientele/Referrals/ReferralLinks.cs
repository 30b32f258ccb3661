using Clientele.Data;
using Clientele.Events;
using Clientele.Forms;
using Clientele.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Referrals;

/// <summary>
/// <c>GET /r/{code}</c>: a referrer's link. It records the click on the referrer's timeline (nothing about the visitor),
/// remembers the code in a first-party cookie for the attribution window and redirects (302) to the programme's
/// landing with <c>?ref={code}</c>, so a hosted form keeps it in a hidden field. The destination comes from the
/// settings alone — nothing in the request can change it — so the link is no open redirect.
/// </summary>
internal static class ReferralLinks
{
    /// <summary>The cookie that remembers which link a visitor came by.</summary>
    public const string Cookie = "clientele_ref";

    /// <summary>The hidden field a hosted form carries the code in.</summary>
    public const string Field = "_ref";

    public static void MapReferralLinks(WebApplication app) =>
        app.MapGet("/r/{code}", VisitAsync).AllowAnonymous().ExcludeFromDescription();

    /// <summary>The code a visitor of a form or landing page brings: <c>?ref=</c>, else the cookie from a link followed earlier.</summary>
    public static string? Incoming(HttpRequest request) =>
        ReferralRules.NormalizeCode(request.Query["ref"]) ?? ReferralRules.NormalizeCode(request.Cookies[Cookie]);

    /// <summary>The code a form submission carries: its hidden field, else the cookie.</summary>
    public static string? Submitted(string? field, HttpRequest request) =>
        ReferralRules.NormalizeCode(field) ?? ReferralRules.NormalizeCode(request.Cookies[Cookie]);

    private static async Task<IResult> VisitAsync(string code, HttpContext http, ClienteleDatabase database, EventSignal signal, TimeProvider time,
        CancellationToken ct)
    {
        http.Response.Headers.CacheControl = "no-store";
        var now = time.GetUtcNow().UtcDateTime;
        var normalized = ReferralRules.NormalizeCode(code);
        await using var db = database.CreateDbContext();
        var referrer = normalized is null ? null : await db.ReferralCodes.AsNoTracking().Where(c => c.Code == normalized)
            .Join(db.Contacts.Where(c => c.DeletedAt == null), r => r.ContactId, c => c.Id, (r, c) => (Guid?)c.Id).FirstOrDefaultAsync(ct);
        if (referrer is not { } referrerId)
        {
            return PublicForms.HtmlResult(StatusCodes.Status404NotFound, PublicForms.Page("Link not found",
                "<p>This referral link is not one we know. Please check the address, or ask the friend who sent it for their link again.</p>", false));
        }
        var program = await SettingsStore.LoadAsync(db, ReferralProgram.Key, ReferralProgram.Default, ct);
        var hosts = program.AllowedHosts.Select(ReferralRules.NormalizeHost).OfType<string>().ToList();
        if (!program.Enabled || program.Landing is not { Length: > 0 } landing || ReferralRules.WhyNotLanding(landing, hosts) is not null)
        {
            return PublicForms.HtmlResult(StatusCodes.Status404NotFound, PublicForms.Page("Link not active",
                "<p>This referral link is not active at the moment. Please try again later.</p>", false));
        }
        // Link previews in chat apps and mail scanners follow the link too; only people count as clicks.
        if (!MachineActivity.IsMachine("referral.clicked", http.Request.Headers.UserAgent.ToString(), null, null, now))
        {
            using (await database.EnterWriteAsync(ct))
            {
                await using var tx = await db.Database.BeginTransactionAsync(ct);
                await db.ReferralCodes.Where(c => c.ContactId == referrerId)
                    .ExecuteUpdateAsync(s => s.SetProperty(c => c.Clicks, c => c.Clicks + 1).SetProperty(c => c.LastClickedAt, now), ct);
                db.Events.Add(Event.Recorded(referrerId, "referral.clicked", ReferralProjection.ConsumerName, $"referral.clicked:{Guid.CreateVersion7():N}",
                    new { code = normalized, landing }, now));
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
            }
            signal.Notify();
        }
        http.Response.Cookies.Append(Cookie, normalized!, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = http.Request.IsHttps,
            MaxAge = TimeSpan.FromDays(program.WindowDays),
            IsEssential = true,
            Path = "/",
        });
        return Results.Redirect(ReferralRules.Destination(landing, normalized!));
    }
}
