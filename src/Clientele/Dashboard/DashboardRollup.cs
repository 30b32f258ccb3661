using System.Diagnostics;
using Clientele.Clv;
using Clientele.Commerce;
using Clientele.Data;
using Clientele.Events;
using Clientele.Journeys;
using Clientele.Lifecycle;
using Clientele.Value;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Dashboard;

/// <summary>Where a build stands, for the page to show while the first one runs.</summary>
internal sealed record RollupProgress(string Step, double Done);

/// <summary>
/// Adds up the dashboard's figures (<see cref="DashboardFigures"/>) in one pass over the orders and one over the
/// contacts, and keeps them as one document in the <c>rollups</c> table, so the page reads them at a glance however
/// large the business. Builds one at a time; rebuilt in the background when orders change, after a scoring run, every
/// quarter of an hour and when the day changes (<see cref="DashboardRollupService"/>), and on the spot by the page when
/// the last build was quick.
/// </summary>
internal sealed class DashboardRollup(ClienteleDatabase database, TimeProvider time, ILogger<DashboardRollup> log) : IDisposable
{
    /// <summary>A build at most this long is simply redone when a page finds the figures out of date.</summary>
    public static readonly TimeSpan InlineBuild = TimeSpan.FromMilliseconds(250);

    /// <summary>Figures older than this are rebuilt even when nothing signalled a change (stages, journeys' runs).</summary>
    public static readonly TimeSpan Refresh = TimeSpan.FromMinutes(15);

    private const int AtRiskKept = 50;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _changes;
    private long _built = -1;
    private volatile RollupProgress? _progress;

    /// <summary>Wakes the background service.</summary>
    public WakeSignal Signal { get; } = new();

    /// <summary>While a build runs: what it is doing and how far it is; null otherwise.</summary>
    public RollupProgress? Progress => _progress;

    /// <summary>Whether orders changed since the last build began (as told by <see cref="MarkChanged"/>).</summary>
    public bool Changed => Interlocked.Read(ref _changes) != Interlocked.Read(ref _built);

    /// <summary>Orders were placed, refunded or cancelled: the figures are out of date.</summary>
    public void MarkChanged()
    {
        Interlocked.Increment(ref _changes);
        Signal.Notify();
    }

    /// <summary>The stored figures and when and how fast they were built; null before the first build.</summary>
    public static async Task<(DashboardFigures Figures, DateTime BuiltAt, int Milliseconds)?> ReadAsync(ClienteleDb db, CancellationToken ct)
    {
        var row = await db.Rollups.AsNoTracking().FirstOrDefaultAsync(r => r.Key == DashboardFigures.Key, ct);
        return row is null || DashboardFigures.FromJson(row.Data) is not { } figures ? null : (figures, row.BuiltAt, row.Milliseconds);
    }

    /// <summary>Whether a background build is due now: see the class summary.</summary>
    public async Task<bool> DueAsync(TimeSpan minimumGap, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        var stored = await db.Rollups.AsNoTracking().Where(r => r.Key == DashboardFigures.Key)
            .Select(r => new { r.BuiltAt, r.Milliseconds }).FirstOrDefaultAsync(ct);
        if (stored is null)
        {
            return true;
        }
        var now = time.GetUtcNow().UtcDateTime;
        var age = now - stored.BuiltAt;
        // Ten times the build's own length between builds keeps a large shop's job to a small share of the machine.
        var gap = TimeSpan.FromMilliseconds(Math.Max(minimumGap.TotalMilliseconds, 10.0 * stored.Milliseconds));
        if (age < gap)
        {
            return false;
        }
        if (Changed || age >= Refresh || DateOnly.FromDateTime(now) != DateOnly.FromDateTime(stored.BuiltAt))
        {
            return true;
        }
        return await ScoredSinceAsync(db, stored.BuiltAt, ct);
    }

    /// <summary>Builds and stores the figures (waiting for a build already running, then building again).</summary>
    public async Task<DashboardFigures> BuildAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var changes = Interlocked.Read(ref _changes);
            var clock = Stopwatch.StartNew();
            var figures = await ComputeAsync(ct);
            var ms = (int)Math.Min(int.MaxValue, clock.ElapsedMilliseconds);
            await StoreAsync(figures, ms, ct);
            Interlocked.Exchange(ref _built, changes);
            log.LogDebug("Dashboard figures built in {Milliseconds} ms", ms);
            return figures;
        }
        finally
        {
            _progress = null;
            _gate.Release();
        }
    }

    /// <summary>
    /// Figures for a page: the stored ones, rebuilt first when they are out of date (orders changed, a scoring run finished
    /// since, or older than a minute) and a build is quick (<see cref="Quick"/>); null while there are none yet (a first build is then
    /// started in the background).
    /// </summary>
    public async Task<(DashboardFigures Figures, DateTime BuiltAt)?> CurrentAsync(ClienteleDb db, CancellationToken ct)
    {
        var stored = await ReadAsync(db, ct);
        if (stored is null)
        {
            Signal.Notify();
            return null;
        }
        var (figures, builtAt, ms) = stored.Value;
        if (Quick(figures, ms) && (Changed || time.GetUtcNow().UtcDateTime - builtAt > TimeSpan.FromMinutes(1) || await ScoredSinceAsync(db, builtAt, ct)))
        {
            var fresh = await BuildAsync(ct);
            return (fresh, fresh.BuiltAt);
        }
        return (figures, builtAt);
    }

    /// <summary>Whether a build is quick enough to redo while a page waits: a small business, or a last build that was quick.</summary>
    private static bool Quick(DashboardFigures figures, int milliseconds) =>
        milliseconds <= InlineBuild.TotalMilliseconds || (figures.Contacts <= SmallContacts && figures.Orders <= SmallOrders);

    /// <summary>A business this small is added up in well under a quarter of a second (the first build also pays for warming up).</summary>
    private const int SmallContacts = 5_000;

    private const int SmallOrders = 20_000;

    private static async Task<bool> ScoredSinceAsync(ClienteleDb db, DateTime builtAt, CancellationToken ct) =>
        await db.ScoringRuns.AsNoTracking().AnyAsync(r => r.Status == ScoringStatus.Succeeded && r.FinishedAt >= builtAt, ct);

    private async Task<DashboardFigures> ComputeAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var today = DateOnly.FromDateTime(now);
        await using var db = database.CreateDbContext();
        db.Database.SetCommandTimeout(TimeSpan.FromMinutes(30));
        var previous = await ReadAsync(db, ct);

        // Orders, read in the table's own order (a walk in customer order costs SQLite a look-up per order), then put
        // in customer and time order in memory, and added up one customer at a time.
        var total = await db.Orders.LongCountAsync(o => o.Status == OrderStatus.Placed, ct);
        _progress = new RollupProgress($"Adding up {total:N0} orders", 0);
        var placed = new PlacedOrders((int)Math.Min(total, int.MaxValue));
        await foreach (var o in db.Orders.AsNoTracking().Where(o => o.Status == OrderStatus.Placed)
            .Select(o => new { o.ContactId, o.PlacedAt, o.Total, o.Currency }).AsAsyncEnumerable().WithCancellation(ct))
        {
            placed.Add(o.ContactId, o.PlacedAt, o.Total, o.Currency);
            if (placed.Count % 50_000 == 0)
            {
                _progress = new RollupProgress($"Adding up {total:N0} orders", 0.6 * placed.Count / Math.Max(1, total));
            }
        }
        var tally = new RevenueSplit.Tally();
        var customers = new HashSet<Guid>();
        var revenue = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        var ordersByCurrency = new Dictionary<string, long>(StringComparer.Ordinal);
        var cohortSince = today.AddMonths(1 - DashboardFigures.CohortMonths).AddDays(1 - today.Day);
        var cohortLog = new List<Transaction>();
        var spent = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var (contact, mine) in placed.ByCustomer())
        {
            tally.AddCustomer(mine);
            customers.Add(contact);
            spent.Clear();
            foreach (var (_, amount, code) in mine)
            {
                spent[code] = spent.GetValueOrDefault(code) + amount;
                ordersByCurrency[code] = ordersByCurrency.GetValueOrDefault(code) + 1;
            }
            foreach (var (code, amount) in spent)
            {
                if (!revenue.TryGetValue(code, out var list))
                {
                    revenue[code] = list = [];
                }
                list.Add((double)Math.Max(0, amount));
            }
            if (DateOnly.FromDateTime(mine[0].PlacedAt) >= cohortSince)
            {
                var id = contact.ToString("N");
                cohortLog.AddRange(mine.Where(o => DateOnly.FromDateTime(o.PlacedAt) <= today).Select(o => new Transaction(id, o.PlacedAt, o.Total)));
            }
        }
        var currency = ordersByCurrency.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key).FirstOrDefault() ?? "";
        var shares = revenue.GetValueOrDefault(currency) ?? [];
        var cohorts = cohortLog.Count == 0 ? [] : CohortMatrix.Build(cohortLog, TimeUnit.Months, today).Rows
            .Select(r => new CohortFigure(r.CohortStart, r.Customers, r.Retention)).ToList();

        // Contacts: stages, and what scoring stored on them.
        _progress = new RollupProgress("Adding up customer value", 0.7);
        var value = await ValueAsync(db, customers, ct);

        _progress = new RollupProgress("Comparing journeys", 0.95);
        var journeys = await ConversionsAsync(db, now, ct);

        var history = previous?.Figures.History ?? [];
        if (value.Value.Scored > 0)
        {
            history = Trends.Remember(history, value.Value.Today(today));
        }
        return new DashboardFigures(now, currency, ordersByCurrency.Values.Sum(), customers.Count, tally.Days(), cohorts,
            ParetoCurve.Compute(shares), ParetoCurve.TopTwentyPercentShare(shares), value.Value, history, journeys, value.Stages);
    }

    private async Task<(ValueFigures Value, List<StageFigure> Stages)> ValueAsync(ClienteleDb db, HashSet<Guid> customers, CancellationToken ct)
    {
        var stages = new long[Enum.GetValues<Stage>().Max(s => (int)s) + 1];
        var byHealth = new Dictionary<Health, (int Count, decimal Value)>();
        var values = new List<decimal>();
        var atRisk = new PriorityQueue<Guid, decimal>();
        var sources = new Dictionary<string, (int Customers, int Scored, decimal Value)>(StringComparer.Ordinal);
        var scoredIn = await db.Contacts.AsNoTracking().Where(c => c.DeletedAt == null && c.Value != null)
            .Select(c => c.Value!.Currency).FirstOrDefaultAsync(ct) ?? "";
        await foreach (var c in db.Contacts.AsNoTracking().Where(c => c.DeletedAt == null)
            .Select(c => new { c.Id, c.Stage, c.Health, Value = c.Value == null ? (decimal?)null : c.Value.PredictedValue, c.Source, c.UtmSource })
            .AsAsyncEnumerable().WithCancellation(ct))
        {
            if ((int)c.Stage < stages.Length && c.Stage > 0)
            {
                stages[(int)c.Stage]++;
            }
            if (c.Value is { } v)
            {
                var (n, sum) = byHealth.GetValueOrDefault(c.Health);
                byHealth[c.Health] = (n + 1, sum + v);
                values.Add(v);
                if (c.Health == Health.AtRisk)
                {
                    // Keeps the most valuable: the queue's head is the least valuable of those kept.
                    atRisk.Enqueue(c.Id, v);
                    if (atRisk.Count > AtRiskKept)
                    {
                        atRisk.Dequeue();
                    }
                }
            }
            if (customers.Contains(c.Id))
            {
                var source = AcquisitionSpend.Normalize(c.UtmSource ?? c.Source) is { Length: > 0 } s ? s : "(none)";
                var (n, scored, sum) = sources.GetValueOrDefault(source);
                sources[source] = (n + 1, scored + (c.Value is null ? 0 : 1), sum + (c.Value ?? 0));
            }
        }
        var top = new List<(Guid Id, decimal Value)>();
        while (atRisk.TryDequeue(out var id, out var v))
        {
            top.Add((id, v));
        }
        top.Reverse();
        var figures = new ValueFigures(scoredIn, values.Count, values.Sum(),
            [.. byHealth.OrderBy(h => h.Key).Select(h => new HealthFigure(h.Key, h.Value.Count, h.Value.Value))],
            ClvHistogram.Bins(values),
            [.. top.Select(t => t.Id)],
            [.. sources.OrderByDescending(s => s.Value.Customers).Select(s => new SourceValue(s.Key, s.Value.Customers, s.Value.Scored, s.Value.Value))]);
        return (figures, [.. Enum.GetValues<Stage>().Select(s => new StageFigure(s, stages[(int)s]))]);
    }

    /// <summary>Each active journey with a goal: entrants of the last two fortnights (the control group left out) and how many reached it.</summary>
    private static async Task<List<JourneyConversion>> ConversionsAsync(ClienteleDb db, DateTime now, CancellationToken ct)
    {
        var live = (await LiveJourney.Query(db).ToListAsync(ct))
            .Where(j => JourneyDefinition.Parse(j.Definition).Definition?.Goal is { Length: > 0 })
            .ToList();
        if (live.Count == 0)
        {
            return [];
        }
        var ids = live.Select(j => j.Id).ToList();
        var mid = now.AddDays(-ConversionTrend.WindowDays);
        var from = mid.AddDays(-ConversionTrend.WindowDays);
        var rows = await db.JourneyRuns.AsNoTracking()
            .Where(r => ids.Contains(r.JourneyId) && r.EnteredAt >= from && r.EnteredAt <= now && !r.Holdout)
            .GroupBy(r => new { r.JourneyId, Recent = r.EnteredAt >= mid, Goal = r.Status == RunStatus.GoalReached })
            .Select(g => new { g.Key.JourneyId, g.Key.Recent, g.Key.Goal, Count = g.Count() })
            .ToListAsync(ct);
        int Of(Guid id, bool recent, bool? goal = null) => rows.Where(r => r.JourneyId == id && r.Recent == recent && (goal is null || r.Goal == goal)).Sum(r => r.Count);
        return [.. live.OrderBy(j => j.Name, StringComparer.Ordinal)
            .Select(j => new JourneyConversion(j.Id, j.Name, Of(j.Id, true), Of(j.Id, true, true), Of(j.Id, false), Of(j.Id, false, true)))];
    }

    private async Task StoreAsync(DashboardFigures figures, int milliseconds, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            var row = await db.Rollups.FirstOrDefaultAsync(r => r.Key == DashboardFigures.Key, ct);
            if (row is null)
            {
                row = new Rollup { Key = DashboardFigures.Key };
                db.Rollups.Add(row);
            }
            row.Data = figures.ToJson();
            row.BuiltAt = figures.BuiltAt;
            row.Milliseconds = milliseconds;
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException) when (database.Kind == DatabaseKind.Postgres)
            {
                // Another instance stored its first build at the same moment: theirs is as good.
            }
        }
    }

    public void Dispose()
    {
        _gate.Dispose();
        Signal.Dispose();
    }
}

/// <summary>
/// Placed orders held compactly (about 30 bytes each) and handed out one customer at a time, earliest first: a counting
/// sort by customer, then each customer's few orders by time.
/// </summary>
internal sealed class PlacedOrders(int capacity)
{
    private readonly Dictionary<Guid, int> _index = [];
    private readonly List<Guid> _customers = [];
    private readonly List<string> _currencies = [];
    private readonly List<int> _customer = new(capacity);
    private readonly List<long> _ticks = new(capacity);
    private readonly List<decimal> _totals = new(capacity);
    private readonly List<short> _currency = new(capacity);

    public int Count => _customer.Count;

    public void Add(Guid contact, DateTime placedAt, decimal total, string currency)
    {
        if (!_index.TryGetValue(contact, out var c))
        {
            _index[contact] = c = _customers.Count;
            _customers.Add(contact);
        }
        var k = _currencies.IndexOf(currency);
        if (k < 0)
        {
            k = _currencies.Count;
            _currencies.Add(currency);
        }
        _customer.Add(c);
        _ticks.Add(placedAt.Ticks);
        _totals.Add(total);
        _currency.Add((short)k);
    }

    /// <summary>Each customer with their orders, earliest first (the list is reused: copy what is kept).</summary>
    public IEnumerable<(Guid Contact, List<(DateTime PlacedAt, decimal Total, string Currency)> Orders)> ByCustomer()
    {
        var start = new int[_customers.Count + 1];
        foreach (var c in _customer)
        {
            start[c + 1]++;
        }
        for (var c = 0; c < _customers.Count; c++)
        {
            start[c + 1] += start[c];
        }
        var next = (int[])start.Clone();
        var order = new int[_customer.Count];
        for (var i = 0; i < _customer.Count; i++)
        {
            order[next[_customer[i]]++] = i;
        }
        var mine = new List<(DateTime PlacedAt, decimal Total, string Currency)>();
        for (var c = 0; c < _customers.Count; c++)
        {
            mine.Clear();
            for (var j = start[c]; j < start[c + 1]; j++)
            {
                var i = order[j];
                mine.Add((new DateTime(_ticks[i], DateTimeKind.Utc), _totals[i], _currencies[_currency[i]]));
            }
            mine.Sort((a, b) => a.PlacedAt.CompareTo(b.PlacedAt));
            yield return (_customers[c], mine);
        }
    }
}

/// <summary>
/// Rebuilds the dashboard's figures when they are due (<see cref="DashboardRollup.DueAsync"/>), checking every minute
/// and whenever orders change. <c>Clientele:Dashboard:MinSecondsBetween</c> (default 10) is the least time between two
/// builds; <c>Clientele:Dashboard:Enabled=false</c> turns the background builds off.
/// </summary>
internal sealed class DashboardRollupService(DashboardRollup rollup, IConfiguration config, ILogger<DashboardRollupService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!config.GetValue("Clientele:Dashboard:Enabled", true))
        {
            return;
        }
        var gap = TimeSpan.FromSeconds(config.GetValue("Clientele:Dashboard:MinSecondsBetween", 10));
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (await rollup.DueAsync(gap, stoppingToken))
                    {
                        await rollup.BuildAsync(stoppingToken);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    log.LogError(ex, "Building the dashboard's figures failed");
                }
                await rollup.Signal.WaitAsync(TimeSpan.FromMinutes(1), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

/// <summary>Tells the dashboard's roll-up that orders changed, once the orders consumer has applied them.</summary>
internal sealed class SalesChanges(DashboardRollup rollup) : IEventConsumer
{
    private bool _changed;

    public string Name => "dashboard";

    public bool Wants(string eventType) => eventType is "order.placed" or "order.refunded" or "order.cancelled";

    public IReadOnlyList<string> After => ["commerce"];

    public bool ReadsProperties => false;

    public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct)
    {
        _changed = true;
        return Task.CompletedTask;
    }

    public void Committed()
    {
        if (_changed)
        {
            _changed = false;
            rollup.MarkChanged();
        }
    }
}
