using System.Globalization;
using Clientele.Commerce;
using Clientele.Data;
using MathNet.Numerics.Distributions;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Journeys;

/// <summary>How one variant of an A/B test step did: e-mails measured (their window over), how many converted, and the revenue after them.</summary>
/// <param name="Template">The variant's template.</param>
/// <param name="Sent">E-mails sent whose window has passed.</param>
/// <param name="Converted">Of those, how many led to a click or an order in the window (by the test's metric).</param>
/// <param name="Revenue">Orders' totals in the windows, summed.</param>
/// <param name="RevenueSquares">The sum of each e-mail's revenue squared (for the spread of revenue per e-mail).</param>
internal sealed record VariantResult(string Template, int Sent, int Converted, double Revenue = 0, double RevenueSquares = 0)
{
    public double Rate => Sent == 0 ? 0 : (double)Converted / Sent;

    public double Mean => Sent == 0 ? 0 : Revenue / Sent;

    public double Variance => Sent < 2 ? 0 : Math.Max(0, (RevenueSquares - (Sent * Mean * Mean)) / (Sent - 1));
}

/// <summary>A called test: the winning template and why, in words.</summary>
internal sealed record TestVerdict(string Winner, string Reason);

/// <summary>
/// Calls the winner of an A/B test step. The leader wins as soon as every variant has its minimum of measured e-mails and
/// the leader is ahead of each other variant with 95 % confidence (a two-proportion z-test for clicks and orders, Welch's
/// z on revenue per e-mail; Bonferroni-corrected for more than two variants). When the test's time is up without a clear
/// difference, the leader wins anyway — a test never runs for ever — and the reason says the difference was not clear.
/// </summary>
internal static class AbTest
{
    public static TestVerdict? Decide(IReadOnlyList<VariantResult> results, string metric, int minSends, bool timeUp)
    {
        if (results.Count < 2 || results.All(r => r.Sent == 0))
        {
            return null;
        }
        var order = results.Select((r, i) => (Result: r, Index: i)).OrderByDescending(x => Value(x.Result, metric)).ThenBy(x => x.Index).ToList();
        var leader = order[0].Result;
        var others = order.Skip(1).Select(x => x.Result).ToList();
        var enough = results.All(r => r.Sent >= minSends);
        // Two-sided 95 %, the error shared among the comparisons the leader has to win.
        var critical = Normal.InvCDF(0, 1, 1 - (0.05 / (2 * others.Count)));
        if (enough && others.All(o => Z(leader, o, metric) >= critical))
        {
            return new TestVerdict(leader.Template, $"{Describe(leader, metric)} against {string.Join(", ", others.Select(o => Describe(o, metric)))}: "
                + $"a clear difference (95 % confidence) after {Count(results.Sum(r => r.Sent))} measured e-mails.");
        }
        if (!timeUp)
        {
            return null;
        }
        var tied = others.All(o => Value(o, metric) == Value(leader, metric));
        return new TestVerdict(leader.Template, tied
            ? $"The test's time was up with no difference ({Describe(leader, metric)} for each): kept the first variant."
            : $"The test's time was up without a clear difference: {Describe(leader, metric)} against {string.Join(", ", others.Select(o => Describe(o, metric)))}; kept the better one.");
    }

    private static double Value(VariantResult r, string metric) => metric == "revenue" ? r.Mean : r.Rate;

    /// <summary>How many standard errors the leader is ahead of another variant.</summary>
    internal static double Z(VariantResult leader, VariantResult other, string metric)
    {
        if (leader.Sent == 0 || other.Sent == 0)
        {
            return 0;
        }
        double difference, error;
        if (metric == "revenue")
        {
            difference = leader.Mean - other.Mean;
            error = Math.Sqrt((leader.Variance / leader.Sent) + (other.Variance / other.Sent));
        }
        else
        {
            difference = leader.Rate - other.Rate;
            var pooled = (double)(leader.Converted + other.Converted) / (leader.Sent + other.Sent);
            error = Math.Sqrt(pooled * (1 - pooled) * ((1.0 / leader.Sent) + (1.0 / other.Sent)));
        }
        return error == 0 ? 0 : difference / error;
    }

    private static string Describe(VariantResult r, string metric) => metric switch
    {
        "revenue" => $"\"{r.Template}\" {r.Mean.ToString("0.00", CultureInfo.InvariantCulture)} per e-mail",
        "order" => $"\"{r.Template}\" {Percent(r.Rate)} ordered",
        _ => $"\"{r.Template}\" {Percent(r.Rate)} clicked",
    };

    private static string Percent(double rate) => (100 * rate).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    private static string Count(int n) => n.ToString("N0", CultureInfo.InvariantCulture);
}

/// <summary>
/// Looks at the A/B test steps of active journeys that have no winner yet, measures their variants from the outbox and
/// the orders, and records a winner once <see cref="AbTest.Decide"/> calls one.
/// </summary>
internal sealed class JourneyTests(ClienteleDatabase database, TimeProvider time, ILogger<JourneyTests> log)
{
    /// <summary>Decides what can be decided now; returns the new winners.</summary>
    public async Task<List<JourneyTest>> DecideAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        var published = await LiveJourney.Query(db).ToListAsync(ct);
        var tests = published
            .SelectMany(j => (JourneyDefinition.Parse(j.Definition).Definition?.Steps ?? []).Where(s => s.Type == "abtest" && s.Variants is { Count: >= 2 }).Select(s => (j.Id, j.Name, Step: s)))
            .ToList();
        if (tests.Count == 0)
        {
            return [];
        }
        var ids = tests.Select(t => t.Id).Distinct().ToList();
        var decided = await db.JourneyTests.Where(t => ids.Contains(t.JourneyId)).ToListAsync(ct);
        var templates = await db.Templates.AsNoTracking().Select(t => new { t.Id, t.Name }).ToDictionaryAsync(t => t.Id, t => t.Name, ct);
        var winners = new List<JourneyTest>();
        foreach (var (journeyId, name, step) in tests)
        {
            var known = decided.FirstOrDefault(t => t.JourneyId == journeyId && t.StepId == step.Id);
            if (known is not null && step.Variants!.Contains(known.Winner))
            {
                continue;
            }
            var (results, first) = await MeasureAsync(db, journeyId, step, templates, now, ct);
            var verdict = AbTest.Decide(results, step.Metric, step.SendsNeeded, first is { } f && now - f >= step.TestLength);
            if (verdict is null)
            {
                continue;
            }
            if (known is not null)
            {
                db.JourneyTests.Remove(known); // its winner is no longer among the variants
                await db.SaveChangesAsync(ct);
            }
            var test = new JourneyTest { JourneyId = journeyId, StepId = step.Id, Winner = verdict.Winner, Reason = verdict.Reason, DecidedAt = now };
            db.JourneyTests.Add(test);
            await db.SaveChangesAsync(ct);
            winners.Add(test);
            log.LogInformation("Journey {Journey}, A/B test {Step}: \"{Winner}\" wins. {Reason}", name, step.Id, verdict.Winner, verdict.Reason);
        }
        return winners;
    }

    /// <summary>Each variant's measured e-mails (window over) and conversions, and when the step's first e-mail went.</summary>
    internal static async Task<(List<VariantResult> Results, DateTime? First)> MeasureAsync(ClienteleDb db, Guid journeyId, JourneyStep step,
        IReadOnlyDictionary<Guid, string> templates, DateTime now, CancellationToken ct)
    {
        var window = step.Window;
        var days = window.TotalDays;
        var cutoff = now - window;
        var sent = db.OutboxMessages.AsNoTracking().Where(m => m.JourneyId == journeyId && m.StepId == step.Id && m.SentAt != null);
        var first = await sent.MinAsync(m => m.SentAt, ct);
        var orders = db.Orders.AsNoTracking().Where(o => o.Status != OrderStatus.Refunded && o.Status != OrderStatus.Cancelled);
        var rows = await sent.Where(m => m.SentAt <= cutoff)
            .Select(m => new
            {
                m.TemplateId,
                Clicked = m.ClickedAt != null && m.ClickedAt <= m.SentAt!.Value.AddDays(days),
                Revenue = orders.Where(o => o.ContactId == m.ContactId && o.PlacedAt >= m.SentAt && o.PlacedAt <= m.SentAt!.Value.AddDays(days)).Sum(o => (decimal?)o.Total),
                Ordered = orders.Any(o => o.ContactId == m.ContactId && o.PlacedAt >= m.SentAt && o.PlacedAt <= m.SentAt!.Value.AddDays(days)),
            })
            .ToListAsync(ct);
        var results = step.Variants!.Select(variant =>
        {
            var mine = rows.Where(r => r.TemplateId is { } t && templates.TryGetValue(t, out var n) && n == variant).ToList();
            var converted = step.Metric switch
            {
                "click" => mine.Count(r => r.Clicked),
                _ => mine.Count(r => r.Ordered),
            };
            var revenue = mine.Select(r => (double)(r.Revenue ?? 0)).ToList();
            return new VariantResult(variant, mine.Count, converted, revenue.Sum(), revenue.Sum(v => v * v));
        }).ToList();
        return (results, first);
    }
}

/// <summary>Calls A/B test winners every few minutes (<c>Clientele:Journeys:TestMinutes</c>, default 5).</summary>
internal sealed class JourneyTestService(JourneyTests tests, TimeProvider time, IConfiguration config, ILogger<JourneyTestService> log)
    : PeriodicService(time, log)
{
    protected override bool Enabled => config.GetValue("Clientele:Journeys:Enabled", true);

    protected override TimeSpan Every => TimeSpan.FromMinutes(config.GetValue("Clientele:Journeys:TestMinutes", 5.0));

    protected override string What => "Deciding A/B tests";

    protected override Task RunOnceAsync(CancellationToken ct) => tests.DecideAsync(ct);
}
