using System.Linq.Expressions;
using Clientele.Lifecycle;

namespace Clientele.Contacts;

/// <summary>A person the business knows of. Stage, score and health are derived from the event log.</summary>
internal sealed class Contact
{
    public Guid Id { get; set; }
    public string? Email { get; set; }

    /// <summary>Lower-cased, trimmed e-mail; unique so "Ann@X.com" and "ann@x.com" are one person.</summary>
    public string? EmailNormalized { get; set; }

    public string? ExternalId { get; set; }
    public string? FirstName { get; set; }
    public string? LastName { get; set; }
    public string? Phone { get; set; }
    public DateOnly? Birthday { get; set; }

    /// <summary>IANA zone, used for sending windows.</summary>
    public string? TimeZone { get; set; }

    public string? Locale { get; set; }
    public List<string> Tags { get; set; } = [];

    /// <summary>Custom attributes as a JSON object.</summary>
    public string Attributes { get; set; } = "{}";

    public string? Source { get; set; }
    public string? UtmSource { get; set; }
    public string? UtmMedium { get; set; }
    public string? UtmCampaign { get; set; }
    public string? UtmTerm { get; set; }
    public string? UtmContent { get; set; }
    public string? Referrer { get; set; }

    public Stage Stage { get; set; } = Stage.Lead;

    /// <summary>When the contact entered <see cref="Stage"/>; null while they have never moved.</summary>
    public DateTime? StageSince { get; set; }
    /// <summary>Lead score: fit plus engagement, as of the last event or daily decay (Qualification/).</summary>
    public int Score { get; set; }

    /// <summary>Fit points (who the contact is); the part from attribute rules is <see cref="ScoreAttributeFit"/>.</summary>
    public double ScoreFit { get; set; }

    public int ScoreAttributeFit { get; set; }

    /// <summary>Engagement points as of <see cref="ScoreEngagementAsOf"/>; they halve every half-life.</summary>
    public double ScoreEngagement { get; set; }

    public DateTime? ScoreEngagementAsOf { get; set; }

    /// <summary>Score over the threshold with interest and authority known.</summary>
    public bool Qualified { get; set; }
    public Health Health { get; set; } = Health.Unknown;

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public DateTime? LastActivityAt { get; set; }

    /// <summary>Customer value, written by the scoring job (Value/ScoringJob) for contacts with orders.</summary>
    public ContactValueScores? Value { get; set; }

    /// <summary>Soft delete: the row stays so the event log keeps its owner.</summary>
    public DateTime? DeletedAt { get; set; }

    public List<ContactConsent> Consents { get; set; } = [];

    public static string? Normalize(string? email) =>
        string.IsNullOrWhiteSpace(email) ? null : email.Trim().ToLowerInvariant();

    /// <summary>
    /// The contacts holding one of these normalised e-mails or external ids. Each list is compared only where the column
    /// has a value, so the database answers from the column's index alone (without that, the query also looks for nulls).
    /// </summary>
    public static Expression<Func<Contact, bool>> NamedBy(List<string> emails, List<string> externals) =>
        c => (c.EmailNormalized != null && emails.Contains(c.EmailNormalized)) || (c.ExternalId != null && externals.Contains(c.ExternalId));
}

/// <summary>What the customer-base models say about a customer, as of <see cref="ScoredAt"/>.</summary>
internal sealed class ContactValueScores
{
    /// <summary>Probability the customer is still a customer (has not silently left).</summary>
    public double ProbabilityAlive { get; set; }

    public double ExpectedPurchases90 { get; set; }
    public double ExpectedPurchases365 { get; set; }

    /// <summary>Discounted margin expected over the configured horizon, in <see cref="Currency"/>.</summary>
    public decimal PredictedValue { get; set; }

    public string Currency { get; set; } = "";

    /// <summary>Recency, frequency and monetary quintiles, e.g. "545".</summary>
    public string RfmCell { get; set; } = "";

    public DateTime ScoredAt { get; set; }
}

internal enum ConsentStatus
{
    /// <summary>Asked, waiting for double opt-in confirmation. Does not count as consent.</summary>
    Pending = 0,
    Subscribed = 1,
    Unsubscribed = 2,
}

/// <summary>Consent for one topic (e.g. "newsletter"); its history is in the event log.</summary>
internal sealed class ContactConsent
{
    public Guid ContactId { get; set; }
    public string Topic { get; set; } = "";
    public ConsentStatus Status { get; set; }
    public DateTime At { get; set; }
    public string Source { get; set; } = "";
    public string? Wording { get; set; }
}
