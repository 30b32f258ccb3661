using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Clientele.Accounts;
using Clientele.Contacts;
using Clientele.Events;
using Clientele.Lifecycle;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Web;

public sealed partial class BackOfficePageTests
{
    [Fact]
    public async Task Home_says_how_to_bring_in_contacts_while_there_are_none()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var owner = await app.SignedInAsync(Role.Owner);

        var html = await owner.GetStringAsync("/");

        Assert.Contains("No contacts yet", html);
        Assert.Contains("clientele import contacts FILE", html);
        Assert.Contains("POST /api/v1/events", html);
        Assert.Contains("--demo", html);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Home_shows_contacts_per_stage_and_the_customers_and_revenue_of_the_last_30_days(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var owner = await app.SignedInAsync(Role.Owner);
        var now = app.Time.GetUtcNow();
        var api = await app.ApiClientAsync("write");
        var response = await api.PostJsonAsync("/api/v1/events", new
        {
            events = new object[]
            {
                Order("ann@example.com", "1001", 49.5m, now.AddDays(-3)),
                Order("ann@example.com", "1002", 50.25m, now.AddHours(-23)),
                Order("bob@example.com", "1003", 10m, now.AddDays(-45)), // outside the 30 days
                new { type = "page.viewed", email = "cleo@example.com", occurredAt = now.AddHours(-2), properties = new { url = "/" } },
            },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await app.DrainAsync();

        var html = await owner.GetStringAsync("/");

        Assert.Contains("3 contacts: 1 Lead, 1 Purchase, 1 Re-Purchase.", html);
        Assert.Matches(@"data-test=""kpi-customers""[\s\S]*?data-test=""value"">2<", html);
        Assert.Matches(@"data-test=""kpi-front-end""[\s\S]*?data-test=""value"">49.50 USD<", html);
        Assert.Matches(@"data-test=""kpi-back-end""[\s\S]*?data-test=""value"">50.25 USD<", html);
        Assert.Matches(@"data-test=""kpi-repeat-rate""[\s\S]*?data-test=""value"">50 %<", html);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_contact_list_searches_filters_and_pages_on_the_server(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        for (var i = 0; i < 30; i++)
        {
            app.Time.Advance(TimeSpan.FromMinutes(1));
            var created = await api.PostJsonAsync("/api/v1/contacts", new
            {
                email = $"person{i:00}@example.com",
                firstName = "Person",
                lastName = $"Number{i:00}",
                tags = i % 3 == 0 ? new[] { "vip" } : [],
            });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        app.Time.Advance(TimeSpan.FromMinutes(1));
        await api.PostJsonAsync("/api/v1/contacts", new { email = "ann.baker@example.com", firstName = "Ann", lastName = "Baker" });
        await using var data = app.NewDb();
        await data.Contacts.Where(c => c.EmailNormalized == "person05@example.com").ExecuteUpdateAsync(s => s.SetProperty(c => c.Stage, Stage.Purchase));

        var (first, total) = await ContactsPage.QueryAsync(data, new(), null, false, 0, 25, CancellationToken.None);
        Assert.Equal(31, total);
        Assert.Equal(25, first.Count);
        Assert.Equal("Ann Baker", first[0].Name); // newest first
        var (second, _) = await ContactsPage.QueryAsync(data, new(), null, false, 1, 25, CancellationToken.None);
        Assert.Equal(6, second.Count);
        Assert.Empty(first.Select(r => r.Id).Intersect(second.Select(r => r.Id)));

        var (found, n) = await ContactsPage.QueryAsync(data, new("ann bak"), null, false, 0, 25, CancellationToken.None);
        Assert.Equal(1, n);
        Assert.Equal("ann.baker@example.com", Assert.Single(found).Email);

        var (purchasers, _) = await ContactsPage.QueryAsync(data, new(Stage: "purchase"), null, false, 0, 25, CancellationToken.None);
        Assert.Equal("person05@example.com", Assert.Single(purchasers).Email);

        var (vips, vipCount) = await ContactsPage.QueryAsync(data, new(Tag: " vip "), "email", false, 0, 25, CancellationToken.None);
        Assert.Equal(10, vipCount);
        Assert.Equal("person00@example.com", vips[0].Email);

        var (none, zero) = await ContactsPage.QueryAsync(data, new("nobody", Tag: "vip"), null, false, 0, 25, CancellationToken.None);
        Assert.Equal(0, zero);
        Assert.Empty(none);
    }

    [Fact]
    public async Task The_contact_list_page_offers_search_stage_and_tag_filters()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var agent = await app.SignedInAsync(Role.Agent);

        var html = await agent.GetStringAsync("/contacts?stage=loyalty&tag=vip");

        Assert.Contains("Search", html);
        Assert.Contains("Tag", html);
        Assert.Contains("value=\"vip\"", html);
        Assert.Contains("Loyalty", html);
    }

    [Fact]
    public async Task The_contact_page_shows_consent_orders_and_a_timeline_that_names_causes()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var owner = await app.SignedInAsync(Role.Owner);
        var now = app.Time.GetUtcNow();
        var api = await app.ApiClientAsync("write");
        await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com", firstName = "Ann", lastName = "Baker", tags = new[] { "vip" }, attributes = new { plan = "gold" } });
        var ingest = await (await api.PostJsonAsync("/api/v1/events", new
        {
            events = new object[]
            {
                new { type = "consent.given", email = "ann@example.com", occurredAt = now.AddDays(-2), properties = new { topic = "newsletter", source = "signup-form" } },
                Order("ann@example.com", "A-1001", 49m, now.AddDays(-1)),
            },
        })).ReadJsonAsync();
        await app.DrainAsync();
        var contactId = Guid.Parse(ingest.GetProperty("results")[1].GetProperty("contactId").GetString()!);
        var orderEventId = long.Parse(ingest.GetProperty("results")[1].GetProperty("eventId").GetString()!, CultureInfo.InvariantCulture);
        await using (var data = app.NewDb())
        {
            data.Events.Add(new Event
            {
                ContactId = contactId,
                Type = "stage.changed",
                OccurredAt = now.UtcDateTime,
                ReceivedAt = now.UtcDateTime,
                Properties = """{"from":"lead","to":"purchase"}""",
                Source = "lifecycle",
                CauseEventId = orderEventId,
            });
            await data.SaveChangesAsync();
        }

        var html = WebUtility.HtmlDecode(await owner.GetStringAsync($"/contacts/{contactId}"));

        Assert.Contains("Ann Baker", html);
        Assert.Contains("ann@example.com", html);
        Assert.Contains("vip", html);
        Assert.Contains("plan", html);
        Assert.Contains("gold", html);
        Assert.Contains("newsletter", html);
        Assert.Contains("Subscribed", html);
        Assert.Contains("signup-form", html);
        Assert.Contains("A-1001", html);
        Assert.Contains("49.00 USD", html);
        Assert.Contains("1 × ", html);
        Assert.Contains($"caused by event #{orderEventId}", html);
        Assert.True(html.IndexOf("stage.changed", StringComparison.Ordinal) < html.IndexOf("order.placed", StringComparison.Ordinal), "newest first");
        Assert.Contains("\"to\": \"purchase\"", html);
    }

    [Fact]
    public async Task The_timeline_shows_a_page_of_events_and_offers_to_load_more()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var owner = await app.SignedInAsync(Role.Owner);
        var now = app.Time.GetUtcNow();
        var api = await app.ApiClientAsync("write");
        var events = Enumerable.Range(0, 30)
            .Select(i => (object)new { type = "page.viewed", email = "ann@example.com", occurredAt = now.AddMinutes(-i), properties = new { url = $"/page-{i}" } })
            .ToArray();
        var ingest = await (await api.PostJsonAsync("/api/v1/events", new { events })).ReadJsonAsync();
        var contactId = ingest.GetProperty("results")[0].GetProperty("contactId").GetString();
        await app.DrainAsync();

        var html = await owner.GetStringAsync($"/contacts/{contactId}");

        // One page: the newest visits, and the score change they caused.
        Assert.Equal(EventTimeline.PageSize - 1, PageViewed().Count(html));
        Assert.Contains("score.changed", html);
        Assert.Contains("/page-0", html);
        Assert.DoesNotContain("/page-29", html);
        Assert.Contains("Load more", html);
    }

    [Fact]
    public async Task An_unknown_contact_gets_a_plain_not_found_message()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var owner = await app.SignedInAsync(Role.Owner);

        var html = await owner.GetStringAsync($"/contacts/{Guid.NewGuid()}");

        Assert.Contains("No such contact", html);
    }

    [Fact]
    public async Task Areas_not_built_yet_say_what_they_are_for_and_what_to_do_first()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var marketer = await app.SignedInAsync(Role.Marketer);

        foreach (var (path, empty) in new[] { ("/segments", "No segments yet"), ("/journeys", "No journeys yet"), ("/outbox", "No messages yet") })
        {
            var html = await marketer.GetStringAsync(path);
            Assert.Contains(empty, html);
        }
    }

    private static object Order(string email, string orderId, decimal total, DateTimeOffset at) => new
    {
        type = "order.placed",
        email,
        occurredAt = at,
        properties = new { orderId, total, currency = "USD", items = new[] { new { sku = "A1", category = "Coffee", quantity = 1, price = total } } },
        idempotencyKey = "order-" + orderId,
    };

    [GeneratedRegex("page\\.viewed</p>")]
    private static partial Regex PageViewed();
}
