using System.Text.Json;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Offers;

/// <summary>
/// Issues an offer to a contact inside the caller's transaction (the API, a journey step): checks it against the offer's
/// end, limit and segment and the offer-fatigue guard, then adds the coupon and its <c>offer.issued</c> event for the
/// caller to save. The same idempotency key gives back the coupon it issued before.
/// </summary>
internal static class OfferIssuer
{
    internal sealed record Outcome(Coupon? Coupon, Event? Issued, string? Refusal, bool Repeat = false);

    public static async Task<Outcome> IssueAsync(ClienteleDb db, Offer offer, Contact contact, string source, string key, DateTime now,
        OfferFatigue fatigue, long? causeEventId, CancellationToken ct)
    {
        if (await db.Coupons.AsNoTracking().FirstOrDefaultAsync(c => c.IdempotencyKey == key, ct) is { } before)
        {
            return new(before, null, null, Repeat: true);
        }
        var since = now.AddDays(-fatigue.PeriodDays);
        var recent = await db.Coupons.AsNoTracking().Where(c => c.ContactId == contact.Id && c.IssuedAt > since && c.Source != "order")
            .Select(c => c.IssuedAt).ToListAsync(ct);
        var redeemed = await db.Coupons.CountAsync(c => c.OfferId == offer.Id && c.RedeemedAt != null, ct);
        var eligible = offer.Segment is null || await db.SegmentMembers.AnyAsync(
            m => m.ContactId == contact.Id && db.Segments.Any(s => s.Id == m.SegmentId && s.Name == offer.Segment), ct);
        if (OfferRules.WhyNot(offer, now, recent, redeemed, eligible, fatigue) is { } refusal)
        {
            return new(null, null, refusal);
        }
        if (offer.SharedCode is not null && await db.Coupons.AnyAsync(c => c.OfferId == offer.Id && c.ContactId == contact.Id, ct))
        {
            return new(null, null, $"The contact has the shared code of \"{offer.Name}\" already.");
        }
        var coupon = new Coupon
        {
            Id = Guid.CreateVersion7(),
            OfferId = offer.Id,
            ContactId = contact.Id,
            Code = offer.SharedCode ?? OfferRules.NewCode(offer.Prefix),
            IssuedAt = now,
            ExpiresAt = Earlier(offer.ValidDays is { } days ? now.AddDays(days) : null, offer.EndsAt),
            Source = source,
            IdempotencyKey = key,
        };
        db.Coupons.Add(coupon);
        var issued = Event.Recorded(contact.Id, "offer.issued", "offers", "offer.issued:" + key,
            new { offerId = offer.Id, offer = offer.Name, code = coupon.Code, expiresAt = coupon.ExpiresAt, source }, now, causeEventId);
        return new(coupon, issued, null);
    }

    private static DateTime? Earlier(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : a < b ? a : b;
}
