using System.Diagnostics;
using System.Text.RegularExpressions;
using Clientele.Data;
using Clientele.Forms;

namespace Clientele.Bench;

/// <summary>
/// Form submissions at a steady rate against the real server (SQLite, and PostgreSQL when given; loopback): latency percentiles of
/// <c>POST /f/{slug}</c>, beside <c>GET /healthz</c> (one database round trip) paced the same way in the same run.
/// </summary>
internal static partial class FormRun
{
    [GeneratedRegex("name=\"_t\" value=\"([^\"]+)\"")]
    private static partial Regex TimeToken();

    public static async Task<int> RunAsync(string[] args)
    {
        var rate = IngestRun.IntArg(args, "--rate", 200);
        var seconds = IngestRun.IntArg(args, "--seconds", 30);
        var appDll = Path.Combine(IngestRun.FindRoot(), "src/Clientele/bin/Release/net10.0/clientele.dll");
        var dir = Path.Combine(Path.GetTempPath(), "clientele-formbench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; {rate} requests/s for {seconds} s each");
            if (BenchDatabase.Includes(args, "sqlite"))
            {
                await RunOneAsync("SQLite", BenchDatabase.Sqlite(args, Path.Combine(dir, "app.db")), appDll, rate, seconds);
            }
            if (BenchDatabase.Includes(args, "postgres") && await BenchDatabase.PostgresAsync(args, "bench_forms") is { } postgres)
            {
                await RunOneAsync("PostgreSQL", postgres, appDll, rate, seconds);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
        return 0;
    }

    private static async Task RunOneAsync(string name, string connection, string appDll, int rate, int seconds)
    {
        await BenchDatabase.DescribeAsync(name, connection);
        var slug = "bench-" + BenchDatabase.Tag;
        using (var database = ClienteleDatabase.Open(connection))
        {
            await using var db = database.CreateDbContext();
            var now = DateTime.SpecifyKind(new DateTime(2026, 1, 1), DateTimeKind.Utc);
            var form = new Form { Id = Guid.CreateVersion7(), Slug = slug, Name = slug, Title = "Sign up", ConsentWording = "Yes, e-mail me.", Topics = ["newsletter"], DoubleOptIn = true, CreatedAt = now, UpdatedAt = now };
            form.SetFields([new FormField("email", "E-mail", "email", true), new FormField("firstName", "First name"), new FormField("company", "Company")]);
            db.Forms.Add(form);
            await db.SaveChangesAsync();
        }
        var port = IngestRun.FreePort();
        // One client sends everything from one address: lift the per-address limit for the run.
        using var server = IngestRun.StartServer(appDll, connection, port, new Dictionary<string, string> { ["Clientele__Forms__SubmissionsPerMinutePerAddress"] = "1000000" });
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await IngestRun.WaitHealthyAsync(http);
        await IngestRun.WaitSettledAsync(server);
        var page = await http.GetStringAsync($"/f/{slug}");
        var token = TimeToken().Match(page).Groups[1].Value;
        await Task.Delay(2500); // the minimum fill time

        // Warm-up, then the baseline and the forms, each paced at the same rate. Addresses carry the run's tag.
        var who = BenchDatabase.Tag + "-";
        await PacedAsync(http, rate, 3, i => Post(http, slug, token, "warm" + who + i));
        var baseline = await PacedAsync(http, rate, seconds, _ => http.GetAsync("/healthz"));
        var forms = await PacedAsync(http, rate, seconds, i => Post(http, slug, token, "person" + who + i));
        Report($"{name}: GET /healthz (baseline)", baseline);
        Report($"{name}: POST /f/{{slug}}", forms);
        Console.WriteLine($"{name}: p99 ratio forms / baseline: {Percentile(forms.Latencies, 0.99) / Percentile(baseline.Latencies, 0.99):N1}");
        server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
    }

    private static Task<HttpResponseMessage> Post(HttpClient http, string slug, string token, string who) =>
        http.PostAsync($"/f/{slug}", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = who + "@bench.example",
            ["firstName"] = "Bench",
            ["company"] = "Bench Co",
            ["consent"] = "yes",
            ["_t"] = token,
        }));

    internal sealed record Result(List<double> Latencies, int Failures, double Seconds);

    /// <summary>Starts request i at i / rate seconds (open loop: a slow answer does not delay the next request).</summary>
    internal static async Task<Result> PacedAsync(HttpClient http, int rate, int seconds, Func<int, Task<HttpResponseMessage>> send)
    {
        var total = rate * seconds;
        var latencies = new double[total];
        var failures = 0;
        var clock = Stopwatch.StartNew();
        var tasks = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
            var index = i;
            tasks.Add(Task.Run(async () =>
            {
                var start = Stopwatch.GetTimestamp();
                using var response = await send(index);
                await response.Content.ReadAsByteArrayAsync();
                latencies[index] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failures);
                }
            }));
        }
        await Task.WhenAll(tasks);
        return new Result([.. latencies], failures, clock.Elapsed.TotalSeconds);
    }

    private static void Report(string name, Result r) =>
        Console.WriteLine($"{name,-38} {r.Latencies.Count / r.Seconds,6:N0} req/s  p50 {Percentile(r.Latencies, 0.5),6:N1} ms  p95 {Percentile(r.Latencies, 0.95),6:N1} ms  p99 {Percentile(r.Latencies, 0.99),6:N1} ms  failures {r.Failures}");

    internal static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }
}
