using System.Text.Json;

namespace Clientele.Templates;

/// <summary>
/// Everything one message may show, built by the caller for one contact. Templates see it under snake_case names:
/// <c>contact</c>, <c>links</c>, <c>order</c>, <c>offer</c>, <c>referral</c>, <c>recommendations</c>, <c>review</c>, <c>data</c>, <c>now</c>, and
/// <c>business</c> from the brand.
/// </summary>
internal sealed class MessageModel
{
    public required MessageContact Contact { get; init; }

    public MessageLinks Links { get; init; } = new();

    public MessageOrder? Order { get; init; }

    public MessageOffer? Offer { get; init; }

    /// <summary>The contact's own referral code and link, to ask them to pass it on.</summary>
    public MessageReferral? Referral { get; init; }

    public IReadOnlyList<MessageRecommendation> Recommendations { get; init; } = [];

    /// <summary>The contact's own link to the review page; set only for a template that shows it.</summary>
    public MessageReview? Review { get; init; }

    /// <summary>For a feedback request: the question and one link per score.</summary>
    public MessageSurvey? Survey { get; init; }

    /// <summary>Extra values, e.g. an event's properties: strings, numbers, booleans, dates, <see cref="JsonElement"/>,
    /// lists and string-keyed dictionaries of these.</summary>
    public IReadOnlyDictionary<string, object?>? Data { get; init; }

    /// <summary>The send time. The renderer never reads the clock, so a preview and a send of the same model agree.</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>When set, a 1×1 image with this address is added at the end of the HTML to count opens.</summary>
    public string? OpenPixelUrl { get; init; }
}

internal sealed class MessageContact
{
    public Guid Id { get; init; }

    public string? Email { get; init; }

    public string? FirstName { get; init; }

    public string? LastName { get; init; }

    public string? Phone { get; init; }

    public DateOnly? Birthday { get; init; }

    /// <summary>IANA zone (e.g. "Pacific/Auckland"); dates are shown in it. Unknown or missing: UTC.</summary>
    public string? TimeZone { get; init; }

    /// <summary>e.g. "de-DE"; numbers, money and month names follow it. Missing: en-US.</summary>
    public string? Locale { get; init; }

    public string? Stage { get; init; }

    public int Score { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    public IReadOnlyDictionary<string, JsonElement> Attributes { get; init; } = EmptyAttributes;

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>"First Last", or whichever of the two is known.</summary>
    public string? Name => (FirstName, LastName) switch
    {
        ({ Length: > 0 } f, { Length: > 0 } l) => $"{f} {l}",
        ({ Length: > 0 } f, _) => f,
        (_, { Length: > 0 } l) => l,
        _ => null,
    };

    private static readonly Dictionary<string, JsonElement> EmptyAttributes = [];

    /// <summary>The contact's stored attributes (a JSON object) as a dictionary; anything else gives none.</summary>
    public static IReadOnlyDictionary<string, JsonElement> ParseAttributes(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return EmptyAttributes;
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return EmptyAttributes;
            }
            return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
        }
        catch (JsonException)
        {
            return EmptyAttributes;
        }
    }
}

/// <summary>Addresses made for this contact and message; any may be missing.</summary>
internal sealed class MessageLinks
{
    public string? Unsubscribe { get; init; }

    public string? Preferences { get; init; }

    public string? ViewOnline { get; init; }
}

internal sealed class MessageOrder
{
    public string? Id { get; init; }

    /// <summary>The number the shop shows the customer (its external id).</summary>
    public string? Number { get; init; }

    public decimal Total { get; init; }

    public string? Currency { get; init; }

    public DateTimeOffset PlacedAt { get; init; }

    public IReadOnlyList<MessageOrderItem> Items { get; init; } = [];
}

internal sealed record MessageOrderItem(string? Sku, string? Name, string? Category, decimal Quantity, decimal Price);

internal sealed class MessageOffer
{
    public string? Code { get; init; }

    public string? Title { get; init; }

    public string? Description { get; init; }

    /// <summary>As the owner describes it, e.g. "20%" or "€5 off".</summary>
    public string? Discount { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>A contact's referral code and the absolute address of their link.</summary>
internal sealed class MessageReferral
{
    public string? Code { get; init; }

    public string? Link { get; init; }
}

internal sealed record MessageRecommendation(string? Sku, string? Name, decimal Price, string? Currency, string? Url, string? ImageUrl);

/// <summary>What a message shows as <c>review</c>: the signed link to the page where the contact writes a review.</summary>
internal sealed record MessageReview(string Link);

/// <summary>A survey in a message: its question, its kind and a signed link for each score, lowest first.</summary>
internal sealed record MessageSurvey(string Question, string Kind, IReadOnlyList<(int Score, string Url)> Links);
