namespace Clientele.Lifecycle;

/// <summary>One order as the ladder sees it.</summary>
/// <param name="Id">The shop's order id.</param>
/// <param name="PlacedAt">When it was placed.</param>
/// <param name="Categories">Product categories on it (may be empty when the shop sends none).</param>
/// <param name="Refunded">Refunded or cancelled: it no longer counts.</param>
internal sealed record OrderFact(string Id, DateTime PlacedAt, IReadOnlyList<string> Categories, bool Refunded = false);

/// <summary>One trial, sample or demo period.</summary>
internal sealed record TrialFact(DateTime StartedAt, DateTime? EndsAt, DateTime? EndedAt, string? Outcome);

/// <summary>
/// What is known about a contact that decides their stage. Kept by <see cref="StageProjection"/> from the event log.
/// </summary>
internal sealed record StageFacts
{
    /// <summary>Topics the contact has consented to (double opt-in confirmed where it applies).</summary>
    public IReadOnlyList<string> ConsentTopics { get; init; } = [];

    /// <summary>Last form submission (details captured).</summary>
    public DateTime? FormSubmittedAt { get; init; }

    /// <summary>When the contact was qualified (score over threshold, interest and authority known); null when not or no longer.</summary>
    public DateTime? QualifiedAt { get; init; }

    /// <summary>Last buying signal: a demo or quote requested, an offer accepted.</summary>
    public DateTime? BuyingSignalAt { get; init; }

    public IReadOnlyList<TrialFact> Trials { get; init; } = [];

    public IReadOnlyList<OrderFact> Orders { get; init; } = [];

    /// <summary>Last sign of advocacy: a promoter answer, a good review or rating, a referral that signed up.</summary>
    public DateTime? AdvocacyAt { get; init; }

    /// <summary>Since when the loyalty rule has held without a break; null when it does not hold.</summary>
    public DateTime? LoyalSince { get; init; }

    /// <summary>A stage set by hand or by a journey, which holds whatever the rules say until it is cleared; null when the rules decide.</summary>
    public Stage? Override { get; init; }

    /// <summary>Who set <see cref="Override"/>, in words.</summary>
    public string? OverrideBy { get; init; }
}

/// <summary>The rules' knobs, with the defaults of the ladder in design.md. Changed under Settings → Stages.</summary>
internal sealed record LadderSettings
{
    /// <summary>A buying signal keeps a contact in Convert this long without a trial or order.</summary>
    public int ConvertDays { get; init; } = 90;

    /// <summary>Cross-purchase: the other category is bought within this many days of the last purchase in the first.</summary>
    public int CrossPurchaseDays { get; init; } = 365;

    /// <summary>Loyalty: at least this many orders …</summary>
    public int LoyaltyOrders { get; init; } = 3;

    /// <summary>… the last one within this many days …</summary>
    public int LoyaltyRecencyDays { get; init; } = 180;

    /// <summary>… and a sign of advocacy within this many days.</summary>
    public int AdvocacyDays { get; init; } = 365;

    /// <summary>Retention: loyal without a break for this many days.</summary>
    public int RetentionDays { get; init; } = 365;

    public static LadderSettings Default { get; } = new();

    /// <summary>What is wrong, by field (camelCase, as the API names it).</summary>
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        void Days(string field, int value)
        {
            if (value is < 1 or > 3650)
            {
                errors[field] = ["Between 1 and 3650 days."];
            }
        }
        Days("convertDays", ConvertDays);
        Days("crossPurchaseDays", CrossPurchaseDays);
        Days("loyaltyRecencyDays", LoyaltyRecencyDays);
        Days("advocacyDays", AdvocacyDays);
        Days("retentionDays", RetentionDays);
        if (LoyaltyOrders is < 2 or > 100)
        {
            errors["loyaltyOrders"] = ["Between 2 and 100 orders."];
        }
        return errors;
    }
}

/// <summary>A stage and the rule that put the contact there, in words for the timeline.</summary>
internal sealed record StageDecision(Stage Stage, string Reason, DateTime? LoyalSince);

/// <summary>
/// The ten-stage ladder as a pure function: facts and now in, the highest rung whose rule currently holds out.
/// Stage can fall: a refund, a lapsed trial, a buying signal gone stale or loyalty that stops all count.
/// </summary>
internal static class Ladder
{
    /// <param name="facts">What is known about the contact.</param>
    /// <param name="settings">The rules' knobs.</param>
    /// <param name="now">The time the decision is for.</param>
    /// <param name="changedAt">When the latest fact happened (an event's time); loyalty that starts now is dated from it.</param>
    public static StageDecision Decide(StageFacts facts, LadderSettings settings, DateTime now, DateTime? changedAt = null)
    {
        var ruled = ByRules(facts, settings, now, changedAt);
        // An override holds the stage; the rules keep counting (loyalty's start) for when it is cleared.
        return facts.Override is { } pinned ? ruled with { Stage = pinned, Reason = $"set by {facts.OverrideBy ?? "hand"}" } : ruled;
    }

    private static StageDecision ByRules(StageFacts facts, LadderSettings settings, DateTime now, DateTime? changedAt)
    {
        var orders = facts.Orders.Where(o => !o.Refunded).OrderBy(o => o.PlacedAt).ToList();
        var loyal = LoyaltyHolds(orders, facts.AdvocacyAt, settings, now);
        var since = changedAt is { } c && c < now ? c : now;
        var loyalSince = loyal ? facts.LoyalSince ?? since : (DateTime?)null;
        if (loyal && now - loyalSince!.Value >= TimeSpan.FromDays(settings.RetentionDays))
        {
            return new(Stage.Retention, $"loyal for {settings.RetentionDays} days", loyalSince);
        }
        if (loyal)
        {
            return new(Stage.Loyalty, $"{orders.Count} orders, the last within {settings.LoyaltyRecencyDays} days, and advocacy", loyalSince);
        }
        if (CrossPurchase(orders, settings) is { } category)
        {
            return new(Stage.CrossPurchase, $"bought from a second category ({category}) while still buying the first", null);
        }
        if (orders.Count >= 2)
        {
            return new(Stage.RePurchase, $"order {orders[1].Id}: a second order", null);
        }
        if (orders.Count == 1)
        {
            return new(Stage.Purchase, $"order {orders[0].Id}: the first order", null);
        }
        if (facts.Trials.FirstOrDefault(t => t.EndedAt is null && (t.EndsAt is null || t.EndsAt > now)) is { } trial)
        {
            return new(Stage.Trial, $"trial running since {trial.StartedAt:yyyy-MM-dd}", null);
        }
        if (facts.BuyingSignalAt is { } signal && now - signal <= TimeSpan.FromDays(settings.ConvertDays))
        {
            return new(Stage.Convert, $"buying signal within {settings.ConvertDays} days", null);
        }
        if (facts.QualifiedAt is not null)
        {
            return new(Stage.Qualify, "qualified", null);
        }
        if (facts.ConsentTopics.Count > 0)
        {
            return new(Stage.Capture, $"consented to {string.Join(", ", facts.ConsentTopics)}", null);
        }
        return new(Stage.Lead, "known contact", null);
    }

    private static bool LoyaltyHolds(List<OrderFact> orders, DateTime? advocacyAt, LadderSettings settings, DateTime now) =>
        orders.Count >= settings.LoyaltyOrders
        && now - orders[^1].PlacedAt <= TimeSpan.FromDays(settings.LoyaltyRecencyDays)
        && advocacyAt is { } a && now - a <= TimeSpan.FromDays(settings.AdvocacyDays);

    /// <summary>
    /// The first category bought that is new to the customer, placed while they were still buying a category they
    /// started with: within <see cref="LadderSettings.CrossPurchaseDays"/> of their latest earlier order holding one.
    /// </summary>
    private static string? CrossPurchase(List<OrderFact> orders, LadderSettings settings)
    {
        if (orders.Count < 2 || orders[0].Categories.Count == 0)
        {
            return null;
        }
        var first = orders[0].Categories.ToHashSet(StringComparer.OrdinalIgnoreCase);
        DateTime? lastFirst = orders[0].PlacedAt;
        foreach (var order in orders.Skip(1))
        {
            var other = order.Categories.FirstOrDefault(c => !first.Contains(c));
            if (other is not null && lastFirst is { } last && order.PlacedAt - last <= TimeSpan.FromDays(settings.CrossPurchaseDays))
            {
                return other;
            }
            if (order.Categories.Any(first.Contains))
            {
                lastFirst = order.PlacedAt;
            }
        }
        return null;
    }
}
