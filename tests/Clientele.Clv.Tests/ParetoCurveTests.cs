namespace Clientele.Clv.Tests;

public sealed class ParetoCurveTests
{
    [Fact]
    public void Equal_spenders_hold_their_own_share()
    {
        var revenue = Enumerable.Repeat(10.0, 50).ToArray();
        Assert.Equal(0.2, ParetoCurve.TopTwentyPercentShare(revenue), 12);
        Assert.All(ParetoCurve.Compute(revenue), p => Assert.Equal(p.CustomerShare, p.RevenueShare, 12));
        Assert.Equal(0.0, ParetoCurve.Gini(revenue), 12);
        Assert.Equal(0.8, ParetoCurve.CustomerShareFor(revenue, 0.8), 12);
    }

    [Fact]
    public void One_customer_with_everything()
    {
        double[] revenue = [0, 0, 100, 0, 0];
        Assert.Equal(1.0, ParetoCurve.TopTwentyPercentShare(revenue), 12);
        Assert.Equal(0.5, ParetoCurve.TopShare(revenue, 0.1), 12);
        Assert.Equal(1 - 1.0 / 5, ParetoCurve.Gini(revenue), 12);
        Assert.Equal(0.16, ParetoCurve.CustomerShareFor(revenue, 0.8), 12);
    }

    [Fact]
    public void Curve_interpolates_between_customers_in_the_order_asked()
    {
        double[] revenue = [10, 40, 20, 30];
        var points = ParetoCurve.Compute(revenue, [0.5, 0.25, 0.125, 1, 0]);
        Assert.Equal([0.5, 0.25, 0.125, 1, 0], points.Select(p => p.CustomerShare));
        Assert.Equal(0.7, points[0].RevenueShare, 12);
        Assert.Equal(0.4, points[1].RevenueShare, 12);
        Assert.Equal(0.2, points[2].RevenueShare, 12);
        Assert.Equal(1.0, points[3].RevenueShare, 12);
        Assert.Equal(0.0, points[4].RevenueShare, 12);
        Assert.Equal(0.5, ParetoCurve.CustomerShareFor(revenue, 0.7), 12);
    }

    [Fact]
    public void Curve_is_concave_and_monotone_on_cdnow()
    {
        var revenue = CdnowData.SampleTransactions()
            .GroupBy(t => t.CustomerId)
            .Select(g => (double)g.Sum(t => t.Amount))
            .ToList();
        Assert.Equal(2357, revenue.Count);
        var points = ParetoCurve.Compute(revenue, [.. Enumerable.Range(0, 101).Select(i => i / 100.0)]);
        for (var i = 1; i < points.Count; i++)
        {
            Assert.True(points[i].RevenueShare >= points[i - 1].RevenueShare);
            if (i > 1)
            {
                Assert.True(points[i].RevenueShare - points[i - 1].RevenueShare <= points[i - 1].RevenueShare - points[i - 2].RevenueShare + 1e-9);
            }
        }
        // CDNOW spend is concentrated but not 80/20: the top fifth of the 2,357 customers spent 67 % of the total.
        Assert.Equal(0.674, ParetoCurve.TopTwentyPercentShare(revenue), 3);
        var gini = ParetoCurve.Gini(revenue);
        Assert.InRange(gini, 0.5, 0.8);
        Assert.Equal(0.2, ParetoCurve.CustomerShareFor(revenue, ParetoCurve.TopTwentyPercentShare(revenue)), 6);
    }

    [Fact]
    public void Degenerate_and_invalid_input()
    {
        Assert.Equal(0.0, ParetoCurve.TopTwentyPercentShare([]));
        Assert.Equal(0.0, ParetoCurve.TopTwentyPercentShare([0, 0, 0]));
        Assert.Equal(0.0, ParetoCurve.Gini([0, 0]));
        Assert.Equal(0.0, ParetoCurve.CustomerShareFor([0, 0], 0.8));
        Assert.Throws<ArgumentOutOfRangeException>(() => ParetoCurve.TopTwentyPercentShare([1, -1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ParetoCurve.TopShare([1, 2], 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => ParetoCurve.Compute([1, double.NaN]));
    }
}
