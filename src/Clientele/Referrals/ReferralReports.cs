using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Referrals;

internal sealed record ReferralPartyDto(Guid Id, string? Email, string Name);

/// <summary>One side's reward: <c>issued</c> (with the coupon's code), <c>refused</c> (with the reason), <c>pending</c> (the friend has not ordered yet, or no order has reached the minimum) or <c>none</c>.</summary>
internal sealed record ReferralRewardDto(string Status, string? CouponCode, string? Reason);

internal sealed record ReferralDto(Guid Id, string Status, string? Reason, string Code, string Source, ReferralPartyDto Referrer, ReferralPartyDto Friend,
    DateTime? ClickedAt, DateTime SignedUpAt, DateTime? FirstOrderAt, string? FirstOrderId, ReferralRewardDto FriendReward, ReferralRewardDto ReferrerReward);

internal sealed record ReferralRevenue(string Currency, decimal Amount, int Orders);

/// <summary>One advocate on the leaderboard, with what their friends did in the period.</summary>
internal sealed record AdvocateDto(int Rank, ReferralPartyDto Referrer, string? Code, int Clicks, int Friends, int Converted, int Rewarded, int Rejected,
    List<ReferralRevenue> Revenue);

/// <summary>The referral list and the leaderboard, read the same way by the API and the page.</summary>
internal static class ReferralReports
{
    public static string StatusName(ReferralStatus status) => status switch
    {
        ReferralStatus.SignedUp => "signedUp",
        ReferralStatus.Converted => "converted",
        ReferralStatus.Rewarded => "rewarded",
        _ => "rejected",
    };

    public static ReferralStatus? ParseStatus(string? text) => text switch
    {
        "signedUp" => ReferralStatus.SignedUp,
        "converted" => ReferralStatus.Converted,
        "rewarded" => ReferralStatus.Rewarded,
        "rejected" => ReferralStatus.Rejected,
        _ => null,
    };

    /// <summary>Referrals, newest sign-up first; keyset paging after (<paramref name="before"/>, <paramref name="beforeId"/>).</summary>
    public static async Task<List<ReferralDto>> ListAsync(ClienteleDb db, ReferralStatus? status, Guid? referrerId, DateTime? before, Guid? beforeId, int take,
        CancellationToken ct)
    {
        var query = db.Referrals.AsNoTracking();
        if (status is { } s)
        {
            query = query.Where(r => r.Status == s);
        }
        if (referrerId is { } who)
        {
            query = query.Where(r => r.ReferrerId == who);
        }
        if (before is { } at && beforeId is { } id)
        {
            query = query.Where(r => r.SignedUpAt < at || (r.SignedUpAt == at && r.Id.CompareTo(id) < 0));
        }
        return await DescribeAsync(db, await query.OrderByDescending(r => r.SignedUpAt).ThenByDescending(r => r.Id).Take(take).ToListAsync(ct), ct);
    }

    private static async Task<List<ReferralDto>> DescribeAsync(ClienteleDb db, List<Referral> rows, CancellationToken ct)
    {
        var people = await PeopleAsync(db, rows.SelectMany(r => new[] { r.ReferrerId, r.FriendId }), ct);
        var couponIds = rows.SelectMany(r => new[] { r.FriendCouponId, r.ReferrerCouponId }).OfType<Guid>().Distinct().ToList();
        var coupons = couponIds.Count == 0
            ? []
            : await db.Coupons.AsNoTracking().Where(c => couponIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Code, ct);
        var program = await SettingsStore.LoadAsync(db, ReferralProgram.Key, ReferralProgram.Default, ct);
        return rows.Select(r => new ReferralDto(r.Id, StatusName(r.Status), r.RejectionReason, r.Code, r.Source, people[r.ReferrerId], people[r.FriendId],
            r.ClickedAt, r.SignedUpAt, r.FirstOrderAt, r.FirstOrderId,
            Reward(r.FriendCouponId, r.FriendRewardNote, coupons, pending: false),
            Reward(r.ReferrerCouponId, r.ReferrerRewardNote, coupons, pending: r.Status is ReferralStatus.SignedUp or ReferralStatus.Converted && program.ReferrerOfferId is not null)))
            .ToList();
    }

    private static ReferralRewardDto Reward(Guid? coupon, string? note, Dictionary<Guid, string> codes, bool pending) =>
        coupon is { } id ? new("issued", codes.GetValueOrDefault(id), null)
        : note is not null ? new("refused", null, note)
        : new(pending ? "pending" : "none", null, null);

    private static async Task<Dictionary<Guid, ReferralPartyDto>> PeopleAsync(ClienteleDb db, IEnumerable<Guid> ids, CancellationToken ct)
    {
        var wanted = ids.Distinct().ToList();
        if (wanted.Count == 0)
        {
            return [];
        }
        var found = await db.Contacts.AsNoTracking().Where(c => wanted.Contains(c.Id))
            .Select(c => new { c.Id, c.Email, c.FirstName, c.LastName }).ToListAsync(ct);
        var people = found.ToDictionary(c => c.Id, c => new ReferralPartyDto(c.Id, c.Email, ReferralProjection.PersonName(c.FirstName, c.LastName, c.Email)));
        foreach (var id in wanted.Where(id => !people.ContainsKey(id)))
        {
            people[id] = new ReferralPartyDto(id, null, "A removed contact");
        }
        return people;
    }

    /// <summary>
    /// The top advocates for referrals in [<paramref name="from"/>, <paramref name="to"/>) (all time without them):
    /// friends who signed up, converted (first order) and were rewarded in the period, and the revenue of the friends'
    /// orders placed in it (refunded and cancelled orders left out). Ranked by converted friends, then revenue, then friends.
    /// </summary>
    public static async Task<List<AdvocateDto>> LeaderboardAsync(ClienteleDb db, DateTime? from, DateTime? to, int take, CancellationToken ct)
    {
        bool In(DateTime? at) => at is { } t && (from is null || t >= from) && (to is null || t < to);
        var referrals = await db.Referrals.AsNoTracking()
            .Select(r => new { r.ReferrerId, r.Status, r.SignedUpAt, r.FirstOrderAt, r.ReferrerRewardedAt }).ToListAsync(ct);
        var counting = db.Referrals.Where(r => r.Status != ReferralStatus.Rejected);
        var orders = db.Orders.AsNoTracking().Where(o => o.Status == OrderStatus.Placed);
        if (from is { } f)
        {
            orders = orders.Where(o => o.PlacedAt >= f);
        }
        if (to is { } t)
        {
            orders = orders.Where(o => o.PlacedAt < t);
        }
        var revenue = await orders
            .Join(counting, o => o.ContactId, r => r.FriendId, (o, r) => new { r.ReferrerId, o.Currency, o.Total, o.PlacedAt, r.SignedUpAt })
            .Where(x => x.PlacedAt >= x.SignedUpAt)
            .GroupBy(x => new { x.ReferrerId, x.Currency })
            .Select(g => new { g.Key.ReferrerId, g.Key.Currency, Amount = g.Sum(x => x.Total), Orders = g.Count() })
            .ToListAsync(ct);
        var board = referrals.GroupBy(r => r.ReferrerId).Select(g => new
        {
            ReferrerId = g.Key,
            Friends = g.Count(r => r.Status != ReferralStatus.Rejected && In(r.SignedUpAt)),
            Converted = g.Count(r => r.Status != ReferralStatus.Rejected && In(r.FirstOrderAt)),
            Rewarded = g.Count(r => In(r.ReferrerRewardedAt)),
            Rejected = g.Count(r => r.Status == ReferralStatus.Rejected && In(r.SignedUpAt)),
            Revenue = revenue.Where(x => x.ReferrerId == g.Key).OrderBy(x => x.Currency, StringComparer.Ordinal)
                .Select(x => new ReferralRevenue(x.Currency, x.Amount, x.Orders)).ToList(),
        })
        .Where(a => a.Friends + a.Converted + a.Rewarded + a.Rejected > 0 || a.Revenue.Count > 0)
        .OrderByDescending(a => a.Converted).ThenByDescending(a => a.Revenue.Sum(r => r.Amount)).ThenByDescending(a => a.Friends).ThenBy(a => a.ReferrerId)
        .Take(take)
        .ToList();
        var ids = board.Select(a => a.ReferrerId).ToList();
        var people = await PeopleAsync(db, ids, ct);
        var codes = ids.Count == 0 ? [] : await db.ReferralCodes.AsNoTracking().Where(c => ids.Contains(c.ContactId)).ToDictionaryAsync(c => c.ContactId, ct);
        return board.Select((a, i) => new AdvocateDto(i + 1, people[a.ReferrerId], codes.GetValueOrDefault(a.ReferrerId)?.Code,
            codes.GetValueOrDefault(a.ReferrerId)?.Clicks ?? 0, a.Friends, a.Converted, a.Rewarded, a.Rejected, a.Revenue)).ToList();
    }

    /// <summary>A contact's referral standing: their code and link, clicks, friends, and who referred them.</summary>
    internal sealed record ContactReferralDto(Guid ContactId, string Code, string Link, int Clicks, DateTime? LastClickedAt, int Friends, int Converted,
        int Rewarded, int Rejected, ReferralDto? ReferredBy);

    public static async Task<ContactReferralDto> ForContactAsync(ClienteleDb db, Guid contactId, string code, string link, CancellationToken ct)
    {
        var row = await db.ReferralCodes.AsNoTracking().FirstAsync(c => c.ContactId == contactId, ct);
        var statuses = await db.Referrals.AsNoTracking().Where(r => r.ReferrerId == contactId).Select(r => r.Status).ToListAsync(ct);
        var referredBy = await db.Referrals.AsNoTracking().Where(r => r.FriendId == contactId && r.Status != ReferralStatus.Rejected).Take(1).ToListAsync(ct);
        var by = (await DescribeAsync(db, referredBy, ct)).FirstOrDefault();
        return new ContactReferralDto(contactId, code, link, row.Clicks, row.LastClickedAt,
            statuses.Count(s => s != ReferralStatus.Rejected), statuses.Count(s => s is ReferralStatus.Converted or ReferralStatus.Rewarded),
            statuses.Count(s => s == ReferralStatus.Rewarded), statuses.Count(s => s == ReferralStatus.Rejected), by);
    }
}
