using Clientele.Commerce;
using Clientele.Data;
using Clientele.Journeys;
using Clientele.Lifecycle;
using Clientele.Support;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Dashboard;

/// <summary>A valuable customer at risk of leaving, as the dashboard lists them, with their place in the chosen journey.</summary>
/// <param name="InJourneySince">When they entered the chosen journey, if they are in it now.</param>
internal sealed record AtRiskCustomer(Guid Id, string Name, string? Email, decimal Value, string Currency, double ProbabilityAlive, DateTime? LastOrderAt,
    DateTime? InJourneySince);

/// <summary>A running journey the owner can put contacts into.</summary>
internal sealed record JourneyChoice(Guid Id, string Name, string? Playbook);

/// <summary>A ticket waiting for its first response, near or past its target.</summary>
internal sealed record DueTicket(Guid Id, string Subject, string? Assignee, DateTime CreatedAt, DateTime Due, DateTime BreachAt, string State);

/// <summary>Everything the dashboard shows, read in one go (the page and <c>GET /api/v1/reports/dashboard</c>).</summary>
/// <param name="FiguresAt">When the pre-computed figures were added up; null while the first build runs.</param>
/// <param name="Building">Where the first build stands while there are no figures yet.</param>
/// <param name="Marketing">Whether the reader may see sales and value (owners and marketers); support agents see contacts and tickets.</param>
internal sealed record DashboardView(
    DateTime Now,
    DateTime? FiguresAt,
    RollupProgress? Building,
    bool Marketing,
    bool HasContacts,
    DashboardFigures? Figures,
    SalesKpis? Sales,
    ValueKpis? Value,
    IReadOnlyList<RevenueMonth> Revenue,
    IReadOnlyList<AtRiskCustomer> AtRisk,
    IReadOnlyList<JourneyChoice> Journeys,
    Guid? Journey,
    IReadOnlyList<DueTicket> Tickets,
    IReadOnlyList<JourneyConversion> Falling,
    IReadOnlyList<SourceReport> Acquisition,
    AcquisitionSpend Spend)
{
    public bool HasOrders => Figures is { Orders: > 0 };
}

/// <summary>Reads the dashboard: the pre-computed figures, their trends, and the few live lists (at-risk customers, tickets).</summary>
internal static class DashboardData
{
    /// <summary>Tickets due within this many hours count as near their target.</summary>
    public const int NearHours = 4;

    public const int ListLength = 10;

    /// <param name="journey">The journey the at-risk list offers to enroll in; null for the installed win-back playbook.</param>
    public static async Task<DashboardView> LoadAsync(ClienteleDb db, DashboardRollup rollup, DateTime now, bool marketing, Guid? journey, CancellationToken ct)
    {
        var current = await rollup.CurrentAsync(db, ct);
        var figures = current?.Figures;
        var hasContacts = figures is { Contacts: > 0 } || await db.Contacts.AnyAsync(c => c.DeletedAt == null, ct);
        var tickets = await TicketsAsync(db, now, ct);
        if (!marketing || figures is null)
        {
            return new DashboardView(now, current?.BuiltAt, figures is null ? rollup.Progress ?? new RollupProgress("Adding up", 0) : null, marketing,
                hasContacts, figures, null, null, [], [], [], null, tickets, [], [], AcquisitionSpend.Empty);
        }
        var today = DateOnly.FromDateTime(now);
        var sales = Trends.Sales(figures.Days, figures.Currency, today);
        var value = Trends.Value(figures.Value.Today(today), figures.History, today);
        var thisMonth = new DateOnly(today.Year, today.Month, 1);
        var revenue = RevenueSplit.Months(figures.Days, figures.Currency, thisMonth.AddMonths(1 - DashboardFigures.CohortMonths), thisMonth);

        var journeys = await db.Journeys.AsNoTracking().Where(j => j.Status == JourneyStatus.Active && j.Version > 0).OrderBy(j => j.Name)
            .Select(j => new JourneyChoice(j.Id, j.Name, j.Playbook)).ToListAsync(ct);
        var chosen = journeys.FirstOrDefault(j => j.Id == journey)?.Id ?? journeys.FirstOrDefault(j => j.Playbook == "win-back")?.Id;
        var atRisk = await AtRiskAsync(db, figures.Value, chosen, ct);

        var spend = await SettingsStore.LoadAsync(db, AcquisitionSpend.Key, AcquisitionSpend.Empty, ct);
        var acquisition = AcquisitionReport.Compare(figures.Value.Sources, spend, figures.Value.Currency);
        return new DashboardView(now, current!.Value.BuiltAt, null, marketing, hasContacts, figures, sales, value, revenue, atRisk, journeys, chosen, tickets,
            ConversionTrend.Falling(figures.Journeys), acquisition, spend);
    }

    /// <summary>The most valuable customers still at risk (read fresh: some may have ordered or left since the figures were added up).</summary>
    private static async Task<List<AtRiskCustomer>> AtRiskAsync(ClienteleDb db, ValueFigures value, Guid? journey, CancellationToken ct)
    {
        var ids = value.AtRisk.ToList();
        if (ids.Count == 0)
        {
            return [];
        }
        var people = await db.Contacts.AsNoTracking()
            .Where(c => ids.Contains(c.Id) && c.DeletedAt == null && c.Health == Health.AtRisk && c.Value != null)
            .Select(c => new { c.Id, c.FirstName, c.LastName, c.Email, c.Value!.PredictedValue, c.Value.Currency, c.Value.ProbabilityAlive })
            .ToListAsync(ct);
        var shown = people.OrderByDescending(p => p.PredictedValue).ThenBy(p => p.Id).Take(ListLength).ToList();
        var shownIds = shown.Select(p => p.Id).ToList();
        var lastOrders = await db.Orders.AsNoTracking().Where(o => shownIds.Contains(o.ContactId) && o.Status == OrderStatus.Placed)
            .GroupBy(o => o.ContactId).Select(g => new { g.Key, Last = g.Max(o => o.PlacedAt) }).ToDictionaryAsync(g => g.Key, g => g.Last, ct);
        var inJourney = journey is not { } j ? [] : await db.JourneyRuns.AsNoTracking()
            .Where(r => r.JourneyId == j && shownIds.Contains(r.ContactId) && r.Status == RunStatus.Active)
            .GroupBy(r => r.ContactId).Select(g => new { g.Key, Since = g.Min(r => r.EnteredAt) }).ToDictionaryAsync(g => g.Key, g => g.Since, ct);
        return [.. shown.Select(p => new AtRiskCustomer(p.Id, Web.Format.Name(p.FirstName, p.LastName) is { Length: > 0 } name ? name : p.Email ?? p.Id.ToString(),
            p.Email, p.PredictedValue, p.Currency, p.ProbabilityAlive, lastOrders.TryGetValue(p.Id, out var last) ? last : null,
            inJourney.TryGetValue(p.Id, out var since) ? since : null))];
    }

    /// <summary>Tickets still waiting for their first response that are past their target or due within <see cref="NearHours"/> hours, most urgent first.</summary>
    private static async Task<List<DueTicket>> TicketsAsync(ClienteleDb db, DateTime now, CancellationToken ct)
    {
        var policy = await SettingsStore.LoadAsync(db, SlaPolicy.Key, SlaPolicy.Default, ct);
        var (list, _) = await TicketQuery.ListAsync(db, "active", null, null, policy, now, ListLength, ct);
        return [.. (list ?? [])
            .Where(t => t.FirstRespondedAt is null && t.FirstResponseDue <= now.AddHours(NearHours))
            .Select(t => new DueTicket(t.Id, t.Subject, t.Assignee, t.CreatedAt, t.FirstResponseDue, t.BreachAt ?? t.CreatedAt.AddHours(policy.LimitHours),
                Sla.State(t, policy, now)))];
    }
}
