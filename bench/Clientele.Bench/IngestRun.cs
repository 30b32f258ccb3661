using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Clientele.Accounts;
using Clientele.Data;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Clientele.Bench;

/// <summary>
/// End-to-end ingestion run: the real server in its own process on loopback, fed batches of 500 events
/// over HTTP, beside a baseline that writes the same rows straight into the same table with the driver
/// (prepared SQLite inserts, PostgreSQL binary COPY) in this process.
/// </summary>
internal static class IngestRun
{
    private const int BatchSize = 500;
    private const int WarmBatches = 100;
    private const int Contacts = 20_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var events = IntArg(args, "--events", 200_000);
        var singles = IntArg(args, "--singles", 20_000);
        var postgres = StringArg(args, "--postgres");
        var root = FindRoot();
        var appDll = Path.Combine(root, "src/Clientele/bin/Release/net10.0/clientele.dll");
        if (!File.Exists(appDll))
        {
            Console.Error.WriteLine($"Build the app first: dotnet build -c Release src/Clientele ({appDll} is missing)");
            return 1;
        }
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
        Console.WriteLine($"events: {events:N0} in batches of {BatchSize}, {Contacts:N0} contacts; single-event POSTs: {singles:N0}");

        // Names and keys carry the run's tag, so a run onto an existing database (--onto-sqlite, --onto-postgres) can be
        // repeated; the baseline writes rows of the same shape under keys of its own.
        var rows = Generate(events, seed: 1, prefix: "c" + BenchDatabase.Tag);
        // Not timed: enough batches for the server's hot code to be compiled at its final tier before the timed run.
        var warm = Generate(WarmBatches * BatchSize, seed: 2, prefix: "w" + BenchDatabase.Tag);
        var rawRows = Generate(events, seed: 1, prefix: "b" + BenchDatabase.Tag);

        var dir = Path.Combine(Path.GetTempPath(), "clientele-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            // Onto an existing database, the baseline writes into that same database after the server has stopped,
            // so both write into tables and indexes of the same size.
            var sqlite = BenchDatabase.Sqlite(args, Path.Combine(dir, "app.db"));
            var sqliteRaw = StringArg(args, "--onto-sqlite") is not null ? sqlite : $"Data Source={Path.Combine(dir, "raw.db")}";
            if (BenchDatabase.Includes(args, "sqlite"))
            {
                await RunOneAsync("SQLite", sqlite, appDll, rows, warm, singles, () => SqliteBaselineAsync(sqliteRaw, rawRows));
            }
            if (BenchDatabase.Includes(args, "postgres") && await BenchDatabase.PostgresAsync(args, "bench_app") is { } appDb)
            {
                var rawDb = StringArg(args, "--onto-postgres") is not null ? appDb : await CreatePgDatabaseAsync(postgres!, "bench_raw");
                await RunOneAsync("PostgreSQL", appDb, appDll, rows, warm, singles, () => PostgresBaselineAsync(rawDb, rawRows));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return 0;
    }

    private static async Task RunOneAsync(string name, string connection, string appDll, List<Row> rows, List<Row> warm, int singles, Func<Task<double>> baseline)
    {
        Console.WriteLine();
        Console.WriteLine($"== {name} ==");
        await BenchDatabase.DescribeAsync(name, connection);
        var database = ClienteleDatabase.Open(connection);
        string key;
        await using (var db = database.CreateDbContext())
        {
            key = await ApiKeys.CreateAsync(db, "bench", ApiScope.Write, DateTime.SpecifyKind(new DateTime(2026, 1, 1), DateTimeKind.Utc), CancellationToken.None);
        }

        var port = FreePort();
        using var server = StartServer(appDll, connection, port);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        await WaitHealthyAsync(http);
        await WaitSettledAsync(server);
        await Task.Delay(3000);
        var idleRss = RssMb(server.Id);
        // The workers keep polling while idle (other instances' work, due mail); what that holds is read after a minute.
        await Task.Delay(TimeSpan.FromSeconds(57));
        var idleMinuteRss = RssMb(server.Id);

        await PostBatchesAsync(http, Batches(warm), concurrency: 4);
        await CatchUpAsync(http);
        var batches = Batches(rows);
        var sw = Stopwatch.StartNew();
        await PostBatchesAsync(http, batches, concurrency: 4);
        sw.Stop();
        var apiRate = rows.Count / sw.Elapsed.TotalSeconds;
        var (batchLag, batchCatchUp) = await CatchUpAsync(http);

        var singleBodies = rows.Take(singles).Select(r => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { events = new[] { r.Json(suffix: "s") } }))).ToList();
        sw.Restart();
        await PostBatchesAsync(http, singleBodies, concurrency: 32);
        sw.Stop();
        var singleRate = singleBodies.Count / sw.Elapsed.TotalSeconds;
        var loadedRss = RssMb(server.Id);
        var (singleLag, singleCatchUp) = await CatchUpAsync(http);
        server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();

        var rawRate = await baseline();
        Console.WriteLine($"idle RSS after start:           {idleRss,10:N0} MB   (target <= 150)");
        Console.WriteLine($"idle RSS after a minute:        {idleMinuteRss,10:N0} MB");
        Console.WriteLine($"untimed warm-up:                {warm.Count,10:N0} events");
        Console.WriteLine($"POST /api/v1/events, 500/batch: {apiRate,10:N0} events/s");
        Console.WriteLine($"baseline ({(name == "SQLite" ? "prepared inserts" : "binary COPY")}):   {rawRate,10:N0} rows/s");
        Console.WriteLine($"ratio API / baseline:           {apiRate / rawRate,10:N2}      (target >= 0.30)");
        Console.WriteLine($"single-event POSTs:             {singleRate,10:N0} requests/s (target >= 5,000)");
        Console.WriteLine($"RSS after load:                 {loadedRss,10:N0} MB");
        Console.WriteLine($"consumer lag after batches:     {batchLag,10:N0} events; caught up {batchCatchUp:N1} s later");
        Console.WriteLine($"consumer lag after singles:     {singleLag,10:N0} events; caught up {singleCatchUp:N1} s later");
    }

    /// <summary>
    /// The consumers (orders, consent, last activity) trail the log under load; this waits until they have
    /// caught up, so each phase is measured on its own, and says how far behind they were.
    /// </summary>
    private static async Task<(long Lag, double Seconds)> CatchUpAsync(HttpClient http)
    {
        var lag = await LagAsync(http);
        if (Environment.GetEnvironmentVariable("BENCH_NO_DISPATCH") == "1")
        {
            return (lag, double.NaN); // nobody is consuming
        }
        var sw = Stopwatch.StartNew();
        while (await LagAsync(http) > 0 && sw.Elapsed < TimeSpan.FromMinutes(5))
        {
            await Task.Delay(100);
        }
        return (lag, sw.Elapsed.TotalSeconds);
    }

    /// <summary>The largest number of events any consumer still has to read.</summary>
    private static async Task<long> LagAsync(HttpClient http)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/v1/system/consumers"));
        return doc.RootElement.EnumerateArray().Max(c => c.GetProperty("lag").GetInt64());
    }

    internal static Process StartServer(string appDll, string connection, int port, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(appDll)!,
        };
        foreach (var a in new[] { appDll, "serve", "--db", connection, "--urls", $"http://127.0.0.1:{port}" })
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // Each run measures one kind of work: the nightly scoring of a large shop would run beside it.
        psi.Environment["Clientele__Scoring__Nightly"] = "false";
        if (Environment.GetEnvironmentVariable("BENCH_NO_DISPATCH") == "1")
        {
            // Ingestion alone, for comparison: the consumers then catch up after the run.
            psi.Environment["Clientele__Dispatcher__Enabled"] = "false";
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine("server: " + e.Data); } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    internal static async Task WaitHealthyAsync(HttpClient http)
    {
        // A start on a large database takes longer.
        for (var i = 0; i < 1200; i++)
        {
            try
            {
                if ((await http.GetAsync("/healthz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException("The server did not become healthy.");
    }

    /// <summary>
    /// Waits until the server has finished its start-up work (on a large shop: the dashboard's figures, the bought-together
    /// table, the stage sweep), that is until it uses less than a tenth of a core for two seconds in a row, so a run measures
    /// its own work only. Gives up after five minutes.
    /// </summary>
    internal static async Task WaitSettledAsync(Process server)
    {
        static double CpuSeconds(int pid)
        {
            // /proc/PID/stat: utime and stime are fields 14 and 15, in clock ticks (100 per second), after the ")" of the name.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        var clock = Stopwatch.StartNew();
        var quiet = 0;
        var last = CpuSeconds(server.Id);
        while (quiet < 2 && clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            await Task.Delay(1000);
            var now = CpuSeconds(server.Id);
            quiet = now - last < 0.1 ? quiet + 1 : 0;
            last = now;
        }
        Console.WriteLine($"server settled {clock.Elapsed.TotalSeconds:N0} s after it answered");
    }

    private static List<byte[]> Batches(List<Row> rows) =>
        rows.Chunk(BatchSize).Select(c => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { events = c.Select(r => r.Json()) }))).ToList();

    private static async Task PostBatchesAsync(HttpClient http, List<byte[]> bodies, int concurrency)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < bodies.Count)
            {
                using var content = new ByteArrayContent(bodies[i]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await http.PostAsync("/api/v1/events", content);
                var text = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode || text.Contains("\"rejected\"", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"batch {i}: {(int)response.StatusCode} {text[..Math.Min(400, text.Length)]}");
                }
            }
        }));
    }

    private static async Task<double> SqliteBaselineAsync(string connection, List<Row> rows)
    {
        var database = ClienteleDatabase.Open(connection);
        await database.MigrateAsync();
        await using var conn = new SqliteConnection(database.ConnectionString);
        await conn.OpenAsync();
        await using (var pragma = conn.CreateCommand())
        {
            pragma.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;"; // as the app sets them
            await pragma.ExecuteNonQueryAsync();
        }
        var sw = Stopwatch.StartNew();
        foreach (var chunk in rows.Chunk(BatchSize))
        {
            await using var tx = conn.BeginTransaction();
            await using var cmd = conn.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO events ("ContactId", "Type", "OccurredAt", "ReceivedAt", "Properties", "IdempotencyKey", "Source", "CauseEventId")
                VALUES ($c, $t, $o, $r, $p, $k, 'api', NULL)
                """;
            var pc = cmd.Parameters.Add("$c", SqliteType.Blob);
            var pt = cmd.Parameters.Add("$t", SqliteType.Text);
            var po = cmd.Parameters.Add("$o", SqliteType.Text);
            // DateTime values are written as EF Core writes them: "yyyy-MM-dd HH:mm:ss.FFFFFFF".
            var pr = cmd.Parameters.Add("$r", SqliteType.Text);
            var pp = cmd.Parameters.Add("$p", SqliteType.Text);
            var pk = cmd.Parameters.Add("$k", SqliteType.Text);
            cmd.Prepare();
            foreach (var r in chunk)
            {
                pc.Value = r.ContactId.ToByteArray();
                pt.Value = r.Type;
                po.Value = r.OccurredAt;
                pr.Value = r.OccurredAt;
                pp.Value = r.Properties;
                pk.Value = (object?)r.Key ?? DBNull.Value;
                await cmd.ExecuteNonQueryAsync();
            }
            await tx.CommitAsync();
        }
        return rows.Count / sw.Elapsed.TotalSeconds;
    }

    private static async Task<double> PostgresBaselineAsync(string connection, List<Row> rows)
    {
        await ClienteleDatabase.Open(connection).MigrateAsync();
        await using var conn = new NpgsqlConnection(connection);
        await conn.OpenAsync();
        var sw = Stopwatch.StartNew();
        foreach (var chunk in rows.Chunk(BatchSize))
        {
            await using var tx = await conn.BeginTransactionAsync();
            await using (var writer = await conn.BeginBinaryImportAsync(
                "COPY events (\"ContactId\", \"Type\", \"OccurredAt\", \"ReceivedAt\", \"Properties\", \"IdempotencyKey\", \"Source\") FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var r in chunk)
                {
                    await writer.StartRowAsync();
                    await writer.WriteAsync(r.ContactId, NpgsqlDbType.Uuid);
                    await writer.WriteAsync(r.Type, NpgsqlDbType.Text);
                    await writer.WriteAsync(r.OccurredAt, NpgsqlDbType.TimestampTz);
                    await writer.WriteAsync(r.OccurredAt, NpgsqlDbType.TimestampTz);
                    await writer.WriteAsync(r.Properties, NpgsqlDbType.Jsonb);
                    if (r.Key is null)
                    {
                        await writer.WriteNullAsync();
                    }
                    else
                    {
                        await writer.WriteAsync(r.Key, NpgsqlDbType.Text);
                    }
                    await writer.WriteAsync("api", NpgsqlDbType.Text);
                }
                await writer.CompleteAsync();
            }
            await tx.CommitAsync();
        }
        return rows.Count / sw.Elapsed.TotalSeconds;
    }

    internal static async Task<string> CreatePgDatabaseAsync(string admin, string prefix)
    {
        var name = prefix + "_" + Guid.NewGuid().ToString("N")[..8];
        await using var conn = new NpgsqlConnection(admin);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
        await cmd.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ToString();
    }

    internal sealed record Row(Guid ContactId, string Email, string Type, DateTime OccurredAt, string Properties, string? Key)
    {
        public object Json(string suffix = "") => new
        {
            type = Type,
            email = Email,
            occurredAt = OccurredAt.ToString("O", CultureInfo.InvariantCulture),
            properties = JsonDocument.Parse(Properties).RootElement,
            idempotencyKey = Key is null ? null : Key + suffix,
        };
    }

    /// <summary>A realistic mix: page views, e-mail opens, and orders with a line item and an idempotency key.</summary>
    internal static List<Row> Generate(int count, int seed, string prefix = "c")
    {
        var random = new Random(seed);
        var ids = Enumerable.Range(0, Contacts).Select(i => Guid.CreateVersion7()).ToArray();
        var start = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var rows = new List<Row>(count);
        for (var i = 0; i < count; i++)
        {
            var c = random.Next(Contacts);
            var at = start.AddMinutes(random.Next(0, 500_000));
            var roll = random.NextDouble();
            var (type, props, key) = roll switch
            {
                < 0.6 => ("page.viewed", $$"""{"url":"/products/{{random.Next(200)}}"}""", (string?)null),
                < 0.8 => ("email.opened", $$"""{"messageId":"m-{{random.Next(100_000)}}"}""", null),
                _ => ("order.placed", $$"""{"orderId":"{{prefix}}-{{seed}}-{{i}}","total":{{random.Next(10, 200)}}.5,"currency":"USD","items":[{"sku":"SKU-{{random.Next(20)}}","category":"Coffee","quantity":1,"price":{{random.Next(10, 200)}}.5}]}""", $"{prefix}-{seed}-{i}"),
            };
            rows.Add(new Row(ids[c], $"{prefix}{c}@bench.example", type, at, props, key));
        }
        return rows;
    }

    private static double RssMb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
            }
        }
        return double.NaN;
    }

    internal static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    internal static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Clientele.slnx")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Run from inside the repository.");
    }

    internal static int IntArg(string[] args, string name, int fallback) =>
        Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;

    internal static string? StringArg(string[] args, string name) =>
        Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
