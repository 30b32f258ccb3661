using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Clientele.Accounts;
using Clientele.Broadcasts;
using Clientele.Data;
using Clientele.Journeys;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Journeys;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Clientele.Tests.Outbox;

/// <summary>
/// What production throws at a running app: the clock jumping six hours (and back), the mail server gone for a minute,
/// PostgreSQL restarted mid-send. Work resumes, nothing is lost, nothing is sent twice, overdue mail follows the rule.
/// </summary>
[Collection(nameof(HeavyMail))]
public sealed class FaultTests
{
    /// <summary>The test's fake clock plus an offset, so the clock the app sees can jump back as a badly set server clock does.</summary>
    private sealed class JumpingClock(FakeTimeProvider fake) : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => fake.GetUtcNow() + Offset;

        public override long GetTimestamp() => fake.GetTimestamp();

        public override long TimestampFrequency => fake.TimestampFrequency;

        public override TimeZoneInfo LocalTimeZone => fake.LocalTimeZone;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            fake.CreateTimer(callback, state, dueTime, period);
    }

    private static async Task SaveRulesAsync(TestApp app, SendingRules rules)
    {
        await using var db = app.NewDb();
        await SettingsStore.SaveAsync(db, SendingRules.Key, rules, app.Time.GetUtcNow().UtcDateTime, CancellationToken.None);
        app.Services.GetRequiredService<OutboxContent>().Invalidate();
    }

    private static void Wake(TestApp app)
    {
        app.Services.GetRequiredService<BroadcastSignal>().Notify();
        app.Services.GetRequiredService<OutboxSignal>().Notify();
    }

    /// <summary>Waits until nothing is due or being handed over, then returns what went out, by recipient and subject.</summary>
    private static async Task<List<string>> SettledMailAsync(TestApp app, Func<DateTime> now)
    {
        Wake(app);
        await MailFlowTests.Until(async () =>
        {
            await using var db = app.NewDb();
            var at = now();
            return !await db.OutboxMessages.AnyAsync(m => m.Status == OutboxStatus.Sending
                || ((m.Status == OutboxStatus.Queued || m.Status == OutboxStatus.Deferred) && m.DueAt <= at));
        }, "the due mail was handled");
        await using var check = app.NewDb();
        var rows = await check.LocalMail.AsNoTracking().ToListAsync();
        return [.. rows.Select(r => MimeKit.MimeMessage.Load(new MemoryStream(r.Raw))).Select(m => $"{m.To.Mailboxes.Single().Address}: {m.Subject}").Order()];
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_six_hour_clock_jump_sends_what_came_due_once_skips_stale_marketing_and_a_jump_back_repeats_nothing(string kind)
    {
        JumpingClock? clock = null;
        await using var app = await TestApp.StartAsync(kind, services: s =>
        {
            var fake = (FakeTimeProvider)s.Last(d => d.ServiceType == typeof(TimeProvider)).ImplementationInstance!;
            s.AddSingleton<TimeProvider>(clock = new JumpingClock(fake));
        }, settings: new() { ["Clientele:Journeys:Enabled"] = "false" });
        Assert.NotNull(clock);
        Assert.Same(clock, app.Services.GetRequiredService<TimeProvider>());
        DateTime Now() => clock.GetUtcNow().UtcDateTime;
        var t0 = Now();
        await SaveRulesAsync(app, ReliabilityTests.Open with { MaxLateHours = 3 });
        var api = await app.ApiClientAsync();
        foreach (var t in new[] { "First", "Second", "Third" })
        {
            await JourneyFlowTests.TemplateAsync(api, t);
        }
        var ann = await JourneyFlowTests.ContactAsync(api, "ann@example.com", "UTC");
        await JourneyFlowTests.ContactAsync(api, "bob@example.com", "UTC");
        var journey = await JourneyFlowTests.JourneyAsync(api, "Welcome", new
        {
            trigger = new { @event = "account.created" },
            steps = new object[]
            {
                new { id = "first", type = "email", template = "First", topic = "newsletter" },
                new { id = "two-hours", type = "wait", hours = 2 },
                new { id = "second", type = "email", template = "Second", topic = "newsletter" },
                new { id = "a-day", type = "wait", days = 1 },
                new { id = "third", type = "email", template = "Third", topic = "newsletter" },
            },
        });
        await JourneyFlowTests.SignalAsync(api, "ann@example.com");
        await JourneyFlowTests.SignalAsync(api, "bob@example.com");
        await JourneyFlowTests.RunDueAsync(app);
        var broadcast = await api.PostJsonAsync("/api/v1/broadcasts", new
        {
            name = "In an hour",
            topic = "newsletter",
            subject = "Broadcast",
            body = "Hello {{ contact.first_name }}.",
            sendAt = t0.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        });
        Assert.Equal(HttpStatusCode.Created, broadcast.StatusCode);
        var broadcastId = (await broadcast.ReadJsonAsync()).GetProperty("id").GetGuid();
        // Two messages due a second from now, which the sender cannot reach before the clock jumps.
        Guid stale, receipt;
        await using (var db = app.NewDb())
        {
            OutboxMessage Due(string subject, MessageClass cls, string? topic) => new()
            {
                ContactId = ann,
                To = "ann@example.com",
                Subject = subject,
                TextBody = "Hello.",
                Kind = cls == MessageClass.Marketing ? "test-news" : "test-receipt",
                Class = cls,
                Topic = topic,
                IdempotencyKey = "fault:" + subject,
                CreatedAt = t0,
                DueAt = t0.AddSeconds(1),
            };
            stale = (await Clientele.Outbox.Outbox.EnqueueAsync(db, Due("Flash sale", MessageClass.Marketing, "newsletter"), CancellationToken.None)).Id;
            receipt = (await Clientele.Outbox.Outbox.EnqueueAsync(db, Due("Your receipt", MessageClass.Transactional, null), CancellationToken.None)).Id;
            await db.SaveChangesAsync();
        }
        Assert.Equal(["ann@example.com: First for ann", "bob@example.com: First for bob"], await SettledMailAsync(app, Now));

        // The clock jumps six hours: the journey's second e-mail (due at +2 h) and the broadcast (due at +1 h) go once, at once.
        app.Time.Advance(TimeSpan.FromHours(6));
        var jumped = Now();
        Wake(app);
        await JourneyFlowTests.RunDueAsync(app);
        await MailFlowTests.FinishedAsync(api, broadcastId);
        string[] expected =
        [
            "ann@example.com: Broadcast", "ann@example.com: First for ann", "ann@example.com: Second for ann", "ann@example.com: Your receipt",
            "bob@example.com: Broadcast", "bob@example.com: First for bob", "bob@example.com: Second for bob",
        ];
        Assert.Equal(expected, await SettledMailAsync(app, Now));
        await using (var db = app.NewDb())
        {
            // The next wait counts from when the overdue step ran, not from when it was due.
            var runs = await db.JourneyRuns.AsNoTracking().Where(r => r.JourneyId == journey).ToListAsync();
            Assert.Equal(2, runs.Count);
            Assert.All(runs, r => Assert.Equal(jumped.AddDays(1), r.DueAt));
            var b = await db.Broadcasts.AsNoTracking().SingleAsync(x => x.Id == broadcastId);
            Assert.Equal(jumped, b.StartedAt);
            // Stale marketing is skipped with the rule in words; the receipt goes however late.
            var skipped = await db.OutboxMessages.AsNoTracking().SingleAsync(m => m.Id == stale);
            Assert.Equal(OutboxStatus.Suppressed, skipped.Status);
            Assert.Equal($"Due at {t0.AddSeconds(1):yyyy-MM-dd HH:mm} UTC, 5 hours 59 minutes ago: more than the 3 hours allowed for a marketing message to be late; not sent.",
                skipped.LastAnswer);
            Assert.True(await db.OutboxNotes.AnyAsync(n => n.MessageId == stale && n.Text == skipped.LastAnswer), "the reason is in the message's history");
            Assert.Equal(OutboxStatus.Sent, (await db.OutboxMessages.AsNoTracking().SingleAsync(m => m.Id == receipt)).Status);
        }

        // The clock is put back six hours: nothing is sent again and nothing comes due early.
        clock.Offset = TimeSpan.FromHours(-6);
        Assert.Equal(0, await JourneyFlowTests.RunDueAsync(app));
        await Task.Delay(1500);
        Assert.Equal(expected, await SettledMailAsync(app, Now));

        // Forward again, to just before the day's wait ends: still no duplicates, the third e-mail still waits.
        clock.Offset = TimeSpan.Zero;
        app.Time.Advance(TimeSpan.FromHours(23));
        Assert.Equal(0, await JourneyFlowTests.RunDueAsync(app));
        await Task.Delay(1500);
        Assert.Equal(expected, await SettledMailAsync(app, Now));

        app.Time.Advance(TimeSpan.FromHours(1));
        await JourneyFlowTests.RunDueAsync(app);
        var final = await SettledMailAsync(app, Now);
        Assert.Equal(expected.Length + 2, final.Count);
        Assert.Single(final, m => m == "ann@example.com: Third for ann");
        Assert.Single(final, m => m == "bob@example.com: Third for bob");
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task With_the_mail_server_down_for_a_minute_every_message_is_deferred_then_arrives_exactly_once(string kind)
    {
        await using var peer = await SmtpPeer.StartAsync();
        await using var app = await TestApp.StartAsync(kind, settings: new()
        {
            ["Clientele:Smtp:Host"] = "127.0.0.1",
            ["Clientele:Smtp:Port"] = peer.Port.ToString(CultureInfo.InvariantCulture),
            ["Clientele:Smtp:Security"] = "none",
            ["Clientele:Smtp:PerSecond"] = "50", // slow enough to stop the server half-way
        });
        await using (var db = app.NewDb())
        {
            await ReliabilityTests.SeedAsync(db, 300, app.Time.GetUtcNow().UtcDateTime);
        }
        var api = await app.ApiClientAsync("write");
        var id = (await (await api.PostJsonAsync("/api/v1/broadcasts", ReliabilityTests.News)).ReadJsonAsync()).GetProperty("id").GetGuid();
        await MailFlowTests.Until(() => Task.FromResult(peer.AcceptedMessageIds().Count >= 40), "the send is under way");

        await peer.StopAsync();
        var before = peer.AcceptedMessageIds().Count;
        Assert.InRange(before, 40, 299); // stopped half-way
        await MailFlowTests.Until(async () =>
        {
            await using var db = app.NewDb();
            return !await db.OutboxMessages.AnyAsync(m => m.BroadcastId == id && (m.Status == OutboxStatus.Queued || m.Status == OutboxStatus.Sending));
        }, "every message was tried", 60);
        await using (var db = app.NewDb())
        {
            var byStatus = await db.OutboxMessages.AsNoTracking().Where(m => m.BroadcastId == id)
                .GroupBy(m => m.Status).ToDictionaryAsync(g => g.Key, g => g.Count());
            Assert.Equal(300 - before, byStatus.GetValueOrDefault(OutboxStatus.Deferred));
            Assert.Equal(before, byStatus.GetValueOrDefault(OutboxStatus.Sent));
            Assert.False(byStatus.ContainsKey(OutboxStatus.Failed), "nothing failed");
        }
        var report = await (await api.GetAsync($"/api/v1/broadcasts/{id}")).ReadJsonAsync();
        Assert.NotEqual("finished", report.GetProperty("status").GetString());

        // A minute later (fake time) the server is still down: the first retry is deferred again.
        app.Time.Advance(TimeSpan.FromMinutes(1));
        Wake(app);
        await MailFlowTests.Until(async () =>
        {
            await using var db = app.NewDb();
            var now = app.Time.GetUtcNow().UtcDateTime;
            return !await db.OutboxMessages.AnyAsync(m => m.BroadcastId == id
                && (m.Status == OutboxStatus.Sending || ((m.Status == OutboxStatus.Queued || m.Status == OutboxStatus.Deferred) && m.DueAt <= now)));
        }, "the first retries were tried", 60);
        Assert.Equal(before, peer.AcceptedMessageIds().Count);

        // The server is back on the same port; past the next retry everything goes.
        await peer.RestartAsync();
        app.Time.Advance(TimeSpan.FromMinutes(6));
        Wake(app);
        await MailFlowTests.FinishedAsync(api, id, 60);

        await using var check = app.NewDb();
        var messages = await check.OutboxMessages.AsNoTracking().Where(m => m.BroadcastId == id).ToListAsync();
        var delivered = ReliabilityTests.Delivered(peer);
        Assert.All(messages, m => Assert.Equal(OutboxStatus.Sent, m.Status));
        Assert.All(delivered, d => Assert.Equal(1, d.Value)); // nobody got a message twice
        Assert.Equal(messages.Select(ReliabilityTests.IdOf).Order(), delivered.Keys.Order()); // and nobody was left out
        var retried = messages.Where(m => m.Attempts > 1).Select(m => m.Id).ToList();
        Assert.Equal(300 - before, retried.Count);
        var notes = await check.OutboxNotes.AsNoTracking().Where(n => retried.Contains(n.MessageId)).ToListAsync();
        // Each retried message's history shows both times it could not go.
        Assert.All(retried, r => Assert.True(notes.Count(n => n.MessageId == r) >= 2, $"message {r} shows its deferrals"));
        Assert.Contains(notes, n => n.Text.Contains("deferred"));
    }

    /// <summary>A PostgreSQL cluster of one test's own, so restarting it disturbs no other test.</summary>
    private sealed class PrivatePostgres : IAsyncDisposable
    {
        private const string Bin = "/usr/lib/postgresql/15/bin";
        private readonly string _dir;

        private PrivatePostgres(string dir, int port)
        {
            _dir = dir;
            ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
        }

        public string ConnectionString { get; }

        public static async Task<PrivatePostgres> StartAsync()
        {
            var dir = Path.Combine(Path.GetTempPath(), "clientele-pgfault-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(dir);
            var port = SmtpPeer.FreePort();
            if (Environment.UserName == "root")
            {
                await RunAsync("chown", "postgres:postgres", dir);
            }
            var pg = new PrivatePostgres(dir, port);
            await pg.PgAsync("initdb", "-D", $"{dir}/data", "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8");
            await pg.PgAsync("pg_ctl", "-D", $"{dir}/data", "-l", $"{dir}/log", "-w", "-o",
                $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", "start");
            return pg;
        }

        /// <summary>A fast restart: every session is cut, the server is back a moment later.</summary>
        public Task RestartAsync() => PgAsync("pg_ctl", "-D", $"{_dir}/data", "-l", $"{_dir}/log", "-w", "-m", "fast", "restart");

        private Task PgAsync(string tool, params string[] args) =>
            Environment.UserName == "root"
                ? RunAsync("runuser", ["-u", "postgres", "--", $"{Bin}/{tool}", .. args])
                : RunAsync($"{Bin}/{tool}", args);

        private static async Task RunAsync(string exe, params string[] args)
        {
            var start = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args)
            {
                start.ArgumentList.Add(a);
            }
            using var p = Process.Start(start)!;
            var stderr = p.StandardError.ReadToEndAsync();
            _ = await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync();
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"{exe} {string.Join(' ', args)} failed: {await stderr}");
            }
        }

        public async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            try
            {
                await PgAsync("pg_ctl", "-D", $"{_dir}/data", "-m", "immediate", "stop");
            }
            finally
            {
                try
                {
                    Directory.Delete(_dir, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    [Fact]
    public async Task PostgreSQL_restarted_during_a_broadcast_the_app_carries_on_and_sends_each_message_once()
    {
        await using var postgres = await PrivatePostgres.StartAsync();
        await using var peer = await SmtpPeer.StartAsync();
        var connection = new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Pooling = true, MaxPoolSize = 20 }.ToString();
        const int count = 3000;
        string key;
        using (var database = ClienteleDatabase.Open(connection))
        {
            await database.MigrateAsync(CancellationToken.None);
            await using var db = database.CreateDbContext();
            var now = TimeProvider.System.GetUtcNow().UtcDateTime;
            await ReliabilityTests.SeedAsync(db, count, now);
            await SettingsStore.SaveAsync(db, OutboxContent.BrandKey, new Clientele.Templates.Brand { FromAddress = "news@example.com", PostalAddress = "1 Main St" }, now, CancellationToken.None);
            key = await ApiKeys.CreateAsync(db, "test", ApiScope.Admin, now, CancellationToken.None);
        }

        await using var server = ServerProcess.Start(connection, peer.Port, key);
        var http = server.Http;
        Guid broadcast;
        try
        {
            await server.ReadyAsync();
            var created = await http.PostJsonAsync("/api/v1/broadcasts", ReliabilityTests.News);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            broadcast = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
            await MailFlowTests.Until(() => Task.FromResult(peer.AcceptedMessageIds().Count >= 500), "500 messages arrived", 60);

            await postgres.RestartAsync();
            var atRestart = peer.AcceptedMessageIds().Count;
            Assert.True(atRestart < count, "the restart came before the end");

            await MailFlowTests.FinishedAsync(http, broadcast, 120);
            Assert.False(server.HasExited, "the app kept running");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        }
        finally
        {
            await server.KillAsync();
        }

        NpgsqlConnection.ClearAllPools(); // this process's own connections did not survive the restart either
        using (var database = ClienteleDatabase.Open(connection))
        {
            await using var db = database.CreateDbContext();
            var messages = await db.OutboxMessages.AsNoTracking().Where(m => m.BroadcastId == broadcast).ToListAsync();
            var delivered = ReliabilityTests.Delivered(peer);
            Assert.Equal(count, messages.Count);
            Assert.All(delivered, d => Assert.Equal(1, d.Value)); // nobody got a message twice
            var ambiguous = messages.Where(m => m.Ambiguous).ToList();
            Assert.All(messages.Where(m => !m.Ambiguous), m =>
            {
                Assert.Equal(OutboxStatus.Sent, m.Status);
                Assert.True(delivered.ContainsKey(ReliabilityTests.IdOf(m)), $"message {m.Id} is recorded sent and arrived");
            });
            // Only what was claimed when the connections were cut can be in doubt: at most eight per sender, four senders.
            Assert.InRange(ambiguous.Count, 0, 4 * 8);
            Assert.Equal(messages.Count - ambiguous.Count + ambiguous.Count(m => delivered.ContainsKey(ReliabilityTests.IdOf(m))), delivered.Count);
        }
        NpgsqlConnection.ClearAllPools();
    }
}
