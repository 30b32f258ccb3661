using Clientele.Lifecycle;

namespace Clientele.Dashboard;

/// <summary>A figure now and the same figure one period earlier (null when there is no earlier figure).</summary>
internal readonly record struct Change(double Current, double? Previous)
{
    /// <summary>Current minus previous.</summary>
    public double? Delta => Previous is { } p ? Current - p : null;

    /// <summary>The change as a share of the previous figure (0.25 = up a quarter); null when there was nothing before.</summary>
    public double? Relative => Previous is { } p && p != 0 ? (Current - p) / Math.Abs(p) : null;

    public static Change Of(double current, double? previous) => new(current, previous);
}

/// <summary>The sales figures of the dashboard, each beside the period before.</summary>
/// <param name="Customers">Everyone who has ordered, now against the end of the previous period.</param>
/// <param name="NewCustomers">First orders in the period against the period before.</param>
/// <param name="RepeatRate">Share of customers who have ordered at least twice, now against the end of the previous period.</param>
/// <param name="FrontEnd">First orders' revenue in the period, in the main currency.</param>
/// <param name="BackEnd">Later orders' revenue in the period, in the main currency.</param>
internal sealed record SalesKpis(Change Customers, Change NewCustomers, Change RepeatRate, Change FrontEnd, Change BackEnd)
{
    /// <summary>Back-end share of the period's revenue; null without revenue.</summary>
    public double? BackEndShare => FrontEnd.Current + BackEnd.Current is var total and > 0 ? BackEnd.Current / total : null;
}

/// <summary>Customers by health and predicted value on one day, kept once a day so the dashboard can compare.</summary>
internal sealed record ValueDay(DateOnly Day, int Active, int AtRisk, int Lapsed, int Scored, decimal TotalValue);

/// <summary>The customer-value figures of the dashboard, each beside the figure one period earlier.</summary>
internal sealed record ValueKpis(Change Active, Change AtRisk, Change Lapsed, Change AverageValue, Change TotalValue);

/// <summary>
/// Trends as pure functions over the daily roll-ups: a period (30 days) against the one before it. Days are whole UTC
/// days and the period ends with <c>today</c>.
/// </summary>
internal static class Trends
{
    public const int PeriodDays = 30;

    /// <summary>Sales figures for the period of <paramref name="periodDays"/> days ending today and the one before (revenue in <paramref name="currency"/>; customers in every currency).</summary>
    public static SalesKpis Sales(IReadOnlyList<SalesDay> days, string currency, DateOnly today, int periodDays = PeriodDays)
    {
        var start = today.AddDays(1 - periodDays);
        var before = start.AddDays(-periodDays);
        long firstsNow = 0, firstsThen = 0, secondsNow = 0, secondsThen = 0, newNow = 0, newThen = 0;
        decimal frontNow = 0, frontThen = 0, backNow = 0, backThen = 0;
        foreach (var d in days)
        {
            if (d.Day > today)
            {
                continue;
            }
            firstsNow += d.FirstOrders;
            secondsNow += d.SecondOrders;
            if (d.Day < start)
            {
                firstsThen += d.FirstOrders;
                secondsThen += d.SecondOrders;
            }
            var inNow = d.Day >= start;
            var inThen = d.Day >= before && d.Day < start;
            if (inNow)
            {
                newNow += d.FirstOrders;
            }
            else if (inThen)
            {
                newThen += d.FirstOrders;
            }
            if (d.Currency != currency)
            {
                continue;
            }
            if (inNow)
            {
                frontNow += d.FrontEnd;
                backNow += d.BackEnd;
            }
            else if (inThen)
            {
                frontThen += d.FrontEnd;
                backThen += d.BackEnd;
            }
        }
        // Before the first order there is nothing to compare with.
        var history = days.Count > 0 && days.Min(d => d.Day) < start;
        return new SalesKpis(
            Change.Of(firstsNow, history ? firstsThen : null),
            Change.Of(newNow, history ? newThen : null),
            Change.Of(Rate(secondsNow, firstsNow), history && firstsThen > 0 ? Rate(secondsThen, firstsThen) : null),
            Change.Of((double)frontNow, history ? (double)frontThen : null),
            Change.Of((double)backNow, history ? (double)backThen : null));
    }

    private static double Rate(long repeat, long customers) => customers == 0 ? 0 : (double)repeat / customers;

    /// <summary>Today's customer-value figures against the latest day kept at least a period ago (none: no earlier figure).</summary>
    public static ValueKpis Value(ValueDay current, IEnumerable<ValueDay> history, DateOnly today, int days = PeriodDays)
    {
        var then = history.Where(h => h.Day <= today.AddDays(-days)).MaxBy(h => h.Day);
        return new ValueKpis(
            Change.Of(current.Active, then?.Active),
            Change.Of(current.AtRisk, then?.AtRisk),
            Change.Of(current.Lapsed, then?.Lapsed),
            Change.Of(Average(current), then is null ? null : Average(then)),
            Change.Of((double)current.TotalValue, then is null ? null : (double)then.TotalValue));
    }

    private static double Average(ValueDay d) => d.Scored == 0 ? 0 : (double)d.TotalValue / d.Scored;

    /// <summary>Keeps one figure per day (the latest replaces the day's earlier one) for at most <paramref name="keepDays"/> days.</summary>
    public static List<ValueDay> Remember(IEnumerable<ValueDay> history, ValueDay today, int keepDays = 400) =>
        [.. history.Where(h => h.Day != today.Day && h.Day > today.Day.AddDays(-keepDays)).Append(today).OrderBy(h => h.Day)];
}
