using System.Text.Json;
using Clientele.Clv;
using Clientele.Lifecycle;

namespace Clientele.Dashboard;

/// <summary>A pre-computed report kept as one JSON document (the dashboard's figures), rebuilt in the background.</summary>
internal sealed class Rollup
{
    public string Key { get; set; } = "";
    public string Data { get; set; } = "{}";
    public DateTime BuiltAt { get; set; }

    /// <summary>How long the build took: the next one waits ten times as long, so the job stays a small part of the machine.</summary>
    public int Milliseconds { get; set; }
}

/// <summary>One acquisition cohort: customers who first ordered in the month, and the share who ordered in each month since.</summary>
internal sealed record CohortFigure(DateOnly Start, int Customers, IReadOnlyList<double> Retention);

/// <summary>Customers of one health and their predicted value.</summary>
internal sealed record HealthFigure(Health Health, int Customers, decimal Value);

/// <summary>Contacts at one stage.</summary>
internal sealed record StageFigure(Stage Stage, long Contacts);

/// <summary>What the scoring job has stored on contacts, summed: health, value, their spread and the most valuable at-risk customers.</summary>
/// <param name="Currency">The scoring currency, in which values are.</param>
/// <param name="AtRisk">The most valuable customers at risk, most valuable first (ids; the page reads them fresh).</param>
internal sealed record ValueFigures(string Currency, int Scored, decimal TotalValue, IReadOnlyList<HealthFigure> ByHealth, IReadOnlyList<ClvBin> Histogram,
    IReadOnlyList<Guid> AtRisk, IReadOnlyList<SourceValue> Sources)
{
    public static ValueFigures Empty { get; } = new("", 0, 0, [], [], [], []);

    public int Of(Health health) => ByHealth.FirstOrDefault(h => h.Health == health)?.Customers ?? 0;

    public ValueDay Today(DateOnly day) => new(day, Of(Health.Active), Of(Health.AtRisk), Of(Health.Lapsed), Scored, TotalValue);
}

/// <summary>
/// Everything the dashboard shows that would take more than a glance at a million contacts, added up by
/// <see cref="DashboardRollup"/>: sales by day (front-end and back-end), cohorts, the revenue concentration curve,
/// customer value and health, each source's customers, the daily history of value for trends, journeys' conversion
/// and contacts per stage.
/// </summary>
/// <param name="Currency">The currency most orders are in: revenue figures are in it.</param>
/// <param name="Orders">Placed orders (not refunded or cancelled), all currencies.</param>
/// <param name="Customers">Contacts with at least one placed order.</param>
/// <param name="TopFifthShare">Share of revenue (main currency) from the best 20 % of customers.</param>
internal sealed record DashboardFigures(
    DateTime BuiltAt,
    string Currency,
    long Orders,
    int Customers,
    IReadOnlyList<SalesDay> Days,
    IReadOnlyList<CohortFigure> Cohorts,
    IReadOnlyList<ParetoPoint> Pareto,
    double TopFifthShare,
    ValueFigures Value,
    IReadOnlyList<ValueDay> History,
    IReadOnlyList<JourneyConversion> Journeys,
    IReadOnlyList<StageFigure> Stages)
{
    public const string Key = "dashboard";

    /// <summary>Cohort rows kept: the most recent year of monthly cohorts.</summary>
    public const int CohortMonths = 12;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public long Contacts => Stages.Sum(s => s.Contacts);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static DashboardFigures? FromJson(string json) => JsonSerializer.Deserialize<DashboardFigures>(json, Json);
}
