using Clientele.Accounts;
using Clientele.Api;
using Clientele.Clv;
using Clientele.Data;
using Clientele.Lifecycle;

namespace Clientele.Dashboard;

/// <summary><c>GET /api/v1/reports/dashboard</c> (the home page's figures) and <c>GET|PUT /api/v1/acquisition</c> (spend per source against customer value).</summary>
internal static class DashboardApi
{
    public static RouteGroupBuilder MapDashboard(this RouteGroupBuilder api)
    {
        api.MapGet("/reports/dashboard", GetDashboardAsync).WithTags("Reports").RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("The owner's dashboard: figures of the last 30 days against the 30 before, stages, revenue by month, cohorts, concentration, value spread, at-risk customers, tickets near their target, journeys converting less");
        var acquisition = api.MapGroup("/acquisition").WithTags("Reports");
        acquisition.MapGet("/", GetAcquisitionAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Acquisition spend per source and, beside it, the customers each source brought and their average predicted value");
        acquisition.MapPut("/", PutAcquisitionAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<AcquisitionSpend>("application/json")
            .WithSummary("Set the acquisition spend: {\"currency\": \"EUR\", \"sources\": [{\"source\": \"google\", \"amount\": 1200}]} (replaces the list)");
        return api;
    }

    internal sealed record ChangeDto(double Current, double? Previous, double? Change);

    internal sealed record KpisDto(ChangeDto Customers, ChangeDto NewCustomers, ChangeDto RepeatRate, ChangeDto FrontEndRevenue, ChangeDto BackEndRevenue,
        ChangeDto Active, ChangeDto AtRisk, ChangeDto Lapsed, ChangeDto AveragePredictedValue, ChangeDto TotalPredictedValue);

    internal sealed record RevenueDto(DateOnly Month, decimal FrontEnd, decimal BackEnd);

    internal sealed record DashboardDto(DateTime? FiguresAt, int PeriodDays, string Currency, string ValueCurrency, long Orders, KpisDto? Kpis,
        List<StageFigure> Stages, List<RevenueDto> Revenue, double TopFifthRevenueShare, IReadOnlyList<ParetoPoint> Pareto,
        IReadOnlyList<CohortFigure> Cohorts, IReadOnlyList<ClvBin> ValueDistribution, IReadOnlyList<AtRiskCustomer> AtRisk, Guid? WinBackJourney,
        IReadOnlyList<DueTicket> Tickets, IReadOnlyList<JourneyConversion> FallingJourneys, IReadOnlyList<SourceReport> Acquisition);

    private static ChangeDto Dto(Change c) => new(c.Current, c.Previous, c.Delta);

    internal static async Task<IResult> GetDashboardAsync(ClienteleDb db, DashboardRollup rollup, TimeProvider time, CancellationToken ct)
    {
        if (await DashboardRollup.ReadAsync(db, ct) is null)
        {
            await rollup.BuildAsync(ct); // the first figures: an API caller waits for them
        }
        var v = await DashboardData.LoadAsync(db, rollup, time.GetUtcNow().UtcDateTime, marketing: true, journey: null, ct);
        var f = v.Figures!;
        KpisDto? kpis = v.Sales is { } s && v.Value is { } h
            ? new KpisDto(Dto(s.Customers), Dto(s.NewCustomers), Dto(s.RepeatRate), Dto(s.FrontEnd), Dto(s.BackEnd),
                Dto(h.Active), Dto(h.AtRisk), Dto(h.Lapsed), Dto(h.AverageValue), Dto(h.TotalValue))
            : null;
        return TypedResults.Ok(new DashboardDto(v.FiguresAt, Trends.PeriodDays, f.Currency, f.Value.Currency, f.Orders, kpis, [.. f.Stages],
            [.. v.Revenue.Select(r => new RevenueDto(r.Month, r.FrontEnd, r.BackEnd))], f.TopFifthShare, f.Pareto, f.Cohorts, f.Value.Histogram,
            v.AtRisk, v.Journey, v.Tickets, v.Falling, v.Acquisition));
    }

    internal sealed record AcquisitionDto(string Currency, IReadOnlyList<SourceSpend> Spend, string ValueCurrency, IReadOnlyList<SourceReport> Sources);

    /// <summary>The spend as kept and, beside it, each source's customers and value (from the latest figures).</summary>
    internal static async Task<AcquisitionDto> AcquisitionAsync(ClienteleDb db, DashboardRollup rollup, CancellationToken ct)
    {
        var spend = await SettingsStore.LoadAsync(db, AcquisitionSpend.Key, AcquisitionSpend.Empty, ct);
        var figures = (await rollup.CurrentAsync(db, ct))?.Figures ?? await rollup.BuildAsync(ct);
        return new AcquisitionDto(spend.Currency ?? "", spend.Sources ?? [], figures.Value.Currency,
            AcquisitionReport.Compare(figures.Value.Sources, spend, figures.Value.Currency));
    }

    internal static async Task<IResult> GetAcquisitionAsync(ClienteleDb db, DashboardRollup rollup, CancellationToken ct) =>
        TypedResults.Ok(await AcquisitionAsync(db, rollup, ct));

    /// <summary>Checks and keeps the spend (for the API and the page alike): null when kept, else the problem.</summary>
    internal static async Task<IResult?> SaveSpendAsync(AcquisitionSpend input, ClienteleDatabase database, DateTime now, CancellationToken ct)
    {
        var problems = input.Problems();
        if (problems.Count > 0)
        {
            return ApiProblems.Invalid(problems);
        }
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            await SettingsStore.SaveAsync(db, AcquisitionSpend.Key, input.Normalized(), now, ct);
        }
        return null;
    }

    internal static async Task<IResult> PutAcquisitionAsync(HttpRequest request, ClienteleDatabase database, DashboardRollup rollup, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<AcquisitionSpend>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (await SaveSpendAsync(input!, database, time.GetUtcNow().UtcDateTime, ct) is { } refused)
        {
            return refused;
        }
        await using var db = database.CreateDbContext();
        return TypedResults.Ok(await AcquisitionAsync(db, rollup, ct));
    }
}
