using System.Net;
using Clientele.Cli;
using Clientele.Data;
using Clientele.Demo;
using Clientele.Events;
using Clientele.Lifecycle;
using Clientele.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Clientele.Tests.Demo;

public sealed class LargeDemoTests
{
    private const int Size = 3000;

    /// <summary>A migrated database of its own, seeded before any app runs on it, as `clientele demo --contacts N` leaves it.</summary>
    private static async Task<(string Connection, string? Dir)> NewDatabaseAsync(string kind)
    {
        if (kind == Db.Postgres)
        {
            return (await PostgresServer.CreateDatabaseAsync(), null);
        }
        var dir = Path.Combine(Path.GetTempPath(), "clientele-bigdemo-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return ($"Data Source={Path.Combine(dir, "clientele.db")}", dir);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Demo_at_scale_writes_exact_counts_with_progress_and_the_app_shows_them_without_catching_up(string kind)
    {
        var (connection, dir) = await NewDatabaseAsync(kind);
        try
        {
            var output = new StringWriter();
            LargeDemoResult result;
            using (var database = ClienteleDatabase.Open(connection))
            {
                await database.MigrateAsync();
                result = await LargeDemo.SeedAsync(database, Size, false, new FakeTimeProvider(TestApp.Start), output, CancellationToken.None);
            }

            Assert.True(result.Seeded, result.Message);
            var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var progress = lines.Where(l => l.Contains("contacts, events and orders:", StringComparison.Ordinal)).ToList();
            Assert.Equal(20, progress.Count); // every 5 %
            Assert.Contains("3,000 of 3,000 contacts (100 %), 30,000 events, 6,000 orders", progress[^1]);
            Assert.Contains(progress, l => l.Contains("(50 %)", StringComparison.Ordinal) && l.Contains("contacts/s", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("dashboard roll-up:", StringComparison.Ordinal));
            Assert.StartsWith("Added Northwind Roasters at scale: 3,000 contacts, 30,000 events, 6,000 orders", result.Message);

            await using var app = await TestApp.StartAsync(kind, settings: new() { ["ConnectionStrings:Clientele"] = connection });
            await using (var data = app.NewDb())
            {
                Assert.Equal(Size, await data.Contacts.CountAsync());
                Assert.Equal(10 * Size, await data.Events.CountAsync());
                Assert.Equal(2 * Size, await data.Orders.CountAsync());
                Assert.Equal(2 * Size, await data.Events.CountAsync(e => e.Type == "order.placed"));
                Assert.Equal(await data.Orders.CountAsync(o => o.Status == Clientele.Commerce.OrderStatus.Refunded), await data.Events.CountAsync(e => e.Type == "order.refunded"));
                var expected = new LargeDemoBusiness(TestApp.Start.UtcDateTime, Size, LadderSettings.Default, null).Next(0, LargeDemo.SliceSize(Size)).Contacts[0];
                var firstStored = await data.Contacts.OrderBy(c => c.CreatedAt).FirstAsync();
                Assert.Equal((expected.Id, expected.Email, expected.Stage), (firstStored.Id, firstStored.Email, firstStored.Stage)); // same seed, same business
                Assert.True(await data.OrderLines.CountAsync() > 2 * Size);
                var stages = await data.Contacts.GroupBy(c => c.Stage).Select(g => new { g.Key, Count = g.Count() }).ToListAsync();
                Assert.True(stages.Count >= 6, string.Join(", ", stages.Select(s => $"{s.Key} {s.Count}")));
                Assert.Contains(stages, s => s.Key == Stage.Loyalty && s.Count > 50);
                Assert.Contains(stages, s => s.Key == Stage.Lead && s.Count > 300);
                var perBuyer = await data.Orders.GroupBy(o => o.ContactId).Select(g => g.Count()).ToListAsync();
                Assert.InRange(perBuyer.Count(n => n == 1), 300, 1500); // one-time buyers
                Assert.True(perBuyer.Count(n => n >= 5) > 150);           // and regulars
                Assert.Equal(await data.Contacts.CountAsync(c => c.Tags.Contains("newsletter")),
                    await data.Consents.CountAsync(c => c.Status == Clientele.Contacts.ConsentStatus.Subscribed));
                Assert.Equal(0, await data.Contacts.CountAsync(c => c.LastActivityAt == null));
                Assert.Equal(await data.Events.CountAsync(e => e.Type == "trial.started"), await data.Trials.CountAsync());
            }

            // Every consumer the app runs has been moved past the log, so serving starts with nothing to catch up on.
            var registered = app.Services.GetServices<IEventConsumer>().Select(c => c.Name).Order().ToList();
            Assert.Equal(registered, LargeDemo.CaughtUpConsumers.Order());
            await app.DrainAsync();
            await using (var drained = app.NewDb())
            {
                var end = await drained.Events.MaxAsync(e => e.Id);
                Assert.All(await drained.ConsumerCheckpoints.Where(c => registered.Contains(c.Consumer)).ToListAsync(), c => Assert.Equal(end, c.Position));
                Assert.Equal(10 * Size, await drained.Events.CountAsync());
            }

            var api = await app.ApiClientAsync("admin");
            var dashboard = await api.GetAsync("/api/v1/reports/dashboard");
            Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
            var d = await dashboard.ReadJsonAsync();
            Assert.Equal(Size, d.GetProperty("stages").EnumerateArray().Sum(s => s.GetProperty("contacts").GetInt64()));
            Assert.True(d.GetProperty("stages").EnumerateArray().Count(s => s.GetProperty("contacts").GetInt64() > 0) >= 6);
            Assert.True(d.GetProperty("kpis").GetProperty("customers").GetProperty("current").GetDouble() > 1000);
            Assert.True(d.GetProperty("revenue").EnumerateArray().Count(m => m.GetProperty("backEnd").GetDecimal() > 0) >= 10);
            var contacts = await (await api.GetAsync("/api/v1/contacts?tag=vip&limit=5")).ReadJsonAsync();
            Assert.Equal(5, contacts.GetProperty("items").GetArrayLength());
            Assert.All(contacts.GetProperty("items").EnumerateArray(), c => Assert.Matches(@"@example\.(com|net|org)$", c.GetProperty("email").GetString()!));

            // Run again: refused, nothing added, through the verb too.
            using (var again = ClienteleDatabase.Open(connection))
            {
                var refused = await LargeDemo.SeedAsync(again, Size, false, new FakeTimeProvider(TestApp.Start), TextWriter.Null, CancellationToken.None);
                Assert.False(refused.Seeded);
                Assert.Contains("already has 3,000 contacts", refused.Message);
                Assert.Contains("--force", refused.Message);
            }
            Assert.Equal(1, await CliApp.RunAsync(["demo", "--contacts", "100", "--db", connection]));
            await using (var after = app.NewDb())
            {
                Assert.Equal(Size, await after.Contacts.CountAsync());
            }

            // With --force it is added beside what is there, its addresses and numbers kept apart.
            using (var forced = ClienteleDatabase.Open(connection))
            {
                var added = await LargeDemo.SeedAsync(forced, 300, true, new FakeTimeProvider(TestApp.Start), TextWriter.Null, CancellationToken.None);
                Assert.True(added.Seeded, added.Message);
            }
            await using (var both = app.NewDb())
            {
                Assert.Equal(Size + 300, await both.Contacts.CountAsync());
                Assert.Equal(10 * (Size + 300), await both.Events.CountAsync());
                Assert.Equal(300, await both.Contacts.CountAsync(c => c.EmailNormalized!.Contains("@r3000.example.")));
                Assert.Equal(600, await both.Orders.CountAsync(o => o.ExternalId.StartsWith("NR-r3000-")));
            }
        }
        finally
        {
            if (dir is not null)
            {
                SqliteConnection.ClearAllPools();
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public void The_same_size_and_clock_give_the_same_business()
    {
        var now = TestApp.Start.UtcDateTime;
        var first = new LargeDemoBusiness(now, Size, LadderSettings.Default, null).Next(0, LargeDemo.SliceSize(Size));
        var again = new LargeDemoBusiness(now, Size, LadderSettings.Default, null).Next(0, LargeDemo.SliceSize(Size));

        Assert.Equal(first.Contacts[0].Id, again.Contacts[0].Id);
        Assert.Equal(first.Contacts.Select(c => (c.Email, c.Stage, c.LastActivityAt)), again.Contacts.Select(c => (c.Email, c.Stage, c.LastActivityAt)));
        Assert.Equal(first.Orders.Select(o => (o.Id, o.ExternalId, o.Total)), again.Orders.Select(o => (o.Id, o.ExternalId, o.Total)));
        Assert.Equal(first.Events.Select(e => (e.Type, e.OccurredAt, e.Properties)), again.Events.Select(e => (e.Type, e.OccurredAt, e.Properties)));
        Assert.Equal(10 * first.Contacts.Count, first.Events.Count);
        Assert.Equal(2 * first.Contacts.Count, first.Orders.Count);
    }
}
