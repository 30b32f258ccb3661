namespace Clientele.Clv.Tests;

public sealed class RfmSummaryTests
{
    private static readonly DateOnly CalibrationEnd = new(1997, 9, 30);

    [Fact]
    public void Cdnow_sample_summary_matches_the_published_summary_for_every_customer()
    {
        var built = RfmSummary.Build(CdnowData.SampleTransactions(), CalibrationEnd, TimeUnit.Weeks)
            .ToDictionary(c => c.CustomerId);
        var published = CdnowData.Summary();

        Assert.Equal(2357, published.Count);
        Assert.Equal(published.Count, built.Count);
        foreach (var p in published)
        {
            var c = built[p.Id];
            Assert.Equal(p.X, c.Frequency);
            Assert.Equal(p.Tx, Math.Round(c.Recency, 2), 9);
            Assert.Equal(p.T, Math.Round(c.T, 2), 9);
        }
    }

    [Fact]
    public void Cdnow_monetary_value_is_the_mean_of_repeat_purchases()
    {
        var built = RfmSummary.Build(CdnowData.SampleTransactions(), CalibrationEnd, TimeUnit.Weeks)
            .ToDictionary(c => c.CustomerId);
        foreach (var p in CdnowData.SummaryWithTransactions())
        {
            var c = built[p.Id];
            Assert.Equal(p.X, c.Frequency);
            // Printed to 2 dp; halves may have been rounded either way.
            Assert.InRange(c.Monetary, p.Zbar - 0.005 - 1e-9, p.Zbar + 0.005 + 1e-9);
        }
    }

    [Fact]
    public void Same_day_purchases_merge_and_the_first_purchase_is_not_a_repeat()
    {
        var d = new DateOnly(2024, 1, 1);
        var tx = new[]
        {
            new Transaction("a", d, 10m),
            new Transaction("a", d, 5m),
            new Transaction("a", d.AddDays(7), 20m),
            new Transaction("a", d.AddDays(7), 2m),
            new Transaction("a", d.AddDays(14), 30m),
        };
        var a = Assert.Single(RfmSummary.Build(tx, d.AddDays(28), TimeUnit.Weeks));
        Assert.Equal(2, a.Frequency);
        Assert.Equal(2.0, a.Recency, 12);
        Assert.Equal(4.0, a.T, 12);
        Assert.Equal(26.0, a.Monetary, 12);
        Assert.Null(a.HoldoutFrequency);
    }

    [Fact]
    public void One_time_buyers_have_zero_frequency_recency_and_monetary_value()
    {
        var d = new DateOnly(2024, 3, 1);
        var a = Assert.Single(RfmSummary.Build([new Transaction("a", d, 99m)], d.AddDays(10), TimeUnit.Days));
        Assert.Equal(0, a.Frequency);
        Assert.Equal(0.0, a.Recency);
        Assert.Equal(10.0, a.T);
        Assert.Equal(0.0, a.Monetary);
    }

    [Fact]
    public void Later_purchases_go_to_the_holdout_and_late_first_buyers_are_left_out()
    {
        var d = new DateOnly(2024, 1, 1);
        var end = d.AddDays(30);
        var tx = new[]
        {
            new Transaction("a", new DateTime(2024, 1, 1, 15, 30, 0, DateTimeKind.Unspecified), 10m),
            new Transaction("a", end, 4m),
            new Transaction("a", end.AddDays(1), 5m),
            new Transaction("a", end.AddDays(1), 6m),
            new Transaction("a", end.AddDays(20), 7m),
            new Transaction("a", end.AddDays(40), 100m),
            new Transaction("b", end.AddDays(2), 50m),
        };
        var a = Assert.Single(RfmSummary.Build(tx, end, TimeUnit.Days, end.AddDays(30)));
        Assert.Equal("a", a.CustomerId);
        Assert.Equal(1, a.Frequency);
        Assert.Equal(30.0, a.Recency);
        Assert.Equal(2, a.HoldoutFrequency);
        Assert.Equal(18.0, a.HoldoutMonetary);
        Assert.Equal(30.0, RfmSummary.HoldoutLength(end, end.AddDays(30), TimeUnit.Days));
    }

    [Fact]
    public void Months_are_a_mean_gregorian_month()
    {
        var d = new DateOnly(2023, 1, 1);
        var a = Assert.Single(RfmSummary.Build([new Transaction("a", d, 1m)], d.AddDays(365), TimeUnit.Months));
        Assert.Equal(365 / 30.4375, a.T, 12);
    }

    [Fact]
    public void Identical_rows_are_grouped_with_their_count_as_weight()
    {
        var data = RfmData.Grouped([(0, 0, 10, 1), (1, 2, 10, 1), (0, 0, 10, 1), (0, 0, 12, 1)]);
        Assert.Equal(3, data.Count);
        Assert.Equal(4.0, data.TotalWeight);
        Assert.Equal(2.0, data.Weight[0]);

        var full = CdnowData.SummaryData();
        Assert.Equal(2357.0, full.TotalWeight);
        Assert.True(full.Count < 2357);
    }

    [Fact]
    public void Model_input_built_from_summaries_matches_the_published_summary()
    {
        var d = new DateOnly(1997, 9, 30);
        var built = RfmSummary.Build([.. CdnowData.SampleTransactions(), new Transaction("new", d, 5m)], d, TimeUnit.Weeks);
        var data = RfmData.FromSummaries(built);
        Assert.Equal(2357.0, data.TotalWeight);
        var p = new BgNbdParameters(0.243, 4.414, 0.793, 2.426);
        Assert.Equal(BgNbd.LogLikelihood(p, CdnowData.SummaryData()), BgNbd.LogLikelihood(p, data), 0);
        Assert.Equal(2357, RfmData.FromSummaries(built, group: false).Count);
    }

    [Fact]
    public void Impossible_rows_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RfmData.Create([1], [5], [4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => RfmData.Create([-1], [0], [4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => RfmData.Create([0], [0], [0]));
    }
}
