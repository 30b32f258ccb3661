using System.Net;
using Clientele.Accounts;
using Clientele.Data;
using Clientele.Journeys;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Operations;

/// <summary>
/// The server is killed (SIGKILL) fifty times at random moments while 20,000 contacts enter a two-e-mail journey and a
/// broadcast goes to all of them; afterwards every intended message went out exactly once, apart from those recorded as
/// possibly delivered, and every contact has exactly one enrollment.
/// </summary>
[Collection(nameof(HeavyMail))]
public sealed class KillLoopTests(ITestOutputHelper output)
{
    private const int Contacts = 20_000;
    private const int Kills = 50;

    /// <summary>Per sender, the most a kill can leave in doubt (see OutboxSender.MaxClaimed), four senders.</summary>
    private const int InDoubtPerKill = 4 * 8;

    /// <remarks>
    /// The two databases run side by side (each with its own server, SMTP peer and kills): most of a loop is waiting
    /// for the next kill, so together they take the time of one. <c>CLIENTELE_KILL_SEED</c> picks other moments.
    /// </remarks>
    [Fact]
    public async Task Fifty_kills_on_each_database_during_a_journey_and_a_broadcast_lose_nothing_and_send_nothing_twice()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("CLIENTELE_KILL_SEED"), out var s) ? s : 20261124;
        var runs = new[] { (Kind: Db.Sqlite, Run: LoopAsync(Db.Sqlite, new Random(seed))), (Kind: Db.Postgres, Run: LoopAsync(Db.Postgres, new Random(seed + 1))) };
        try
        {
            await Task.WhenAll(runs.Select(r => r.Run));
        }
        catch (Exception)
        {
            // Both are reported below.
        }
        var failures = runs.Where(r => r.Run.IsFaulted).Select(r => $"{r.Kind}: {r.Run.Exception!.InnerException}").ToList();
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    private async Task LoopAsync(string kind, Random rng)
    {
        await Task.Yield();
        await using var peer = await SmtpPeer.StartAsync();
        var (connection, cleanup) = await NewDatabaseAsync(kind);
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

            var port = SmtpPeer.FreePort();
            Guid journey, broadcast;
            var server = ServerProcess.Start(connection, peer.Port, key, port);
            try
            {
                await server.ReadyAsync();
                journey = await SetUpAsync(server.Http);
                var created = await server.Http.PostJsonAsync("/api/v1/broadcasts", new
                {
                    name = "Big news",
                    topic = "newsletter",
                    subject = "News for {{ contact.first_name }}",
                    body = "Hi {{ contact.first_name }}, read [the story](https://shop.example/story).",
                });
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                broadcast = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }

            // The shop keeps sending sign-ups through every kill, retrying a batch until it is answered.
            using var feeding = new CancellationTokenSource();
            var feeder = FeedAsync(port, key, feeding.Token);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var killedAt = new List<double>();
            for (var kill = 0; kill < Kills; kill++)
            {
                if (kill > 0)
                {
                    server = ServerProcess.Start(connection, peer.Port, key, port);
                }
                // Anywhere from mid-start to a few seconds of work.
                await Task.Delay(TimeSpan.FromMilliseconds(rng.Next(300, 3000)));
                killedAt.Add(clock.Elapsed.TotalSeconds);
                await server.DisposeAsync();
            }
            output.WriteLine($"{kind}: {Kills} kills in {clock.Elapsed.TotalSeconds:N0} s; {peer.AcceptedMessageIds().Count:N0} messages had arrived");

            await using (var last = ServerProcess.Start(connection, peer.Port, key, port))
            {
                await last.ReadyAsync();
                await feeder;
                await MailFlowTests.Until(async () =>
                {
                    Assert.False(last.HasExited, last.Output);
                    using var database = ClienteleDatabase.Open(connection);
                    await using var db = database.CreateDbContext();
                    return await db.JourneyRuns.CountAsync(r => r.JourneyId == journey && r.Status == RunStatus.Completed) == Contacts
                        && !await db.OutboxMessages.AnyAsync(m => m.Status == OutboxStatus.Queued || m.Status == OutboxStatus.Deferred || m.Status == OutboxStatus.Sending)
                        && await db.Broadcasts.AnyAsync(b => b.Id == broadcast && b.Status == Clientele.Broadcasts.BroadcastStatus.Finished);
                }, "every contact went through the journey and every message was sent", 600);
                Assert.Equal(0, await last.StopAsync());
            }

            using (var database = ClienteleDatabase.Open(connection))
            {
                await using var db = database.CreateDbContext();
                // Every sign-up recorded once, every contact enrolled once.
                Assert.Equal(Contacts, await db.Events.CountAsync(e => e.Type == "kill.signup"));
                var runs = await db.JourneyRuns.AsNoTracking().Where(r => r.JourneyId == journey).Select(r => r.ContactId).ToListAsync();
                Assert.Equal(Contacts, runs.Count);
                Assert.Equal(Contacts, runs.Distinct().Count());

                // Two journey e-mails and one broadcast e-mail per contact, each queued once.
                var messages = await db.OutboxMessages.AsNoTracking().ToListAsync();
                Assert.Equal(3 * Contacts, messages.Count);
                Assert.All(messages.GroupBy(m => (m.ContactId, m.StepId, m.BroadcastId)), g => Assert.Single(g));
                Assert.Equal(Contacts, messages.Count(m => m.BroadcastId == broadcast));

                // Nobody received anything twice; everything not in doubt was sent and arrived.
                var delivered = peer.AcceptedMessageIds().GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());
                Assert.All(delivered, d => Assert.Equal(1, d.Value));
                var ambiguous = messages.Where(m => m.Ambiguous).ToList();
                foreach (var m in messages.Where(m => !m.Ambiguous))
                {
                    Assert.Equal(OutboxStatus.Sent, m.Status);
                    Assert.True(delivered.ContainsKey(MailComposer.MessageIdOf(m.Id, "example.com")), $"message {m.Id} is recorded sent and arrived");
                }
                Assert.All(ambiguous, m => Assert.Equal(OutboxStatus.Failed, m.Status));
                Assert.InRange(ambiguous.Count, 0, Kills * InDoubtPerKill);
                Assert.Equal(messages.Count - ambiguous.Count + ambiguous.Count(m => delivered.ContainsKey(MailComposer.MessageIdOf(m.Id, "example.com"))), delivered.Count);
                output.WriteLine($"{kind}: {messages.Count:N0} messages, {ambiguous.Count} recorded as possibly delivered; kills at {string.Join(", ", killedAt.Select(t => t.ToString("N1")))} s");
            }
        }
        finally
        {
            await cleanup();
        }
    }

    /// <summary>Two templates and the journey: a welcome, a minute's wait, a follow-up.</summary>
    private static async Task<Guid> SetUpAsync(HttpClient api)
    {
        foreach (var name in (string[])["Welcome", "Follow-up"])
        {
            var template = await api.PostJsonAsync("/api/v1/templates", new { name, subject = name + " for {{ contact.first_name }}", body = "Hello {{ contact.first_name }}." });
            Assert.Equal(HttpStatusCode.Created, template.StatusCode);
        }
        var created = await api.PostJsonAsync("/api/v1/journeys", new
        {
            name = "Welcome series",
            definition = new
            {
                trigger = new { @event = "kill.signup" },
                steps = new object[]
                {
                    new { id = "welcome", type = "email", template = "Welcome", topic = "newsletter" },
                    new { id = "minute", type = "wait", minutes = 1 },
                    new { id = "follow-up", type = "email", template = "Follow-up", topic = "newsletter" },
                },
            },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        var published = await api.PostAsync($"/api/v1/journeys/{id}/publish", null);
        Assert.True(published.IsSuccessStatusCode, await published.Content.ReadAsStringAsync());
        return id;
    }

    /// <summary>Posts a sign-up for every contact in batches of 500, each retried (same idempotency keys) until answered.</summary>
    private static async Task FeedAsync(int port, string key, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        for (var start = 0; start < Contacts; start += 500)
        {
            var events = Enumerable.Range(start, 500).Select(i => new
            {
                type = "kill.signup",
                email = $"r{i:D3}@example.com",
                idempotencyKey = $"kill.signup:{i}",
                properties = new { },
            }).ToArray();
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    var response = await http.PostJsonAsync("/api/v1/events", new { events });
                    if (response.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException) when (!ct.IsCancellationRequested)
                {
                }
                await Task.Delay(200, ct);
            }
            await Task.Delay(100, ct); // a steady stream through the kills
        }
    }

    internal static async Task<(string Connection, Func<Task> Cleanup)> NewDatabaseAsync(string kind)
    {
        if (kind == Db.Postgres)
        {
            var pg = await PostgresServer.CreateDatabaseAsync();
            return (pg, () => PostgresServer.DropDatabaseAsync(pg));
        }
        var dir = Path.Combine(Path.GetTempPath(), "clientele-kill-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return ($"Data Source={Path.Combine(dir, "clientele.db")}", () =>
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
            return Task.CompletedTask;
        }
        );
    }
}
