using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Clientele.Accounts;
using Clientele.Journeys;
using Clientele.Lifecycle;
using Clientele.Support;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Journeys;
using Clientele.Tests.Value;
using Clientele.Tests.Web;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Dashboard;

/// <summary>The owner's dashboard through its API and page, on both databases, with the figures a user would check.</summary>
public sealed partial class DashboardTests
{
    private static object Order(string email, string id, decimal total, DateTimeOffset at, string currency = "EUR") => new
    {
        type = "order.placed",
        email,
        occurredAt = at,
        properties = new { orderId = id, total, currency, items = new[] { new { sku = "C1", category = "Coffee", quantity = 1, price = total } } },
        idempotencyKey = "order-" + id,
    };

    private static async Task PostAsync(TestApp app, HttpClient api, params object[] events)
    {
        var response = await api.PostJsonAsync("/api/v1/events", new { events });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await app.DrainAsync();
    }

    private static async Task<JsonElement> DashboardAsync(HttpClient api)
    {
        var response = await api.GetAsync("/api/v1/reports/dashboard");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    private static (double Current, double? Previous) Kpi(JsonElement dashboard, string name)
    {
        var k = dashboard.GetProperty("kpis").GetProperty(name);
        return (k.GetProperty("current").GetDouble(), k.GetProperty("previous").ValueKind == JsonValueKind.Null ? null : k.GetProperty("previous").GetDouble());
    }

    [Fact]
    public async Task A_business_with_contacts_but_no_orders_is_told_what_to_do_first_instead_of_empty_charts()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var api = await app.ApiClientAsync("write");
        await PostAsync(app, api, new { type = "page.viewed", email = "ann@example.com", properties = new { url = "/" } });
        var owner = await app.SignedInAsync(Role.Owner);

        var html = await owner.GetStringAsync("/");

        Assert.Contains("No orders yet", html);
        Assert.Contains("clientele import orders FILE", html);
        Assert.Contains("1 contacts: 1 Lead.", html);
        Assert.DoesNotContain("data-test=\"kpi-customers\"", html);
        Assert.DoesNotContain("data-test=\"chart-revenue\"", html);
        Assert.DoesNotContain("data-test=\"chart-cohorts\"", html);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Customers_repeat_purchases_and_revenue_split_are_set_against_the_30_days_before(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        // Signing in moves the app's clock to the wall clock (the cookie jar's); the figures are dated from there.
        var owner = await app.SignedInAsync(Role.Owner);
        var agent = await app.SignedInAsync(Role.Agent);
        var api = await app.ApiClientAsync("write");
        var now = app.Time.GetUtcNow();
        var month = new DateOnly(now.Year, now.Month, 1);
        await PostAsync(app, api,
            Order("cleo@example.com", "c1", 40, now.AddDays(-50)), Order("cleo@example.com", "c2", 25, now.AddDays(-45)),
            Order("ann@example.com", "a1", 50, now.AddDays(-40)), Order("ann@example.com", "a2", 30, now.AddDays(-10)),
            Order("bob@example.com", "b1", 20, now.AddDays(-5)),
            Order("dan@example.com", "d1", 10, now.AddDays(-3)), Order("dan@example.com", "d2", 15, now.AddDays(-2)),
            new { type = "page.viewed", email = "eve@example.com", properties = new { url = "/" } });

        var dashboard = await DashboardAsync(api);

        Assert.Equal((4, 2), Kpi(dashboard, "customers"));
        Assert.Equal((0.75, 0.5), Kpi(dashboard, "repeatRate")); // ann, cleo and dan bought again; before: cleo of two
        Assert.Equal((30, 90), Kpi(dashboard, "frontEndRevenue"));
        Assert.Equal((45, 25), Kpi(dashboard, "backEndRevenue"));
        Assert.Equal("EUR", dashboard.GetProperty("currency").GetString());
        var months = dashboard.GetProperty("revenue").EnumerateArray().ToList();
        Assert.Equal(12, months.Count);
        Assert.Equal(month.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), months[^1].GetProperty("month").GetString());
        Assert.Equal((120m, 70m), (months.Sum(m => m.GetProperty("frontEnd").GetDecimal()), months.Sum(m => m.GetProperty("backEnd").GetDecimal())));
        var stages = dashboard.GetProperty("stages").EnumerateArray().ToDictionary(s => s.GetProperty("stage").GetString()!, s => s.GetProperty("contacts").GetInt64());
        Assert.Equal((1, 1, 3), (stages["lead"], stages["purchase"], stages["rePurchase"]));
        var firstMonths = new[] { now.AddDays(-50), now.AddDays(-40), now.AddDays(-5), now.AddDays(-3) }
            .Select(d => new DateOnly(d.Year, d.Month, 1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)).Distinct().Order();
        Assert.Equal(firstMonths, dashboard.GetProperty("cohorts").EnumerateArray().Select(c => c.GetProperty("start").GetString()));
        Assert.True(dashboard.GetProperty("topFifthRevenueShare").GetDouble() > 0.2);

        // A refund takes the order out of every figure at once.
        await PostAsync(app, api, new { type = "order.refunded", email = "bob@example.com", properties = new { orderId = "b1" } });
        var refunded = await DashboardAsync(api);
        Assert.Equal((3, 2), Kpi(refunded, "customers"));
        Assert.Equal((10, 90), Kpi(refunded, "frontEndRevenue"));
        Assert.Equal(1.0, Kpi(refunded, "repeatRate").Current);

        var html = await owner.GetStringAsync("/");
        Assert.Equal("3", KpiValue(html, "customers"));
        Assert.Equal("100 %", KpiValue(html, "repeat-rate"));
        Assert.Equal("45.00 EUR", KpiValue(html, "back-end"));
        Assert.Contains("up 1 (50 %) on the 30 days before", html); // three customers against two
        Assert.Contains("3 Re-Purchase.", html);
        Assert.Contains("data-test=\"chart-revenue\"", html);

        var agentHome = await agent.GetStringAsync("/");
        Assert.Contains("data-test=\"chart-stages\"", agentHome);
        Assert.Contains("data-test=\"tickets\"", agentHome);
        Assert.DoesNotContain("EUR", agentHome);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Valuable_customers_at_risk_come_first_and_one_click_puts_one_into_the_win_back_journey(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await ScoringTests.SeedAsync(app);
        var api = await app.ApiClientAsync("admin");
        await ScoringTests.RunAsync(api);
        var installed = await api.PostJsonAsync("/api/v1/playbooks/win-back/install", new { publish = true });
        Assert.Equal(HttpStatusCode.Created, installed.StatusCode);
        var winBack = (await installed.ReadJsonAsync()).GetProperty("journeyId").GetGuid();

        var dashboard = await DashboardAsync(api);

        await using (var data = app.NewDb())
        {
            var scored = (await data.Contacts.AsNoTracking().Where(c => c.Value != null).ToListAsync()).ToList();
            var expected = scored.Where(c => c.Health == Health.AtRisk).OrderByDescending(c => c.Value!.PredictedValue).Take(10).Select(c => c.Id).ToList();
            Assert.NotEmpty(expected);
            Assert.Equal(expected, dashboard.GetProperty("atRisk").EnumerateArray().Select(c => c.GetProperty("id").GetGuid()));
            Assert.Equal(scored.Count(c => c.Health == Health.AtRisk), Kpi(dashboard, "atRisk").Current);
            Assert.Equal(scored.Count(c => c.Health == Health.Active), Kpi(dashboard, "active").Current);
            Assert.Equal((double)scored.Average(c => c.Value!.PredictedValue), Kpi(dashboard, "averagePredictedValue").Current, 6);
        }
        Assert.Equal(0.6, Kpi(dashboard, "repeatRate").Current, 9); // 60 of the 100 customers bought again
        Assert.Equal(winBack, dashboard.GetProperty("winBackJourney").GetGuid());
        var values = dashboard.GetProperty("atRisk").EnumerateArray().Select(c => c.GetProperty("value").GetDecimal()).ToList();
        Assert.Equal(values.OrderByDescending(v => v), values);
        var bins = dashboard.GetProperty("valueDistribution").EnumerateArray().Sum(b => b.GetProperty("customers").GetInt32());
        Assert.Equal(100, bins);

        var first = dashboard.GetProperty("atRisk")[0].GetProperty("id").GetGuid();
        var enrolled = await (await api.PostJsonAsync($"/api/v1/journeys/{winBack}/enroll", new { contactIds = new[] { first } })).ReadJsonAsync();
        Assert.Equal(1, enrolled.GetProperty("enrolled").GetInt32());

        var after = await DashboardAsync(api);
        Assert.Equal(JsonValueKind.String, after.GetProperty("atRisk")[0].GetProperty("inJourneySince").ValueKind);
        Assert.Equal(JsonValueKind.Null, after.GetProperty("atRisk")[1].GetProperty("inJourneySince").ValueKind);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Tickets_near_or_past_their_target_and_journeys_converting_less_are_listed(string db)
    {
        await using var app = await JourneyFlowTests.StartAsync(db);
        var owner = await app.SignedInAsync(Role.Owner);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "Hello");
        object Definition(string goal) => new { trigger = new { @event = "never.happens" }, goal, steps = new object[] { new { id = "hello", type = "email", template = "Hello" } } };
        var falling = await JourneyFlowTests.JourneyAsync(api, "Welcome", Definition("orders.count() >= 1"));
        var steady = await JourneyFlowTests.JourneyAsync(api, "Thank you", Definition("orders.count() >= 2"));
        var ann = await JourneyFlowTests.ContactAsync(api, "ann@example.com");
        var now = app.Time.GetUtcNow().UtcDateTime;
        await using (var data = app.NewDb())
        {
            void Runs(Guid journey, int daysAgo, int entered, int reached, bool holdout = false)
            {
                for (var i = 0; i < entered; i++)
                {
                    data.JourneyRuns.Add(new JourneyRun
                    {
                        Id = Guid.CreateVersion7(),
                        JourneyId = journey,
                        Version = 1,
                        ContactId = ann,
                        EnrollKey = $"test:{Guid.NewGuid():N}",
                        Status = i < reached ? RunStatus.GoalReached : RunStatus.Completed,
                        Holdout = holdout,
                        EnteredAt = now.AddDays(-daysAgo),
                        EndedAt = now.AddDays(-daysAgo + 1),
                    });
                }
            }
            Runs(falling, 20, entered: 20, reached: 10);
            Runs(falling, 5, entered: 20, reached: 2);
            Runs(falling, 5, entered: 30, reached: 30, holdout: true); // the control group does not count
            Runs(steady, 20, 20, 6);
            Runs(steady, 5, 20, 6);
            Ticket("Parcel never arrived", hoursAgo: 30);
            Ticket("Gift wrapping?", hoursAgo: 21);
            Ticket("Opening hours", hoursAgo: 1);
            Ticket("Invoice copy", hoursAgo: 40, answered: true);
            await data.SaveChangesAsync();

            void Ticket(string subject, int hoursAgo, bool answered = false)
            {
                var at = now.AddHours(-hoursAgo);
                data.Tickets.Add(new Ticket
                {
                    Id = Guid.CreateVersion7(),
                    ContactId = ann,
                    Subject = subject,
                    Channel = "email",
                    CreatedAt = at,
                    UpdatedAt = at,
                    FirstResponseDue = at.AddHours(24),
                    BreachAt = at.AddHours(48),
                    FirstRespondedAt = answered ? at.AddHours(30) : null,
                });
            }
        }
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "order.placed", new { orderId = "o1", total = 10, currency = "EUR" });
        await app.DrainAsync();

        var dashboard = await DashboardAsync(api);

        var tickets = dashboard.GetProperty("tickets").EnumerateArray().ToList();
        Assert.Equal(["Parcel never arrived", "Gift wrapping?"], tickets.Select(t => t.GetProperty("subject").GetString()));
        Assert.Equal(["late", "on-time"], tickets.Select(t => t.GetProperty("state").GetString()));
        var journeys = dashboard.GetProperty("fallingJourneys").EnumerateArray().ToList();
        var welcome = Assert.Single(journeys);
        Assert.Equal(("Welcome", 20, 2, 20, 10), (welcome.GetProperty("name").GetString(), welcome.GetProperty("entered").GetInt32(), welcome.GetProperty("reached").GetInt32(),
            welcome.GetProperty("enteredBefore").GetInt32(), welcome.GetProperty("reachedBefore").GetInt32()));

        var html = await owner.GetStringAsync("/");
        Assert.Contains("Parcel never arrived", html);
        Assert.DoesNotContain("Opening hours", html);
        Assert.Contains($"/journeys/{falling}", html);
        Assert.Contains("(2 of 20)", html);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_owner_enters_acquisition_spend_and_sees_customer_value_against_cost_per_source(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        var now = app.Time.GetUtcNow();
        var people = new[] { ("g1@example.com", "google", 300m), ("g2@example.com", "Google", 500m), ("i1@example.com", "instagram", 90m), ("n1@example.com", null, 50m) };
        foreach (var (email, source, _) in people)
        {
            Assert.True((await api.PostJsonAsync("/api/v1/contacts", new { email, utmSource = source })).IsSuccessStatusCode);
        }
        await PostAsync(app, api, [.. people.Select((p, i) => Order(p.Item1, $"o{i}", 20, now.AddDays(-3)))]);
        await using (var data = app.NewDb())
        {
            foreach (var (email, _, value) in people)
            {
                var contact = await data.Contacts.SingleAsync(c => c.EmailNormalized == email);
                contact.Value = new Clientele.Contacts.ContactValueScores { PredictedValue = value, Currency = "EUR", ProbabilityAlive = 0.8, RfmCell = "333", ScoredAt = now.UtcDateTime };
                contact.Health = Health.Active;
            }
            await data.SaveChangesAsync();
        }
        app.Time.Advance(TimeSpan.FromMinutes(2)); // the figures are added up again

        var bad = await api.PutAsync("/api/v1/acquisition", JsonBody("""{"currency": "euros", "sources": [{"source": "google", "amount": 800}, {"source": "GOOGLE", "amount": 1}, {"source": "tv", "amount": -5}]}"""));
        var wrongType = await api.PutAsync("/api/v1/acquisition", JsonBody("""{"currency": "EUR", "sources": [{"source": "google", "amount": "lots"}]}"""));
        var good = await api.PutAsync("/api/v1/acquisition", JsonBody("""{"currency": "eur", "sources": [{"source": " Google", "amount": 800}, {"source": "instagram", "amount": 300}]}"""));
        var reader = await app.ApiClientAsync("read");
        var readOnly = await reader.PutAsync("/api/v1/acquisition", JsonBody("""{"currency": "EUR", "sources": []}"""));
        var read = await reader.GetAsync("/api/v1/acquisition");

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.ReadJsonAsync()).GetProperty("errors");
        Assert.Equal(["/currency", "/sources/1/source", "/sources/2/amount"], errors.EnumerateObject().Select(e => e.Name));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal("application/problem+json", wrongType.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, readOnly.StatusCode);
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        var body = await read.ReadJsonAsync();
        Assert.Equal("EUR", body.GetProperty("currency").GetString());
        Assert.Equal(["google", "instagram"], body.GetProperty("spend").EnumerateArray().Select(s => s.GetProperty("source").GetString()));
        var rows = body.GetProperty("sources").EnumerateArray().ToDictionary(r => r.GetProperty("source").GetString()!);
        Assert.Equal((2, 400m, 800m, 400m, 1.0), Row(rows["google"]));
        Assert.Equal((1, 90m, 300m, 300m, 0.3), Row(rows["instagram"]));
        Assert.Equal(1, rows["api"].GetProperty("customers").GetInt32()); // no utm_source: how the contact arrived
        Assert.Equal(["instagram", "google", "api"], body.GetProperty("sources").EnumerateArray().Select(r => r.GetProperty("source").GetString()));

        static (int, decimal, decimal, decimal, double) Row(JsonElement r) => (r.GetProperty("customers").GetInt32(), r.GetProperty("averageValue").GetDecimal(),
            r.GetProperty("spend").GetDecimal(), r.GetProperty("costPerCustomer").GetDecimal(), r.GetProperty("valueToCost").GetDouble());
    }

    private static StringContent JsonBody(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    /// <summary>The figure a KPI card shows.</summary>
    private static string KpiValue(string html, string kpi)
    {
        var card = Regex.Match(html, $"data-test=\"kpi-{kpi}\"[\\s\\S]*?data-test=\"value\">([^<]*)<");
        Assert.True(card.Success, $"no card {kpi}");
        return card.Groups[1].Value;
    }
}
