using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Clientele.Accounts;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Outbox;

namespace Clientele.Bench;

/// <summary>
/// A whole broadcast through the running app into postfix's smtp-sink: the audience queued, each message checked
/// (consent, suppressions, caps), rendered for its contact with tracked links, signed unsubscribe links and the brand
/// layout, and sent over SMTP; beside smtp-source into the same sink in the same run.
/// </summary>
internal static class BroadcastRun
{
    /// <summary>About 2 KB of Markdown: six paragraphs with the contact's name and two attributes, two links each.</summary>
    internal static readonly string Body = string.Join("\n\n", Enumerable.Range(1, 6).Select(p =>
        $"## Part {p}\n\nHi {{{{ contact.first_name }}}}, as a {{{{ contact.attributes.plan }}}} member with {{{{ contact.attributes.points }}}} points you get early access. "
        + "Our new collection is in: hand-made, small batches, shipped within two days. Read [the story](https://shop.example/story) "
        + "or [see the collection](https://shop.example/new?utm_source=newsletter), and tell us what you think."));

    public static async Task<int> RunAsync(string[] args)
    {
        var count = IngestRun.IntArg(args, "--messages", 20_000);
        var connections = IngestRun.IntArg(args, "--connections", 8);
        var root = IngestRun.FindRoot();
        var appDll = Path.Combine(root, "src/Clientele/bin/Release/net10.0/clientele.dll");
        if (!File.Exists(appDll))
        {
            Console.Error.WriteLine($"Build the app first: dotnet build -c Release src/Clientele ({appDll} is missing)");
            return 1;
        }
        var sinkPort = IngestRun.FreePort();
        using var sink = SmtpRun.StartSink(sinkPort);
        var dir = Path.Combine(Path.GetTempPath(), "clientele-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            await SmtpRun.WaitListeningAsync(sinkPort);
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
            Console.WriteLine($"broadcast of {count:N0} personalised, tracked messages, {connections} SMTP connections, smtp-sink on 127.0.0.1:{sinkPort}");
            await SmtpRun.SourceAsync(sinkPort, connections, 1000, 2048);
            var baseline = count / await SmtpRun.SourceAsync(sinkPort, connections, count, 2048);
            Console.WriteLine($"smtp-source (baseline, 2 KB, {connections} sessions): {baseline:N0} messages/s");
            if (BenchDatabase.Includes(args, "sqlite"))
            {
                await RunOneAsync("SQLite", BenchDatabase.Sqlite(args, Path.Combine(dir, "app.db")), appDll, sinkPort, count, connections, baseline);
            }
            if (BenchDatabase.Includes(args, "postgres") && await BenchDatabase.PostgresAsync(args, "bench_mail") is { } postgres)
            {
                await RunOneAsync("PostgreSQL", postgres, appDll, sinkPort, count, connections, baseline);
            }
        }
        finally
        {
            if (!sink.HasExited)
            {
                sink.Kill();
            }
            await sink.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
        return 0;
    }

    private const int WarmUp = 1000;

    /// <summary>One broadcast to a topic's subscribers, timed by the server from its creation until it finished.</summary>
    private static async Task<(double Seconds, int Sent, double? QueuedAt)> SendAsync(HttpClient http, string topic, int audience)
    {
        var clock = Stopwatch.StartNew();
        var created = await http.PostAsJsonAsync("/api/v1/broadcasts", new
        {
            name = "Bench " + topic,
            topic,
            subject = "News for {{ contact.first_name }}",
            body = Body + "\n\n[Visit the shop](https://shop.example/) · Sent on {{ 'now' | date: '%Y-%m-%d' }}",
        });
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        double? queuedAt = null;
        while (true)
        {
            var report = await http.GetFromJsonAsync<JsonElement>($"/api/v1/broadcasts/{id}");
            if (queuedAt is null && report.GetProperty("audience").GetInt32() == audience)
            {
                queuedAt = clock.Elapsed.TotalSeconds;
            }
            if (report.GetProperty("status").GetString() == "finished")
            {
                // The server's own record of the send, from creation until the last message was recorded.
                var seconds = (report.GetProperty("finishedAt").GetDateTime() - report.GetProperty("createdAt").GetDateTime()).TotalSeconds;
                return (seconds, report.GetProperty("counts").GetProperty("sent").GetInt32(), queuedAt);
            }
            // About as often as the Broadcasts page refreshes: watching should not slow the send much.
            await Task.Delay(1000);
        }
    }

    private static async Task RunOneAsync(string name, string connection, string appDll, int sinkPort, int count, int connections, double baseline)
    {
        string key;
        // Topics and addresses of this run's own: onto an existing shop, its subscribers are not part of the audience.
        var topic = "news-" + BenchDatabase.Tag;
        var warmTopic = "warmup-" + BenchDatabase.Tag;
        await BenchDatabase.DescribeAsync(name, connection);
        using (var database = ClienteleDatabase.Open(connection))
        {
            await using var db = database.CreateDbContext();
            var now = TimeProvider.System.GetUtcNow().UtcDateTime;
            // No quiet hours or caps: the run measures sending, whatever the hour.
            await SettingsStore.SaveAsync(db, SendingRules.Key, SendingRules.Default with { QuietFrom = null, QuietUntil = null, MaxMarketingPerWeek = 0, MinHoursBetweenMarketing = 0 }, now, CancellationToken.None);
            await SettingsStore.SaveAsync(db, OutboxContent.BrandKey, new Templates.Brand { BusinessName = "Bench Shop", FromAddress = "news@bench.example", PostalAddress = "1 Main Street, Springfield" }, now, CancellationToken.None);
            // The audience, then 1,000 more readers of another topic for a warm-up broadcast (as smtp-source warms up too).
            var all = count + WarmUp;
            for (var start = 0; start < all; start += 5000)
            {
                for (var i = start; i < Math.Min(all, start + 5000); i++)
                {
                    var id = Guid.CreateVersion7();
                    var email = $"reader{i}.{BenchDatabase.Tag}@bench.example";
                    db.Contacts.Add(new Contact
                    {
                        Id = id,
                        Email = email,
                        EmailNormalized = email,
                        FirstName = $"Reader{i}",
                        LastName = "Bench",
                        TimeZone = "Europe/Berlin",
                        Attributes = "{\"plan\":\"gold\",\"points\":" + (i % 500) + "}",
                        CreatedAt = now,
                        UpdatedAt = now,
                        Consents = [new ContactConsent { ContactId = id, Topic = i < count ? topic : warmTopic, Status = ConsentStatus.Subscribed, At = now, Source = "bench" }],
                    });
                }
                await db.SaveChangesAsync();
                db.ChangeTracker.Clear();
            }
            key = await ApiKeys.CreateAsync(db, "bench", ApiScope.Admin, now, CancellationToken.None);
        }
        var port = IngestRun.FreePort();
        var server = IngestRun.StartServer(appDll, connection, port, new Dictionary<string, string>
        {
            ["Clientele__Smtp__Host"] = "127.0.0.1",
            ["Clientele__Smtp__Port"] = sinkPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Clientele__Smtp__Security"] = "none",
            ["Clientele__Smtp__MaxConnections"] = connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Clientele__Scoring__Nightly"] = "false",
        });
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            await IngestRun.WaitHealthyAsync(http);
            await IngestRun.WaitSettledAsync(server);
            await SendAsync(http, warmTopic, WarmUp);
            var (seconds, sent, queuedAt) = await SendAsync(http, topic, count);
            Console.WriteLine($"{name}: {sent:N0} of {count:N0} sent in {seconds:N1} s = {sent / seconds:N0} messages/s, {sent / seconds / baseline:P0} of smtp-source (all queued after {queuedAt:N1} s)");
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }
}
