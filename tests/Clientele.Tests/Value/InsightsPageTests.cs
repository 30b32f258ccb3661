using Clientele.Accounts;
using Clientele.Contacts;
using Clientele.Lifecycle;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Web;

namespace Clientele.Tests.Value;

public sealed class InsightsPageTests
{
    [Fact]
    public async Task Without_orders_insights_says_how_to_bring_them_in()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var owner = await app.SignedInAsync(Role.Owner);

        var html = await owner.GetStringAsync("/insights");

        Assert.Contains("Nothing to show yet.", html);
        Assert.Contains("clientele import orders FILE", html);
        Assert.DoesNotContain("Score now", html);
    }

    [Fact]
    public async Task After_a_run_insights_shows_value_by_health_the_top_customers_the_fit_check_and_cohorts()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        await ScoringTests.SeedAsync(app);
        await ScoringTests.RunAsync(await app.ApiClientAsync("write"));
        var marketer = await app.SignedInAsync(Role.Marketer);

        var html = await marketer.GetStringAsync("/insights");

        Assert.Contains("Scored 100 customers", html);
        Assert.Contains("Score now", html);
        Assert.Contains("data-test=\"top-customers\"", html);
        await using (var data = app.NewDb())
        {
            var best = data.Contacts.AsEnumerable().Where(c => c.Value is not null).MaxBy(c => c.Value!.PredictedValue)!;
            Assert.Contains($"/contacts/{best.Id}", html);
            Assert.Contains(Clientele.Web.Format.Money(best.Value!.PredictedValue, "EUR"), html);
        }
        Assert.Contains("data-test=\"holdout\"", html);
        Assert.Contains("Purchases before", html);
        Assert.Contains("data-test=\"cohorts\"", html);
        Assert.Contains("MBG/NBD on 100 customers (60 bought again)", html);
        Assert.Contains("/contacts?health=lapsed", html);
    }

    [Fact]
    public async Task The_contact_list_filters_by_health_and_sorts_by_predicted_value()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var (loyal, lapsed, _) = await ScoringTests.SeedAsync(app);
        await ScoringTests.RunAsync(await app.ApiClientAsync("write"));
        await using var data = app.NewDb();

        var (lapsedRows, lapsedCount) = await ContactsPage.QueryAsync(data, new(Health: "lapsed"), null, false, 0, 100, CancellationToken.None);
        var (byValue, _) = await ContactsPage.QueryAsync(data, new(), "value", true, 0, 100, CancellationToken.None);

        Assert.True(lapsedCount > 0);
        Assert.All(lapsedRows, r => Assert.Equal(Health.Lapsed, r.Health));
        Assert.Contains(lapsedRows, r => r.Id == lapsed);
        Assert.DoesNotContain(lapsedRows, r => r.Id == loyal);
        Assert.True(byValue.Zip(byValue.Skip(1)).All(p => p.First.Value >= p.Second.Value));
        Assert.Equal("EUR", byValue[0].Currency);
    }

    [Fact]
    public async Task Insights_shows_the_stage_funnel_and_revenue_split_and_exports_the_funnel_as_csv()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var api = await app.ApiClientAsync("write");
        var now = app.Time.GetUtcNow();
        object Order(string email, string id, double daysAgo, decimal total) => new
        {
            type = "order.placed",
            email,
            occurredAt = now.AddDays(-daysAgo),
            properties = new { orderId = id, total, currency = "EUR", items = new[] { new { sku = "C1", category = "coffee", quantity = 1, price = total } } },
        };
        await api.PostJsonAsync("/api/v1/events", new { events = new[] { Order("ann@example.com", "1", 20, 30), Order("ann@example.com", "2", 10, 45), Order("bob@example.com", "3", 5, 12) } });
        await app.DrainAsync();
        var marketer = await app.SignedInAsync(Role.Marketer);

        var html = await marketer.GetStringAsync("/insights");
        var csv = await marketer.GetAsync("/insights/funnel.csv?from=2026-05-01&to=2026-06-01");
        var anonymous = await app.Browser().GetAsync("/insights/funnel.csv");

        Assert.Contains("data-test=\"funnel\"", html);
        Assert.Contains("data-test=\"revenue\"", html);
        Assert.Contains("Re-Purchase", html);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Trim().Split('\n');
        Assert.Equal("stage,count,conversion_to_next,median_days_to_next", lines[0]);
        Assert.Equal("Lead,2,1,0", lines[1]); // both arrived with an order
        Assert.StartsWith("Purchase,2,0.5,", lines[6]);
        Assert.Equal(11, lines.Length);
        Assert.NotEqual(System.Net.HttpStatusCode.OK, anonymous.StatusCode);
    }

    [Fact]
    public void Revenue_is_split_into_first_orders_and_later_ones_by_month()
    {
        Guid ann = Guid.NewGuid(), bob = Guid.NewGuid();
        var orders = new[]
        {
            (ann, new DateTime(2026, 3, 5, 0, 0, 0, DateTimeKind.Utc), 30m),
            (ann, new DateTime(2026, 4, 2, 0, 0, 0, DateTimeKind.Utc), 45m),
            (bob, new DateTime(2026, 4, 20, 0, 0, 0, DateTimeKind.Utc), 12m),
            (ann, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), 5m), // before the window: makes March a back-end order
        };

        var months = RevenueSplit.Compute(orders, new DateOnly(2026, 3, 1), new DateOnly(2026, 5, 1));

        Assert.Equal(3, months.Count);
        Assert.Equal(new RevenueMonth(new DateOnly(2026, 3, 1), 0, 30, 0, 1), months[0]);
        Assert.Equal(new RevenueMonth(new DateOnly(2026, 4, 1), 12, 45, 1, 1), months[1]);
        Assert.Equal(new RevenueMonth(new DateOnly(2026, 5, 1), 0, 0, 0, 0), months[2]);
    }
}
