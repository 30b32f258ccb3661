using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Clientele.Accounts;
using Clientele.Data;
using Clientele.Journeys;
using Clientele.Templates;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Bench;

/// <summary>
/// From an event to its journey's first e-mail: the real server on SQLite (and PostgreSQL when given), a published journey triggered by
/// <c>account.created</c>, and new contacts' events posted at a steady rate (open loop). For each event, the time from
/// the POST being sent to the e-mail's row in the outbox (its creation time, on the same machine's clock). Beside it,
/// the POST's own answer time in the same run.
/// </summary>
internal static class JourneyLatencyRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rate = IngestRun.IntArg(args, "--rate", 1000);
        var seconds = IngestRun.IntArg(args, "--seconds", 20);
        var appDll = Path.Combine(IngestRun.FindRoot(), "src/Clientele/bin/Release/net10.0/clientele.dll");
        var dir = Path.Combine(Path.GetTempPath(), "clientele-journeybench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; {rate} events/s for {seconds} s, each from a new contact");
            if (BenchDatabase.Includes(args, "sqlite"))
            {
                await RunOneAsync("SQLite", BenchDatabase.Sqlite(args, Path.Combine(dir, "app.db")), appDll, rate, seconds);
            }
            if (BenchDatabase.Includes(args, "postgres") && await BenchDatabase.PostgresAsync(args, "bench_journey") is { } postgres)
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
        using var database = ClienteleDatabase.Open(connection);
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        var journeyId = Guid.CreateVersion7();
        // The run's own template, journey and addresses: onto an existing shop, its journeys on the same trigger run too.
        var template = "Bench welcome " + BenchDatabase.Tag;
        var person = "person" + BenchDatabase.Tag + "-";
        string key;
        await using (var db = database.CreateDbContext())
        {
            db.Templates.Add(new Template { Id = Guid.CreateVersion7(), Name = template, Subject = "Welcome", Body = "Hello {{ contact.first_name }}", CreatedAt = now, UpdatedAt = now });
            var definition = new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Event = "account.created" },
                Steps = [new JourneyStep { Id = "welcome", Type = "email", Template = template, Class = "transactional" }, new JourneyStep { Id = "later", Type = "wait", Days = 3 }],
            };
            db.Journeys.Add(new Journey { Id = journeyId, Name = template, Status = JourneyStatus.Active, Version = 1, Draft = definition.ToJson(), TriggerEvent = "account.created", CreatedAt = now, UpdatedAt = now });
            db.JourneyVersions.Add(new JourneyVersion { JourneyId = journeyId, Version = 1, Definition = definition.ToJson(), PublishedAt = now });
            await db.SaveChangesAsync();
            key = await ApiKeys.CreateAsync(db, "bench", ApiScope.Admin, now, CancellationToken.None);
        }
        var port = IngestRun.FreePort();
        // Up to the outbox: the e-mail is queued, SMTP is not part of the measure.
        using var server = IngestRun.StartServer(appDll, connection, port, new Dictionary<string, string>
        {
            ["Clientele__Outbox__Enabled"] = "false",
        });
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        await IngestRun.WaitHealthyAsync(http);
        await IngestRun.WaitSettledAsync(server);

        var sentAt = new ConcurrentDictionary<string, DateTime>();
        Task<HttpResponseMessage> Post(string who)
        {
            sentAt[who + "@bench.example"] = TimeProvider.System.GetUtcNow().UtcDateTime;
            return http.PostAsJsonAsync("/api/v1/events", new { events = new[] { new { type = "account.created", email = who + "@bench.example", properties = new { plan = "free" } } } });
        }
        await FormRun.PacedAsync(http, rate, 3, i => Post("warm" + BenchDatabase.Tag + "-" + i));
        sentAt.Clear();
        var posts = await FormRun.PacedAsync(http, rate, seconds, i => Post(person + i));

        List<(string Email, DateTime Queued)> queued = [];
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(120))
        {
            await using var db = database.CreateDbContext();
            queued = (await db.OutboxMessages.AsNoTracking().Where(m => m.JourneyId == journeyId && m.To.StartsWith(person))
                .Select(m => new { m.To, m.CreatedAt }).ToListAsync()).Select(m => (m.To, m.CreatedAt)).ToList();
            if (queued.Count >= sentAt.Count)
            {
                break;
            }
            await Task.Delay(500);
        }
        var latencies = queued.Where(q => sentAt.ContainsKey(q.Email)).Select(q => (q.Queued - sentAt[q.Email]).TotalMilliseconds).ToList();
        Console.WriteLine($"{name}: POST /api/v1/events (1 event)   p50 {FormRun.Percentile(posts.Latencies, 0.5),7:N1} ms  p99 {FormRun.Percentile(posts.Latencies, 0.99),7:N1} ms  failures {posts.Failures}");
        Console.WriteLine($"{name}: event → first e-mail queued     p50 {FormRun.Percentile(latencies, 0.5),7:N1} ms  p95 {FormRun.Percentile(latencies, 0.95),7:N1} ms  p99 {FormRun.Percentile(latencies, 0.99),7:N1} ms  max {latencies.Max(),7:N1} ms  ({latencies.Count:N0} of {sentAt.Count:N0} e-mails queued)");
        server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
    }
}
