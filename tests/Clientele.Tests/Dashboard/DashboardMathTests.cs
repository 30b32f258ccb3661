using Clientele.Dashboard;
using Clientele.Lifecycle;

namespace Clientele.Tests.Dashboard;

/// <summary>The dashboard's pure pieces: trends against the period before, falling conversion, value against cost, the value spread.</summary>
public sealed class DashboardMathTests
{
    private static readonly DateOnly Today = new(2026, 6, 1);

    private static SalesDay Day(int daysAgo, int first, int second, int later, decimal front, decimal back, string currency = "EUR") =>
        new(Today.AddDays(-daysAgo), currency, first, second, later, front, back);

    [Fact]
    public void Sales_figures_compare_the_last_30_days_with_the_30_before()
    {
        var days = new List<SalesDay>
        {
            Day(50, first: 1, second: 0, later: 0, front: 40, back: 0),    // cleo's first order
            Day(45, first: 0, second: 1, later: 1, front: 0, back: 25),    // cleo again: a repeat customer before the period
            Day(40, first: 1, second: 0, later: 0, front: 50, back: 0),    // ann's first
            Day(10, first: 0, second: 1, later: 1, front: 0, back: 30),    // ann again
            Day(5, first: 1, second: 0, later: 0, front: 20, back: 0),     // bob
            Day(3, first: 1, second: 0, later: 0, front: 10, back: 0),     // dan
            Day(2, first: 0, second: 1, later: 1, front: 0, back: 15),     // dan again
            Day(2, first: 1, second: 0, later: 0, front: 99, back: 0, currency: "USD"), // eve, in another currency
            Day(-1, first: 5, second: 0, later: 0, front: 500, back: 0),   // tomorrow: not counted
        };

        var kpis = Trends.Sales(days, "EUR", Today);

        Assert.Equal(new Change(5, 2), kpis.Customers);
        Assert.Equal(new Change(3, 2), kpis.NewCustomers);
        Assert.Equal(3.0 / 5, kpis.RepeatRate.Current, 9);
        Assert.Equal(0.5, kpis.RepeatRate.Previous!.Value, 9);
        Assert.Equal(new Change(30, 90), kpis.FrontEnd);
        Assert.Equal(new Change(45, 25), kpis.BackEnd);
        Assert.Equal(80, kpis.BackEnd.Relative!.Value * 100, 6);
        Assert.Equal(0.6, kpis.BackEndShare!.Value, 9);
    }

    [Fact]
    public void A_business_younger_than_the_period_has_no_earlier_figures_to_compare()
    {
        var kpis = Trends.Sales([Day(3, 2, 1, 1, 40, 10)], "EUR", Today);

        Assert.Equal(new Change(2, null), kpis.Customers);
        Assert.Null(kpis.Customers.Delta);
        Assert.Null(kpis.RepeatRate.Previous);
        Assert.Equal(0.5, kpis.RepeatRate.Current);
        Assert.Null(kpis.FrontEnd.Relative);
    }

    [Fact]
    public void Value_figures_compare_with_the_latest_day_kept_a_period_ago_and_history_keeps_one_figure_a_day()
    {
        var history = new List<ValueDay>
        {
            new(Today.AddDays(-40), 50, 30, 20, 100, 10_000),
            new(Today.AddDays(-31), 60, 25, 15, 100, 12_000),
            new(Today.AddDays(-20), 70, 20, 10, 100, 14_000), // too recent to compare with
        };
        var today = new ValueDay(Today, 80, 12, 8, 100, 15_000);

        var kpis = Trends.Value(today, history, Today);

        Assert.Equal(new Change(80, 60), kpis.Active);
        Assert.Equal(new Change(12, 25), kpis.AtRisk);
        Assert.Equal(new Change(150, 120), kpis.AverageValue);
        Assert.Equal(-13, kpis.AtRisk.Delta);
        Assert.Null(Trends.Value(today, [], Today).Active.Previous);

        var kept = Trends.Remember(Trends.Remember(history, today), today with { Active = 81 });
        Assert.Equal(4, kept.Count);
        Assert.Equal(81, kept[^1].Active);
        Assert.DoesNotContain(Trends.Remember(history, today, keepDays: 35), h => h.Day == Today.AddDays(-40));
    }

    [Fact]
    public void A_journey_is_falling_when_its_last_fortnight_converts_a_fifth_less_than_the_one_before_with_enough_entrants()
    {
        var welcome = new JourneyConversion(Guid.NewGuid(), "Welcome", Entered: 100, Reached: 20, EnteredBefore: 100, ReachedBefore: 33);
        var winBack = new JourneyConversion(Guid.NewGuid(), "Win-back", 50, 5, 40, 20);
        var steady = new JourneyConversion(Guid.NewGuid(), "Thank you", 100, 30, 100, 33);     // 9 % lower: noise
        var tiny = new JourneyConversion(Guid.NewGuid(), "Trial", 5, 0, 8, 4);                 // too few entrants to say
        var rising = new JourneyConversion(Guid.NewGuid(), "Birthday", 40, 20, 40, 10);
        var neverConverted = new JourneyConversion(Guid.NewGuid(), "New", 40, 0, 40, 0);

        var falling = ConversionTrend.Falling([welcome, winBack, steady, tiny, rising, neverConverted]);

        Assert.Equal(["Win-back", "Welcome"], falling.Select(j => j.Name)); // 50 % → 10 % is the steeper fall
        Assert.Equal(0.2, falling[1].Rate);
        Assert.Equal(0.33, falling[1].RateBefore);
    }

    [Fact]
    public void Customer_value_is_set_against_cost_per_customer_for_each_source_with_spend()
    {
        var sources = new[]
        {
            new SourceValue("google", Customers: 100, Scored: 80, TotalValue: 24_000),   // 300 a customer
            new SourceValue("Instagram", 40, 40, 4_000),                                   // 100 a customer
            new SourceValue("(none)", 500, 400, 20_000),
        };
        var spend = new AcquisitionSpend("eur", [new("Google ", 10_000), new("instagram", 6_000), new("podcast", 2_000)]).Normalized();

        var rows = AcquisitionReport.Compare(sources, spend, "EUR");

        Assert.Equal(["instagram", "google", "podcast", "(none)"], rows.Select(r => r.Source));
        var instagram = rows[0];
        Assert.Equal((40, 100m, 6_000m, 150m), (instagram.Customers, instagram.AverageValue!.Value, instagram.Spend!.Value, instagram.CostPerCustomer!.Value));
        Assert.Equal(0.67, instagram.ValueToCost);
        Assert.Equal(3.0, rows[1].ValueToCost); // 300 against 10,000 / 100
        Assert.Equal((0, null, null), (rows[2].Customers, rows[2].CostPerCustomer, rows[2].ValueToCost));
        Assert.Null(rows[3].Spend);
        Assert.All(AcquisitionReport.Compare(sources, spend, "USD"), r => Assert.Null(r.ValueToCost)); // different currencies are not compared
    }

    [Fact]
    public void Acquisition_spend_says_what_is_wrong_and_where()
    {
        var spend = new AcquisitionSpend("euro", [new("google", 100), new(" ", 5), new("GOOGLE", 1), new("tv", -3)]);

        var problems = spend.Problems();

        Assert.Equal(["/currency", "/sources/1/source", "/sources/2/source", "/sources/3/amount"], problems.Select(p => p.Field));
        Assert.Contains("listed twice", problems[2].Message);
        Assert.Empty(new AcquisitionSpend(null, []).Problems());
    }

    [Fact]
    public void Predicted_value_is_spread_over_round_bars_with_the_top_five_per_cent_in_the_last()
    {
        var values = Enumerable.Range(0, 95).Select(i => (decimal)(i * 10)).Concat([5_000m, 6_000m, 7_000m, 8_000m, 9_000m]).ToList();

        var bins = ClvHistogram.Bins(values);

        Assert.Equal(100m, bins[0].To); // the 95th percentile (940) over ten bars, rounded up to 100
        Assert.Equal(10, bins[0].Customers);
        Assert.Equal(11, bins.Count);
        Assert.Equal((1_000m, (decimal?)null, 5), (bins[^1].From, bins[^1].To, bins[^1].Customers));
        Assert.Equal(values.Count, bins.Sum(b => b.Customers));
        Assert.Empty(ClvHistogram.Bins([]));
        Assert.Equal([0.01m, 0.2m, 5m, 500m], new[] { 0m, 0.15m, 4.2m, 320m }.Select(ClvHistogram.RoundWidth));
    }

    [Fact]
    public void Sales_are_tallied_per_day_with_each_customers_first_order_as_front_end()
    {
        var tally = new RevenueSplit.Tally();
        var d1 = new DateTime(2026, 5, 1, 10, 0, 0, DateTimeKind.Utc);
        tally.AddCustomer([(d1, 10m, "EUR"), (d1.AddHours(2), 5m, "EUR"), (d1.AddDays(3), 7m, "EUR")]);
        tally.AddCustomer([(d1.AddHours(1), 20m, "EUR")]);

        var days = tally.Days();

        Assert.Equal([new SalesDay(new DateOnly(2026, 5, 1), "EUR", 2, 1, 1, 30, 5), new SalesDay(new DateOnly(2026, 5, 4), "EUR", 0, 0, 1, 0, 7)], days);
        Assert.Equal(new RevenueMonth(new DateOnly(2026, 5, 1), 30, 12, 2, 2), Assert.Single(RevenueSplit.Months(days, "EUR", new DateOnly(2026, 5, 1), new DateOnly(2026, 5, 1))));
    }

    [Fact]
    public void Orders_read_in_any_order_come_out_one_customer_at_a_time_earliest_first()
    {
        Guid ann = Guid.NewGuid(), bob = Guid.NewGuid();
        var d = new DateTime(2026, 5, 1, 0, 0, 0, DateTimeKind.Utc);
        var placed = new PlacedOrders(4);
        placed.Add(ann, d.AddDays(9), 3, "EUR");
        placed.Add(bob, d.AddDays(2), 20, "USD");
        placed.Add(ann, d.AddDays(1), 1, "EUR");
        placed.Add(ann, d.AddDays(5), 2, "EUR");

        var customers = placed.ByCustomer().Select(c => (c.Contact, Totals: c.Orders.Select(o => o.Total).ToList(), Currencies: c.Orders.Select(o => o.Currency).ToList())).ToList();

        Assert.Equal(4, placed.Count);
        Assert.Equal([ann, bob], customers.Select(c => c.Contact));
        Assert.Equal([1m, 2m, 3m], customers[0].Totals);
        Assert.Equal(["USD"], customers[1].Currencies);
    }
}
