using System.Text.Json;
using Clientele.Clv;
using Clientele.Commerce;
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
    CohortMatrix? Cohorts,
    ScoringSettings Settings,
    IReadOnlyList<RevenueMonth> Revenue,
    string RevenueCurrency)
{
    /// <summary>Cohort rows shown: the most recent year of monthly cohorts.</summary>
    public const int CohortMonths = 12;

    public static async Task<InsightsData> LoadAsync(ClienteleDb db, TimeProvider time, CancellationToken ct)
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
        CohortMatrix? cohorts = null;
        if (orders > 0)
        {
            var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
            var from = today.AddMonths(-CohortMonths).AddDays(1 - today.Day);
            var since = from.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            // Only customers acquired in the window: their first order is in it.
            var recent = await db.Orders.AsNoTracking()
                .Where(o => o.Status == OrderStatus.Placed)
                .GroupBy(o => o.ContactId)
                .Where(g => g.Min(o => o.PlacedAt) >= since)
                .Select(g => g.Key)
                .ToListAsync(ct);
            var purchases = await db.Orders.AsNoTracking()
                .Where(o => o.Status == OrderStatus.Placed && o.PlacedAt >= since)
                .Select(o => new { o.ContactId, o.PlacedAt, o.Total })
                .ToListAsync(ct);
            var acquired = recent.ToHashSet();
            var transactions = purchases.Where(p => acquired.Contains(p.ContactId))
                .Select(p => new Transaction(p.ContactId.ToString("N"), p.PlacedAt, p.Total)).ToList();
            cohorts = transactions.Count == 0 ? null : CohortMatrix.Build(transactions, TimeUnit.Months, today);
        }
        var (revenue, revenueCurrency) = orders > 0 ? await RevenueSplit.ReadAsync(db, time.GetUtcNow().UtcDateTime, CohortMonths, ct) : ([], "");
        return new InsightsData(orders, runs.FirstOrDefault(), success, diagnostics, byHealth, diagnostics?.Currency ?? "",
            top, cohorts, await ScoringJob.LoadSettingsAsync(db, ct), revenue, revenueCurrency);
    }
}

internal sealed record TopCustomer(
    Guid Id, string? FirstName, string? LastName, string? Email, Health Health, double ProbabilityAlive, double ExpectedPurchases365, decimal Value, string RfmCell);
