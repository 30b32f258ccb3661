using Clientele.Commerce;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Offers;

/// <summary>
/// Redeems coupons from orders: an <c>order.placed</c> carrying a code marks the coupon used by that order
/// (<c>offer.redeemed</c>), or records why it could not be (<c>offer.refused</c>: unknown, used, expired, another
/// contact's, over the limit). A shared code used by a contact it was never issued to is recorded as their coupon.
/// </summary>
internal sealed class OfferRedemptions : IEventConsumer
{
    public string Name => "offers";

    public IReadOnlyList<string> After => ["commerce"];

    public bool Wants(string eventType) => eventType == "order.placed";

    public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct) => HandleBatchAsync(context, [e], ct);

    public async Task HandleBatchAsync(ConsumerContext context, IReadOnlyList<Event> events, CancellationToken ct)
    {
        var db = context.Db;
        var orders = events.Select(e => (Event: e, Order: CommerceProjection.ReadOrder(e))).Where(x => !string.IsNullOrWhiteSpace(x.Order.Coupon)).ToList();
        foreach (var (e, order) in orders)
        {
            var code = OfferRules.Normalize(order.Coupon!);
            var offer = await db.Offers.FirstOrDefaultAsync(o => o.SharedCode == code, ct);
            var coupon = offer is not null
                ? await db.Coupons.FirstOrDefaultAsync(c => c.OfferId == offer.Id && c.ContactId == e.ContactId, ct)
                : await db.Coupons.FirstOrDefaultAsync(c => c.Code == code, ct);
            if (coupon is not null && coupon.OrderId == order.OrderId)
            {
                continue; // the same order again (an update): redeemed once
            }
            offer ??= coupon is null ? null : await db.Offers.FirstOrDefaultAsync(o => o.Id == coupon.OfferId, ct);
            if (offer is null)
            {
                context.Emit(e, "offer.refused", new { code, orderId = order.OrderId, reason = "No offer has this code." });
                continue;
            }
            if (offer.SharedCode is not null && coupon is null)
            {
                coupon = new Coupon
                {
                    Id = Guid.CreateVersion7(),
                    OfferId = offer.Id,
                    ContactId = e.ContactId,
                    Code = code,
                    IssuedAt = e.OccurredAt,
                    ExpiresAt = offer.EndsAt,
                    Source = "order",
                    IdempotencyKey = $"order:{offer.Id:N}:{e.ContactId:N}",
                };
                db.Coupons.Add(coupon);
            }
            var redeemed = await db.Coupons.CountAsync(c => c.OfferId == offer.Id && c.RedeemedAt != null, ct);
            if (OfferRules.WhyNotRedeem(offer, coupon, e.ContactId, e.OccurredAt, redeemed) is { } reason)
            {
                context.Emit(e, "offer.refused", new { offerId = offer.Id, offer = offer.Name, code, orderId = order.OrderId, reason });
                continue;
            }
            coupon!.RedeemedAt = e.OccurredAt;
            coupon.OrderId = order.OrderId;
            coupon.OrderTotal = order.Total;
            coupon.OrderCurrency = order.Currency;
            await db.SaveChangesAsync(ct); // the next order of the batch counts this redemption
            context.Emit(e, "offer.redeemed", new { offerId = offer.Id, offer = offer.Name, code, orderId = order.OrderId, total = order.Total, currency = order.Currency });
        }
    }
}
