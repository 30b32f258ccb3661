using System.Globalization;
using System.Net;
using Clientele.Accounts;
using Clientele.Data;
using Clientele.Journeys;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Outbox;
using Clientele.Tests.Webhooks;
using Clientele.Value;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Operations;

/// <summary>
/// Three instances of the app on one PostgreSQL, with no coordinator: they share the journey steps, the broadcast's
/// mail, the webhook calls and the scoring, nothing happens twice, and one stopped as systemd stops it (SIGTERM) hands
/// back what it had claimed, so nothing is left in doubt.
/// </summary>
public sealed class ScaleOutTests(ITestOutputHelper output)
{
    private const int Contacts = 3_000;

    [Fact]
    public async Task Three_instances_share_journeys_broadcasts_webhooks_and_scoring_with_no_duplicate_effect()
    {
        await using var peer = await SmtpPeer.StartAsync();
        using var receiver = new Receiver();
        var connection = await PostgresServer.CreateDatabaseAsync();
        var servers = new List<ServerProcess>();
        try
        {
            string key;
            using (var database = ClienteleDatabase.Open(connection))
            {
                await database.MigrateAsync(CancellationToken.None);
                await using var db = database.CreateDbContext();
                var now = TimeProvider.System.GetUtcNow().UtcDateTime;
                await ReliabilityTests.SeedAsync(db, Contacts, now);
                await SettingsStore.SaveAsync(db, OutboxContent.BrandKey, new Clientele.Templates.Brand { FromAddress = "news@example.com", PostalAddress = "1 Main St" }, now, CancellationToken.None);
                key = await ApiKeys.CreateAsync(db, "test", ApiScope.Admin, now, CancellationToken.None);
            }
            var settings = new Dictionary<string, string>
            {
                ["Clientele:Webhooks:AllowPrivateAddresses"] = "true",
                // The test's receiver shares the loaded machine with three instances; a call it answers after the usual
                // 10 s is rightly tried again (and logged), which is not what this test is about.
                ["Clientele:Webhooks:TimeoutSeconds"] = "60",
                // Slow enough that the broadcast is still going when one instance is stopped.
                ["Clientele:Smtp:PerSecond"] = "150",
            };
            for (var i = 0; i < 3; i++)
            {
                servers.Add(ServerProcess.Start(connection, peer.Port, key, settings: settings));
            }
            await Task.WhenAll(servers.Select(s => s.ReadyAsync()));
            var (a, b, c) = (servers[0].Http, servers[1].Http, servers[2].Http);

            // Set up through one instance: a template, a journey on sign-up, a webhook on sign-up.
            var template = await a.PostJsonAsync("/api/v1/templates", new { name = "Welcome", subject = "Welcome, {{ contact.first_name }}", body = "Hello {{ contact.first_name }}." });
            Assert.Equal(HttpStatusCode.Created, template.StatusCode);
            var created = await a.PostJsonAsync("/api/v1/journeys", new
            {
                name = "Welcome",
                definition = new
                {
                    trigger = new { @event = "scale.signup" },
                    steps = new object[]
                    {
                        new { id = "welcome", type = "email", template = "Welcome", topic = "newsletter" },
                        new { id = "mark", type = "tag", add = new[] { "welcomed" } },
                    },
                },
            });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var journey = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
            Assert.True((await a.PostAsync($"/api/v1/journeys/{journey}/publish", null)).IsSuccessStatusCode);
            var hook = await a.PostJsonAsync("/api/v1/webhooks/subscriptions", new { name = "Shop", url = receiver.Url(), events = new[] { "scale.signup" } });
            Assert.Equal(HttpStatusCode.Created, hook.StatusCode);

            // Orders for a third of the contacts, so scoring has something to fit.
            var orders = Enumerable.Range(0, Contacts / 3).SelectMany(i => Enumerable.Range(0, 1 + i % 3).Select(n => new
            {
                type = "order.placed",
                email = $"r{i:D3}@example.com",
                occurredAt = TimeProvider.System.GetUtcNow().UtcDateTime.AddDays(-300 + (i % 97) + n * 60).ToString("O", CultureInfo.InvariantCulture),
                idempotencyKey = $"order:{i}:{n}",
                properties = new { orderId = $"o-{i}-{n}", total = 20 + i % 50, currency = "USD", items = new[] { new { sku = "SKU-1", quantity = 1, price = 20 + i % 50 } } },
            })).ToList();
            foreach (var chunk in orders.Chunk(1000))
            {
                Assert.True((await a.PostJsonAsync("/api/v1/events", new { events = chunk })).IsSuccessStatusCode);
            }

            // Sign-ups arrive at all three; a broadcast goes to everyone; each instance is asked to score at once.
            var signups = Enumerable.Range(0, Contacts).Select(i => new { type = "scale.signup", email = $"r{i:D3}@example.com", idempotencyKey = $"signup:{i}", properties = new { } }).Chunk(500).ToList();
            await Task.WhenAll(signups.Select(async (chunk, i) =>
            {
                var response = await servers[i % 3].Http.PostJsonAsync("/api/v1/events", new { events = chunk });
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            }));
            var broadcast = await b.PostJsonAsync("/api/v1/broadcasts", new { name = "News", topic = "newsletter", subject = "News for {{ contact.first_name }}", body = "Read the story." });
            Assert.Equal(HttpStatusCode.Created, broadcast.StatusCode);
            var broadcastId = (await broadcast.ReadJsonAsync()).GetProperty("id").GetGuid();
            var asked = await Task.WhenAll(servers.Select(s => s.Http.PostAsync("/api/v1/scoring/runs", null)));
            Assert.All(asked, r => Assert.True(r.IsSuccessStatusCode));

            // Stop one instance mid-send, as systemd does.
            await MailFlowTests.Until(() => Task.FromResult(peer.AcceptedMessageIds().Count >= 1000), "mail is flowing", 120);
            var stoppedShare = await CountersAsync(servers[2]);
            var stopping = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(0, await servers[2].StopAsync());
            output.WriteLine($"the stopped instance exited {stopping.Elapsed.TotalSeconds:F1} s after SIGTERM");
            var stoppedLog = servers[2].Output;

            await MailFlowTests.Until(async () =>
            {
                using var database = ClienteleDatabase.Open(connection);
                await using var db = database.CreateDbContext();
                return await db.JourneyRuns.CountAsync(r => r.JourneyId == journey && r.Status == RunStatus.Completed) == Contacts
                    && await db.Broadcasts.AnyAsync(x => x.Id == broadcastId && x.Status == Clientele.Broadcasts.BroadcastStatus.Finished)
                    && !await db.OutboxMessages.AnyAsync(m => m.Status == OutboxStatus.Queued || m.Status == OutboxStatus.Deferred || m.Status == OutboxStatus.Sending)
                    && await db.WebhookCalls.CountAsync(x => x.Status == Clientele.Webhooks.WebhookStatus.Delivered) == Contacts
                    && !await db.ScoringRuns.AnyAsync(r => r.Status == ScoringStatus.Queued || r.Status == ScoringStatus.Running);
            }, "all the work was done", 300);
            var shares = new[] { await CountersAsync(servers[0]), await CountersAsync(servers[1]), stoppedShare };
            foreach (var s in shares)
            {
                output.WriteLine($"instance: {string.Join(", ", s.Select(kv => $"{kv.Key} {kv.Value}"))}");
            }

            List<ScoringRun> scoring;
            using (var database = ClienteleDatabase.Open(connection))
            {
                await using var db = database.CreateDbContext();
                // Every sign-up once, every contact enrolled once, tagged once.
                Assert.Equal(Contacts, await db.Events.CountAsync(e => e.Type == "scale.signup"));
                var runs = await db.JourneyRuns.AsNoTracking().Where(r => r.JourneyId == journey).Select(r => r.ContactId).ToListAsync();
                Assert.Equal(Contacts, runs.Distinct().Count());
                Assert.Equal(Contacts, runs.Count);

                // One welcome and one broadcast message per contact, each arrived once; no stop left anything in doubt.
                var messages = await db.OutboxMessages.AsNoTracking().ToListAsync();
                Assert.Equal(2 * Contacts, messages.Count);
                Assert.All(messages, m => Assert.Equal(OutboxStatus.Sent, m.Status));
                Assert.DoesNotContain(messages, m => m.Ambiguous);
                var delivered = peer.AcceptedMessageIds();
                Assert.Equal(2 * Contacts, delivered.Count);
                Assert.Equal(messages.Select(m => MailComposer.MessageIdOf(m.Id, "example.com")).Order(), delivered.Order());

                // One webhook call per sign-up, each posted once.
                var calls = receiver.Requests.Select(r => r.Headers["Clientele-Call"]).ToList();
                foreach (var retried in await db.WebhookCalls.AsNoTracking().Where(c => c.Attempts > 1).ToListAsync())
                {
                    // A call posted twice was tried twice: say why the first try did not count.
                    output.WriteLine($"webhook call {retried.Id}: {retried.Attempts} tries, {receiver.Requests.Count(r => r.Headers["Clientele-Call"] == retried.Id.ToString())} received");
                    foreach (var (s, i) in servers.Select((s, i) => (s, i)))
                    {
                        var log = i == 2 ? stoppedLog : s.Output;
                        output.WriteLine(string.Join("\n", log.Split('\n').Where(l => l.Contains(retried.Id.ToString(), StringComparison.Ordinal)).Select(l => $"instance {i}: {l.Trim()}")));
                    }
                }
                Assert.Equal(Contacts, calls.Count);
                Assert.Equal(Contacts, calls.Distinct().Count());

                // Three requests at the same moment: a request while one waits joins it, one after a run started queues
                // the next; each run is run by one instance, once, and none was interrupted.
                scoring = await db.ScoringRuns.AsNoTracking().ToListAsync();
                Assert.InRange(scoring.Count, 1, 3);
                var failed = scoring.Any(r => r.Status != ScoringStatus.Succeeded);
                foreach (var (s, i) in servers.Select((s, i) => (s, i)))
                {
                    // What each instance said about its runs; everything it said when a run did not succeed.
                    var log = i == 2 ? stoppedLog : s.Output;
                    output.WriteLine(failed
                        ? $"instance {i}:\n{log[Math.Max(0, log.Length - 20_000)..]}"
                        : $"instance {i}: {string.Join("; ", log.Split('\n').Where(l => l.Contains("Scoring run", StringComparison.Ordinal)).Select(l => l.Trim()))}");
                }
                Assert.All(scoring, r => Assert.Equal(ScoringStatus.Succeeded, r.Status));
            }

            // The work was shared: at least two instances did some of each.
            foreach (var counter in (string[])["clientele_instance_mail_sent", "clientele_instance_journey_runs", "clientele_instance_webhook_calls"])
            {
                Assert.True(shares.Count(s => s.GetValueOrDefault(counter) > 0) >= 2, $"{counter} by more than one instance");
            }
            Assert.Equal(scoring.Count, shares.Sum(s => s.GetValueOrDefault("clientele_instance_scoring_runs")));
            output.WriteLine(stoppedLog.Contains("put back in the queue", StringComparison.Ordinal) ? "the stopped instance handed back claimed mail" : "the stopped instance held no mail when it stopped");
        }
        finally
        {
            foreach (var s in servers)
            {
                await s.DisposeAsync();
            }
            await PostgresServer.DropDatabaseAsync(connection);
        }
    }

    /// <summary>This instance's own counters from its <c>/metrics</c>.</summary>
    private static async Task<Dictionary<string, double>> CountersAsync(ServerProcess server)
    {
        var text = await server.Http.GetStringAsync("/metrics");
        var counters = new Dictionary<string, double>();
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("clientele_instance_", StringComparison.Ordinal))
            {
                continue;
            }
            // name{labels} value [timestamp]
            var end = line.IndexOfAny(['{', ' ']);
            var name = line[..end].Replace("_total", "", StringComparison.Ordinal);
            var rest = line[end] == '{' ? line[(line.IndexOf('}', end) + 1)..] : line[end..];
            var value = double.Parse(rest.Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            counters[name] = counters.GetValueOrDefault(name) + value;
        }
        return counters;
    }
}
