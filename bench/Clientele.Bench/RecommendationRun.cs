using System.Diagnostics;
using System.Globalization;
using Clientele.Commerce;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Clientele.Bench;

/// <summary>
/// "Bought together" at scale: a generated shop of 200,000 orders (one to three lines each, over 200 products, a quarter
/// as many customers as orders, some products usually bought with a companion, one order in fifty refunded; generated
/// by SQL inside the database, then ANALYZEd). Measures the whole recomputation (one pass over every order line,
/// counting, ranking, replacing the stored partners) beside a plain read of every order line in the same run, and one
/// contact's picks (what a message that shows recommendations costs) beside reading that contact's order lines alone.
/// </summary>
internal static class RecommendationRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var orders = IngestRun.IntArg(args, "--orders", 200_000);
        var products = IngestRun.IntArg(args, "--products", 200);
        var samples = IntArg(args, "--samples", 1_000);
        var postgres = StringArg(args, "--postgres");
        var only = StringArg(args, "--only");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
        Console.WriteLine($"data: {orders:N0} orders over {products:N0} products, {orders / 4:N0} customers");
        var dir = Path.Combine(Path.GetTempPath(), "clientele-recbench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            if (only is null or "sqlite")
            {
                await RunOneAsync("SQLite", $"Data Source={Path.Combine(dir, "shop.db")}", orders, products, samples);
            }
            if (postgres is not null && only is null or "postgres")
            {
                await using (var admin = new NpgsqlConnection(postgres))
                {
                    await admin.OpenAsync();
                    await using var create = new NpgsqlCommand("CREATE DATABASE bench_recommendations", admin);
                    await create.ExecuteNonQueryAsync();
                }
                await RunOneAsync("PostgreSQL", new NpgsqlConnectionStringBuilder(postgres!) { Database = "bench_recommendations" }.ToString(), orders, products, samples);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
        return 0;
    }

    private static async Task RunOneAsync(string name, string connection, int orders, int products, int samples)
    {
        Console.WriteLine();
        Console.WriteLine($"== {name} ==");
        using var database = ClienteleDatabase.Open(connection);
        await database.MigrateAsync();
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        var clock = Stopwatch.StartNew();
        await using (var db = database.CreateDbContext())
        {
            await db.Database.OpenConnectionAsync();
            var open = db.Database.GetDbConnection();
            foreach (var sql in database.Kind == DatabaseKind.Sqlite ? SqliteData(orders, products, now) : PostgresData(orders, products, now))
            {
                await using var cmd = open.CreateCommand();
                cmd.CommandText = sql;
                cmd.CommandTimeout = 3600;
                await cmd.ExecuteNonQueryAsync();
            }
        }
        long lines;
        await using (var db = database.CreateDbContext())
        {
            lines = await db.OrderLines.LongCountAsync();
        }
        Console.WriteLine($"generated {lines:N0} order lines in {clock.Elapsed.TotalSeconds:N0} s");

        var job = new BoughtTogetherJob(database, TimeProvider.System, new ConfigurationBuilder().Build());
        var baseline = new List<double>();
        var recompute = new List<double>();
        var allocated = new List<double>();
        RecommendationState? state = null;
        for (var i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            var read = await ReadAllLinesAsync(database);
            baseline.Add(sw.Elapsed.TotalMilliseconds);
            if (read != lines)
            {
                throw new InvalidOperationException($"read {read} lines of {lines}");
            }
            var before = GC.GetTotalAllocatedBytes(precise: true);
            sw.Restart();
            state = await job.RecomputeAsync(CancellationToken.None);
            recompute.Add(sw.Elapsed.TotalMilliseconds);
            allocated.Add((GC.GetTotalAllocatedBytes(precise: true) - before) / 1048576.0);
        }
        Console.WriteLine($"plain read of every order line (baseline):    {Median(baseline),8:N0} ms");
        Console.WriteLine($"recompute bought together:                    {Median(recompute),8:N0} ms   ratio {Median(recompute) / Median(baseline):N2}   ({Median(allocated):N0} MB allocated)");
        Console.WriteLine($"  {state!.Pairs:N0} partners for {state.Products:N0} products from {state.Customers:N0} customers");

        // One contact's picks, as the sender looks them up for a message that shows them.
        List<Guid> contacts;
        await using (var db = database.CreateDbContext())
        {
            contacts = await db.Orders.Select(o => o.ContactId).Distinct().OrderBy(c => c).Take(samples * 10).ToListAsync();
        }
        var rng = new Random(7);
        var picks = new List<double>();
        var own = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var contact = contacts[rng.Next(contacts.Count)];
            await using var db = database.CreateDbContext();
            var sw = Stopwatch.StartNew();
            await db.Orders.AsNoTracking().Where(o => o.ContactId == contact)
                .Join(db.OrderLines, o => o.Id, l => l.OrderId, (o, l) => new { l.Sku, o.PlacedAt, o.Status }).ToListAsync();
            own.Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            await Recommendations.ForContactAsync(db, contact, BoughtTogether.DefaultPicks, CancellationToken.None);
            picks.Add(sw.Elapsed.TotalMilliseconds);
        }
        picks.Sort();
        own.Sort();
        Console.WriteLine($"a contact's order lines (baseline), p50 / p99: {Pct(own, 0.5),6:N2} / {Pct(own, 0.99):N2} ms");
        Console.WriteLine($"a contact's three picks, p50 / p99:            {Pct(picks, 0.5),6:N2} / {Pct(picks, 0.99):N2} ms   ratio {Pct(picks, 0.5) / Pct(own, 0.5):N1} at p50");
    }

    /// <summary>Every order line's customer and product through the driver: the least any computation over them reads.</summary>
    private static async Task<long> ReadAllLinesAsync(ClienteleDatabase database)
    {
        await using var db = database.CreateDbContext();
        await db.Database.OpenConnectionAsync();
        await using var cmd = db.Database.GetDbConnection().CreateCommand();
        cmd.CommandText = """SELECT "ContactId", "Sku" FROM order_lines""";
        cmd.CommandTimeout = 3600;
        await using var reader = await cmd.ExecuteReaderAsync();
        long n = 0;
        while (await reader.ReadAsync())
        {
            _ = reader.GetValue(0);
            _ = reader.GetString(1);
            n++;
        }
        return n;
    }

    /// <summary>
    /// The first line's product depends on the order; a second line (half the orders) is that product's companion (the
    /// next SKU) six times in ten, else any product; a third (one order in five) is any product.
    /// </summary>
    private static IEnumerable<string> SqliteData(int orders, int products, DateTime now)
    {
        var epoch = new DateTimeOffset(now).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var at = $"strftime('%Y-%m-%d %H:%M:%S', {epoch} - abs(random()) % (730 * 86400), 'unixepoch')";
        var customers = Math.Max(1, orders / 4);
        yield return "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;";
        yield return $"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {products})
            INSERT INTO products ("Id", "Sku", "Name", "Category", "Price", "Currency", "Url", "CreatedAt", "UpdatedAt")
            SELECT randomblob(16), 'SKU-' || (i - 1), 'Product ' || (i - 1), 'Coffee', 10, 'EUR', 'https://shop.example/p/' || (i - 1), {at}, {at} FROM n;
            """;
        yield return $"""
            CREATE TEMP TABLE bench_customers (i INTEGER PRIMARY KEY, id BLOB);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {customers})
            INSERT INTO bench_customers SELECT i, randomblob(16) FROM n;
            """;
        yield return $"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {orders})
            INSERT INTO orders ("Id", "ContactId", "ExternalId", "Total", "Currency", "PlacedAt", "Status", "CreatedAt", "UpdatedAt")
            SELECT randomblob(16), (SELECT id FROM bench_customers WHERE i = 1 + (abs(random()) + n.i - n.i) % {customers}), 'o' || n.i, 20, 'EUR',
                {at}, CASE WHEN n.i % 50 = 0 THEN 1 ELSE 0 END, {at}, {at}
            FROM n;
            """;
        yield return $"""
            INSERT INTO order_lines ("OrderId", "ContactId", "Sku", "Category", "Quantity", "Price")
            SELECT o."Id", o."ContactId", 'SKU-' || (o.rowid * 7919 % {products}), 'Coffee', 1, 10 FROM orders o;
            INSERT INTO order_lines ("OrderId", "ContactId", "Sku", "Category", "Quantity", "Price")
            SELECT o."Id", o."ContactId",
                'SKU-' || CASE WHEN abs(random()) % 10 < 6 THEN (o.rowid * 7919 % {products} + 1) % {products} ELSE abs(random()) % {products} END, 'Coffee', 1, 10
            FROM orders o WHERE abs(random()) % 2 = 0;
            INSERT INTO order_lines ("OrderId", "ContactId", "Sku", "Category", "Quantity", "Price")
            SELECT o."Id", o."ContactId", 'SKU-' || (abs(random()) % {products}), 'Coffee', 1, 10 FROM orders o WHERE abs(random()) % 5 = 0;
            """;
        yield return "ANALYZE;";
    }

    private static IEnumerable<string> PostgresData(int orders, int products, DateTime now)
    {
        var at = "'" + now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "+00'::timestamptz";
        var ago = $"({at} - make_interval(secs => random() * 730 * 86400))";
        var customers = Math.Max(1, orders / 4);
        yield return "SET synchronous_commit = off;";
        yield return $"""
            INSERT INTO products ("Id", "Sku", "Name", "Category", "Price", "Currency", "Url", "CreatedAt", "UpdatedAt")
            SELECT gen_random_uuid(), 'SKU-' || i, 'Product ' || i, 'Coffee', 10, 'EUR', 'https://shop.example/p/' || i, {ago}, {ago}
            FROM generate_series(0, {products - 1}) i;
            """;
        yield return $"""
            INSERT INTO orders ("Id", "ContactId", "ExternalId", "Total", "Currency", "PlacedAt", "Status", "CreatedAt", "UpdatedAt")
            SELECT gen_random_uuid(), md5((1 + (random() * ({customers} - 1))::int)::text)::uuid, 'o' || i, 20, 'EUR',
                {ago}, CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END, {at}, {at}
            FROM generate_series(1, {orders}) i;
            """;
        yield return $"""
            INSERT INTO order_lines ("OrderId", "ContactId", "Sku", "Category", "Quantity", "Price")
            SELECT o."Id", o."ContactId", 'SKU-' || (abs(hashtext(o."ExternalId")) % {products}), 'Coffee', 1, 10 FROM orders o;
            INSERT INTO order_lines ("OrderId", "ContactId", "Sku", "Category", "Quantity", "Price")
            SELECT o."Id", o."ContactId",
                'SKU-' || CASE WHEN random() < 0.6 THEN (abs(hashtext(o."ExternalId")) % {products} + 1) % {products} ELSE (random() * ({products} - 1))::int END,
                'Coffee', 1, 10
            FROM orders o WHERE random() < 0.5;
            INSERT INTO order_lines ("OrderId", "ContactId", "Sku", "Category", "Quantity", "Price")
            SELECT o."Id", o."ContactId", 'SKU-' || (random() * ({products} - 1))::int, 'Coffee', 1, 10 FROM orders o WHERE random() < 0.2;
            """;
        yield return "ANALYZE;";
    }

    private static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);

    private static double Pct(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static int IntArg(string[] args, string name, int fallback) => IngestRun.IntArg(args, name, fallback);

    private static string? StringArg(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
