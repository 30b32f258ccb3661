using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Clientele.Lifecycle;
using Clientele.Qualification;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Qualification;

public sealed class QualificationTests
{
    private static readonly DateTime Now = new(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Engagement_halves_every_half_life_and_the_order_events_arrive_in_does_not_matter()
    {
        var score = new LeadScore(0, 0, DateTime.MinValue);

        var inOrder = score.Add(10, ScoreKind.Engagement, Now.AddDays(-30), 30).Add(20, ScoreKind.Engagement, Now, 30);
        var reversed = score.Add(20, ScoreKind.Engagement, Now, 30).Add(10, ScoreKind.Engagement, Now.AddDays(-30), 30);
        var withFit = inOrder.Add(15, ScoreKind.Fit, Now, 30);

        Assert.Equal(25, inOrder.EngagementAt(Now, 30), 10);
        Assert.Equal(25, reversed.EngagementAt(Now, 30), 10);
        Assert.Equal(12.5, inOrder.EngagementAt(Now.AddDays(30), 30), 10);
        Assert.Equal(28, withFit.TotalAt(Now.AddDays(30), 30)); // 15 fit + 12.5 engagement, rounded
    }

    [Fact]
    public void Rules_match_on_event_properties_and_attributes()
    {
        var settings = QualificationSettings.Default;
        using var pricing = JsonDocument.Parse("""{"url": "https://shop.example/Pricing"}""");
        using var home = JsonDocument.Parse("""{"url": "https://shop.example/"}""");
        using var owner = JsonDocument.Parse("""{"role": "Owner", "budget": "5000", "interest": "wholesale"}""");
        using var intern = JsonDocument.Parse("""{"role": "intern"}""");

        Assert.Equal(["Visited a page", "Looked at pricing"], Qualifier.Matching(settings, "page.viewed", pricing.RootElement).Select(r => r.Name));
        Assert.Equal(["Visited a page"], Qualifier.Matching(settings, "page.viewed", home.RootElement).Select(r => r.Name));
        Assert.Equal(30, Qualifier.AttributeFit(settings, owner.RootElement).Points);
        Assert.Equal(0, Qualifier.AttributeFit(settings, intern.RootElement).Points);
        Assert.True(Qualifier.Qualifies(settings, 50, owner.RootElement));
        Assert.False(Qualifier.Qualifies(settings, 49, owner.RootElement));
        Assert.False(Qualifier.Qualifies(settings, 90, intern.RootElement)); // no interest known
    }

    [Fact]
    public void Settings_report_each_bad_rule_by_its_place()
    {
        var settings = QualificationSettings.Default with
        {
            HalfLifeDays = 0,
            EventRules = [new EventRule("ok", "page.viewed", 1), new EventRule("", "pageviewed", 1, ScoreKind.Engagement, [new ScoreCondition("url", "like", "x")])],
        };

        var errors = settings.Validate();

        Assert.Equal(["eventRules/1/eventType", "eventRules/1/name", "eventRules/1/when/0", "halfLifeDays"], errors.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Engagement_and_fit_qualify_a_lead_who_moves_to_qualify_and_falls_back_when_engagement_fades(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var client = await app.ApiClientAsync("write");
        var now = app.Time.GetUtcNow();
        var created = await client.PostJsonAsync("/api/v1/contacts", new
        {
            email = "ann@example.com",
            attributes = new { role = "owner", budget = "5000", company = "Ann's Office", interest = "office coffee" },
            consent = new { newsletter = "subscribed" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        object Event(string type, double daysAgo, object properties) => new { type, email = "ann@example.com", occurredAt = now.AddDays(-daysAgo), properties };

        var response = await client.PostJsonAsync("/api/v1/events", new
        {
            events = new[]
            {
                Event("page.viewed", 3, new { url = "/pricing" }),
                Event("form.submitted", 2, new { form = "contact" }),
            },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await app.DrainAsync();
        await app.DrainAsync(); // contact.qualified, derived in the first pass, moves the stage in the next

        await using (var data = app.NewDb())
        {
            var contact = await data.Contacts.AsNoTracking().SingleAsync();
            Assert.True(contact.Qualified);
            Assert.Equal(Stage.Qualify, contact.Stage);
            // 35 fit (decision maker, budget, company) + 1 + 5 + 10 engagement, barely faded over a few days.
            Assert.InRange(contact.Score, 50, 51);
            var changes = await data.Events.AsNoTracking().Where(e => e.Type == "score.changed").OrderBy(e => e.Id).ToListAsync();
            Assert.Contains(changes, c => c.Properties.Contains("Looked at pricing", StringComparison.Ordinal));
            Assert.Contains(changes, c => c.Properties.Contains("Decision maker", StringComparison.Ordinal));
        }

        app.Time.Advance(TimeSpan.FromDays(60));
        var changed = await QualificationProjection.DecayAsync(app.Database, app.Time, CancellationToken.None);
        await app.DrainAsync();

        Assert.Equal(1, changed);
        await using var after = app.NewDb();
        var faded = await after.Contacts.AsNoTracking().SingleAsync();
        Assert.False(faded.Qualified);
        Assert.Equal(39, faded.Score); // the fit stays, engagement is down to a quarter
        Assert.Equal(Stage.Capture, faded.Stage); // still consented
        var disqualified = await after.Events.AsNoTracking().SingleAsync(e => e.Type == "contact.disqualified");
        Assert.Contains("engagement faded", disqualified.Properties);
        var fell = await after.Events.AsNoTracking().Where(e => e.Type == "stage.changed").OrderByDescending(e => e.Id).FirstAsync();
        Assert.Equal(disqualified.Id, fell.CauseEventId);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_daily_fade_reaches_every_contact_when_whole_pages_of_them_are_disqualified(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var now = app.Time.GetUtcNow().UtcDateTime;
        // 1,200 contacts qualified on fit alone, under a threshold since raised: each one the fade visits is disqualified,
        // and so leaves the set the fade pages through.
        await using (var data = app.NewDb())
        {
            for (var i = 0; i < 1200; i++)
            {
                var email = $"lead{i}@example.com";
                data.Contacts.Add(new Clientele.Contacts.Contact
                {
                    Id = Guid.CreateVersion7(),
                    Email = email,
                    EmailNormalized = email,
                    ScoreFit = 40,
                    Score = 40,
                    Qualified = true,
                    CreatedAt = now,
                    UpdatedAt = now,
                });
            }
            await data.SaveChangesAsync();
        }

        var changed = await QualificationProjection.DecayAsync(app.Database, app.Time, CancellationToken.None);

        Assert.Equal(0, changed); // no score moved: there was no engagement to fade
        await using var after = app.NewDb();
        Assert.Equal(0, await after.Contacts.CountAsync(c => c.Qualified));
        Assert.Equal(1200, await after.Events.CountAsync(e => e.Type == "contact.disqualified"));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task Scoring_settings_are_replaced_through_the_api_and_bad_rules_are_reported_by_pointer(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var admin = await app.ApiClientAsync("admin");

        var bad = await admin.PutAsJsonAsync("/api/v1/qualification/settings", new { threshold = 0, eventRules = new[] { new { name = "x", eventType = "nodot", points = 1 } } });
        var good = await admin.PutAsJsonAsync("/api/v1/qualification/settings", new
        {
            threshold = 10,
            eventRules = new[] { new { name = "Webinar", eventType = "webinar.attended", points = 12, kind = "Fit" } },
        });
        var read = await (await admin.GetAsync("/api/v1/qualification/settings")).ReadJsonAsync();

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.ReadJsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("/threshold", out _));
        Assert.True(errors.TryGetProperty("/eventRules/0/eventType", out _));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.Equal(10, read.GetProperty("threshold").GetInt32());
        Assert.Equal("fit", read.GetProperty("eventRules")[0].GetProperty("kind").GetString());
        Assert.Equal(30, read.GetProperty("halfLifeDays").GetDouble()); // not given: the default
    }

    [Fact]
    public async Task The_lead_scoring_page_lists_the_rules_for_editing()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var marketer = await Clientele.Tests.Web.BackOffice.SignedInAsync(app, Clientele.Accounts.Role.Marketer);
        var agent = await Clientele.Tests.Web.BackOffice.SignedInAsync(app, Clientele.Accounts.Role.Agent);

        var html = await marketer.GetStringAsync("/settings/scoring");
        var denied = await agent.GetAsync("/settings/scoring");

        Assert.Contains("data-test=\"event-rules\"", html);
        Assert.Contains("Looked at pricing", html);
        Assert.Contains("Decision maker", html);
        Assert.DoesNotContain("Looked at pricing", await denied.Content.ReadAsStringAsync());
    }
}
