using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Clientele.Accounts;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Lifecycle;
using Clientele.Segments;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Web;
using Clientele.Value;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Value;

public sealed class InsightsReportsTests
{
    private static DateTime Utc(int year, int month, int day) => new(year, month, day, 0, 0, 0, DateTimeKind.Utc);

    private static Contact Person(string email, DateTime created, string? utmSource, Stage stage, decimal? value, string? source = null) => new()
    {
        Id = Guid.CreateVersion7(),
        Email = email,
        EmailNormalized = email,
        CreatedAt = created,
        UpdatedAt = created,
        UtmSource = utmSource,
        Source = source,
        Stage = stage,
        Value = value is { } v ? new ContactValueScores { PredictedValue = v, Currency = "EUR", ProbabilityAlive = 0.8, RfmCell = "333", ScoredAt = created } : null,
    };

    private static Order Bought(Contact c, DateTime at, decimal total, string currency = "EUR") => new()
    {
        Id = Guid.CreateVersion7(),
        ContactId = c.Id,
        ExternalId = Guid.NewGuid().ToString("N"),
        Total = total,
        Currency = currency,
        PlacedAt = at,
        Status = OrderStatus.Placed,
        CreatedAt = at,
        UpdatedAt = at,
    };

    private static async Task<string[]> CsvLinesAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Customer_value_is_exported_by_source_stage_and_segment_within_the_filters_and_formulas_are_kept_as_text(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await using (var data = app.NewDb())
        {
            var a = Person("a@example.com", Utc(2026, 3, 10), "google", Stage.Purchase, 100);
            var b = Person("b@example.com", Utc(2026, 4, 10), "Google ", Stage.RePurchase, 300);
            var c = Person("c@example.com", Utc(2026, 4, 20), "=HYPERLINK(evil)", Stage.Purchase, 50);
            var d = Person("d@example.com", Utc(2026, 5, 5), null, Stage.Lead, 20);
            var e = Person("e@example.com", Utc(2026, 5, 1), "google", Stage.Lead, null); // not scored: not counted
            data.Contacts.AddRange(a, b, c, d, e);
            var vip = new Segment { Id = Guid.CreateVersion7(), Name = "VIP", Static = true, CreatedAt = Utc(2026, 1, 1), UpdatedAt = Utc(2026, 1, 1) };
            data.Segments.Add(vip);
            data.SegmentMembers.AddRange(new SegmentMember { SegmentId = vip.Id, ContactId = a.Id, Since = Utc(2026, 5, 1) }, new SegmentMember { SegmentId = vip.Id, ContactId = b.Id, Since = Utc(2026, 5, 1) });
            await data.SaveChangesAsync();
        }
        var marketer = await app.SignedInAsync(Role.Marketer);

        var bySource = await CsvLinesAsync(marketer, "/insights/value.csv");
        var byStage = await CsvLinesAsync(marketer, "/insights/value.csv?by=stage&from=2026-04-01");
        var bySegment = await CsvLinesAsync(marketer, "/insights/value.csv?by=segment&source=google");
        var purchasesOnly = await CsvLinesAsync(marketer, "/insights/value.csv?by=source&stage=purchase&to=2026-04-30");
        var bad = await marketer.GetAsync("/insights/value.csv?by=colour&from=2026-13-01");
        var agent = await (await app.SignedInAsync(Role.Agent)).GetAsync("/insights/value.csv");
        var anonymous = await app.Browser().GetAsync("/insights/value.csv");

        Assert.Equal(["source,customers,total_predicted_value,average_predicted_value,currency", "google,2,400,200,EUR", "\"'=hyperlink(evil)\",1,50,50,EUR", "(none),1,20,20,EUR"], bySource);
        Assert.Equal(["stage,customers,total_predicted_value,average_predicted_value,currency", "Lead,1,20,20,EUR", "Purchase,1,50,50,EUR", "Re-Purchase,1,300,300,EUR"], byStage);
        Assert.Equal(["segment,customers,total_predicted_value,average_predicted_value,currency", "VIP,2,400,200,EUR"], bySegment);
        Assert.Equal(["source,customers,total_predicted_value,average_predicted_value,currency", "google,1,100,100,EUR", "\"'=hyperlink(evil)\",1,50,50,EUR"], purchasesOnly);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        var errors = (await bad.ReadJsonAsync()).GetProperty("errors");
        Assert.Equal(["query:by", "query:from"], errors.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.NotEqual(HttpStatusCode.OK, agent.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, anonymous.StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Spend_per_source_and_period_is_set_against_the_customers_it_brought_their_revenue_value_and_payback(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var marketer = await app.SignedInAsync(Role.Marketer); // sets the clock to the wall clock's
        var now = app.Time.GetUtcNow().UtcDateTime;
        string Day(int daysAgo) => now.AddDays(-daysAgo).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await using (var data = app.NewDb())
        {
            var g1 = Person("g1@example.com", now.AddDays(-135), "google", Stage.RePurchase, 300);
            var g2 = Person("g2@example.com", now.AddDays(-110), "google", Stage.Purchase, 100);
            var i1 = Person("i1@example.com", now.AddDays(-100), "instagram", Stage.Purchase, null);
            var lead = Person("lead@example.com", now.AddDays(-120), "google", Stage.Lead, null); // no order: not a customer
            data.Contacts.AddRange(g1, g2, i1, lead);
            data.Orders.AddRange(Bought(g1, now.AddDays(-135), 100), Bought(g1, now.AddDays(-75), 100), Bought(g2, now.AddDays(-110), 50), Bought(i1, now.AddDays(-100), 40));
            await data.SaveChangesAsync();
        }
        var admin = await app.ApiClientAsync("admin");
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/v1/scoring/settings", new { margin = 0.5 })).StatusCode);
        var before = await marketer.GetStringAsync("/insights/acquisition");

        var overlapping = await admin.PutAsync("/api/v1/acquisition", Json("""
            {"currency": "EUR", "sources": [{"source": "google", "amount": 660, "from": "2026-01-01", "to": "2026-02-28"},
                                            {"source": "Google", "amount": 50, "from": "2026-02-01", "to": "2026-01-01"}]}
            """));
        var saved = await admin.PutAsync("/api/v1/acquisition", Json($$"""
            {"currency": "EUR", "sources": [{"source": "google", "amount": 660, "from": "{{Day(150)}}", "to": "{{Day(91)}}"},
                                            {"source": "instagram", "amount": 100},
                                            {"source": "tv", "amount": 200, "from": "{{Day(80)}}", "to": "{{Day(50)}}"}]}
            """));
        var all = await CsvLinesAsync(marketer, "/insights/acquisition.csv");
        var window = await CsvLinesAsync(marketer, $"/insights/acquisition.csv?from={Day(115)}&to={Day(100)}");
        var googleOnly = await CsvLinesAsync(marketer, "/insights/acquisition.csv?source=Google");
        var after = await marketer.GetStringAsync("/insights/acquisition");

        Assert.Contains("No acquisition spend entered yet.", before);
        Assert.Equal(HttpStatusCode.BadRequest, overlapping.StatusCode);
        var errors = (await overlapping.ReadJsonAsync()).GetProperty("errors");
        Assert.Equal(["/sources/1/source", "/sources/1/to"], errors.EnumerateObject().Select(p => p.Name));
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Equal("source,spend,spend_currency,customers,cost_per_customer,revenue_so_far,average_predicted_value,value_currency,value_to_cost,earned_back,payback_months", all[0]);
        // google: 660 for two customers (330 each), who spent 250 so far (125 margin at 50 %) in (135 + 110) / 30.4375 customer-months
        // (330 / (125 / 8.05) = 21.3 months to pay back), and are worth 200 on average.
        Assert.Equal("google,660,EUR,2,330,250,200,EUR,0.61,0.19,21.3", all[1]);
        Assert.Equal("instagram,100,EUR,1,100,40,,EUR,,0.2,16.4", all[2]); // not scored: no value to compare; 100 / (20 / 3.29)
        Assert.Equal("tv,200,EUR,0,,0,,EUR,,0,", all[3]);
        Assert.Equal(4, all.Length);
        // Customers who arrived 115 to 100 days ago: 16 of google's 60 days of spend (176) against the one google customer then.
        Assert.StartsWith("google,176,EUR,1,176,50,100,EUR,0.57,0.14,", window[1]);
        Assert.StartsWith("instagram,100,EUR,1,100,40,", window[2]);
        Assert.StartsWith("tv,0,EUR,0,", window[3]);
        Assert.Equal(2, googleOnly.Length);
        Assert.StartsWith("google,660,EUR,2,", googleOnly[1]);
        Assert.DoesNotContain("No acquisition spend entered yet.", after);
        Assert.Contains("data-test=\"acquisition\"", after);
        Assert.Contains("21.3 months", after);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task After_scoring_the_fit_check_revenue_and_cohorts_export_as_csv_and_the_value_page_charts_them(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await ScoringTests.SeedAsync(app);
        var run = await ScoringTests.RunAsync(await app.ApiClientAsync("write"));
        var holdout = run.GetProperty("diagnostics").GetProperty("holdout");
        var marketer = await app.SignedInAsync(Role.Marketer);

        var fit = await CsvLinesAsync(marketer, "/insights/holdout.csv");
        var revenue = await CsvLinesAsync(marketer, "/insights/revenue.csv?from=2026-01-01&to=2026-03-31");
        var cohorts = await CsvLinesAsync(marketer, "/insights/cohorts.csv?from=2025-12-01&to=2026-02-28");
        var page = await marketer.GetStringAsync("/insights/value");
        var overview = await marketer.GetStringAsync("/insights");

        Assert.Equal("group,purchases_before,week,customers,actual,expected", fit[0]);
        Assert.Equal(holdout.GetProperty("rows").GetArrayLength(), fit.Count(l => l.StartsWith("by_purchases_before,", StringComparison.Ordinal)));
        var weeks = fit.Where(l => l.StartsWith("cumulative_by_week,", StringComparison.Ordinal)).Select(l => l.Split(',')).ToList();
        Assert.True(weeks.Count > 1);
        Assert.Equal(holdout.GetProperty("actual").GetDouble(), double.Parse(weeks[^1][4], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(weeks.Zip(weeks.Skip(1)).All(p => double.Parse(p.First[4], System.Globalization.CultureInfo.InvariantCulture) <= double.Parse(p.Second[4], System.Globalization.CultureInfo.InvariantCulture)));

        Assert.Equal("month,front_end,back_end,first_orders,later_orders,currency", revenue[0]);
        Assert.Equal(["2026-01", "2026-02", "2026-03"], revenue.Skip(1).Select(l => l.Split(',')[0]));
        await using (var data = app.NewDb())
        {
            var from = Utc(2026, 1, 1);
            var to = Utc(2026, 4, 1);
            var total = (await data.Orders.Where(o => o.PlacedAt >= from && o.PlacedAt < to).Select(o => o.Total).ToListAsync()).Sum();
            var exported = revenue.Skip(1).Sum(l => decimal.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture) + decimal.Parse(l.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(total, exported);
        }
        Assert.StartsWith("cohort,customers,month_0,", cohorts[0]);
        Assert.All(cohorts.Skip(1), l => Assert.Matches("^(2025-12|2026-01|2026-02),", l));

        Assert.Contains("Expected against actual, by purchases before", page);
        Assert.Contains("Expected against actual, week by week", page);
        Assert.Contains("/insights/holdout.csv", page);
        Assert.Contains("/insights/value.csv?by=segment", page);
        Assert.Contains("No saved segments yet.", page);
        // The overview's revenue and cohorts export the months it shows: the last 12 up to this month.
        var thisMonth = new DateOnly(app.Time.GetUtcNow().Year, app.Time.GetUtcNow().Month, 1);
        var months = $"from={thisMonth.AddMonths(-11):yyyy-MM-dd}&amp;to={thisMonth.AddMonths(1).AddDays(-1):yyyy-MM-dd}";
        Assert.Contains($"/insights/revenue.csv?{months}", overview);
        Assert.Contains($"/insights/cohorts.csv?{months}", overview);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_calculator_starts_from_the_last_year_of_orders_and_says_where_each_number_comes_from(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var marketer = await app.SignedInAsync(Role.Marketer); // sets the clock to the wall clock's
        var now = app.Time.GetUtcNow().UtcDateTime;
        await using (var data = app.NewDb())
        {
            var c1 = Person("c1@example.com", now.AddDays(-500), null, Stage.RePurchase, null);
            var c2 = Person("c2@example.com", now.AddDays(-60), null, Stage.Purchase, null);
            var c3 = Person("c3@example.com", now.AddDays(-400), null, Stage.Purchase, null);
            data.Contacts.AddRange(c1, c2, c3);
            data.Orders.AddRange(
                Bought(c1, now.AddDays(-90), 100), Bought(c1, now.AddDays(-30), 50), Bought(c2, now.AddDays(-60), 30), // last 12 months: 3 orders, 2 customers
                Bought(c1, now.AddDays(-500), 70), Bought(c3, now.AddDays(-400), 90), // 13–24 months ago: c1 came back, c3 did not
                Bought(c3, now.AddDays(-29), 999, "USD")); // another currency: left out
            await data.SaveChangesAsync();
        }

        await using var db2 = app.NewDb();
        var defaults = await CalculatorDefaults.LoadAsync(db2, app.Time.GetUtcNow().UtcDateTime, CancellationToken.None);
        var html = WebUtility.HtmlDecode(await marketer.GetStringAsync("/insights/calculator"));

        Assert.Equal("EUR", defaults.Currency);
        Assert.Equal(60, defaults.AverageOrderValue.Value);
        Assert.Equal(1.5, defaults.PurchasesPerYear.Value);
        Assert.Equal(50, defaults.RetentionPercent.Value);
        Assert.Contains("the average of your 3 orders in EUR in the last 12 months", html);
        Assert.Contains("1 of the 2 customers who bought 13–24 months ago bought again", html);
        // 60 × 1.5 × margin, at 50 % retention: the value shown is the calculator's own.
        var expected = ClvCalculator.Compute(new CalculatorInput(60, 1.5, defaults.MarginPercent.Value, false, 50, null, defaults.DiscountPercent.Value))!.Value;
        Assert.Contains(Clientele.Web.Format.Money((decimal)Math.Round(expected, 2), "EUR"), html);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_funnel_export_narrows_to_one_source_or_segment(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        Guid vip;
        await using (var data = app.NewDb())
        {
            var a = Person("a@example.com", Utc(2026, 5, 10), "google", Stage.Lead, null);
            var b = Person("b@example.com", Utc(2026, 5, 11), "Google", Stage.Lead, null);
            var c = Person("c@example.com", Utc(2026, 5, 12), "instagram", Stage.Lead, null);
            data.Contacts.AddRange(a, b, c);
            var segment = new Segment { Id = Guid.CreateVersion7(), Name = "Friends", Static = true, CreatedAt = Utc(2026, 1, 1), UpdatedAt = Utc(2026, 1, 1) };
            vip = segment.Id;
            data.Segments.Add(segment);
            data.SegmentMembers.Add(new SegmentMember { SegmentId = segment.Id, ContactId = c.Id, Since = Utc(2026, 5, 12) });
            await data.SaveChangesAsync();
        }
        var marketer = await app.SignedInAsync(Role.Marketer);

        var all = (await marketer.GetStringAsync("/insights/funnel.csv?from=2026-05-01T00:00:00Z&to=2026-05-31")).Split('\n');
        var google = (await marketer.GetStringAsync("/insights/funnel.csv?from=2026-05-01&to=2026-05-31&source=google")).Split('\n');
        var friends = (await marketer.GetStringAsync($"/insights/funnel.csv?from=2026-05-01&to=2026-05-31&segment={vip}")).Split('\n');
        var bad = await marketer.GetAsync("/insights/funnel.csv?segment=nope");

        Assert.StartsWith("Lead,3,", all[1]);
        Assert.StartsWith("Lead,2,", google[1]);
        Assert.StartsWith("Lead,1,", friends[1]);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        Assert.True((await bad.ReadJsonAsync()).GetProperty("errors").TryGetProperty("query:segment", out _));
    }

    private static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
