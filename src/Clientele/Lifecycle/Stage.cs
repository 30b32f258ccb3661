namespace Clientele.Lifecycle;

/// <summary>The ten rungs of the ladder, lowest first.</summary>
internal enum Stage
{
    Lead = 1,
    Capture = 2,
    Qualify = 3,
    Convert = 4,
    Trial = 5,
    Purchase = 6,
    RePurchase = 7,
    CrossPurchase = 8,
    Loyalty = 9,
    Retention = 10,
}

/// <summary>Whether a contact is still buying, from the customer-value models' P(alive).</summary>
internal enum Health
{
    Unknown = 0,
    Active = 1,
    AtRisk = 2,
    Lapsed = 3,
}

internal static class StageNames
{
    public static string ToApi(this Stage stage) => stage switch
    {
        Stage.RePurchase => "re-purchase",
        Stage.CrossPurchase => "cross-purchase",
        _ => stage.ToString().ToLowerInvariant(),
    };

    public static string Display(this Stage stage) => stage switch
    {
        Stage.RePurchase => "Re-Purchase",
        Stage.CrossPurchase => "Cross-Purchase",
        _ => stage.ToString(),
    };

    public static bool TryParse(string? value, out Stage stage)
    {
        foreach (var s in Enum.GetValues<Stage>())
        {
            if (string.Equals(s.ToApi(), value, StringComparison.OrdinalIgnoreCase)
                || string.Equals(s.ToString(), value, StringComparison.OrdinalIgnoreCase))
            {
                stage = s;
                return true;
            }
        }
        stage = default;
        return false;
    }

    public static string ToApi(this Health health) => health switch
    {
        Health.AtRisk => "at-risk",
        _ => health.ToString().ToLowerInvariant(),
    };

    public static bool TryParseHealth(string? value, out Health health)
    {
        foreach (var h in Enum.GetValues<Health>())
        {
            if (string.Equals(h.ToApi(), value, StringComparison.OrdinalIgnoreCase) || string.Equals(h.ToString(), value, StringComparison.OrdinalIgnoreCase))
            {
                health = h;
                return true;
            }
        }
        health = default;
        return false;
    }
}
