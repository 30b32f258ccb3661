namespace Clientele.Offers;

/// <summary>What an offer gives. The numbers are stored; never renumber.</summary>
internal enum OfferKind
{
    /// <summary>A share off the order, <see cref="Offer.Value"/> per cent.</summary>
    Percent = 0,

    /// <summary>An amount off the order, <see cref="Offer.Value"/> in <see cref="Offer.Currency"/>.</summary>
    Amount = 1,

    /// <summary>A product for free (<see cref="Offer.FreeSku"/>).</summary>
    FreeItem = 2,
}

/// <summary>
/// Something the business gives to bring a customer back: a discount or a free item, with a code per contact or one
/// shared code, an end, limits and who may have it. Issued as <see cref="Coupon"/>s; redeemed when an order carries the code.
/// </summary>
internal sealed class Offer
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";

    /// <summary>The line a customer reads, e.g. "10 % off your next bag".</summary>
    public string Title { get; set; } = "";

    public string? Description { get; set; }
    public OfferKind Kind { get; set; }
    public decimal Value { get; set; }
    public string? Currency { get; set; }
    public string? FreeSku { get; set; }

    /// <summary>One code for everyone; null when each contact gets a code of their own (<see cref="Prefix"/> + eight letters and digits).</summary>
    public string? SharedCode { get; set; }

    public string Prefix { get; set; } = "";

    /// <summary>Days an issued coupon stays valid; null for as long as the offer runs.</summary>
    public int? ValidDays { get; set; }

    /// <summary>When the offer ends for everyone; null for no end.</summary>
    public DateTime? EndsAt { get; set; }

    /// <summary>Redemptions in all, after which the offer takes no more orders and issues no more coupons; null for no limit.</summary>
    public int? MaxRedemptions { get; set; }

    /// <summary>A segment's name: only its members may be issued the offer; null for everyone.</summary>
    public string? Segment { get; set; }

    public bool Archived { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>An offer given to one contact: the code they use and, once an order carries it, the redemption.</summary>
internal sealed class Coupon
{
    public Guid Id { get; set; }
    public Guid OfferId { get; set; }
    public Guid ContactId { get; set; }

    /// <summary>Upper case; unique for per-contact codes, the offer's shared code otherwise.</summary>
    public string Code { get; set; } = "";

    public DateTime IssuedAt { get; set; }
    public DateTime? ExpiresAt { get; set; }

    /// <summary>Who issued it: <c>api</c>, <c>journey</c>, <c>order</c> (a shared code used without being issued), …</summary>
    public string Source { get; set; } = "";

    /// <summary>Makes issuing idempotent: the same key issues the same coupon.</summary>
    public string IdempotencyKey { get; set; } = "";

    public DateTime? RedeemedAt { get; set; }
    public string? OrderId { get; set; }
    public decimal? OrderTotal { get; set; }
    public string? OrderCurrency { get; set; }
}

/// <summary>The offer-fatigue guard: at most <see cref="MaxOffers"/> coupons per contact in <see cref="PeriodDays"/> days.</summary>
internal sealed record OfferFatigue
{
    public const string Key = "offers.fatigue";

    public int MaxOffers { get; init; } = 2;
    public int PeriodDays { get; init; } = 30;

    public static OfferFatigue Default { get; } = new();
}
