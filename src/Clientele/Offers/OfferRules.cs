using System.Globalization;
using System.Security.Cryptography;

namespace Clientele.Offers;

/// <summary>The decisions about offers, as pure functions of what is known and the time.</summary>
internal static class OfferRules
{
    /// <summary>Letters and digits that cannot be mistaken for each other when read aloud or typed (no 0/O, 1/I/L).</summary>
    private const string Alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

    public static string NewCode(string prefix) =>
        prefix.ToUpperInvariant() + string.Concat(Enumerable.Range(0, 8).Select(_ => Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)]));

    public static string Normalize(string code) => code.Trim().ToUpperInvariant();

    /// <summary>Why the offer cannot be issued to the contact now; null when it can.</summary>
    /// <param name="recentIssues">When the contact was issued any offer, for the fatigue guard.</param>
    /// <param name="redeemed">The offer's redemptions so far.</param>
    /// <param name="eligible">Whether the contact is in the offer's segment (true when it has none).</param>
    public static string? WhyNot(Offer offer, DateTime now, IReadOnlyCollection<DateTime> recentIssues, int redeemed, bool eligible, OfferFatigue fatigue)
    {
        if (offer.Archived)
        {
            return $"\"{offer.Name}\" is archived.";
        }
        if (offer.EndsAt is { } end && end <= now)
        {
            return $"\"{offer.Name}\" ended on {end:yyyy-MM-dd}.";
        }
        if (offer.MaxRedemptions is { } max && redeemed >= max)
        {
            return $"\"{offer.Name}\" has been redeemed {max.ToString("N0", CultureInfo.InvariantCulture)} times, its limit.";
        }
        if (!eligible)
        {
            return $"Only members of the segment \"{offer.Segment}\" may have \"{offer.Name}\".";
        }
        var since = now.AddDays(-fatigue.PeriodDays);
        if (recentIssues.Count(at => at > since) >= fatigue.MaxOffers)
        {
            return $"The contact had {fatigue.MaxOffers} offers in the last {fatigue.PeriodDays} days already (the offer-fatigue guard).";
        }
        return null;
    }

    /// <summary>Why an order may not use a coupon; null when it may.</summary>
    public static string? WhyNotRedeem(Offer offer, Coupon? coupon, Guid contactId, DateTime at, int redeemed)
    {
        if (coupon is null)
        {
            return "The code was never issued.";
        }
        if (coupon.RedeemedAt is not null)
        {
            return $"The code was used already, on order {coupon.OrderId}.";
        }
        if (offer.SharedCode is null && coupon.ContactId != contactId)
        {
            return "The code belongs to another contact.";
        }
        if (coupon.ExpiresAt is { } expires && expires < at)
        {
            return $"The code expired on {expires:yyyy-MM-dd}.";
        }
        if (offer.EndsAt is { } end && end < at)
        {
            return $"\"{offer.Name}\" ended on {end:yyyy-MM-dd}.";
        }
        if (offer.MaxRedemptions is { } max && redeemed >= max)
        {
            return $"\"{offer.Name}\" reached its limit of {max.ToString("N0", CultureInfo.InvariantCulture)} redemptions.";
        }
        return null;
    }

    /// <summary>The discount in words for a template, e.g. "10 %", "5.00 EUR", "a free SKU-1".</summary>
    public static string Discount(Offer offer) => offer.Kind switch
    {
        OfferKind.Percent => offer.Value.ToString("0.##", CultureInfo.InvariantCulture) + " %",
        OfferKind.Amount => offer.Value.ToString("0.00", CultureInfo.InvariantCulture) + " " + (offer.Currency ?? ""),
        _ => "a free " + offer.FreeSku,
    };
}
