using System.Text.Json;
using Clientele.Commerce;
using Clientele.Dashboard;
using Clientele.Data;
using Clientele.Lifecycle;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Value;

/// <summary>Everything the Insights page shows, read in one go.</summary>
internal sealed record InsightsData(
    long Orders,
    ScoringRun? LastRun,
    ScoringRun? LastSuccess,
    ScoringDiagnostics? Diagnostics,
    IReadOnlyDictionary<Health, (long Contacts, decimal Value)> ByHealth,
    string Currency,
    IReadOnlyList<TopCustomer> Top,
    IReadOnlyList<CohortFigure> Cohorts,
    ScoringSettings Settings,
    IReadOnlyList<RevenueMonth> Revenue,
    string RevenueCurrency,
    DashboardFigures? Figures = null)
{
    /// <summary>Cohort rows shown: the most recent year of monthly cohorts.</summary>
    public const int CohortMonths = DashboardFigures.CohortMonths;

    public static async Task<InsightsData> LoadAsync(ClienteleDb db, DashboardRollup rollup, TimeProvider time, CancellationToken ct)
    {
        var orders = await db.Orders.LongCountAsync(o => o.Status == OrderStatus.Placed, ct);
        var runs = await db.ScoringRuns.AsNoTracking().OrderByDescending(r => r.RequestedAt).Take(1).ToListAsync(ct);
        var success = await db.ScoringRuns.AsNoTracking().Where(r => r.Status == ScoringStatus.Succeeded)
            .OrderByDescending(r => r.FinishedAt).FirstOrDefaultAsync(ct);
        var diagnostics = success?.Diagnostics is { } json ? JsonSerializer.Deserialize<ScoringDiagnostics>(json, ScoringJob.Json) : null;
        var scored = db.Contacts.AsNoTracking().Where(c => c.DeletedAt == null && c.Value != null);
        var byHealth = (await scored.GroupBy(c => c.Health)
                .Select(g => new { g.Key, Count = g.LongCount(), Value = g.Sum(c => c.Value!.PredictedValue) })
                .ToListAsync(ct))
            .ToDictionary(g => g.Key, g => (g.Count, g.Value));
        var top = await scored.OrderByDescending(c => c.Value!.PredictedValue).Take(10)
            .Select(c => new TopCustomer(c.Id, c.FirstName, c.LastName, c.Email, c.Health, c.Value!.ProbabilityAlive, c.Value.ExpectedPurchases365, c.Value.PredictedValue, c.Value.RfmCell))
            .ToListAsync(ct);
        // Cohorts and the revenue split are the dashboard's figures, added up in the background.
        var figures = orders > 0 ? (await rollup.CurrentAsync(db, ct))?.Figures ?? await rollup.BuildAsync(ct) : null;
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var month = new DateOnly(today.Year, today.Month, 1);
        var revenue = figures is null ? [] : RevenueSplit.Months(figures.Days, figures.Currency, month.AddMonths(1 - CohortMonths), month);
        return new InsightsData(orders, runs.FirstOrDefault(), success, diagnostics, byHealth, diagnostics?.Currency ?? "",
            top, figures?.Cohorts ?? [], await ScoringJob.LoadSettingsAsync(db, ct), revenue, figures?.Currency ?? "", figures);
    }
}

internal sealed record TopCustomer(
    Guid Id, string? FirstName, string? LastName, string? Email, Health Health, double ProbabilityAlive, double ExpectedPurchases365, decimal Value, string RfmCell);
