using System.Net;
using Clientele.Lifecycle;
using Clientele.Tests.Infrastructure;

namespace Clientele.Tests.Lifecycle;

public sealed class FunnelTests
{
    private static readonly DateTime Start = new(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Counts_contacts_that_reached_each_stage_with_conversion_and_median_days()
    {
        Guid a = Guid.NewGuid(), b = Guid.NewGuid(), c = Guid.NewGuid(), d = Guid.NewGuid();
        var cohort = new[] { (a, Start), (b, Start), (c, Start), (d, Start) };
        var moves = new[]
        {
            (a, Start.AddDays(2), Stage.Capture),
            (a, Start.AddDays(10), Stage.Purchase), // skips Qualify, Convert and Trial
            (b, Start.AddDays(4), Stage.Capture),
            (b, Start.AddDays(5), Stage.Lead), // fell back: still reached Capture
            (c, Start.AddDays(6), Stage.Capture),
            (c, Start.AddDays(20), Stage.RePurchase),
        };

        var steps = Funnel.Compute(cohort, moves);

        Assert.Equal(10, steps.Count);
        Assert.Equal(Stage.Lead, steps[0].Stage);
        Assert.Equal(4, steps[0].Count);
        Assert.Equal(0.75, steps[0].ConversionToNext);
        Assert.Equal(4, steps[0].MedianDaysToNext); // 2, 4 and 6 days
        Assert.Equal(3, steps[1].Count);
        Assert.Equal(2.0 / 3, steps[1].ConversionToNext!.Value, 10);
        Assert.Equal(11, steps[1].MedianDaysToNext); // 8 and 14 days to the next rung, reached by skipping
        Assert.Equal(2, steps[(int)Stage.Purchase - 1].Count);
        Assert.Equal(0.5, steps[(int)Stage.Purchase - 1].ConversionToNext);
        Assert.Equal(0, steps[(int)Stage.Purchase - 1].MedianDaysToNext); // c passed Purchase and Re-Purchase at once
        Assert.Equal(0, steps[(int)Stage.CrossPurchase - 1].Count);
        Assert.Null(steps[(int)Stage.CrossPurchase - 1].ConversionToNext);
        Assert.Null(steps[^1].ConversionToNext);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_funnel_endpoint_lists_every_stage_in_ladder_order_and_rejects_bad_dates(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var client = await app.ApiClientAsync("read");
        var writer = await app.ApiClientAsync("write");
        var now = app.Time.GetUtcNow();
        await writer.PostJsonAsync("/api/v1/events", new
        {
            events = new object[]
            {
                new { type = "consent.given", email = "ann@example.com", occurredAt = now.AddDays(-3), properties = new { topic = "news" } },
                new { type = "page.viewed", email = "bob@example.com", occurredAt = now.AddDays(-2), properties = new { url = "/" } },
            },
        });
        await app.DrainAsync();

        var funnel = await (await client.GetAsync("/api/v1/reports/funnel?from=2026-05-01&to=2026-06-01")).ReadJsonAsync();
        var bad = await client.GetAsync("/api/v1/reports/funnel?from=yesterday");
        var reversed = await client.GetAsync("/api/v1/reports/funnel?from=2026-06-01&to=2026-05-01");

        var stages = funnel.GetProperty("stages").EnumerateArray().ToList();
        Assert.Equal(["Lead", "Capture", "Qualify", "Convert", "Trial", "Purchase", "Re-Purchase", "Cross-Purchase", "Loyalty", "Retention"],
            stages.Select(s => s.GetProperty("stage").GetString()));
        Assert.Equal(2, stages[0].GetProperty("count").GetInt32());
        Assert.Equal(0.5, stages[0].GetProperty("conversionToNext").GetDouble());
        Assert.Equal(1, stages[1].GetProperty("count").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("from", (await bad.ReadJsonAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.Equal(HttpStatusCode.BadRequest, reversed.StatusCode);
    }
}
