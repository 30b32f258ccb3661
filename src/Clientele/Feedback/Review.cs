using System.Globalization;

namespace Clientele.Feedback;

/// <summary>Where a review is. The numbers are stored; never renumber.</summary>
internal enum ReviewStatus
{
    /// <summary>Waiting for someone to read it.</summary>
    Pending = 0,

    /// <summary>Read and fit to show; shown while its consent holds.</summary>
    Approved = 1,

    /// <summary>Not to be shown (spam, abuse, not about the business).</summary>
    Rejected = 2,

    /// <summary>The customer took back their consent: never shown again.</summary>
    Withdrawn = 3,
}

/// <summary>
/// A customer's review or testimonial: a rating of 1 to 5 and their words, perhaps about one product, with their
/// consent to publish it (the exact wording they agreed to and when), the name to show, and who moderated it.
/// </summary>
internal sealed class Review
{
    public Guid Id { get; set; }
    public Guid ContactId { get; set; }

    /// <summary>1–5.</summary>
    public int Rating { get; set; }

    public string Text { get; set; } = "";

    /// <summary>The product reviewed; null for the business as a whole.</summary>
    public string? Sku { get; set; }

    /// <summary><c>survey</c> (a survey comment offered for publishing), <c>page</c> (the public review page) or <c>api</c>.</summary>
    public string Source { get; set; } = "api";

    /// <summary>For a review made from a survey comment: that answer.</summary>
    public Guid? SurveyAnswerId { get; set; }

    /// <summary>How the name is shown: <c>full</c>, <c>first-initial</c>, <c>first</c> or <c>anonymous</c>.</summary>
    public string NameStyle { get; set; } = ReviewRules.DefaultNameStyle;

    /// <summary>The name as shown with the review, e.g. "Anna K.".</summary>
    public string DisplayName { get; set; } = "";

    /// <summary>The words the customer agreed to, exactly as shown to them; empty when they did not agree.</summary>
    public string ConsentWording { get; set; } = "";

    /// <summary>When they agreed to publication; null: the review is private feedback and is never shown.</summary>
    public DateTime? ConsentAt { get; set; }

    /// <summary>When they took the consent back (the review is then <see cref="ReviewStatus.Withdrawn"/>).</summary>
    public DateTime? WithdrawnAt { get; set; }

    public ReviewStatus Status { get; set; }

    /// <summary>Who approved, rejected or withdrew it: a user's e-mail or an API key's name.</summary>
    public string? ModeratedBy { get; set; }

    public DateTime? ModeratedAt { get; set; }

    /// <summary>Why it was rejected or withdrawn, for the team.</summary>
    public string? Note { get; set; }

    /// <summary>Makes submitting idempotent (an API key, a survey answer, a page's form).</summary>
    public string? IdempotencyKey { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>What a review may be and how it is shown, as pure functions.</summary>
internal static class ReviewRules
{
    public const int MaxText = 4000;
    public const string DefaultNameStyle = "first-initial";
    public static readonly string[] NameStyles = ["first-initial", "first", "full", "anonymous"];
    public static readonly string[] Sources = ["survey", "page", "api"];

    /// <summary>Shown on public lists when the customer chose not to be named (or no name is known).</summary>
    public const string Anonymous = "A customer";

    public static string ToApi(this ReviewStatus status) => status.ToString().ToLowerInvariant();

    public static bool TryParseStatus(string? text, out ReviewStatus status) =>
        Enum.TryParse(text, ignoreCase: true, out status) && !int.TryParse(text, out _) && Enum.IsDefined(status);

    /// <summary>The name to show: "Anna K." (first name and initial), "Anna", "Anna Kowalski", or <see cref="Anonymous"/>.</summary>
    public static string DisplayName(string? first, string? last, string style)
    {
        first = first?.Trim();
        last = last?.Trim();
        if (string.IsNullOrEmpty(first) && string.IsNullOrEmpty(last))
        {
            return Anonymous;
        }
        return style switch
        {
            "full" => string.Join(' ', new[] { first, last }.Where(p => !string.IsNullOrEmpty(p))),
            "first" => string.IsNullOrEmpty(first) ? Anonymous : first,
            "anonymous" => Anonymous,
            _ => string.IsNullOrEmpty(first) ? Anonymous
                : string.IsNullOrEmpty(last) ? first
                : $"{first} {char.ToUpper(last[0], CultureInfo.InvariantCulture)}.",
        };
    }

    /// <summary>Whether the review may be on public lists: approved, and its consent given and not taken back.</summary>
    public static bool IsPublished(Review r) => r.Status == ReviewStatus.Approved && r.ConsentAt is not null && r.WithdrawnAt is null;

    /// <summary>Why a review cannot be approved now; null when it can.</summary>
    public static string? WhyNotApprove(Review r) =>
        r.WithdrawnAt is not null || r.Status == ReviewStatus.Withdrawn ? "The customer withdrew their consent: the review cannot be published again."
        : r.ConsentAt is null ? "The customer did not agree to publication: the review stays private feedback."
        : null;

    /// <summary>A survey score as a review's stars: ratings and CSAT keep theirs, NPS 0–10 becomes 1–5 (9 and 10 are 5).</summary>
    public static int RatingFromSurvey(string kind, int score) =>
        kind == "nps" ? Math.Clamp((score + 1) / 2, 1, 5) : Math.Clamp(score, 1, 5);

    /// <summary>The average of published ratings to one decimal; null without any.</summary>
    public static double? Average(IReadOnlyCollection<int> ratings) =>
        ratings.Count == 0 ? null : Math.Round(ratings.Average(), 1, MidpointRounding.AwayFromZero);

    /// <summary>"★★★★☆" for 4.</summary>
    public static string Stars(int rating) => new string('★', Math.Clamp(rating, 0, 5)) + new string('☆', 5 - Math.Clamp(rating, 0, 5));

    /// <summary>The consent wording shown to the customer, with the business's name in it.</summary>
    public static string Wording(FeedbackSettings settings, string business) =>
        settings.ConsentWording.Replace("{business}", business, StringComparison.Ordinal);
}
