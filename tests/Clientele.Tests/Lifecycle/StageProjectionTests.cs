using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Clientele.Lifecycle;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Lifecycle;

public sealed class StageProjectionTests
{
    private static object Order(string id, DateTimeOffset at, string category, decimal price = 20) => new
    {
        type = "order.placed",
        email = "ann@example.com",
        occurredAt = at,
        properties = new { orderId = id, total = price, currency = "EUR", items = new[] { new { sku = category + "-1", category, quantity = 1, price } } },
        idempotencyKey = "order-" + id,
    };

    private static async Task<Stage> StageAfterAsync(TestApp app, HttpClient client, params object[] events)
    {
        if (events.Length > 0)
        {
            var response = await client.PostJsonAsync("/api/v1/events", new { events });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await app.DrainAsync();
        await using var data = app.NewDb();
        return (await data.Contacts.AsNoTracking().SingleAsync(c => c.EmailNormalized == "ann@example.com")).Stage;
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Events_walk_a_contact_up_the_ladder_and_a_refund_takes_a_step_back_with_every_move_on_the_timeline(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var client = await app.ApiClientAsync("write");
        var now = app.Time.GetUtcNow();
        object Event(string type, double daysAgo, object? properties = null) =>
            new { type, email = "ann@example.com", occurredAt = now.AddDays(-daysAgo), properties = properties ?? new { } };

        var steps = new List<Stage>
        {
            await StageAfterAsync(app, client, Event("page.viewed", 40, new { url = "/" })),
            await StageAfterAsync(app, client, Event("consent.given", 39, new { topic = "newsletter" })),
            await StageAfterAsync(app, client, Event("contact.qualified", 38)),
            await StageAfterAsync(app, client, Event("demo.requested", 37)),
            await StageAfterAsync(app, client, Event("trial.started", 36, new { days = 60 })),
            await StageAfterAsync(app, client, Order("A1", now.AddDays(-30), "coffee")),
            await StageAfterAsync(app, client, Order("A2", now.AddDays(-20), "coffee")),
            await StageAfterAsync(app, client, Order("A3", now.AddDays(-10), "grinders")),
            await StageAfterAsync(app, client, Event("order.refunded", 5, new { orderId = "A3" })),
        };

        Assert.Equal(
            [Stage.Lead, Stage.Capture, Stage.Qualify, Stage.Convert, Stage.Trial, Stage.Purchase, Stage.RePurchase, Stage.CrossPurchase, Stage.RePurchase],
            steps);
        await using var data = app.NewDb();
        var contact = await data.Contacts.AsNoTracking().SingleAsync(c => c.EmailNormalized == "ann@example.com");
        Assert.Equal(now.AddDays(-5).UtcDateTime, contact.StageSince!.Value, TimeSpan.FromSeconds(1));
        var changes = await data.Events.AsNoTracking().Where(e => e.ContactId == contact.Id && e.Type == "stage.changed").OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(8, changes.Count);
        var last = JsonDocument.Parse(changes[^1].Properties).RootElement;
        Assert.Equal("cross-purchase", last.GetProperty("from").GetString());
        Assert.Equal("re-purchase", last.GetProperty("to").GetString());
        Assert.Equal("order A2: a second order", last.GetProperty("reason").GetString());
        var causeId = changes[^1].CauseEventId;
        var cause = await data.Events.AsNoTracking().SingleAsync(e => e.Id == causeId);
        Assert.Equal("order.refunded", cause.Type);
        var cross = JsonDocument.Parse(changes[^2].Properties).RootElement;
        Assert.Contains("grinders", cross.GetProperty("reason").GetString());
        // The contact's timeline shows the moves.
        var timeline = await (await client.GetAsync($"/api/v1/contacts/{contact.Id}/timeline")).ReadJsonAsync();
        Assert.Contains(timeline.GetProperty("items").EnumerateArray(), i => i.GetProperty("type").GetString() == "stage.changed");
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task Replaying_the_log_rebuilds_the_same_stages_without_new_moves(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var client = await app.ApiClientAsync("write");
        var now = app.Time.GetUtcNow();
        await StageAfterAsync(app, client, Order("B1", now.AddDays(-30), "coffee"), Order("B2", now.AddDays(-3), "coffee"));
        await using (var data = app.NewDb())
        {
            // Reading the log again (a consumer reset) re-applies every event to the facts it already holds.
            await data.ConsumerCheckpoints.Where(c => c.Consumer == "stages").ExecuteDeleteAsync();
        }

        var stage = await StageAfterAsync(app, client);

        Assert.Equal(Stage.RePurchase, stage);
        await using var after = app.NewDb();
        Assert.Equal(2, await after.Events.CountAsync(e => e.Type == "stage.changed"));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_daily_sweep_lets_a_stale_buying_signal_fall_back_with_the_rule_on_the_timeline(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var client = await app.ApiClientAsync("write");
        var now = app.Time.GetUtcNow();
        var stage = await StageAfterAsync(app, client,
            new { type = "consent.given", email = "ann@example.com", occurredAt = now.AddDays(-10), properties = new { topic = "news" } },
            new { type = "quote.requested", email = "ann@example.com", occurredAt = now.AddDays(-5), properties = new { } });

        var unchanged = await StageSweep.RunAsync(app.Database, app.Time, CancellationToken.None);
        app.Time.Advance(TimeSpan.FromDays(90));
        var moved = await StageSweep.RunAsync(app.Database, app.Time, CancellationToken.None);

        Assert.Equal(Stage.Convert, stage);
        Assert.Equal(0, unchanged);
        Assert.Equal(1, moved);
        await using var data = app.NewDb();
        var contact = await data.Contacts.AsNoTracking().SingleAsync(c => c.EmailNormalized == "ann@example.com");
        Assert.Equal(Stage.Capture, contact.Stage);
        var last = await data.Events.AsNoTracking().Where(e => e.Type == "stage.changed").OrderByDescending(e => e.Id).FirstAsync();
        Assert.Null(last.CauseEventId);
        Assert.Contains("as time passed", last.Properties);
        Assert.Equal("capture", JsonDocument.Parse(last.Properties).RootElement.GetProperty("to").GetString());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task Changed_stage_rules_are_validated_and_move_contacts_at_the_next_sweep(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var client = await app.ApiClientAsync("write");
        var admin = await app.ApiClientAsync("admin");
        var now = app.Time.GetUtcNow();
        var stage = await StageAfterAsync(app, client,
            new { type = "quote.requested", email = "ann@example.com", occurredAt = now.AddDays(-20), properties = new { } });

        var bad = await admin.PutAsJsonAsync("/api/v1/stages/settings", new { convertDays = 0, loyaltyOrders = 1 });
        var forbidden = await client.PutAsJsonAsync("/api/v1/stages/settings", new { convertDays = 14 });
        var good = await admin.PutAsJsonAsync("/api/v1/stages/settings", new { convertDays = 14 });
        var moved = await StageSweep.RunAsync(app.Database, app.Time, CancellationToken.None);

        Assert.Equal(Stage.Convert, stage);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.ReadJsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("/convertDays", out _));
        Assert.True(errors.TryGetProperty("/loyaltyOrders", out _));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        var saved = await (await client.GetAsync("/api/v1/stages/settings")).ReadJsonAsync();
        Assert.Equal(14, saved.GetProperty("convertDays").GetInt32());
        Assert.Equal(3, saved.GetProperty("loyaltyOrders").GetInt32()); // left out, kept
        Assert.Equal(1, moved);
        await using var data = app.NewDb();
        Assert.Equal(Stage.Lead, (await data.Contacts.AsNoTracking().SingleAsync()).Stage);
    }

    [Fact]
    public void A_start_within_a_day_of_the_last_whole_sweep_waits_for_its_time_and_any_other_start_sweeps_at_once()
    {
        var now = new DateTime(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);

        Assert.Equal(TimeSpan.Zero, StageSweepService.FirstWait(null, now));
        Assert.Equal(TimeSpan.FromHours(22), StageSweepService.FirstWait(new(now.AddHours(-2)), now));
        Assert.Equal(TimeSpan.FromMinutes(1), StageSweepService.FirstWait(new(now.AddDays(-1).AddMinutes(1)), now));
        Assert.Equal(TimeSpan.Zero, StageSweepService.FirstWait(new(now.AddDays(-1)), now));
        Assert.Equal(TimeSpan.Zero, StageSweepService.FirstWait(new(now.AddDays(-3)), now));
        // The clock was set back past the last sweep: sweeping now is safer than waiting a day and more.
        Assert.Equal(TimeSpan.Zero, StageSweepService.FirstWait(new(now.AddHours(5)), now));
    }

    [Fact]
    public async Task The_stages_settings_page_explains_every_rule_with_the_current_numbers()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var marketer = await Clientele.Tests.Web.BackOffice.SignedInAsync(app, Clientele.Accounts.Role.Marketer);

        var html = await marketer.GetStringAsync("/settings/stages");

        Assert.Contains("Cross-Purchase", html);
        Assert.Contains("in the last 90 days", html);
        Assert.Contains("Loyal without a break for 365 days", html);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Cancelling_an_order_through_the_orders_api_undoes_the_purchase_it_caused(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var client = await app.ApiClientAsync("write");
        var order = new { orderId = "C-1", email = "ann@example.com", total = 20m, currency = "EUR", items = new[] { new { sku = "K1", category = "coffee", quantity = 1, price = 20m } } };

        Assert.Equal(HttpStatusCode.Created, (await client.PostJsonAsync("/api/v1/orders", order)).StatusCode);
        var bought = await StageAfterAsync(app, client);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/api/v1/orders", new { order.orderId, order.email, status = "cancelled" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/api/v1/orders", new { order.orderId, order.email, status = "cancelled" })).StatusCode); // again: once on the log
        var after = await StageAfterAsync(app, client);

        Assert.Equal(Stage.Purchase, bought);
        Assert.Equal(Stage.Lead, after);
        await using var data = app.NewDb();
        Assert.Equal(1, await data.Events.CountAsync(e => e.Type == "order.cancelled"));
        Assert.Equal(Clientele.Commerce.OrderStatus.Cancelled, (await data.Orders.SingleAsync()).Status);
    }
}
