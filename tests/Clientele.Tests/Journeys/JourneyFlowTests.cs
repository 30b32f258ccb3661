using System.Net;
using System.Text.Json;
using Clientele.Journeys;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Clientele.Tests.Journeys;

/// <summary>Journeys end to end on the fake clock: the worker is driven by the test, so six weeks pass in milliseconds.</summary>
public sealed class JourneyFlowTests
{
    internal static Task<TestApp> StartAsync(string kind) =>
        TestApp.StartAsync(kind, settings: new() { ["Clientele:Journeys:Enabled"] = "false" });

    /// <summary>Hands new events to the consumers, then runs every due step.</summary>
    internal static async Task<int> RunDueAsync(TestApp app)
    {
        await app.DrainAsync();
        var runner = app.Services.GetRequiredService<JourneyRunner>();
        var moved = 0;
        int step;
        while ((step = await runner.StepAsync(CancellationToken.None)) > 0)
        {
            moved += step;
        }
        await app.DrainAsync();
        return moved;
    }

    internal static async Task TemplateAsync(HttpClient api, string name)
    {
        var created = await api.PostJsonAsync("/api/v1/templates", new { name, subject = name + " for {{ contact.first_name }}", body = "Hello {{ contact.first_name }}." });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    internal static async Task<Guid> ContactAsync(HttpClient api, string email, string zone = "Europe/Berlin")
    {
        var response = await api.PostJsonAsync("/api/v1/contacts", new { email, firstName = email.Split('@')[0], timeZone = zone, consent = new { newsletter = "subscribed" } });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    internal static async Task<Guid> JourneyAsync(HttpClient api, string name, object definition, bool publish = true)
    {
        var created = await api.PostJsonAsync("/api/v1/journeys", new { name, definition });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        if (publish)
        {
            var published = await api.PostAsync($"/api/v1/journeys/{id}/publish", null);
            Assert.True(published.IsSuccessStatusCode, await published.Content.ReadAsStringAsync());
        }
        return id;
    }

    /// <summary>Records one event for the contact; fails the test when the event is refused.</summary>
    internal static async Task SignalAsync(HttpClient api, string email, string type = "account.created", object? properties = null)
    {
        var response = await api.PostJsonAsync("/api/v1/events", new { events = new[] { new { type, email, properties = properties ?? new { } } } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var item = JsonDocument.Parse(body).RootElement.GetProperty("results")[0];
        Assert.True(item.GetProperty("error").ValueKind == JsonValueKind.Null, $"{type} for {email} was refused: {item}");
    }

    internal static async Task<List<(string To, string Step)>> JourneyMailAsync(TestApp app, Guid journey)
    {
        await using var db = app.NewDb();
        var rows = await db.OutboxMessages.AsNoTracking().Where(m => m.JourneyId == journey).OrderBy(m => m.CreatedAt).ThenBy(m => m.To)
            .Select(m => new { m.To, m.StepId }).ToListAsync();
        return rows.Select(r => (r.To, r.StepId!)).ToList();
    }

    private static async Task<JsonElement> CountsAsync(HttpClient api, Guid journey) =>
        (await (await api.GetAsync($"/api/v1/journeys/{journey}")).ReadJsonAsync()).GetProperty("counts");

    private static readonly object WelcomeSeries = new
    {
        trigger = new { @event = "account.created" },
        goal = "orders.count() > 0",
        steps = new object[]
        {
            new { id = "welcome", type = "email", template = "Welcome", topic = "newsletter" },
            new { id = "week", type = "wait", days = 7 },
            new { id = "tips", type = "email", template = "Tips", topic = "newsletter" },
            new { id = "fortnight", type = "wait", days = 14 },
            new { id = "last-call", type = "email", template = "Last call", topic = "newsletter" },
            new { id = "three-weeks", type = "wait", days = 21 },
            new { id = "mark", type = "tag", add = new[] { "welcomed" } },
        },
    };

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_six_week_welcome_series_keeps_each_contacts_clock_and_stops_at_the_goal(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        foreach (var t in new[] { "Welcome", "Tips", "Last call" })
        {
            await TemplateAsync(api, t);
        }
        var ann = await ContactAsync(api, "ann@example.com");
        await ContactAsync(api, "bob@example.com", "America/Los_Angeles");
        var journey = await JourneyAsync(api, "Welcome", WelcomeSeries);

        await SignalAsync(api, "ann@example.com");
        await SignalAsync(api, "bob@example.com");
        await SignalAsync(api, "ann@example.com"); // entering again: the once rule keeps one run
        await RunDueAsync(app);
        Assert.Equal([("ann@example.com", "welcome"), ("bob@example.com", "welcome")], await JourneyMailAsync(app, journey));

        app.Time.Advance(TimeSpan.FromDays(6));
        await RunDueAsync(app);
        Assert.Equal(2, (await JourneyMailAsync(app, journey)).Count); // a week is not up yet

        app.Time.Advance(TimeSpan.FromDays(1));
        await RunDueAsync(app);
        Assert.Equal(2, (await JourneyMailAsync(app, journey)).Count(m => m.Step == "tips"));

        // Bob buys: the goal takes him out before the next e-mail.
        await api.PostJsonAsync("/api/v1/events", new
        {
            events = new[] { new { type = "order.placed", email = "bob@example.com", properties = new { orderId = "B1", total = 40, currency = "EUR" } } },
        });
        app.Time.Advance(TimeSpan.FromDays(14));
        await RunDueAsync(app);
        var mail = await JourneyMailAsync(app, journey);
        Assert.Equal([("ann@example.com", "last-call")], mail.Where(m => m.Step == "last-call"));

        app.Time.Advance(TimeSpan.FromDays(21));
        await RunDueAsync(app);
        Assert.Equal(0, await RunDueAsync(app)); // nothing left to do, and nothing is queued twice
        Assert.Equal(5, (await JourneyMailAsync(app, journey)).Count);

        var counts = await CountsAsync(api, journey);
        Assert.Equal(2, counts.GetProperty("entered").GetInt32());
        Assert.Equal(0, counts.GetProperty("active").GetInt32());
        Assert.Equal(1, counts.GetProperty("completed").GetInt32());
        Assert.Equal(1, counts.GetProperty("goal").GetInt32());
        await using var db = app.NewDb();
        Assert.Contains("welcomed", (await db.Contacts.AsNoTracking().SingleAsync(c => c.Id == ann)).Tags);
        Assert.Equal(2, await db.Events.CountAsync(e => e.Type == "journey.entered"));
        Assert.Equal(2, await db.Events.CountAsync(e => e.Type == "journey.ended"));
        var emails = await db.OutboxMessages.AsNoTracking().Where(m => m.JourneyId == journey).ToListAsync();
        Assert.All(emails, m => Assert.Equal(MessageClass.Marketing, m.Class));
        Assert.Equal(emails.Count, emails.Select(m => m.IdempotencyKey).Distinct().Count());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Contacts_in_the_control_group_walk_the_same_steps_and_receive_nothing(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        await TemplateAsync(api, "Welcome");
        var journey = await JourneyAsync(api, "Held", new
        {
            trigger = new { @event = "account.created" },
            holdout = 50,
            steps = new object[] { new { id = "welcome", type = "email", template = "Welcome", topic = "newsletter" } },
        });
        for (var i = 0; i < 30; i++)
        {
            await ContactAsync(api, $"c{i}@example.com");
            await SignalAsync(api, $"c{i}@example.com");
        }
        await RunDueAsync(app);

        await using var db = app.NewDb();
        var runs = await db.JourneyRuns.AsNoTracking().Where(r => r.JourneyId == journey).ToListAsync();
        Assert.Equal(30, runs.Count);
        Assert.All(runs, r => Assert.Equal(RunStatus.Completed, r.Status));
        var held = runs.Where(r => r.Holdout).Select(r => r.ContactId).ToHashSet();
        Assert.InRange(held.Count, 3, 27);
        var mailed = (await db.OutboxMessages.AsNoTracking().Where(m => m.JourneyId == journey).Select(m => m.ContactId).ToListAsync()).ToHashSet();
        Assert.Equal(30 - held.Count, mailed.Count);
        Assert.Empty(mailed.Intersect(held));
        Assert.Equal(held.Count, (await CountsAsync(api, journey)).GetProperty("holdout").GetInt32());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_running_contact_stays_on_the_version_it_entered_with(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        foreach (var t in new[] { "A", "B", "C" })
        {
            await TemplateAsync(api, t);
        }
        object Version(string second) => new
        {
            trigger = new { @event = "account.created" },
            steps = new object[]
            {
                new { id = "first", type = "email", template = "A", topic = "newsletter" },
                new { id = "wait", type = "wait", days = 1 },
                new { id = "second-" + second, type = "email", template = second, topic = "newsletter" },
            },
        };
        await ContactAsync(api, "ann@example.com");
        await ContactAsync(api, "bob@example.com");
        var journey = await JourneyAsync(api, "Versions", Version("B"));
        await SignalAsync(api, "ann@example.com");
        await RunDueAsync(app);

        Assert.Equal(HttpStatusCode.OK, (await api.PutAsync($"/api/v1/journeys/{journey}", JsonContent(new { definition = Version("C") }))).StatusCode);
        var published = await (await api.PostAsync($"/api/v1/journeys/{journey}/publish", null)).ReadJsonAsync();
        Assert.Equal(2, published.GetProperty("version").GetInt32());
        await SignalAsync(api, "bob@example.com");
        // Bob has entered once his first e-mail is queued. On PostgreSQL his event can wait a moment behind an earlier one
        // still being committed, so that is looked for until it is there rather than after one pass of the consumers.
        await Clientele.Tests.Outbox.MailFlowTests.Until(async () =>
        {
            await RunDueAsync(app);
            return (await JourneyMailAsync(app, journey)).Contains(("bob@example.com", "first"));
        }, "bob entered the journey");
        app.Time.Advance(TimeSpan.FromDays(1));
        await RunDueAsync(app);

        var mail = await JourneyMailAsync(app, journey);
        Assert.Contains(("ann@example.com", "second-B"), mail);
        Assert.Contains(("bob@example.com", "second-C"), mail);
        Assert.Equal(4, mail.Count);
    }

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body, HttpJson.Options), System.Text.Encoding.UTF8, "application/json");

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Pausing_holds_everyone_in_place_and_resuming_moves_them_on(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        await TemplateAsync(api, "Welcome");
        await TemplateAsync(api, "Tips");
        await ContactAsync(api, "ann@example.com");
        await ContactAsync(api, "bob@example.com");
        var journey = await JourneyAsync(api, "Pausable", WelcomeSeriesWithout());
        await SignalAsync(api, "ann@example.com");
        await RunDueAsync(app);

        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/journeys/{journey}/pause", null)).StatusCode);
        await SignalAsync(api, "bob@example.com"); // nobody enters a paused journey
        app.Time.Advance(TimeSpan.FromDays(8));
        await RunDueAsync(app);
        Assert.Equal([("ann@example.com", "welcome")], await JourneyMailAsync(app, journey));

        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/journeys/{journey}/resume", null)).StatusCode);
        await RunDueAsync(app);
        Assert.Equal([("ann@example.com", "welcome"), ("ann@example.com", "tips")], await JourneyMailAsync(app, journey));

        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/journeys/{journey}/archive", null)).StatusCode);
        var counts = await CountsAsync(api, journey);
        Assert.Equal(1, counts.GetProperty("entered").GetInt32());
        Assert.Equal(0, counts.GetProperty("active").GetInt32());
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsync($"/api/v1/journeys/{journey}/resume", null)).StatusCode);
    }

    private static object WelcomeSeriesWithout() => new
    {
        trigger = new { @event = "account.created" },
        steps = new object[]
        {
            new { id = "welcome", type = "email", template = "Welcome", topic = "newsletter" },
            new { id = "week", type = "wait", days = 7 },
            new { id = "tips", type = "email", template = "Tips", topic = "newsletter" },
            new { id = "later", type = "wait", days = 7 },
        },
    };

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_contact_who_unsubscribes_leaves_before_the_next_email(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        await TemplateAsync(api, "Welcome");
        await TemplateAsync(api, "Tips");
        var ann = await ContactAsync(api, "ann@example.com");
        var journey = await JourneyAsync(api, "Leaving", WelcomeSeriesWithout());
        await SignalAsync(api, "ann@example.com");
        await RunDueAsync(app);
        var changed = await api.PatchAsync($"/api/v1/contacts/{ann}", JsonContent(new { consent = new { newsletter = "unsubscribed" } }));
        Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync());
        app.Time.Advance(TimeSpan.FromDays(7));
        await RunDueAsync(app);

        Assert.Equal([("ann@example.com", "welcome")], await JourneyMailAsync(app, journey));
        await using var db = app.NewDb();
        var run = await db.JourneyRuns.AsNoTracking().SingleAsync(r => r.JourneyId == journey);
        Assert.Equal(RunStatus.Exited, run.Status);
        Assert.Contains("unsubscribed", run.Reason);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_order_trigger_with_a_filter_and_a_key_starts_one_run_per_matching_order(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        await TemplateAsync(api, "Thanks");
        await ContactAsync(api, "ann@example.com");
        var journey = await JourneyAsync(api, "Thank you", new
        {
            trigger = new { @event = "order.placed", where = new { channel = "web" } },
            entry = new { repeat = "always", key = "orderId", maxActive = 5 },
            steps = new object[] { new { id = "thanks", type = "email", template = "Thanks", @class = "transactional" } },
        });
        foreach (var (order, channel) in new[] { ("A1", "web"), ("A2", "shop"), ("A3", "web") })
        {
            await SignalAsync(api, "ann@example.com", "order.placed", new { orderId = order, channel, total = 10, currency = "EUR" });
        }
        await RunDueAsync(app);

        Assert.Equal(2, (await JourneyMailAsync(app, journey)).Count);
        await using var db = app.NewDb();
        Assert.All(await db.OutboxMessages.AsNoTracking().Where(m => m.JourneyId == journey).ToListAsync(),
            m => Assert.Equal(MessageClass.Transactional, m.Class));
        // The sender renders the saved template for the contact when the message goes.
        await Clientele.Tests.Outbox.MailFlowTests.Until(async () =>
        {
            await using var check = app.NewDb();
            return await check.LocalMail.CountAsync() == 2;
        }, "both thank-you messages were sent");
        Assert.All(await db.LocalMail.AsNoTracking().ToListAsync(), m => Assert.Equal("Thanks for ann", m.Subject));
    }

    [Fact]
    public void A_filter_reaches_into_an_orders_lines_and_matches_when_any_line_does()
    {
        var order = new Clientele.Events.Event
        {
            Type = "order.placed",
            Properties = """{"orderId": "A1", "total": 54.5, "shipping": {"country": "DE"}, "items": [{"sku": "B1", "category": "Beans"}, {"sku": "G1", "category": "Grinders"}]}""",
        };
        JourneyTrigger On(Dictionary<string, string> where) => new() { Event = "order.placed", Where = where };
        Assert.True(JourneyEntry.Matches(On(new() { ["items.category"] = "grinders" }), order));
        Assert.True(JourneyEntry.Matches(On(new() { ["items.category"] = "beans", ["shipping.country"] = "de", ["total"] = "54.5" }), order));
        Assert.False(JourneyEntry.Matches(On(new() { ["items.category"] = "tea" }), order));
        Assert.False(JourneyEntry.Matches(On(new() { ["shipping.city"] = "Berlin" }), order));
        Assert.False(JourneyEntry.Matches(On(new() { ["items"] = "B1" }), order)); // a line is not a value
        Assert.False(JourneyEntry.Matches(On(new() { ["items.category"] = "grinders" }), new Clientele.Events.Event { Type = "order.placed", Properties = """{"items": []}""" }));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_order_with_a_product_of_a_category_starts_the_journey_and_others_do_not(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        await TemplateAsync(api, "Grinder care");
        await ContactAsync(api, "ann@example.com");
        await ContactAsync(api, "bob@example.com");
        var journey = await JourneyAsync(api, "Grinder owners", new
        {
            trigger = new { @event = "order.placed", where = new Dictionary<string, string> { ["items.category"] = "grinders" } },
            steps = new object[] { new { id = "care", type = "email", template = "Grinder care", @class = "transactional" } },
        });
        await SignalAsync(api, "ann@example.com", "order.placed", new
        {
            orderId = "A1",
            total = 180,
            currency = "EUR",
            items = new object[] { new { sku = "B1", category = "Beans", price = 20 }, new { sku = "G1", category = "Grinders", price = 160 } },
        });
        await SignalAsync(api, "bob@example.com", "order.placed", new
        {
            orderId = "B1",
            total = 20,
            currency = "EUR",
            items = new object[] { new { sku = "B1", category = "Beans", price = 20 } },
        });
        await RunDueAsync(app);
        Assert.Equal([("ann@example.com", "care")], await JourneyMailAsync(app, journey));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Old_orders_imported_now_and_orders_from_before_the_journey_went_live_start_nothing(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        await TemplateAsync(api, "Thanks");
        foreach (var email in new[] { "ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com" })
        {
            await ContactAsync(api, email);
        }
        var now = app.Time.GetUtcNow();
        await SignalAsync(api, "ann@example.com", "order.placed", new { orderId = "EARLY", total = 10, currency = "EUR" }); // before the journey
        await app.DrainAsync();
        app.Time.Advance(TimeSpan.FromMinutes(1));
        var journey = await JourneyAsync(api, "Thank you", new
        {
            trigger = new { @event = "order.placed", maxAgeHours = 72 },
            steps = new object[] { new { id = "thanks", type = "email", template = "Thanks", @class = "transactional" } },
        });
        app.Time.Advance(TimeSpan.FromMinutes(1));
        // An import of history: orders that happened long ago, received now.
        var old = await api.PostJsonAsync("/api/v1/events", new
        {
            events = new[]
            {
                new { type = "order.placed", email = "bob@example.com", occurredAt = now.AddDays(-200), properties = new { orderId = "OLD-1", total = 30, currency = "EUR" } },
                new { type = "order.placed", email = "cy@example.com", occurredAt = now.AddDays(-2), properties = new { orderId = "RECENT-1", total = 30, currency = "EUR" } },
            },
        });
        Assert.True(old.IsSuccessStatusCode, await old.Content.ReadAsStringAsync());
        await SignalAsync(api, "dee@example.com", "order.placed", new { orderId = "NEW-1", total = 30, currency = "EUR" });
        await RunDueAsync(app);

        // Only the order that is news: dee's now, and cy's from two days ago (within the 72 hours the trigger allows).
        Assert.Equal(["cy@example.com", "dee@example.com"], (await JourneyMailAsync(app, journey)).Select(m => m.To).Order());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task Publishing_a_journey_with_mistakes_is_refused_with_each_place(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        var created = await api.PostJsonAsync("/api/v1/journeys", new
        {
            name = "Broken",
            definition = new
            {
                trigger = new { segment = "Nobody" },
                goal = "orders.total > 1", // reads, but there is no such field
                steps = new object[]
                {
                    new { id = "a", type = "email", template = "Missing" },
                    new { id = "b", type = "exit" },
                    new { id = "c", type = "exit" },
                },
            },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var draft = await created.ReadJsonAsync();
        Assert.Equal("draft", draft.GetProperty("status").GetString());
        Assert.Equal(4, draft.GetProperty("problems").GetArrayLength()); // shown while editing, before publishing

        var refused = await api.PostAsync($"/api/v1/journeys/{draft.GetProperty("id").GetGuid()}/publish", null);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = await refused.ReadJsonAsync();
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("/definition/trigger/segment", out _), problem.ToString());
        Assert.True(errors.TryGetProperty("/definition/steps/0/template", out _), problem.ToString());
        Assert.True(errors.TryGetProperty("/definition/steps/2", out _), problem.ToString());
        Assert.Contains("orders.total", errors.GetProperty("/definition/goal")[0].GetString());

        var duplicate = await api.PostJsonAsync("/api/v1/journeys", new { name = "Broken" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
    }
}
