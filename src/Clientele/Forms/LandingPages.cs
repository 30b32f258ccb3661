using Clientele.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Forms;

/// <summary>
/// <c>GET /p/{slug}</c>: a landing page. A new visitor is given a variant in proportion to the weights (or the
/// promoted winner) and keeps it (a cookie); the first view counts once per visitor, and a submission of the page's
/// form counts as the variant's conversion.
/// </summary>
internal static class LandingPages
{
    public static IEndpointRouteBuilder MapLandingPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/p/{slug}", ShowAsync).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> ShowAsync(string slug, HttpContext http, ClienteleDb db, IDataProtectionProvider protection, TimeProvider time, CancellationToken ct)
    {
        var page = await db.LandingPages.AsNoTracking().Include(p => p.Variants).FirstOrDefaultAsync(p => p.Slug == slug && p.Active, ct);
        var form = page is null ? null : await db.Forms.AsNoTracking().FirstOrDefaultAsync(f => f.Id == page.FormId && f.Active, ct);
        if (page is null || form is null || page.Variants.Count == 0)
        {
            return PublicForms.NotFound();
        }
        var cookie = "lp_" + page.Slug;
        var variants = page.Variants.OrderBy(v => v.Key, StringComparer.Ordinal).ToList();
        var shown = page.WinnerKey is { } winner ? variants.FirstOrDefault(v => v.Key == winner) : null;
        if (shown is null && http.Request.Cookies[cookie] is { } seen)
        {
            shown = variants.FirstOrDefault(v => v.Key == seen);
        }
        if (shown is null)
        {
            var key = AbTest.Pick([.. variants.Select(v => (v.Key, v.Weight))], Random.Shared.NextDouble());
            shown = variants.First(v => v.Key == key);
            await db.LandingVariants.Where(v => v.Id == shown.Id).ExecuteUpdateAsync(s => s.SetProperty(v => v.Views, v => v.Views + 1), ct);
            http.Response.Cookies.Append(cookie, shown.Key, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, MaxAge = TimeSpan.FromDays(90), IsEssential = true });
        }
        // Signed, so a conversion can only be credited to the variant the visitor was shown.
        var carried = new Dictionary<string, string> { ["_lp"] = PublicForms.VariantToken(protection, shown.Id) };
        foreach (var (k, v) in http.Request.Query)
        {
            if (k.StartsWith("utm_", StringComparison.Ordinal) && v.ToString() is { Length: > 0 } value)
            {
                carried[k] = value;
            }
        }
        if (http.Request.Headers.Referer.ToString() is { Length: > 0 } referrer)
        {
            carried["_referrer"] = referrer;
        }
        if (Referrals.ReferralLinks.Incoming(http.Request) is { } referralCode)
        {
            carried[Referrals.ReferralLinks.Field] = referralCode;
        }
        var body = $"<article>{SafeHtml.FromMarkdown(shown.Content)}</article>"
            + PublicForms.FormHtml(form, new Dictionary<string, string>(), new Dictionary<string, string>(), carried, PublicForms.NewTimeToken(protection, time), embed: false);
        return PublicForms.HtmlResult(StatusCodes.Status200OK, PublicForms.Page(shown.Title.Length > 0 ? shown.Title : page.Name, body, embed: false));
    }
}
