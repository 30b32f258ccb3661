using System.Globalization;
using System.Text.Json;
using Clientele.Api;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Dashboard;
using Clientele.Data;
using Clientele.Lifecycle;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Value;

/// <summary>
/// The Insights reports as CSV for the back office (signed-in owners and marketers, like <c>/insights/funnel.csv</c>):
/// written like every other export (<see cref="CsvExports"/>: a cell a spreadsheet would run is kept as text), a bad filter answered with a problem document.
/// </summary>
internal static class InsightsExports
{
    public static IEndpointRouteBuilder MapInsightsExports(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/insights").RequireAuthorization(Clientele.Web.Access.Marketing);
        group.MapGet("/value.csv", ValueAsync);
        group.MapGet("/acquisition.csv", AcquisitionAsync);
        group.MapGet("/holdout.csv", HoldoutAsync);
        group.MapGet("/revenue.csv", RevenueAsync);
        group.MapGet("/cohorts.csv", CohortsAsync);
        return app;
    }

    private static string Number(double? value, string format = "0.####") => value?.ToString(format, CultureInfo.InvariantCulture) ?? "";

    private static string Number(decimal? value) => value?.ToString("0.##", CultureInfo.InvariantCulture) ?? "";

    /// <summary>A report's rows as CSV, written like every other export (<see cref="CsvExports"/>: a would-be formula kept as text).</summary>
    private static IResult Csv(string name, string[] header, IEnumerable<string?[]> rows, CancellationToken ct) =>
        CsvExports.Stream(name, header, rows.ToAsyncEnumerable(), r => r, ct);

    private static string Span(ReportFilter f) =>
        f.From is null && f.To is null ? "all" : $"{f.From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "start"}-{f.To?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "now"}";

    /// <summary><c>GET /insights/value.csv?by=source|stage|segment&amp;from=&amp;to=&amp;source=&amp;stage=&amp;segment=</c>: predicted value of scored customers, grouped.</summary>
    internal static async Task<IResult> ValueAsync(HttpRequest request, ClienteleDb db, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var filter = ReportFilter.Parse(request.Query, errors);
        var by = request.Query["by"].ToString() is { Length: > 0 } b ? b : "source";
        if (!ValueBreakdown.Ways.Contains(by))
        {
            errors.Add(new FieldError("query:by", $"\"{by}\" is not a grouping; use source, stage or segment."));
        }
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        var report = await ValueBreakdown.ReadAsync(db, filter, by, ct);
        return Csv($"value-by-{by}-{Span(filter)}.csv", [by, "customers", "total_predicted_value", "average_predicted_value", "currency"],
            report.Groups.Select(g => new[] { g.Label, g.Customers.ToString(CultureInfo.InvariantCulture), Number(g.TotalValue), Number(g.AverageValue), report.Currency }), ct);
    }

    /// <summary><c>GET /insights/acquisition.csv?from=&amp;to=&amp;source=</c>: spend per source against the customers it brought.</summary>
    internal static async Task<IResult> AcquisitionAsync(HttpRequest request, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var filter = ReportFilter.Parse(request.Query, errors);
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        var report = await AcquisitionInsight.ReadAsync(db, filter, time.GetUtcNow().UtcDateTime, ct);
        return Csv($"acquisition-{Span(filter)}.csv",
            ["source", "spend", "spend_currency", "customers", "cost_per_customer", "revenue_so_far", "average_predicted_value", "value_currency", "value_to_cost", "earned_back", "payback_months"],
            report.Rows.Select(r => new[]
            {
                r.Source, Number(r.Spend), r.Spend is null ? "" : report.SpendCurrency, r.Customers.ToString(CultureInfo.InvariantCulture), Number(r.CostPerCustomer),
                Number(r.Revenue), Number(r.AverageValue), report.ValueCurrency, Number(r.ValueToCost, "0.##"), Number(r.EarnedBack, "0.##"), Number(r.PaybackMonths, "0.#"),
            }), ct);
    }

    /// <summary><c>GET /insights/holdout.csv</c>: the last successful run's calibration-against-holdout check, by purchases before and by week.</summary>
    internal static async Task<IResult> HoldoutAsync(ClienteleDb db, CancellationToken ct)
    {
        var run = await db.ScoringRuns.AsNoTracking().Where(r => r.Status == ScoringStatus.Succeeded).OrderByDescending(r => r.FinishedAt).FirstOrDefaultAsync(ct);
        var holdout = run?.Diagnostics is { } json ? JsonSerializer.Deserialize<ScoringDiagnostics>(json, ScoringJob.Json)?.Holdout : null;
        var rows = (holdout?.Rows ?? [])
            .Select(row => new[] { "by_purchases_before", row.Frequency, "", row.Customers.ToString(CultureInfo.InvariantCulture), Number(row.MeanActual), Number(row.MeanPredicted) })
            .Concat((holdout?.Weekly ?? [])
                .Select(week => new[] { "cumulative_by_week", "", week.Week.ToString(CultureInfo.InvariantCulture), "", Number(week.Actual), Number(week.Predicted) }));
        return Csv("holdout.csv", ["group", "purchases_before", "week", "customers", "actual", "expected"], rows, ct);
    }

    /// <summary>Months [from, to] of the dashboard's figures (default: the last 12 months).</summary>
    private static (DateOnly From, DateOnly To) Months(ReportFilter filter, DateTime now)
    {
        var to = DateOnly.FromDateTime(filter.To ?? now);
        var from = filter.From is { } f ? DateOnly.FromDateTime(f) : to.AddMonths(1 - InsightsData.CohortMonths);
        return (new DateOnly(from.Year, from.Month, 1), new DateOnly(to.Year, to.Month, 1));
    }

    private static async Task<(DashboardFigures? Figures, ReportFilter Filter, IResult? Problem)> FiguresAsync(HttpRequest request, ClienteleDb db, DashboardRollup rollup, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var filter = ReportFilter.Parse(request.Query, errors);
        if (errors.Count > 0)
        {
            return (null, filter, ApiProblems.Invalid(errors));
        }
        var orders = await db.Orders.AnyAsync(o => o.Status == OrderStatus.Placed, ct);
        return (orders ? (await rollup.CurrentAsync(db, ct))?.Figures ?? await rollup.BuildAsync(ct) : null, filter, null);
    }

    /// <summary><c>GET /insights/revenue.csv?from=&amp;to=</c>: first orders (front-end) and later orders (back-end) by month.</summary>
    internal static async Task<IResult> RevenueAsync(HttpRequest request, ClienteleDb db, DashboardRollup rollup, TimeProvider time, CancellationToken ct)
    {
        var (figures, filter, problem) = await FiguresAsync(request, db, rollup, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (from, to) = Months(filter, time.GetUtcNow().UtcDateTime);
        var months = figures is null ? [] : RevenueSplit.Months(figures.Days, figures.Currency, from, to);
        return Csv($"revenue-{from:yyyy-MM}-{to:yyyy-MM}.csv", ["month", "front_end", "back_end", "first_orders", "later_orders", "currency"],
            months.Select(m => new[]
            {
                m.Month.ToString("yyyy-MM", CultureInfo.InvariantCulture), Number(m.FrontEnd), Number(m.BackEnd),
                m.FirstOrders.ToString(CultureInfo.InvariantCulture), m.LaterOrders.ToString(CultureInfo.InvariantCulture), figures!.Currency,
            }), ct);
    }

    /// <summary><c>GET /insights/cohorts.csv?from=&amp;to=</c>: customers by month of first order and the share who ordered in each month after.</summary>
    internal static async Task<IResult> CohortsAsync(HttpRequest request, ClienteleDb db, DashboardRollup rollup, TimeProvider time, CancellationToken ct)
    {
        var (figures, filter, problem) = await FiguresAsync(request, db, rollup, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (from, to) = Months(filter, time.GetUtcNow().UtcDateTime);
        var cohorts = (figures?.Cohorts ?? []).Where(c => c.Start >= from && c.Start <= to).ToList();
        var width = cohorts.Count == 0 ? 0 : cohorts.Max(c => c.Retention.Count);
        return Csv($"cohorts-{from:yyyy-MM}-{to:yyyy-MM}.csv", ["cohort", "customers", .. Enumerable.Range(0, width).Select(i => $"month_{i}")],
            cohorts.Select(c => (string?[])[c.Start.ToString("yyyy-MM", CultureInfo.InvariantCulture), c.Customers.ToString(CultureInfo.InvariantCulture),
                .. Enumerable.Range(0, width).Select(i => i < c.Retention.Count ? Number(c.Retention[i]) : "")]), ct);
    }
}
