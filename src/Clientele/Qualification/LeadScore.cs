using System.Globalization;
using System.Text.Json;

namespace Clientele.Qualification;

/// <summary>Whether a rule's points describe who the contact is (fit) or what they do (engagement, which fades).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<ScoreKind>))]
internal enum ScoreKind
{
    Engagement = 0,
    Fit = 1,
}

/// <summary>A condition on an event property or a contact attribute.</summary>
/// <param name="Property">Property name (for events) or attribute name (for contacts).</param>
/// <param name="Op">equals, contains, in (comma-separated values), gte, lte, known.</param>
/// <param name="Value">What to compare with (ignored by known).</param>
internal sealed record ScoreCondition(string Property, string Op = "equals", string? Value = null);

/// <summary>Points for an event of a type, optionally only when its properties match.</summary>
internal sealed record EventRule(string Name, string EventType, int Points, ScoreKind Kind = ScoreKind.Engagement, IReadOnlyList<ScoreCondition>? When = null);

/// <summary>Points for who the contact is: an attribute that matches.</summary>
internal sealed record AttributeRule(string Name, ScoreCondition When, int Points);

/// <summary>
/// How leads are scored and qualified. Engagement points halve every <see cref="HalfLifeDays"/>; a contact is
/// qualified when fit + engagement reaches <see cref="Threshold"/> and every interest and authority attribute is known.
/// </summary>
internal sealed record QualificationSettings
{
    public IReadOnlyList<EventRule> EventRules { get; init; } =
    [
        new("Visited a page", "page.viewed", 1),
        new("Looked at pricing", "page.viewed", 5, ScoreKind.Engagement, [new("url", "contains", "pricing")]),
        new("Opened an e-mail", "email.opened", 2),
        new("Clicked in an e-mail", "email.clicked", 4),
        new("Submitted a form", "form.submitted", 10),
        new("Asked for a demo", "demo.requested", 25),
        new("Asked for a quote", "quote.requested", 25),
        new("Unsubscribed", "email.unsubscribed", -10),
    ];

    public IReadOnlyList<AttributeRule> AttributeRules { get; init; } =
    [
        new("Decision maker", new("role", "in", "owner,founder,director,manager,head"), 20),
        new("Has a budget", new("budget", "known"), 10),
        new("Company known", new("company", "known"), 5),
    ];

    public double HalfLifeDays { get; init; } = 30;

    public int Threshold { get; init; } = 50;

    /// <summary>Attributes that say what the contact wants; each must be known to qualify.</summary>
    public IReadOnlyList<string> InterestAttributes { get; init; } = ["interest"];

    /// <summary>Attributes that say the contact can decide or pay; each must be known to qualify.</summary>
    public IReadOnlyList<string> AuthorityAttributes { get; init; } = ["role"];

    public static QualificationSettings Default { get; } = new();

    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (HalfLifeDays is not (>= 1 and <= 3650))
        {
            errors["halfLifeDays"] = ["Between 1 and 3650 days."];
        }
        if (Threshold is < 1 or > 100_000)
        {
            errors["threshold"] = ["Between 1 and 100000 points."];
        }
        for (var i = 0; i < EventRules.Count; i++)
        {
            var r = EventRules[i];
            if (string.IsNullOrWhiteSpace(r.EventType) || !r.EventType.Contains('.', StringComparison.Ordinal))
            {
                errors[$"eventRules/{i}/eventType"] = ["A noun.verb event type such as page.viewed."];
            }
            if (string.IsNullOrWhiteSpace(r.Name))
            {
                errors[$"eventRules/{i}/name"] = ["Required: it is shown on the timeline."];
            }
            foreach (var (c, j) in (r.When ?? []).Select((c, j) => (c, j)))
            {
                if (ScoreConditions.Check(c) is { } problem)
                {
                    errors[$"eventRules/{i}/when/{j}"] = [problem];
                }
            }
        }
        for (var i = 0; i < AttributeRules.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(AttributeRules[i].Name))
            {
                errors[$"attributeRules/{i}/name"] = ["Required: it is shown on the timeline."];
            }
            if (ScoreConditions.Check(AttributeRules[i].When) is { } problem)
            {
                errors[$"attributeRules/{i}/when"] = [problem];
            }
        }
        return errors;
    }
}

/// <summary>Evaluates <see cref="ScoreCondition"/>s against a JSON object (event properties or contact attributes).</summary>
internal static class ScoreConditions
{
    private static readonly string[] Ops = ["equals", "contains", "in", "gte", "lte", "known"];

    public static string? Check(ScoreCondition c) =>
        string.IsNullOrWhiteSpace(c.Property) ? "Name the property or attribute."
        : !Ops.Contains(c.Op) ? $"\"{c.Op}\" is not a comparison; use {string.Join(", ", Ops)}."
        : c.Op is "gte" or "lte" && !double.TryParse(c.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? "gte and lte compare with a number."
        : c.Op != "known" && c.Value is null ? "Give a value to compare with."
        : null;

    public static bool Matches(ScoreCondition c, JsonElement obj)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(c.Property, out var v) || v.ValueKind is JsonValueKind.Null)
        {
            return false;
        }
        var text = v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : v.GetRawText();
        return c.Op switch
        {
            "known" => text.Trim().Length > 0,
            "equals" => string.Equals(text.Trim(), c.Value, StringComparison.OrdinalIgnoreCase),
            "contains" => text.Contains(c.Value ?? "", StringComparison.OrdinalIgnoreCase),
            "in" => (c.Value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Any(x => string.Equals(x, text.Trim(), StringComparison.OrdinalIgnoreCase)),
            "gte" => Number(text) >= Number(c.Value),
            "lte" => Number(text) <= Number(c.Value),
            _ => false,
        };
    }

    private static double Number(string? s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN;
}

/// <summary>A contact's lead score: fit (who they are) and engagement (what they did, fading with time).</summary>
/// <param name="Fit">Points from attributes and fit-kind event rules.</param>
/// <param name="Engagement">Engagement points as of <paramref name="AsOf"/>.</param>
/// <param name="AsOf">When <paramref name="Engagement"/> was last brought up to date.</param>
internal readonly record struct LeadScore(double Fit, double Engagement, DateTime AsOf)
{
    /// <summary>Engagement decayed to <paramref name="now"/>: halved every half-life.</summary>
    public double EngagementAt(DateTime now, double halfLifeDays) =>
        now <= AsOf ? Engagement : Engagement * Math.Pow(0.5, (now - AsOf).TotalDays / halfLifeDays);

    public int TotalAt(DateTime now, double halfLifeDays) => (int)Math.Round(Fit + EngagementAt(now, halfLifeDays), MidpointRounding.AwayFromZero);

    /// <summary>
    /// The score after <paramref name="points"/> earned at <paramref name="at"/>. An event older than the score's date
    /// adds its points already decayed, so the order events arrive in does not matter.
    /// </summary>
    public LeadScore Add(int points, ScoreKind kind, DateTime at, double halfLifeDays)
    {
        if (kind == ScoreKind.Fit)
        {
            return this with { Fit = Fit + points };
        }
        if (at >= AsOf)
        {
            return new LeadScore(Fit, EngagementAt(at, halfLifeDays) + points, at);
        }
        return this with { Engagement = Engagement + points * Math.Pow(0.5, (AsOf - at).TotalDays / halfLifeDays) };
    }
}

/// <summary>The pure rules: which event rules an event earns, what fit the attributes give, and whether that qualifies.</summary>
internal static class Qualifier
{
    public static IEnumerable<EventRule> Matching(QualificationSettings settings, string eventType, JsonElement properties) =>
        settings.EventRules.Where(r => r.EventType == eventType && (r.When ?? []).All(c => ScoreConditions.Matches(c, properties)));

    /// <summary>Points from attribute rules, with the names of the rules that gave them.</summary>
    public static (int Points, IReadOnlyList<string> Rules) AttributeFit(QualificationSettings settings, JsonElement attributes)
    {
        var matched = settings.AttributeRules.Where(r => ScoreConditions.Matches(r.When, attributes)).ToList();
        return (matched.Sum(r => r.Points), matched.Select(r => r.Name).ToList());
    }

    /// <summary>Score at or over the threshold and every interest and authority attribute known.</summary>
    public static bool Qualifies(QualificationSettings settings, int total, JsonElement attributes) =>
        total >= settings.Threshold
        && settings.InterestAttributes.Concat(settings.AuthorityAttributes).All(a => ScoreConditions.Matches(new ScoreCondition(a, "known"), attributes));
}
