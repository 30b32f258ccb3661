using System.Text.Json;
using Clientele.Cli;
using Clientele.Commerce;
using Clientele.Demo;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Clientele.Tests.Demo;

public sealed class DemoSeedTests
{
    private static DemoSeedTask StartupTask(TestApp app, string? demo) => new(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Clientele:Demo"] = demo }).Build(),
        app.Database, app.Time, NullLogger<DemoSeedTask>.Instance);

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Serve_demo_seeds_a_coffee_roaster_with_two_years_of_history_once(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var now = app.Time.GetUtcNow().UtcDateTime;

        await StartupTask(app, "true").RunAsync(CancellationToken.None);

        await using var data = app.NewDb();
        Assert.Equal(DemoBusiness.ContactCount, await data.Contacts.CountAsync());
        var products = await data.Products.ToListAsync();
        Assert.Equal(20, products.Count);
        Assert.Equal(["Coffee", "Equipment", "Subscriptions", "Tea"], products.Select(p => p.Category).Distinct().Order());

        var orders = await data.Orders.AsNoTracking().Select(o => new { o.ExternalId, o.ContactId, o.PlacedAt, o.Total, o.Status }).ToListAsync();
        Assert.InRange(orders.Count, 3000, 8000);
        Assert.InRange(orders.Min(o => o.PlacedAt), now.AddDays(-730), now.AddDays(-640));
        Assert.InRange(orders.Max(o => o.PlacedAt), now.AddDays(-7), now);

        // Every order is backed by its order.placed event, as if it had come through the API.
        var placed = (await data.Events.AsNoTracking().Where(e => e.Type == "order.placed").ToListAsync())
            .ToDictionary(e => e.IdempotencyKey!);
        Assert.Equal(orders.Count, placed.Count);
        foreach (var order in orders)
        {
            var e = placed["order:" + order.ExternalId];
            var facts = CommerceProjection.ReadOrder(e);
            Assert.Equal((order.ExternalId, order.Total, order.ContactId, order.PlacedAt), (facts.OrderId, facts.Total, e.ContactId, e.OccurredAt));
        }
        var refunded = orders.Where(o => o.Status == OrderStatus.Refunded).Select(o => "order-refund:" + o.ExternalId).Order().ToList();
        Assert.NotEmpty(refunded);
        Assert.Equal(refunded, (await data.Events.Where(e => e.Type == "order.refunded").Select(e => e.IdempotencyKey!).ToListAsync()).Order());

        // The behaviour under every rung of the ladder is there.
        var types = await data.Events.GroupBy(e => e.Type).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count);
        foreach (var type in new[]
                 {
                     "page.viewed", "form.submitted", "consent.given", "quote.requested", "demo.requested", "offer.accepted",
                     "trial.started", "trial.ended", "survey.answered", "referral.signed_up", "consent.withdrawn",
                 })
        {
            Assert.True(types.GetValueOrDefault(type) > 0, $"no {type} events");
        }
        var leadsOnlyBrowsing = await data.Contacts.CountAsync(c => data.Events.Where(e => e.ContactId == c.Id).All(e => e.Type == "page.viewed"));
        Assert.InRange(leadsOnlyBrowsing, 150, 600);
        var perCustomer = orders.GroupBy(o => o.ContactId).Select(g => (Count: g.Count(), Last: g.Max(o => o.PlacedAt))).ToList();
        Assert.InRange(perCustomer.Count(c => c.Count == 1), 200, 1000);   // first-time buyers
        Assert.InRange(perCustomer.Count(c => c.Count >= 5), 100, 600);    // repeat buyers
        Assert.InRange(perCustomer.Count(c => c.Count >= 2 && now - c.Last > TimeSpan.FromDays(180)), 50, 800); // lapsed
        var categoriesPerBuyer = await data.OrderLines.GroupBy(l => l.ContactId).Select(g => g.Select(l => l.Category).Distinct().Count()).ToListAsync();
        Assert.InRange(categoriesPerBuyer.Count(n => n >= 2), 100, 1200); // cross-category buyers
        var promoters = await data.Events.Where(e => e.Type == "survey.answered").Select(e => e.Properties).ToListAsync();
        Assert.Contains(promoters, p => JsonDocument.Parse(p).RootElement.GetProperty("score").GetInt32() >= 9);
        var contacts = await data.Contacts.AsNoTracking().ToListAsync();
        Assert.All(contacts, c => Assert.Matches(@"@example\.(com|net|org)$", c.EmailNormalized!)); // never a real mailbox
        foreach (var tag in new[] { "vip", "wholesale", "newsletter" })
        {
            Assert.Contains(contacts, c => c.Tags.Contains(tag));
        }
        Assert.Contains(contacts, c => c.Attributes.Contains("\"company\"") && c.Attributes.Contains("\"budget\""));
        Assert.True(contacts.Select(c => c.TimeZone).Distinct().Count() >= 5);
        Assert.True(contacts.Count(c => c.Birthday is not null) > 500);
        Assert.True(contacts.Count(c => c.UtmSource is not null) > 500);

        // The consumers, catching up with the log, arrive at the same orders and derive the trials.
        var lines = await data.OrderLines.CountAsync();
        await app.DrainAsync();
        await using (var drained = app.NewDb())
        {
            Assert.Equal(0, await drained.ConsumerFailures.CountAsync());
            Assert.Equal(orders.Count, await drained.Orders.CountAsync());
            Assert.Equal(lines, await drained.OrderLines.CountAsync());
            Assert.Equal(refunded.Count, await drained.Orders.CountAsync(o => o.Status == OrderStatus.Refunded));
            var started = await drained.Events.CountAsync(e => e.Type == "trial.started");
            Assert.NotEqual(0, started);
            Assert.Equal(started, await drained.Trials.CountAsync());
            // Every code the demo orders carry is one of the shop's offers, so none is refused as unknown.
            var refused = await drained.Events.Where(e => e.Type == "offer.refused").Select(e => e.Properties).ToListAsync();
            Assert.DoesNotContain(refused, p => p.Contains("No offer has this code", StringComparison.Ordinal));
            Assert.NotEqual(0, await drained.Events.CountAsync(e => e.Type == "offer.redeemed"));
        }

        // Some products go together: a brewer with the coffee it suits, a kettle with a dripper, teas in pairs.
        Assert.NotNull(await app.Services.GetRequiredService<BoughtTogetherJob>().RecomputeAsync(CancellationToken.None));
        await using (var recs = app.NewDb())
        {
            foreach (var (sku, with, _) in DemoBusiness.Companions.Take(6))
            {
                var top = await recs.ProductPairs.Where(p => p.Sku == sku && p.Rank <= 3).Select(p => p.PartnerSku).ToListAsync();
                Assert.True(top.Contains(with), $"{sku} goes with {string.Join(", ", top)}");
            }
            Assert.All(await recs.Products.ToListAsync(), p => Assert.StartsWith(DemoBusiness.ShopUrl, p.Url));
        }

        // A second run, here through the CLI verb, adds nothing.
        Assert.Equal(0, await CliApp.RunAsync(["demo", "--db", app.ConnectionString]));
        var again = await DemoSeed.SeedAsync(app.Database, app.Time, CancellationToken.None);
        Assert.False(again.Seeded);
        await using var after = app.NewDb();
        Assert.Equal(DemoBusiness.ContactCount, await after.Contacts.CountAsync());
        Assert.Equal(orders.Count, await after.Orders.CountAsync());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_demo_startup_task_does_nothing_without_demo_mode_or_when_there_are_contacts(string db)
    {
        await using var app = await TestApp.StartAsync(db);

        await StartupTask(app, null).RunAsync(CancellationToken.None);
        await using (var data = app.NewDb())
        {
            Assert.Equal(0, await data.Contacts.CountAsync());
        }

        var api = await app.ApiClientAsync("write");
        await api.PostJsonAsync("/api/v1/contacts", new { email = "owner@example.com" });
        await StartupTask(app, "true").RunAsync(CancellationToken.None);

        await using var after = app.NewDb();
        Assert.Equal(1, await after.Contacts.CountAsync());
        Assert.Equal(0, await after.Orders.CountAsync());
    }

    [Fact]
    public void The_same_clock_gives_the_same_business()
    {
        var now = new DateTime(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);

        var a = DemoBusiness.Generate(now);
        var b = DemoBusiness.Generate(now);

        Assert.Equal(a.Contacts.Select(c => c.Email), b.Contacts.Select(c => c.Email));
        Assert.Equal(a.Orders.Select(o => (o.ExternalId, o.Total, o.PlacedAt)), b.Orders.Select(o => (o.ExternalId, o.Total, o.PlacedAt)));
        Assert.Equal(a.Events.Count, b.Events.Count);
        Assert.True(a.Events.Zip(a.Events.Skip(1)).All(p => p.First.OccurredAt <= p.Second.OccurredAt), "events are in the order they happened");
        Assert.All(a.Events, e => Assert.True(e.OccurredAt <= now));
    }

    [Fact]
    public async Task The_demo_has_a_form_a_landing_page_and_segments_to_show()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        await StartupTask(app, "true").RunAsync(CancellationToken.None);
        await app.DrainAsync();
        var browser = app.CreateClient();

        var form = await browser.GetAsync("/f/newsletter");
        var page = await browser.GetAsync("/p/club");
        Guid loyal;
        await using (var data = app.NewDb())
        {
            Assert.Equal(3, await data.Segments.CountAsync());
            loyal = (await data.Segments.SingleAsync(x => x.Name == "Loyal customers")).Id;
        }
        await Clientele.Segments.Membership.RebuildAsync(app.Database, loyal, app.Time, CancellationToken.None);

        Assert.Equal(System.Net.HttpStatusCode.OK, form.StatusCode);
        Assert.Contains("Fresh roasts, first", await form.Content.ReadAsStringAsync());
        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Coffee Club", await page.Content.ReadAsStringAsync());
        await using var after = app.NewDb();
        var members = await after.Segments.Where(x => x.Id == loyal).Select(x => x.MemberCount).SingleAsync();
        Assert.True(members > 0);
        Assert.Equal(members, await after.Contacts.CountAsync(c => c.Stage >= Clientele.Lifecycle.Stage.Loyalty));
    }

    [Fact]
    public async Task The_demo_runs_journeys_from_the_playbooks_that_act_on_news_not_on_its_history()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        await StartupTask(app, "true").RunAsync(CancellationToken.None);
        app.Services.GetRequiredService<Clientele.Journeys.JourneyEntry>().Invalidate();
        await app.DrainAsync();
        await using (var data = app.NewDb())
        {
            var journeys = await data.Journeys.AsNoTracking().ToDictionaryAsync(j => j.Playbook!, j => j.Status);
            Assert.Equal(Clientele.Journeys.JourneyStatus.Active, journeys["welcome"]);
            Assert.Equal(Clientele.Journeys.JourneyStatus.Active, journeys["thank-you"]);
            Assert.Equal(Clientele.Journeys.JourneyStatus.Active, journeys["win-back"]);
            Assert.Equal(Clientele.Journeys.JourneyStatus.Draft, journeys["holiday-greetings"]);
            // Two years of orders thank nobody again: only what happened in the last 48 hours is news to a new journey.
            var causes = await data.JourneyRuns.AsNoTracking().Select(r => r.CauseEventId).ToListAsync();
            var when = await data.Events.AsNoTracking().Where(e => causes.Contains(e.Id)).Select(e => e.OccurredAt).ToListAsync();
            Assert.Equal(causes.Count, when.Count);
            Assert.All(when, at => Assert.True(at >= app.Time.GetUtcNow().UtcDateTime.AddHours(-48), $"a run was started by an event of {at:O}"));
            Assert.True(causes.Count < await data.Orders.CountAsync() / 20, "most customers were not enrolled");
        }

        // A new customer's first order is news: the thank-you journey takes them in.
        var api = await app.ApiClientAsync();
        var order = await api.PostJsonAsync("/api/v1/events", new
        {
            events = new[] { new { type = "order.placed", email = "new.customer@example.com", properties = new { orderId = "NEW-1", total = 24, currency = "EUR" } } },
        });
        Assert.True(order.IsSuccessStatusCode);
        await app.DrainAsync();
        await using var after = app.NewDb();
        var run = await after.JourneyRuns.AsNoTracking().Where(r => after.Contacts.Any(c => c.Id == r.ContactId && c.Email == "new.customer@example.com"))
            .Join(after.Journeys, r => r.JourneyId, j => j.Id, (r, j) => new { j.Playbook, r.ContactId }).SingleAsync();
        Assert.Equal("thank-you", run.Playbook);
    }
}
