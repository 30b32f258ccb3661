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
}
