using Clientele.Accounts;
using Clientele.Api;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Referrals;

/// <summary><c>/api/v1/referrals</c>: the programme's settings, the referrals with their status, the leaderboard; and each contact's code and link.</summary>
internal static class ReferralsApi
{
    public static RouteGroupBuilder MapReferrals(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/referrals").WithTags("Referrals");
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Referrals, newest first, with status (signedUp, converted, rewarded, rejected), the reason of a rejection and each side's reward; ?status=, ?referrerId=, ?limit=, ?cursor=");
        group.MapGet("/program", ProgramAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("The programme's settings");
        group.MapPut("/program", SaveProgramAsync).RequireAuthorization(ApiKeys.AdminPolicy).Accepts<ReferralProgram>("application/json")
            .WithSummary("Change the programme: {\"enabled\", \"landing\", \"allowedHosts\", \"friendOfferId\", \"referrerOfferId\", \"minOrderTotal\", \"maxPerPeriod\", \"periodDays\", \"maxTotal\", \"windowDays\"}");
        group.MapGet("/leaderboard", LeaderboardAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Top advocates by converted friends, then their friends' revenue; ?days= or ?from=&to= for a period, ?limit=");
        api.MapGet("/contacts/{id:guid}/referral", ContactAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithTags("Referrals")
            .WithSummary("The contact's referral code and link (made on first request), clicks, friends and who referred them");
        return api;
    }

    private const int MaxPage = 200;

    internal sealed record ReferralPage(List<ReferralDto> Items, string? Next);

    private static async Task<IResult> ListAsync(ClienteleDb db, string? status, Guid? referrerId, string? cursor, int? limit, CancellationToken ct)
    {
        var wanted = ReferralReports.ParseStatus(status);
        if (status is not null && wanted is null)
        {
            return ApiProblems.BadRequest($"\"{status}\" is not a status: signedUp, converted, rewarded or rejected.", "query:status");
        }
        DateTime? before = null;
        Guid? beforeId = null;
        if (cursor is not null)
        {
            if (!Cursor.TryRead(cursor, out var at, out var id))
            {
                return ApiProblems.BadRequest("The cursor is not one this API returned. Start again without it.", "query:cursor");
            }
            (before, beforeId) = (at, id);
        }
        var size = Math.Clamp(limit ?? 50, 1, MaxPage);
        var rows = await ReferralReports.ListAsync(db, wanted, referrerId, before, beforeId, size + 1, ct);
        var next = rows.Count > size ? Cursor.Write(rows[size - 1].SignedUpAt, rows[size - 1].Id) : null;
        return TypedResults.Ok(new ReferralPage(rows.Take(size).ToList(), next));
    }

    private static async Task<IResult> ProgramAsync(ClienteleDb db, CancellationToken ct) =>
        TypedResults.Ok(await SettingsStore.LoadAsync(db, ReferralProgram.Key, ReferralProgram.Default, ct));

    /// <summary>Checks programme settings against the forms, pages and offers there are; returns them ready to store, or the problems.</summary>
    internal static async Task<(ReferralProgram Program, List<FieldError> Errors)> CheckAsync(ClienteleDb db, ReferralProgram input, CancellationToken ct)
    {
        var program = input with
        {
            Landing = string.IsNullOrWhiteSpace(input.Landing) ? null : input.Landing.Trim(),
            AllowedHosts = input.AllowedHosts.Select(h => ReferralRules.NormalizeHost(h) ?? h).Distinct(StringComparer.Ordinal).ToList(),
        };
        var forms = (await db.Forms.AsNoTracking().Where(f => f.Active).Select(f => f.Slug).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        var pages = (await db.LandingPages.AsNoTracking().Where(p => p.Active).Select(p => p.Slug).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        var offers = (await db.Offers.AsNoTracking().Where(o => !o.Archived).Select(o => o.Id).ToListAsync(ct)).ToHashSet();
        return (program, ReferralRules.Check(program, forms, pages, offers));
    }

    private static async Task<IResult> SaveProgramAsync(HttpRequest request, ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<ReferralProgram>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        await using var db = database.CreateDbContext();
        var (program, errors) = await CheckAsync(db, input! with { AllowedHosts = input.AllowedHosts ?? [] }, ct);
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        using (await database.EnterWriteAsync(ct))
        {
            await SettingsStore.SaveAsync(db, ReferralProgram.Key, program, time.GetUtcNow().UtcDateTime, ct);
        }
        return TypedResults.Ok(program);
    }

    private static async Task<IResult> LeaderboardAsync(ClienteleDb db, TimeProvider time, int? days, DateTime? from, DateTime? to, int? limit, CancellationToken ct)
    {
        if (days is not null && (from is not null || to is not null))
        {
            return ApiProblems.BadRequest("Give either days or from and to, not both.", "query:days");
        }
        if (days is < 1 or > 3650)
        {
            return ApiProblems.BadRequest("Between 1 and 3,650 days.", "query:days");
        }
        if (from is { } f && to is { } t && f >= t)
        {
            return ApiProblems.BadRequest("from comes before to.", "query:from");
        }
        if (days is { } d)
        {
            from = time.GetUtcNow().UtcDateTime.AddDays(-d);
        }
        var board = await ReferralReports.LeaderboardAsync(db, from?.ToUniversalTime(), to?.ToUniversalTime(), Math.Clamp(limit ?? 20, 1, 100), ct);
        return TypedResults.Ok(new { from, to, items = board });
    }

    private static async Task<IResult> ContactAsync(Guid id, ClienteleDatabase database, MailLinks links, TimeProvider time, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        if (!await db.Contacts.AnyAsync(c => c.Id == id && c.DeletedAt == null, ct))
        {
            return ApiProblems.NotFound($"No contact has the id {id}.");
        }
        var code = await ReferralCodes.EnsureAsync(database, id, time.GetUtcNow().UtcDateTime, ct);
        return TypedResults.Ok(await ReferralReports.ForContactAsync(db, id, code, ReferralCodes.Link(links.BaseUrl, code), ct));
    }
}
