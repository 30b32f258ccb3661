namespace Clientele.Feedback;

/// <summary>
/// A question answered with one click in an e-mail: <c>nps</c> ("How likely are you to recommend us?", 0–10), <c>csat</c>
/// (how satisfied, 1–5) or <c>rating</c> (a product's grade, 1–5), then an optional comment.
/// </summary>
internal sealed class Survey
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";

    /// <summary><c>nps</c>, <c>csat</c> or <c>rating</c>.</summary>
    public string Kind { get; set; } = "nps";

    public string Question { get; set; } = "";

    /// <summary>Asked on the thank-you page, over a comment box (e.g. "What is the main reason for your score?").</summary>
    public string FollowUp { get; set; } = "";

    /// <summary>For a rating: the product rated.</summary>
    public string? Sku { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>A contact's answer to a survey from one e-mail: clicking another score in it changes the answer.</summary>
internal sealed class SurveyAnswer
{
    public Guid Id { get; set; }
    public Guid SurveyId { get; set; }
    public Guid ContactId { get; set; }

    /// <summary>The outbox message whose link was clicked.</summary>
    public Guid MessageId { get; set; }

    public int Score { get; set; }
    public string? Comment { get; set; }
    public DateTime AnsweredAt { get; set; }
}

/// <summary>The scales and what the answers add up to, as pure functions.</summary>
internal static class SurveyRules
{
    public static readonly string[] Kinds = ["nps", "csat", "rating"];

    public static (int Low, int High) Scale(string kind) => kind == "nps" ? (0, 10) : (1, 5);

    /// <summary>Net Promoter Score: per cent of promoters (9–10) less per cent of detractors (0–6); null without answers.</summary>
    public static double? NetPromoterScore(IReadOnlyCollection<int> scores) =>
        scores.Count == 0 ? null : 100.0 * (scores.Count(s => s >= 9) - scores.Count(s => s <= 6)) / scores.Count;

    /// <summary>CSAT: per cent of answers of 4 or 5.</summary>
    public static double? Satisfied(IReadOnlyCollection<int> scores) =>
        scores.Count == 0 ? null : 100.0 * scores.Count(s => s >= 4) / scores.Count;

    public static string DefaultFollowUp(string kind) => kind == "nps"
        ? "What is the main reason for your score?"
        : "Anything we could do better?";
}
