using System.Text.Json;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Clientele.Offers;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Referrals;

/// <summary>
/// The referral programme as the event log drives it. An event that carries a <c>referralCode</c> — a hosted form's
/// <c>form.submitted</c>, the API's <c>referral.claimed</c> from a contact upsert, or any event a shop sends — signs
/// the friend up under the code's owner, unless a fraud limit says no (<see cref="ReferralRules.WhyNot"/>); either way a
/// <see cref="Referral"/> row and events on both timelines record it, and the friend is issued their offer. The
/// friend's <c>order.placed</c> events then convert the referral and, for the first order that qualifies, issue the
/// referrer theirs. Coupons are keyed by the referral, so each side is rewarded once.
/// </summary>
internal sealed class ReferralProjection : IEventConsumer
{
    public const string ConsumerName = "referrals";

    public string Name => ConsumerName;

    /// <summary>Orders are stored by the commerce consumer first, so a friend's revenue is there when the referral converts.</summary>
    public IReadOnlyList<string> After => ["commerce"];

    /// <summary>What the system says about contacts rather than what they did; none of it carries a friend's code.</summary>
    private static readonly string[] SystemPrefixes = ["email.", "offer.", "referral.", "journey.", "segment.", "survey.", "ticket.", "consent."];

    public bool Wants(string eventType) =>
        eventType is "order.placed" or ClaimType
        || (!ActivityProjection.IsNotActivity(eventType) && !SystemPrefixes.Any(p => eventType.StartsWith(p, StringComparison.Ordinal)));

    /// <summary>The event the contacts API records for an upsert that names a <c>referralCode</c>.</summary>
    public const string ClaimType = "referral.claimed";

    public const string Rewarded = "referral.rewarded";

    public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct) => HandleBatchAsync(context, [e], ct);

    public async Task HandleBatchAsync(ConsumerContext context, IReadOnlyList<Event> events, CancellationToken ct)
    {
        var db = context.Db;
        ReferralProgram? program = null;
        OfferFatigue? fatigue = null;
        async Task<(ReferralProgram, OfferFatigue)> SettingsAsync()
        {
            program ??= await SettingsStore.LoadAsync(db, ReferralProgram.Key, ReferralProgram.Default, ct);
            fatigue ??= await SettingsStore.LoadAsync(db, OfferFatigue.Key, OfferFatigue.Default, ct);
            return (program, fatigue);
        }

        // The friends among this batch's buyers, with the referral still open, in one query.
        var buyers = events.Where(e => e.Type == "order.placed").Select(e => e.ContactId).Distinct().ToList();
        var open = buyers.Count == 0
            ? []
            : (await db.Referrals.Where(r => buyers.Contains(r.FriendId) && (r.Status == ReferralStatus.SignedUp || r.Status == ReferralStatus.Converted)).ToListAsync(ct))
                .GroupBy(r => r.FriendId).ToDictionary(g => g.Key, g => g.OrderBy(r => r.SignedUpAt).First());
        foreach (var e in events)
        {
            if (e.Source == ConsumerName)
            {
                continue;
            }
            if (ReadCode(e.Properties) is { } code)
            {
                var (p, f) = await SettingsAsync();
                if (await SignUpAsync(context, e, code, p, f, ct) is { Status: ReferralStatus.SignedUp } signed)
                {
                    open[signed.FriendId] = signed;
                }
                await db.SaveChangesAsync(ct);
            }
            if (e.Type == "order.placed" && open.TryGetValue(e.ContactId, out var referral))
            {
                var (p, f) = await SettingsAsync();
                await OrderAsync(context, e, referral, p, f, ct);
                if (referral.Status is ReferralStatus.Rejected or ReferralStatus.Rewarded)
                {
                    open.Remove(e.ContactId);
                }
                await db.SaveChangesAsync(ct);
            }
        }
    }

    /// <summary>The <c>referralCode</c> an event carries: as written, or null when it carries none.</summary>
    internal static string? ReadCode(string properties)
    {
        if (!properties.Contains("\"referralCode\"", StringComparison.Ordinal))
        {
            return null; // most events: no need to parse them
        }
        try
        {
            using var doc = JsonDocument.Parse(properties);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("referralCode", out var v)
                && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } code
                ? code.Trim()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string SourceOf(Event e)
    {
        if (e.Type == "form.submitted")
        {
            using var doc = JsonDocument.Parse(e.Properties);
            return doc.RootElement.TryGetProperty("form", out var form) && form.ValueKind == JsonValueKind.String ? "form:" + form.GetString() : "form";
        }
        return e.Type == ClaimType ? "api" : e.Type;
    }

    private static async Task<Referral?> SignUpAsync(ConsumerContext context, Event e, string written, ReferralProgram program, OfferFatigue fatigue,
        CancellationToken ct)
    {
        var db = context.Db;
        if (!program.Enabled)
        {
            return null; // codes are ignored while the programme is off
        }
        var code = ReferralRules.NormalizeCode(written);
        var owner = code is null ? null : await db.ReferralCodes.AsNoTracking().FirstOrDefaultAsync(c => c.Code == code, ct);
        var referrer = owner is null ? null : await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.Id == owner.ContactId && c.DeletedAt == null, ct);
        var friend = await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.Id == e.ContactId, ct);
        if (friend is null)
        {
            return null;
        }
        if (referrer is null)
        {
            // No row without a referrer; the friend's timeline says what happened to the code.
            var unknown = context.Emit(e, "referral.rejected", new { code = code ?? written, role = "friend", reason = $"No customer has the referral code \"{written}\"." });
            unknown.IdempotencyKey = $"referral.rejected:{e.Id}";
            return null;
        }
        if (await db.Referrals.AnyAsync(r => r.FriendId == friend.Id && r.ReferrerId == referrer.Id, ct))
        {
            return null; // the same code again (a second form, a retry): recorded once
        }
        var otherReferrer = await db.Referrals.Where(r => r.FriendId == friend.Id && r.Status != ReferralStatus.Rejected)
            .Join(db.Contacts, r => r.ReferrerId, c => c.Id, (r, c) => new { c.FirstName, c.LastName, c.Email }).FirstOrDefaultAsync(ct);
        var signedUpAt = e.OccurredAt;
        var clickedAt = await db.Events.AsNoTracking()
            .Where(x => x.ContactId == referrer.Id && x.Type == "referral.clicked" && x.OccurredAt <= signedUpAt)
            .MaxAsync(x => (DateTime?)x.OccurredAt, ct);
        var since = ReferralRules.PeriodStart(signedUpAt, program);
        var counting = db.Referrals.Where(r => r.ReferrerId == referrer.Id && r.Status != ReferralStatus.Rejected);
        var inPeriod = await counting.CountAsync(r => r.SignedUpAt > since, ct);
        var total = await counting.CountAsync(ct);
        var friendAddresses = ReferralRules.AddressesOf(friend.Attributes);
        var referrerAddresses = friendAddresses.Count == 0 ? [] : await AddressesAsync(db, referrer, ct);
        var facts = new SignUpFacts(
            Party(referrer, referrerAddresses), Party(friend, friendAddresses), signedUpAt, clickedAt,
            otherReferrer is null ? null : PersonName(otherReferrer.FirstName, otherReferrer.LastName, otherReferrer.Email), inPeriod, total);
        var reason = ReferralRules.WhyNot(facts, program);
        var referral = new Referral
        {
            Id = Guid.CreateVersion7(),
            ReferrerId = referrer.Id,
            FriendId = friend.Id,
            Code = code!,
            Source = SourceOf(e),
            ClickedAt = clickedAt,
            SignedUpAt = signedUpAt,
            Status = reason is null ? ReferralStatus.SignedUp : ReferralStatus.Rejected,
            RejectionReason = reason,
            CreatedAt = context.Now,
            UpdatedAt = context.Now,
        };
        db.Referrals.Add(referral);
        if (reason is not null)
        {
            Both(context, e, "referral.rejected", referral, referrer, friend, new() { ["reason"] = reason });
            return referral;
        }
        Both(context, e, "referral.signed_up", referral, referrer, friend, new() { ["source"] = referral.Source });
        if (program.FriendOfferId is { } offerId)
        {
            var (coupon, refusal) = await RewardAsync(context, e, referral, friend, offerId, "friend", fatigue, ct);
            referral.FriendCouponId = coupon?.Id;
            referral.FriendRewardNote = refusal;
            if (refusal is not null)
            {
                One(context, e, "referral.reward_refused", referral, "friend", referrer, friend, new() { ["reason"] = refusal });
            }
            else
            {
                One(context, e, Rewarded, referral, "friend", referrer, friend, new() { ["couponCode"] = coupon!.Code });
            }
        }
        return referral;
    }

    private static async Task OrderAsync(ConsumerContext context, Event e, Referral referral, ReferralProgram program, OfferFatigue fatigue, CancellationToken ct)
    {
        var db = context.Db;
        if (e.OccurredAt < referral.SignedUpAt)
        {
            return; // bought before coming by the link: not the referral's doing
        }
        var order = CommerceProjection.ReadOrder(e);
        Contact? referrer = null, friend = null;
        async Task LoadAsync()
        {
            referrer ??= await db.Contacts.AsNoTracking().FirstAsync(c => c.Id == referral.ReferrerId, ct);
            friend ??= await db.Contacts.AsNoTracking().FirstAsync(c => c.Id == referral.FriendId, ct);
        }
        if (referral.FirstOrderAt is null)
        {
            await LoadAsync();
            referral.FirstOrderAt = e.OccurredAt;
            referral.FirstOrderId = order.OrderId;
            referral.Status = ReferralStatus.Converted;
            referral.UpdatedAt = context.Now;
            Both(context, e, "referral.converted", referral, referrer!, friend!, new() { ["orderId"] = order.OrderId, ["total"] = order.Total, ["currency"] = order.Currency });
        }
        if (referral.Status != ReferralStatus.Converted || referral.ReferrerRewardNote is not null || program.ReferrerOfferId is not { } offerId)
        {
            return; // rewarded already, refused for good, or no reward for referrers
        }
        if (!ReferralRules.Qualifies(order.Total, program))
        {
            return; // a later order over the minimum may still earn it
        }
        await LoadAsync();
        if (!program.Enabled)
        {
            referral.ReferrerRewardNote = "The referral programme was off when the friend's order arrived.";
            referral.UpdatedAt = context.Now;
            One(context, e, "referral.reward_refused", referral, "referrer", referrer!, friend!, new() { ["reason"] = referral.ReferrerRewardNote });
            return;
        }
        if (ReferralRules.ShippingAddressOf(e.Properties) is { } shipping && (await AddressesAsync(db, referrer!, ct)).Contains(shipping))
        {
            referral.Status = ReferralStatus.Rejected;
            referral.RejectionReason = $"Same address: the friend's order {order.OrderId} ships to the referrer's address.";
            referral.UpdatedAt = context.Now;
            Both(context, e, "referral.rejected", referral, referrer!, friend!, new() { ["reason"] = referral.RejectionReason });
            return;
        }
        var (coupon, refusal) = await RewardAsync(context, e, referral, referrer!, offerId, "referrer", fatigue, ct);
        referral.UpdatedAt = context.Now;
        if (refusal is not null)
        {
            referral.ReferrerRewardNote = refusal;
            One(context, e, "referral.reward_refused", referral, "referrer", referrer!, friend!, new() { ["reason"] = refusal });
            return;
        }
        referral.Status = ReferralStatus.Rewarded;
        referral.ReferrerRewardedAt = context.Now;
        referral.ReferrerCouponId = coupon!.Id;
        One(context, e, Rewarded, referral, "referrer", referrer!, friend!, new() { ["couponCode"] = coupon.Code, ["orderId"] = order.OrderId });
    }

    /// <summary>Issues a side its offer, keyed by the referral so it happens once; the offer's own rules and the fatigue guard apply.</summary>
    private static async Task<(Coupon? Coupon, string? Refusal)> RewardAsync(ConsumerContext context, Event cause, Referral referral, Contact to, Guid offerId,
        string role, OfferFatigue fatigue, CancellationToken ct)
    {
        var offer = await context.Db.Offers.AsNoTracking().FirstOrDefaultAsync(o => o.Id == offerId, ct);
        if (offer is null)
        {
            return (null, "The programme's offer for the " + role + " no longer exists.");
        }
        var outcome = await OfferIssuer.IssueAsync(context.Db, offer, to, "referral", $"referral:{referral.Id:N}:{role}", context.Now, fatigue, cause.Id, ct);
        if (outcome.Issued is { } issued)
        {
            context.Db.Events.Add(issued);
        }
        return (outcome.Coupon, outcome.Refusal);
    }

    /// <summary>The postal addresses known for a contact: their attributes and where their orders were shipped.</summary>
    private static async Task<List<string>> AddressesAsync(ClienteleDb db, Contact contact, CancellationToken ct)
    {
        var addresses = ReferralRules.AddressesOf(contact.Attributes);
        var orders = await db.Events.AsNoTracking().Where(x => x.ContactId == contact.Id && x.Type == "order.placed").Select(x => x.Properties).ToListAsync(ct);
        addresses.AddRange(orders.Select(ReferralRules.ShippingAddressOf).OfType<string>());
        return addresses.Distinct(StringComparer.Ordinal).ToList();
    }

    private static ReferralParty Party(Contact c, IReadOnlyCollection<string> addresses) =>
        new(c.Id, c.Email, PersonName(c.FirstName, c.LastName, c.Email), c.CreatedAt, addresses);

    internal static string PersonName(string? first, string? last, string? email) =>
        string.Join(' ', new[] { first, last }.Where(n => !string.IsNullOrWhiteSpace(n))) is { Length: > 0 } name ? name : email ?? "A contact";

    /// <summary>The same event on the referrer's and the friend's timelines, each saying which side it is on.</summary>
    private static void Both(ConsumerContext context, Event cause, string type, Referral r, Contact referrer, Contact friend, Dictionary<string, object?> detail)
    {
        One(context, cause, type, r, "referrer", referrer, friend, detail);
        One(context, cause, type, r, "friend", referrer, friend, detail);
    }

    private static void One(ConsumerContext context, Event cause, string type, Referral r, string role, Contact referrer, Contact friend,
        Dictionary<string, object?> detail)
    {
        var e = context.Emit(cause, type, EventProperties(r, role, referrer, friend, detail), role == "referrer" ? r.ReferrerId : r.FriendId);
        e.IdempotencyKey = EventKey(type, r, role);
    }

    /// <summary>What a referral event says, on either side (the demo writes its history the same way).</summary>
    internal static Dictionary<string, object?> EventProperties(Referral r, string role, Contact referrer, Contact friend, Dictionary<string, object?> detail)
    {
        var properties = new Dictionary<string, object?>
        {
            ["referralId"] = r.Id,
            ["code"] = r.Code,
            ["role"] = role,
            ["referrerId"] = r.ReferrerId,
            ["referrerEmail"] = referrer.Email,
            ["friendId"] = r.FriendId,
            ["friendEmail"] = friend.Email,
        };
        foreach (var (key, value) in detail)
        {
            properties[key] = value;
        }
        return properties;
    }

    internal static string EventKey(string type, Referral r, string role) => $"{type}:{r.Id:N}:{role}";
}
