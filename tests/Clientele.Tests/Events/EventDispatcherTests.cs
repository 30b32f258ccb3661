using System.Net;
using Clientele.Events;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Clientele.Tests.Events;

public sealed class EventDispatcherTests
{
    /// <summary>Derives a "page.counted" event from every page view; can be told to fail.</summary>
    private sealed class CountingConsumer(string name, Func<Event, int, bool> shouldFail) : IEventConsumer
    {
        private readonly Dictionary<long, int> _attempts = [];

        public string Name => name;

        public bool Wants(string eventType) => eventType == "page.viewed";

        public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct)
        {
            var attempt = _attempts[e.Id] = _attempts.GetValueOrDefault(e.Id) + 1;
            context.Emit(e, "page.counted", new { by = name });
            if (shouldFail(e, attempt))
            {
                throw new InvalidOperationException($"cannot count {e.Properties}");
            }
            return Task.CompletedTask;
        }
    }

    private static object Views(params string[] urls) =>
        new { events = urls.Select(u => new { type = "page.viewed", email = "ann@example.com", properties = new { url = u } }) };

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_consumer_that_fails_once_leaves_no_half_done_work_and_repeats_nothing(string db)
    {
        await using var app = await TestApp.StartAsync(db, s =>
            s.AddSingleton<IEventConsumer>(new CountingConsumer("flaky", (e, attempt) => e.Properties.Contains("/b") && attempt == 1)));
        var api = await app.ApiClientAsync("write");
        await api.PostJsonAsync("/api/v1/events", Views("/a", "/b", "/c"));

        await app.DrainAsync();

        await using var data = app.NewDb();
        var derived = await data.Events.Where(e => e.Type == "page.counted").OrderBy(e => e.CauseEventId).ToListAsync();
        var views = await data.Events.Where(e => e.Type == "page.viewed").OrderBy(e => e.Id).Select(e => e.Id).ToListAsync();
        Assert.Equal(views, derived.Select(d => d.CauseEventId!.Value));
        Assert.All(derived, d => Assert.Equal("flaky", d.Source));
        Assert.Equal(0, await data.ConsumerFailures.CountAsync());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_consumer_that_keeps_failing_on_one_event_parks_it_visibly_and_stops_nothing_else(string db)
    {
        await using var app = await TestApp.StartAsync(db, s =>
        {
            s.AddSingleton<IEventConsumer>(new CountingConsumer("broken", (e, _) => e.Properties.Contains("/b")));
            s.AddSingleton<IEventConsumer>(new CountingConsumer("healthy", (_, _) => false));
        });
        var api = await app.ApiClientAsync("admin");
        await api.PostJsonAsync("/api/v1/events", Views("/a", "/b", "/c"));

        await app.DrainAsync();

        await using var data = app.NewDb();
        var bySource = await data.Events.Where(e => e.Type == "page.counted").GroupBy(e => e.Source)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count);
        Assert.Equal(3, bySource["healthy"]);
        Assert.Equal(2, bySource["broken"]); // /a and /c; /b parked
        var failure = await data.ConsumerFailures.SingleAsync();
        Assert.Equal("broken", failure.Consumer);
        Assert.Equal(EventDispatcher.MaxAttempts, failure.Attempts);

        var status = await (await api.GetAsync("/api/v1/system/consumers")).ReadJsonAsync();
        var broken = status.EnumerateArray().Single(c => c.GetProperty("name").GetString() == "broken");
        Assert.Equal(1, broken.GetProperty("failures").GetInt32());
        var lastView = await data.Events.Where(e => e.Type == "page.viewed").MaxAsync(e => e.Id);
        Assert.True(broken.GetProperty("position").GetInt64() >= lastView, "the broken consumer moved past the parked event");
        Assert.Contains("cannot count", broken.GetProperty("lastError").GetString());
        Assert.Equal(failure.EventId.ToString(), broken.GetProperty("recentFailures")[0].GetProperty("eventId").GetString());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Orders_posted_while_derivation_yields_to_busy_ingestion_each_become_one_order_and_one_purchase(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        var dispatcher = app.Services.GetRequiredService<EventDispatcher>();
        var batches = Enumerable.Range(0, 8).Select(b => new
        {
            events = Enumerable.Range(0, 25).Select(i => new
            {
                type = "order.placed",
                email = $"buyer{b * 25 + i}@example.com",
                occurredAt = "2026-05-01T10:00:00Z",
                idempotencyKey = $"order-{b}-{i}",
                properties = new { orderId = $"{b}-{i}", total = 10m, items = new[] { new { sku = "A1", category = "Coffee", quantity = 1, price = 10m } } },
            }).ToArray(),
        }).ToList();

        // Requests keep arriving while the consumers run: they pause between batches, and must still miss and repeat nothing.
        var draining = Task.Run(async () =>
        {
            for (var i = 0; i < 8; i++)
            {
                await dispatcher.DrainAsync(CancellationToken.None);
            }
        });
        foreach (var batch in batches)
        {
            Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/api/v1/events", batch)).StatusCode);
        }
        await draining;
        await app.DrainAsync();

        await using var check = app.NewDb();
        Assert.Equal(200, await check.Orders.CountAsync());
        Assert.Equal(200, await check.Contacts.CountAsync(c => c.Stage == Clientele.Lifecycle.Stage.Purchase));
        Assert.Equal(200, await check.Events.CountAsync(e => e.Type == "stage.changed"));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Orders_sent_as_events_become_orders_once_however_often_the_log_is_replayed(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        var response = await api.PostJsonAsync("/api/v1/events", new
        {
            events = new object[]
            {
                new { type = "order.placed", email = "ann@example.com", occurredAt = "2026-05-01T10:00:00Z", idempotencyKey = "o-1",
                    properties = new { orderId = "1001", currency = "EUR", items = new[] { new { sku = "BEAN-1", category = "Coffee", quantity = 2, price = 12.5m } } } },
                new { type = "order.refunded", email = "ann@example.com", occurredAt = "2026-05-03T10:00:00Z", properties = new { orderId = "1001" } },
                new { type = "trial.started", email = "bob@example.com", occurredAt = "2026-05-01T10:00:00Z", properties = new { product = "Subscription", days = 14 } },
                new { type = "trial.ended", email = "bob@example.com", occurredAt = "2026-05-10T10:00:00Z", properties = new { product = "Subscription", outcome = "converted" } },
            },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        await app.DrainAsync();
        await using (var data = app.NewDb())
        {
            // Replay the whole log into the commerce projection: nothing may double.
            await data.ConsumerCheckpoints.Where(c => c.Consumer == "commerce").ExecuteUpdateAsync(s => s.SetProperty(c => c.Position, 0L));
        }
        await app.DrainAsync();

        await using var check = app.NewDb();
        var order = await check.Orders.Include(o => o.Lines).SingleAsync();
        Assert.Equal(25m, order.Total);
        Assert.Equal("EUR", order.Currency);
        Assert.Equal(Clientele.Commerce.OrderStatus.Refunded, order.Status);
        Assert.Single(order.Lines);
        Assert.Equal("Coffee", (await check.Products.SingleAsync()).Category);
        var trial = await check.Trials.SingleAsync();
        Assert.Equal(new DateTime(2026, 5, 15, 10, 0, 0, DateTimeKind.Utc), trial.EndsAt);
        Assert.Equal(new DateTime(2026, 5, 10, 10, 0, 0, DateTimeKind.Utc), trial.EndedAt);
        Assert.Equal(Clientele.Commerce.TrialOutcome.Converted, trial.Outcome);
    }
}
