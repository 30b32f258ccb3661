using Clientele.Data;
using Clientele.Templates;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Offers;

/// <summary>What a message shows as <c>offer</c>: the contact's newest coupon that is neither used nor expired.</summary>
internal static class OfferMessages
{
    public static Task<MessageOffer?> ForMessageAsync(ClienteleDb db, Guid contactId, DateTime now, CancellationToken ct) =>
        ShowAsync(db.Coupons.AsNoTracking()
            .Where(c => c.ContactId == contactId && c.RedeemedAt == null && (c.ExpiresAt == null || c.ExpiresAt > now))
            .OrderByDescending(c => c.IssuedAt).ThenByDescending(c => c.Code), db, ct);

    /// <summary>One coupon as a message shows it.</summary>
    public static Task<MessageOffer?> OfCouponAsync(ClienteleDb db, Guid couponId, CancellationToken ct) =>
        ShowAsync(db.Coupons.AsNoTracking().Where(c => c.Id == couponId), db, ct);

    private static async Task<MessageOffer?> ShowAsync(IQueryable<Coupon> coupons, ClienteleDb db, CancellationToken ct)
    {
        var found = await coupons
            .Join(db.Offers.AsNoTracking(), c => c.OfferId, o => o.Id, (c, o) => new { Coupon = c, Offer = o })
            .FirstOrDefaultAsync(ct);
        return found is null ? null : new MessageOffer
        {
            Code = found.Coupon.Code,
            Title = found.Offer.Title,
            Description = found.Offer.Description,
            Discount = OfferRules.Discount(found.Offer),
            ExpiresAt = found.Coupon.ExpiresAt is { } expires ? new DateTimeOffset(DateTime.SpecifyKind(expires, DateTimeKind.Utc)) : null,
        };
    }
}
