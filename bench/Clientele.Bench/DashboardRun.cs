using System.Diagnostics;
using System.Globalization;
using Clientele.Commerce;
using Clientele.Dashboard;
using Clientele.Data;
using Clientele.Journeys;
using Clientele.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Clientele.Bench;

/// <summary>
/// The owner's dashboard at scale: the segments benchmark's generated shop (1,000,000 contacts, 10,000,000 events,
/// 2,000,000 orders), plus acquisition sources on two in three contacts, three published journeys with 300,000 runs over
/// the last 60 days, 2,000 support tickets and the owner's acquisition spend. Measures the dashboard's data load (the code
/// the page runs) beside a plain count of all contacts in the same run, and the background roll-up it reads beside a plain
/// read of every order. The generated database can be kept (<c>--keep DIR</c>) and measured again without generating.
/// </summary>
internal static class DashboardRun
{
    private const string Marker = "bench.dashboard.generated";

    public static async Task<int> RunAsync(string[] args)
    {
        var contacts = IngestRun.IntArg(args, "--contacts", 1_000_000);
        var events = IngestRun.IntArg(args, "--events", 10_000_000);
        var orders = IngestRun.IntArg(args, "--orders", 2_000_000);
        var loads = IngestRun.IntArg(args, "--loads", 20);
        var postgres = StringArg(args, "--postgres");
        var only = StringArg(args, "--only");
        var keep = StringArg(args, "--keep");
        var generateOnly = args.Contains("--generate-only");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
        Console.WriteLine($"data: {contacts:N0} contacts, {events:N0} events, {orders:N0} orders, 300,000 journey runs, 2,000 tickets");
        var dir = keep ?? Path.Combine(Path.GetTempPath(), "clientele-dashbench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            if (only is null or "sqlite")
            {
                await RunOneAsync("SQLite", $"Data Source={Path.Combine(dir, "shop.db")}", contacts, events, orders, loads, generateOnly);
            }
            if (postgres is not null && only is null or "postgres")
            {
                const string name = "bench_dashboard";
                await using (var admin = new NpgsqlConnection(postgres))
                {
                    await admin.OpenAsync();
                    await using var exists = new NpgsqlCommand($"SELECT count(*) FROM pg_database WHERE datname = '{name}'", admin);
                    if ((long)(await exists.ExecuteScalarAsync())! == 0)
                    {
                        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
                        await create.ExecuteNonQueryAsync();
                    }
                }
                await RunOneAsync("PostgreSQL", new NpgsqlConnectionStringBuilder(postgres!) { Database = name, CommandTimeout = 3600 }.ToString(),
                    contacts, events, orders, loads, generateOnly);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (keep is null)
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        return 0;
    }

    private static async Task RunOneAsync(string name, string connection, int contacts, int events, int orders, int loads, bool generateOnly)
    {
        Console.WriteLine();
        Console.WriteLine($"== {name} ==");
        using var database = ClienteleDatabase.Open(connection);
        await database.MigrateAsync();
        DateTime now;
        await using (var db = database.CreateDbContext())
        {
            var generated = await db.Settings.AsNoTracking().FirstOrDefaultAsync(s => s.Key == Marker);
            if (generated is null)
            {
                now = TimeProvider.System.GetUtcNow().UtcDateTime;
                var clock = Stopwatch.StartNew();
                await GenerateAsync(database, contacts, events, orders, now);
                Console.WriteLine($"generated in {clock.Elapsed.TotalSeconds:N0} s");
            }
            else
            {
                now = DateTime.Parse(generated.Value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
                Console.WriteLine($"reusing the data generated at {now:yyyy-MM-dd HH:mm} UTC");
            }
        }
        if (generateOnly)
        {
            return;
        }
        await MeasureAsync(database, now, loads);
    }

    /// <summary>
    /// The roll-up's build beside a plain read of every placed order, then the dashboard's load (median and p95 of many,
    /// after one warm-up) beside a plain count of all contacts, median of as many.
    /// </summary>
    private static async Task MeasureAsync(ClienteleDatabase database, DateTime now, int loads)
    {
        await using (var db = database.CreateDbContext())
        {
            await SettingsStore.SaveAsync(db, AcquisitionSpend.Key, new AcquisitionSpend("EUR",
                [new("google", 120_000), new("instagram", 80_000), new("facebook", 60_000), new("podcast", 50_000), new("newsletter", 5_000)]), now, CancellationToken.None);
        }
        var time = new SegmentRun.FixedTime(now);
        using var rollup = new DashboardRollup(database, time, NullLogger<DashboardRollup>.Instance);

        var read = Stopwatch.StartNew();
        long rows = 0;
        await using (var db = database.CreateDbContext())
        {
            db.Database.SetCommandTimeout(TimeSpan.FromMinutes(30));
            await foreach (var _ in db.Orders.AsNoTracking().Where(o => o.Status == OrderStatus.Placed)
                .Select(o => new { o.ContactId, o.PlacedAt, o.Total, o.Currency }).AsAsyncEnumerable())
            {
                rows++;
            }
        }
        var plain = read.Elapsed;
        var build = Stopwatch.StartNew();
        var figures = await rollup.BuildAsync(CancellationToken.None);
        var built = build.Elapsed;
        Console.WriteLine($"plain read of the {rows:N0} placed orders (baseline): {plain.TotalMilliseconds,8:N0} ms");
        Console.WriteLine($"roll-up build (background):                 {built.TotalMilliseconds,8:N0} ms   ratio {built / plain:N1}");
        Console.WriteLine($"  {figures.Customers:N0} customers, {figures.Days.Count:N0} sales days, {figures.Cohorts.Count} cohorts, {figures.Value.Scored:N0} scored, "
            + $"{figures.Journeys.Count} journeys, JSON {figures.ToJson().Length / 1024:N0} KB");

        var counts = new List<double>();
        var dashboard = new List<double>();
        var first = 0.0;
        DashboardView? view = null;
        for (var i = 0; i <= loads; i++)
        {
            await using (var db = database.CreateDbContext())
            {
                var sw = Stopwatch.StartNew();
                await db.Contacts.CountAsync();
                if (i > 0)
                {
                    counts.Add(sw.Elapsed.TotalMilliseconds);
                }
            }
            await using (var db = database.CreateDbContext())
            {
                var sw = Stopwatch.StartNew();
                view = await DashboardData.LoadAsync(db, rollup, now, marketing: true, journey: null, CancellationToken.None);
                if (i > 0)
                {
                    dashboard.Add(sw.Elapsed.TotalMilliseconds);
                }
                else
                {
                    first = sw.Elapsed.TotalMilliseconds;
                }
            }
        }
        counts.Sort();
        dashboard.Sort();
        Console.WriteLine($"count(*) of all contacts (baseline), median of {loads}: {Pct(counts, 0.5),8:N1} ms");
        Console.WriteLine($"dashboard data load, median of {loads}:            {Pct(dashboard, 0.5),8:N1} ms   p95 {Pct(dashboard, 0.95):N1} ms   max {dashboard[^1]:N1} ms   "
            + $"ratio {Pct(dashboard, 0.5) / Pct(counts, 0.5):N1}   (target <= 300 ms)");
        Console.WriteLine($"  the first load of the process (queries compiled, connections opened): {first:N1} ms");
        Console.WriteLine($"  {view!.AtRisk.Count} at-risk customers listed, {view.Tickets.Count} tickets near their target, {view.Falling.Count} journeys converting less, "
            + $"{view.Acquisition.Count} sources");
    }

    private static double Pct(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static async Task GenerateAsync(ClienteleDatabase database, int contacts, int events, int orders, DateTime now)
    {
        await using (var db = database.CreateDbContext())
        {
            db.Database.SetCommandTimeout(TimeSpan.FromHours(1));
            await db.Database.OpenConnectionAsync();
            var open = db.Database.GetDbConnection();
            var sqlite = database.Kind == DatabaseKind.Sqlite;
            var statements = (sqlite ? SegmentRun.SqliteData(contacts, events, orders, now) : SegmentRun.PostgresData(contacts, events, orders, now))
                .Where(s => !s.StartsWith("ANALYZE", StringComparison.Ordinal))
                .Append(sqlite ? SqliteSources : PostgresSources);
            foreach (var sql in statements)
            {
                await using var cmd = open.CreateCommand();
                cmd.CommandText = sql;
                cmd.CommandTimeout = 3600;
                await cmd.ExecuteNonQueryAsync();
            }
        }
        await AddJourneysAsync(database, now);
        await AddTicketsAsync(database, now);
        await using (var db = database.CreateDbContext())
        {
            db.Database.SetCommandTimeout(TimeSpan.FromHours(1));
            await db.Database.ExecuteSqlRawAsync("ANALYZE;");
            db.Settings.Add(new Setting { Key = Marker, Value = now.ToString("O", CultureInfo.InvariantCulture), UpdatedAt = now });
            await db.SaveChangesAsync();
        }
    }

    private const string SqliteSources = """
        UPDATE contacts SET "UtmSource" = CASE rowid % 6 WHEN 0 THEN 'google' WHEN 1 THEN 'instagram' WHEN 2 THEN 'facebook'
            WHEN 3 THEN 'newsletter' ELSE 'podcast' END WHERE rowid % 3 <> 0;
        """;

    private const string PostgresSources = """
        UPDATE contacts SET "UtmSource" = (ARRAY['google', 'instagram', 'facebook', 'newsletter', 'podcast', 'podcast'])[1 + (random() * 5)::int]
        WHERE random() < 0.67;
        """;

    /// <summary>
    /// Three playbooks installed and published (welcome, trial conversion, win-back), each with 100,000 runs entered over
    /// the last 60 days: a third reached the goal, fewer of the last fortnight's in the welcome series.
    /// </summary>
    private static async Task AddJourneysAsync(ClienteleDatabase database, DateTime now)
    {
        var journeys = new List<Guid>();
        foreach (var playbook in new[] { "welcome", "trial-conversion", "win-back" })
        {
            var (installed, problem) = await Playbooks.InstallCoreAsync(playbook, true, database, null, null, now.AddDays(-90), CancellationToken.None);
            if (installed is null)
            {
                throw new InvalidOperationException($"Installing {playbook}: {Api.ApiProblems.Describe(problem)}");
            }
            journeys.Add(installed.JourneyId);
        }
        List<Guid> people;
        await using (var db = database.CreateDbContext())
        {
            people = await db.Contacts.AsNoTracking().OrderBy(c => c.CreatedAt).Take(100_000).Select(c => c.Id).ToListAsync();
        }
        var random = new Random(11);
        for (var j = 0; j < journeys.Count; j++)
        {
            for (var chunk = 0; chunk < 20; chunk++)
            {
                await using var db = database.CreateDbContext();
                db.ChangeTracker.AutoDetectChangesEnabled = false;
                for (var k = 0; k < 5_000; k++)
                {
                    var i = chunk * 5_000 + k;
                    var entered = now.AddMinutes(-random.Next(60 * 24 * 60));
                    var recent = entered >= now.AddDays(-14);
                    var goal = random.NextDouble() < (j == 0 && recent ? 0.2 : 0.33);
                    var done = goal || entered < now.AddDays(-21);
                    db.JourneyRuns.Add(new JourneyRun
                    {
                        Id = Guid.CreateVersion7(),
                        JourneyId = journeys[j],
                        Version = 1,
                        ContactId = people[i],
                        EnrollKey = $"bench:{i}",
                        Status = goal ? RunStatus.GoalReached : done ? RunStatus.Completed : RunStatus.Active,
                        EnteredAt = entered,
                        EndedAt = done ? entered.AddDays(3) : null,
                        DueAt = done ? null : now.AddDays(1),
                        StepId = done ? null : "wait",
                    });
                }
                await db.SaveChangesAsync();
            }
        }
    }

    private static async Task AddTicketsAsync(ClienteleDatabase database, DateTime now)
    {
        List<Guid> people;
        await using var db = database.CreateDbContext();
        people = await db.Contacts.AsNoTracking().OrderBy(c => c.CreatedAt).Skip(200_000).Take(2_000).Select(c => c.Id).ToListAsync();
        var random = new Random(12);
        for (var i = 0; i < people.Count; i++)
        {
            var created = now.AddMinutes(-random.Next(60 * 24 * 30));
            var answered = random.NextDouble() < 0.8;
            db.Tickets.Add(new Ticket
            {
                Id = Guid.CreateVersion7(),
                ContactId = people[i],
                Subject = $"Question {i}",
                Status = answered ? TicketStatus.Solved : TicketStatus.Open,
                Channel = "email",
                CreatedAt = created,
                UpdatedAt = created,
                FirstResponseDue = created.AddHours(24),
                BreachAt = created.AddHours(48),
                FirstRespondedAt = answered ? created.AddHours(random.Next(1, 40)) : null,
                SolvedAt = answered ? created.AddHours(41) : null,
            });
        }
        await db.SaveChangesAsync();
    }

    private static string? StringArg(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
