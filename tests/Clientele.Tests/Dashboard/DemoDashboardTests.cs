using System.Net;
using System.Text.Json;
using Clientele.Demo;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Value;

namespace Clientele.Tests.Dashboard;

/// <summary>The demo business gives a dashboard worth looking at: every figure has a trend and every chart has something to show.</summary>
public sealed class DemoDashboardTests
{
    [Fact]
    public async Task The_demo_business_fills_every_figure_chart_and_list_of_the_dashboard()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        Assert.True((await DemoSeed.SeedAsync(app.Database, app.Time, CancellationToken.None)).Seeded);
        await app.DrainAsync();
        var api = await app.ApiClientAsync("admin");
        Assert.Equal("succeeded", (await ScoringTests.RunAsync(api)).GetProperty("status").GetString());

        var response = await api.GetAsync("/api/v1/reports/dashboard");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var d = await response.ReadJsonAsync();
        foreach (var kpi in new[] { "customers", "newCustomers", "repeatRate", "frontEndRevenue", "backEndRevenue" })
        {
            var k = d.GetProperty("kpis").GetProperty(kpi);
            Assert.True(k.GetProperty("current").GetDouble() > 0, kpi);
            Assert.Equal(JsonValueKind.Number, k.GetProperty("previous").ValueKind);
        }
        Assert.True(d.GetProperty("kpis").GetProperty("atRisk").GetProperty("current").GetDouble() > 0);
        Assert.True(d.GetProperty("stages").EnumerateArray().Count(s => s.GetProperty("contacts").GetInt64() > 0) >= 8);
        Assert.True(d.GetProperty("revenue").EnumerateArray().Count(m => m.GetProperty("backEnd").GetDecimal() > 0) >= 10);
        Assert.InRange(d.GetProperty("topFifthRevenueShare").GetDouble(), 0.3, 0.95);
        Assert.True(d.GetProperty("cohorts").GetArrayLength() >= 10);
        Assert.True(d.GetProperty("valueDistribution").GetArrayLength() >= 5);
        Assert.Equal(10, d.GetProperty("atRisk").GetArrayLength());
        Assert.Equal(JsonValueKind.String, d.GetProperty("winBackJourney").ValueKind); // the demo's win-back playbook is running
        Assert.True(d.GetProperty("acquisition").GetArrayLength() >= 5);
        Assert.Contains(d.GetProperty("acquisition").EnumerateArray(), s => s.GetProperty("source").GetString() == "google");
    }
}
