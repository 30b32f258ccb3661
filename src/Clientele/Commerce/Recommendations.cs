using System.Diagnostics;
using Clientele.Data;
using Clientele.Templates;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Commerce;

/// <summary>One of a product's best partners (<see cref="BoughtTogether"/>), as last computed.</summary>
internal sealed class ProductPair
{
    public string Sku { get; set; } = "";
    public string PartnerSku { get; set; } = "";

    /// <summary>1 for the best partner.</summary>
    public int Rank { get; set; }

    /// <summary>Customers who bought both.</summary>
    public int Buyers { get; set; }

    public double Confidence { get; set; }
    public double Lift { get; set; }

    /// <summary>What ranks partners: see <see cref="Partner.Score"/>.</summary>
    public double Score { get; set; }
}

/// <summary>How many customers bought a product, as last computed: the best sellers.</summary>
internal sealed class ProductSales
{
    public string Sku { get; set; } = "";

    /// <summary>1 for the product most customers bought.</summary>
    public int Rank { get; set; }

    public int Buyers { get; set; }
}

/// <summary>The last computation, kept in the settings table.</summary>
internal sealed record RecommendationState(DateTime ComputedAt, int Customers, int Products, int Pairs, int Lines, double Seconds);

/// <summary>A pick for a contact with what an e-mail shows of it.</summary>
internal sealed record RecommendedProduct(
    string Sku, string Name, decimal Price, string Currency, string? Url, string? ImageUrl, PickSource Source, double Score, IReadOnlyList<string> Because)
{
    public MessageRecommendation AsMessage() => new(Sku, Name, Price, Currency, Url, ImageUrl);
}

/// <summary>Reads the stored partners and best sellers: a contact's picks and a product's partners.</summary>
internal static class Recommendations
{
    public const string StateKey = "recommendations.state";

    /// <summary>Picks for one contact (see <see cref="BoughtTogether.PickFor"/>): a few small indexed queries.</summary>
    public static async Task<List<RecommendedProduct>> ForContactAsync(ClienteleDb db, Guid contactId, int limit, CancellationToken ct)
    {
        var purchases = (await db.Orders.AsNoTracking().Where(o => o.ContactId == contactId)
                .Join(db.OrderLines, o => o.Id, l => l.OrderId, (o, l) => new { l.Sku, o.PlacedAt, o.Status })
                .ToListAsync(ct))
            .Select(p => new ContactPurchase(p.Sku, p.PlacedAt, p.Status)).ToList();
        var owned = purchases.Select(p => p.Sku).Distinct().ToList();
        var sources = purchases.Where(p => p.Status == OrderStatus.Placed).Select(p => p.Sku).Distinct().ToList();
        var partners = sources.Count == 0
            ? []
            : (await db.ProductPairs.AsNoTracking()
                .Where(p => sources.Contains(p.Sku))
                .Join(db.Products, p => p.PartnerSku, product => product.Sku, (p, _) => new { p.Sku, p.PartnerSku, p.Buyers, p.Score })
                .ToListAsync(ct))
            .Select(p => new StoredPartner(p.Sku, p.PartnerSku, p.Buyers, p.Score)).ToList();
        // Twice the limit: whatever the pairs pick is among them at most once each.
        var bestSellers = await db.ProductSales.AsNoTracking()
            .Where(s => !owned.Contains(s.Sku))
            .Join(db.Products, s => s.Sku, product => product.Sku, (s, _) => s)
            .OrderBy(s => s.Rank).Take(2 * limit).Select(s => s.Sku)
            .ToListAsync(ct);
        var picks = BoughtTogether.PickFor(purchases, partners, bestSellers, [], limit);
        if (picks.Count < limit)
        {
            // Too few sales to go by: the newest products of the catalogue.
            var taken = picks.Select(p => p.Sku).Concat(owned).ToList();
            var catalog = await db.Products.AsNoTracking().Where(p => !taken.Contains(p.Sku))
                .OrderByDescending(p => p.CreatedAt).ThenBy(p => p.Sku).Take(limit).Select(p => p.Sku).ToListAsync(ct);
            picks = BoughtTogether.PickFor(purchases, partners, bestSellers, catalog, limit);
        }
        var skus = picks.Select(p => p.Sku).ToList();
        var products = await db.Products.AsNoTracking().Where(p => skus.Contains(p.Sku)).ToDictionaryAsync(p => p.Sku, StringComparer.Ordinal, ct);
        return picks.Where(p => products.ContainsKey(p.Sku)).Select(p =>
        {
            var product = products[p.Sku];
            return new RecommendedProduct(product.Sku, product.Name, product.Price, product.Currency, product.Url, product.ImageUrl, p.Source, p.Score, p.Because);
        }).ToList();
    }

    public static async Task<List<MessageRecommendation>> ForMessageAsync(ClienteleDb db, Guid contactId, CancellationToken ct) =>
        [.. (await ForContactAsync(db, contactId, BoughtTogether.DefaultPicks, ct)).Select(r => r.AsMessage())];

    public static Task<RecommendationState?> StateAsync(ClienteleDb db, CancellationToken ct) =>
        SettingsStore.LoadAsync<RecommendationState?>(db, StateKey, null, ct);
}

/// <summary>
/// Counts what customers bought together from every order and replaces the stored partners and best sellers. One
/// computation at a time in this process; on PostgreSQL, an instance that finds another one computing leaves it to it.
/// </summary>
internal sealed class BoughtTogetherJob(ClienteleDatabase database, TimeProvider time, IConfiguration config) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public int Top => config.GetValue("Clientele:Recommendations:Top", BoughtTogether.DefaultTop);

    public int MinBuyers => config.GetValue("Clientele:Recommendations:MinBuyers", BoughtTogether.DefaultMinBuyers);

    public void Dispose() => _gate.Dispose();

    /// <summary>Recomputes now; null when another instance was computing.</summary>
    public async Task<RecommendationState?> RecomputeAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return await RunAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<RecommendationState?> RunAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        await using var db = database.CreateDbContext();
        db.Database.SetCommandTimeout(TimeSpan.FromMinutes(30));
        var postgres = database.Kind == DatabaseKind.Postgres;
        // On PostgreSQL the lock (held by the instance computing), the read and the write share one transaction, so two
        // instances never interleave.
        await using var postgresTx = postgres ? await db.Database.BeginTransactionAsync(ct) : null;
        if (postgres && !await db.Database.SqlQueryRaw<bool>("SELECT pg_try_advisory_xact_lock(7283462) AS \"Value\"").SingleAsync(ct))
        {
            return null;
        }

        // The few orders that do not count, then one pass over every order line in the order of the lines' contact
        // index (SQLite) or sorted by contact (PostgreSQL), so each customer's lines come together; nothing is
        // tracked. Reading the lines alone spares a look-up of each line's order, which took twice as long as the
        // read itself.
        var voided = await db.Orders.AsNoTracking().Where(o => o.Status != OrderStatus.Placed).Select(o => new { o.Id, o.Status })
            .ToDictionaryAsync(o => o.Id, o => o.Status, ct);
        var counter = new BasketCounter();
        if (postgres)
        {
            // PostgreSQL would walk the contact index and fetch every line from wherever it lies (12.6 s for 3.4 million
            // lines); reading the table in order and sorting it takes 3.5 s. For this transaction only.
            await db.Database.ExecuteSqlRawAsync("SET LOCAL enable_indexscan = off", ct);
        }
        var lines = db.OrderLines.AsNoTracking().OrderBy(l => l.ContactId).Select(l => new { l.ContactId, l.OrderId, l.Sku });
        await foreach (var line in lines.AsAsyncEnumerable().WithCancellation(ct))
        {
            counter.Add(new PurchasedLine(line.ContactId, line.Sku, voided.GetValueOrDefault(line.OrderId, OrderStatus.Placed)));
        }
        if (postgres)
        {
            await db.Database.ExecuteSqlRawAsync("SET LOCAL enable_indexscan = on", ct);
        }
        var result = counter.Rank(Top, MinBuyers);

        var pairs = result.Partners.SelectMany(p => p.Value.Select((partner, i) => new ProductPair
        {
            Sku = p.Key,
            PartnerSku = partner.Sku,
            Rank = i + 1,
            Buyers = partner.Buyers,
            Confidence = partner.Confidence,
            Lift = partner.Lift,
            Score = partner.Score,
        })).ToList();
        var sales = result.BestSellers().Select((s, i) => new ProductSales { Sku = s.Sku, Buyers = s.Buyers, Rank = i + 1 }).ToList();
        var now = time.GetUtcNow().UtcDateTime;

        using (await database.EnterWriteAsync(ct))
        {
            await using var sqliteTx = postgres ? null : await db.Database.BeginTransactionAsync(ct);
            await db.ProductPairs.ExecuteDeleteAsync(ct);
            await db.ProductSales.ExecuteDeleteAsync(ct);
            foreach (var chunk in pairs.Chunk(5000))
            {
                db.ProductPairs.AddRange(chunk);
                await db.SaveChangesAsync(ct);
                db.ChangeTracker.Clear();
            }
            foreach (var chunk in sales.Chunk(5000))
            {
                db.ProductSales.AddRange(chunk);
                await db.SaveChangesAsync(ct);
                db.ChangeTracker.Clear();
            }
            var state = new RecommendationState(now, result.Customers, sales.Count, pairs.Count, counter.Lines, Math.Round(clock.Elapsed.TotalSeconds, 3));
            await SettingsStore.SaveAsync(db, Recommendations.StateKey, state, now, ct);
            await (sqliteTx?.CommitAsync(ct) ?? Task.CompletedTask);
            await (postgresTx?.CommitAsync(ct) ?? Task.CompletedTask);
            return state;
        }
    }
}

/// <summary>
/// Keeps the bought-together partners current: computes them when the server starts if they were never computed or are
/// older than <c>Clientele:Recommendations:Interval</c> (default an hour), then once per interval. It looks every few
/// minutes, so with several instances the one that finds them fresh from another leaves them.
/// <c>Clientele:Recommendations:Enabled=false</c> turns it off.
/// </summary>
internal sealed class BoughtTogetherService(ClienteleDatabase database, BoughtTogetherJob job, TimeProvider clock, IConfiguration config,
    ILogger<BoughtTogetherService> log) : PeriodicService(clock, log)
{
    private readonly TimeProvider _time = clock;

    private static readonly TimeSpan Look = TimeSpan.FromMinutes(5);

    private TimeSpan Interval => config.GetValue("Clientele:Recommendations:Interval", TimeSpan.FromHours(1)) is var i && i > TimeSpan.FromMinutes(1)
        ? i
        : TimeSpan.FromMinutes(1);

    protected override bool Enabled => config.GetValue("Clientele:Recommendations:Enabled", true);

    protected override TimeSpan Every => Interval < Look ? Interval : Look;

    protected override string What => "Computing what is bought together";

    protected override async Task RunOnceAsync(CancellationToken ct)
    {
        await using (var db = database.CreateDbContext())
        {
            if (await Recommendations.StateAsync(db, ct) is { } last && _time.GetUtcNow().UtcDateTime - last.ComputedAt < Interval)
            {
                return;
            }
        }
        if (await job.RecomputeAsync(ct) is { } state)
        {
            log.LogInformation(
                "Bought together: {Pairs} partners for {Products} products from {Customers} customers ({Lines} order lines) in {Seconds:0.0} s",
                state.Pairs, state.Products, state.Customers, state.Lines, state.Seconds);
        }
    }
}
