using System.Text.Json;
using Clientele.Journeys;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Clientele.Tests.Journeys;

/// <summary>The steps that react and decide: waiting for an event, random splits, contact updates; and two workers at once.</summary>
public sealed class JourneyStepTests
{
    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Waiting_for_an_order_thanks_whoever_buys_at_once_and_nudges_the_rest_after_the_timeout(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        foreach (var t in new[] { "Welcome", "Thanks", "Nudge" })
        {
            await JourneyFlowTests.TemplateAsync(api, t);
        }
        await JourneyFlowTests.ContactAsync(api, "ann@example.com");
        await JourneyFlowTests.ContactAsync(api, "bob@example.com");
        var journey = await JourneyFlowTests.JourneyAsync(api, "Trial", new
        {
            trigger = new { @event = "trial.started" },
            steps = new object[]
            {
                new { id = "welcome", type = "email", template = "Welcome", topic = "newsletter" },
                new { id = "bought?", type = "waitForEvent", @event = "order.placed", days = 3, then = "thanks", timeout = "nudge" },
                new { id = "thanks", type = "email", template = "Thanks", @class = "transactional", next = "done" },
                new { id = "nudge", type = "email", template = "Nudge", topic = "newsletter" },
                new { id = "done", type = "exit" },
            },
        });
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "trial.started");
        await JourneyFlowTests.SignalAsync(api, "bob@example.com", "trial.started");
        await JourneyFlowTests.RunDueAsync(app);

        app.Time.Advance(TimeSpan.FromDays(1));
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "order.placed", new { orderId = "A1", total = 30, currency = "EUR" });
        await JourneyFlowTests.RunDueAsync(app);
        var mail = await JourneyFlowTests.JourneyMailAsync(app, journey);
        Assert.Contains(("ann@example.com", "thanks"), mail); // the same day, not after three
        Assert.DoesNotContain(mail, m => m.To == "bob@example.com" && m.Step != "welcome");

        app.Time.Advance(TimeSpan.FromDays(2));
        await JourneyFlowTests.RunDueAsync(app);
        mail = await JourneyFlowTests.JourneyMailAsync(app, journey);
        Assert.Contains(("bob@example.com", "nudge"), mail);
        Assert.DoesNotContain(("ann@example.com", "nudge"), mail);
        Assert.DoesNotContain(("bob@example.com", "thanks"), mail);
        Assert.Equal(4, mail.Count);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task A_random_split_sends_each_contact_down_one_path_and_updates_change_tags_and_attributes(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        var journey = await JourneyFlowTests.JourneyAsync(api, "Split", new
        {
            trigger = new { @event = "account.created" },
            steps = new object[]
            {
                new { id = "coin", type = "split", paths = new[] { new { percent = 50, next = "heads" }, new { percent = 50, next = "tails" } } },
                new { id = "heads", type = "update", add = new[] { "heads" }, remove = new[] { "new" }, set = new Dictionary<string, object?> { ["plan"] = "gold", ["trial"] = null }, next = "end" },
                new { id = "tails", type = "tag", add = new[] { "tails" } },
                new { id = "end", type = "exit" },
            },
        });
        for (var i = 0; i < 40; i++)
        {
            var created = await api.PostJsonAsync("/api/v1/contacts", new { email = $"c{i}@example.com", tags = new[] { "new" }, attributes = new { trial = true } });
            Assert.True(created.IsSuccessStatusCode);
            await JourneyFlowTests.SignalAsync(api, $"c{i}@example.com");
        }
        await JourneyFlowTests.RunDueAsync(app);

        await using var db = app.NewDb();
        var contacts = await db.Contacts.AsNoTracking().ToListAsync();
        Assert.Equal(40, contacts.Count);
        var heads = contacts.Where(c => c.Tags.Contains("heads")).ToList();
        var tails = contacts.Where(c => c.Tags.Contains("tails")).ToList();
        Assert.Equal(40, heads.Count + tails.Count);
        Assert.InRange(heads.Count, 8, 32);
        Assert.All(heads, c =>
        {
            Assert.DoesNotContain("new", c.Tags);
            var attributes = JsonDocument.Parse(c.Attributes).RootElement;
            Assert.Equal("gold", attributes.GetProperty("plan").GetString());
            Assert.False(attributes.TryGetProperty("trial", out _));
        });
        Assert.All(tails, c => Assert.Contains("new", c.Tags));
        var runs = await db.JourneyRuns.AsNoTracking().Where(r => r.JourneyId == journey).ToListAsync();
        Assert.All(runs, r => Assert.Equal(RunStatus.Exited, r.Status));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_update_step_adds_to_the_score_and_holds_a_stage_until_it_hands_it_back_to_the_rules(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.ContactAsync(api, "ann@example.com");
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "order.placed", new { orderId = "A1", total = 30, currency = "EUR" });
        await app.DrainAsync();
        var before = await ContactOfAsync(app, "ann@example.com");
        Assert.Equal(Clientele.Lifecycle.Stage.Purchase, before.Stage);

        await JourneyFlowTests.JourneyAsync(api, "VIP welcome", new
        {
            trigger = new { @event = "vip.flagged" },
            steps = new object[]
            {
                new { id = "promote", type = "update", score = 15, stage = "loyalty" },
                new { id = "month", type = "wait", days = 30 },
                new { id = "release", type = "update", stage = "auto" },
            },
        });
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "vip.flagged");
        await JourneyFlowTests.RunDueAsync(app);
        var promoted = await ContactOfAsync(app, "ann@example.com");
        Assert.Equal(before.Score + 15, promoted.Score);
        Assert.Equal(Clientele.Lifecycle.Stage.Loyalty, promoted.Stage);

        // The rules would call a second order re-purchase; the override holds.
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "order.placed", new { orderId = "A2", total = 30, currency = "EUR" });
        await app.DrainAsync();
        Assert.Equal(Clientele.Lifecycle.Stage.Loyalty, (await ContactOfAsync(app, "ann@example.com")).Stage);

        app.Time.Advance(TimeSpan.FromDays(30));
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Equal(Clientele.Lifecycle.Stage.RePurchase, (await ContactOfAsync(app, "ann@example.com")).Stage);

        await using var db = app.NewDb();
        var changes = await db.Events.AsNoTracking().Where(e => e.ContactId == promoted.Id && e.Type == "stage.changed").OrderBy(e => e.Id).Select(e => e.Properties).ToListAsync();
        Assert.Contains(changes.Select(p => JsonDocument.Parse(p).RootElement),
            p => p.GetProperty("to").GetString() == "loyalty" && p.GetProperty("reason").GetString() == "set by journey VIP welcome");
        var adjusted = await db.Events.AsNoTracking().SingleAsync(e => e.ContactId == promoted.Id && e.Type == "score.adjusted");
        Assert.NotNull(adjusted.CauseEventId); // caused by the vip.flagged event that started the run
    }

    [Fact]
    public void An_update_step_with_a_stage_or_points_that_do_not_exist_is_refused()
    {
        var definition = new JourneyDefinition
        {
            Trigger = new JourneyTrigger { Event = "vip.flagged" },
            Steps = [new JourneyStep { Id = "promote", Type = "update", Score = 0, Stage = "gold" }],
        };
        var errors = definition.Validate(new HashSet<string>(), new HashSet<string>());
        Assert.Contains(errors, e => e.Field == "/steps/0/score");
        Assert.Contains(errors, e => e.Field == "/steps/0/stage" && e.Message.Contains("loyalty"));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_notify_step_tells_the_owners_and_named_addresses_about_the_contact_once(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await using (var db = app.NewDb())
        {
            var now = app.Time.GetUtcNow().UtcDateTime;
            await Clientele.Accounts.Users.AddAsync(db, "owner@shop.example", Clientele.Accounts.Role.Owner, "owner-password-1", now, CancellationToken.None, "Olga Owner");
            await Clientele.Accounts.Users.AddAsync(db, "agent@shop.example", Clientele.Accounts.Role.Agent, "agent-password-1", now, CancellationToken.None);
        }
        var ann = await JourneyFlowTests.ContactAsync(api, "ann@example.com");
        var journey = await JourneyFlowTests.JourneyAsync(api, "Big spender", new
        {
            trigger = new { @event = "vip.flagged" },
            steps = new object[]
            {
                new { id = "tell", type = "notify", notify = new[] { "owners", "sales@shop.example" }, message = "A big order came in: call to say thank you." },
            },
        });
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "vip.flagged");
        await JourneyFlowTests.RunDueAsync(app);
        await JourneyFlowTests.RunDueAsync(app);

        await Clientele.Tests.Outbox.MailFlowTests.Until(async () =>
        {
            await using var check = app.NewDb();
            return await check.OutboxMessages.CountAsync(m => m.JourneyId == journey && m.SentAt != null) == 2;
        }, "the notes were sent");
        await using var after = app.NewDb();
        var notes = await after.OutboxMessages.AsNoTracking().Where(m => m.JourneyId == journey).OrderBy(m => m.To).ToListAsync();
        Assert.Equal(["owner@shop.example", "sales@shop.example"], notes.Select(m => m.To)); // not the agent, not the contact
        Assert.All(notes, m =>
        {
            Assert.Equal(ann, m.ContactId);
            Assert.Equal("Big spender: ann <ann@example.com>", m.Subject);
            Assert.Contains("A big order came in: call to say thank you.", m.TextBody);
            Assert.Contains($"/contacts/{ann}", m.TextBody);
        });
    }

    [Fact]
    public void A_notify_step_names_roles_or_addresses_and_says_something()
    {
        var definition = new JourneyDefinition
        {
            Trigger = new JourneyTrigger { Event = "vip.flagged" },
            Steps = [new JourneyStep { Id = "tell", Type = "notify", Notify = ["boss", "sales@shop.example"] }],
        };
        var errors = definition.Validate(new HashSet<string>(), new HashSet<string>());
        Assert.Contains(errors, e => e.Field == "/steps/0/notify/0");
        Assert.Contains(errors, e => e.Field == "/steps/0/message");
        Assert.DoesNotContain(errors, e => e.Field == "/steps/0/notify/1");
    }

    private static async Task<Clientele.Contacts.Contact> ContactOfAsync(TestApp app, string email)
    {
        await using var db = app.NewDb();
        return await db.Contacts.AsNoTracking().SingleAsync(c => c.Email == email);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Two_workers_on_the_same_runs_queue_each_email_once(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "Welcome");
        var journey = await JourneyFlowTests.JourneyAsync(api, "Busy", new
        {
            trigger = new { @event = "account.created" },
            steps = new object[]
            {
                new { id = "welcome", type = "email", template = "Welcome", @class = "transactional" },
                new { id = "wait", type = "wait", hours = 1 },
                new { id = "again", type = "email", template = "Welcome", @class = "transactional" },
            },
        });
        var events = Enumerable.Range(0, 1200).Select(i => new { type = "account.created", email = $"p{i}@example.com", properties = new { } }).ToList();
        foreach (var chunk in events.Chunk(400))
        {
            Assert.True((await api.PostJsonAsync("/api/v1/events", new { events = chunk })).IsSuccessStatusCode);
        }
        await app.DrainAsync();

        // A second app instance: its own connection pool, the same database.
        var signal = app.Services.GetRequiredService<Clientele.Outbox.OutboxSignal>();
        var time = app.Time;
        async Task<int> WorkAsync()
        {
            var runner = new JourneyRunner(app.Database, signal, app.Services.GetRequiredService<Clientele.Webhooks.WebhookSignal>(), app.Services.GetRequiredService<Clientele.Outbox.MailLinks>(), time, NullLogger<JourneyRunner>.Instance);
            var moved = 0;
            int step;
            while ((step = await runner.StepAsync(CancellationToken.None)) > 0)
            {
                moved += step;
            }
            return moved;
        }
        var first = await Task.WhenAll(WorkAsync(), WorkAsync());
        Assert.Equal(1200, first.Sum()); // each run taken by one of them
        time.Advance(TimeSpan.FromHours(1));
        var second = await Task.WhenAll(WorkAsync(), WorkAsync());
        Assert.Equal(1200, second.Sum());

        await using var db = app.NewDb();
        var queued = await db.OutboxMessages.AsNoTracking().Where(m => m.JourneyId == journey).Select(m => new { m.ContactId, m.StepId }).ToListAsync();
        Assert.Equal(2400, queued.Count);
        Assert.Equal(2400, queued.Distinct().Count());
    }
}

public sealed class JourneyDateFieldTests
{
    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Waits_end_on_the_contacts_own_dates_and_a_contact_without_one_waits_the_fallback(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind); // 1 June 2026, 12:00 UTC
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "Soon");
        foreach (var (email, body) in new (string, object)[]
        {
            ("bday@example.com", new { email = "bday@example.com", birthday = "1990-06-10", timeZone = "Europe/Berlin" }),
            ("renew@example.com", new { email = "renew@example.com", timeZone = "Europe/Berlin", attributes = new { renewal = "2026-07-01" } }),
            ("buyer@example.com", new { email = "buyer@example.com", timeZone = "Europe/Berlin" }),
            ("nodate@example.com", new { email = "nodate@example.com", timeZone = "Europe/Berlin" }),
        })
        {
            Assert.True((await api.PostJsonAsync("/api/v1/contacts", body)).IsSuccessStatusCode);
        }
        // The buyer last ordered on 25 May and is predicted to buy twelve times a year: next purchase about 24 June.
        await api.PostJsonAsync("/api/v1/events", new { events = new[] { new { type = "order.placed", email = "buyer@example.com", occurredAt = new DateTimeOffset(2026, 5, 25, 10, 0, 0, TimeSpan.Zero), properties = new { orderId = "B1", total = 20, currency = "EUR" } } } });
        await app.DrainAsync();
        await using (var db = app.NewDb())
        {
            var buyer = await db.Contacts.SingleAsync(c => c.Email == "buyer@example.com");
            buyer.Value = new Clientele.Contacts.ContactValueScores { ProbabilityAlive = 0.9, ExpectedPurchases365 = 12, Currency = "EUR", RfmCell = "555", ScoredAt = app.Time.GetUtcNow().UtcDateTime };
            await db.SaveChangesAsync();
        }
        object Journey(string field, int daysBefore) => new
        {
            trigger = new { @event = "date.check" },
            steps = new object[]
            {
                new { id = "until", type = "waitUntil", field, daysBefore, time = "10:00", days = 5 },
                new { id = "mail", type = "email", template = "Soon", @class = "transactional" },
            },
        };
        var birthday = await JourneyFlowTests.JourneyAsync(api, "Before the birthday", Journey("birthday", 2));
        var renewal = await JourneyFlowTests.JourneyAsync(api, "Before renewal", Journey("attributes.renewal", 7));
        var purchase = await JourneyFlowTests.JourneyAsync(api, "Before the next purchase", Journey("nextPurchase", 3));
        foreach (var email in new[] { "bday@example.com", "renew@example.com", "buyer@example.com", "nodate@example.com" })
        {
            await JourneyFlowTests.SignalAsync(api, email, "date.check");
        }
        await JourneyFlowTests.RunDueAsync(app);

        await using var check = app.NewDb();
        async Task<DateTime?> DueAsync(Guid journey, string email) =>
            (await check.JourneyRuns.AsNoTracking().Where(r => r.JourneyId == journey).Join(check.Contacts.Where(c => c.Email == email), r => r.ContactId, c => c.Id, (r, c) => r.DueAt).SingleAsync());
        Assert.Equal(new DateTime(2026, 6, 8, 8, 0, 0, DateTimeKind.Utc), await DueAsync(birthday, "bday@example.com")); // 10:00 in Berlin, two days before
        Assert.Equal(new DateTime(2026, 6, 24, 8, 0, 0, DateTimeKind.Utc), await DueAsync(renewal, "renew@example.com"));
        var predicted = new DateTime(2026, 5, 25, 10, 0, 0, DateTimeKind.Utc).AddDays(365 / 12.0);
        Assert.Equal(new DateTime(predicted.Year, predicted.Month, predicted.Day, 8, 0, 0, DateTimeKind.Utc).AddDays(-3), await DueAsync(purchase, "buyer@example.com"));
        // Without a birthday: the fallback of five days.
        Assert.Equal(app.Time.GetUtcNow().UtcDateTime.AddDays(5), await DueAsync(birthday, "nodate@example.com"));
        Assert.Empty(await JourneyFlowTests.JourneyMailAsync(app, birthday));

        app.Time.SetUtcNow(new DateTimeOffset(2026, 6, 8, 8, 0, 0, TimeSpan.Zero));
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Contains(("bday@example.com", "mail"), await JourneyFlowTests.JourneyMailAsync(app, birthday));
    }
}
