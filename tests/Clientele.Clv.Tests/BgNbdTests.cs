using System.Diagnostics;

namespace Clientele.Clv.Tests;

public sealed class BgNbdTests
{
    // Fader, Hardie & Lee (2005), CDNOW sample, weeks.
    private static readonly BgNbdParameters Published = new(0.243, 4.414, 0.793, 2.426);

    private static readonly Lazy<FitResult<BgNbdParameters>> CdnowFit = new(() => BgNbd.Fit(CdnowData.SummaryData()));

    [Fact]
    public void Fit_on_cdnow_reproduces_the_published_estimates()
    {
        var fit = CdnowFit.Value;
        Assert.True(fit.Converged);
        Assert.Equal(0.243, fit.Params.R, 3);
        Assert.Equal(4.414, fit.Params.Alpha, 3);
        Assert.Equal(0.793, fit.Params.A, 3);
        Assert.Equal(2.426, fit.Params.B, 3);
        Assert.Equal(-9582.4, fit.LogLikelihood, 1);
        Assert.True(fit.Iterations > 0);
    }

    [Fact]
    public void Fit_on_cdnow_is_fast()
    {
        var data = CdnowData.SummaryData();
        BgNbd.Fit(data);
        var sw = Stopwatch.StartNew();
        BgNbd.Fit(data);
        Assert.True(sw.ElapsedMilliseconds < 2000, $"took {sw.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void Grouped_and_ungrouped_data_give_the_same_likelihood()
    {
        var rows = CdnowData.Summary();
        var ungrouped = RfmData.Create(
            rows.Select(r => (double)r.X).ToArray(), rows.Select(r => r.Tx).ToArray(), rows.Select(r => r.T).ToArray());
        var grouped = CdnowData.SummaryData();
        Assert.Equal(BgNbd.LogLikelihood(Published, ungrouped), BgNbd.LogLikelihood(Published, grouped), 6);
        var single = rows.Sum(r => BgNbd.LogLikelihood(Published, r.X, r.Tx, r.T));
        Assert.Equal(single, BgNbd.LogLikelihood(Published, ungrouped), 6);
    }

    [Fact]
    public void Penalty_shrinks_the_parameters()
    {
        var penalised = BgNbd.Fit(CdnowData.SummaryData(), new FitOptions(Penalty: 0.01));
        var plain = CdnowFit.Value;
        Assert.True(penalised.Params.B < plain.Params.B);
        Assert.True(penalised.LogLikelihood < plain.LogLikelihood);
    }

    [Fact]
    public void Conditional_expectation_matches_the_paper_example()
    {
        // FHL (2005) section 5: customer with x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in the next 39 weeks.
        Assert.Equal(1.226, BgNbd.ConditionalExpectedPurchases(Published, 39, 2, 30.43, 38.86), 3);
    }

    [Fact]
    public void Extreme_customers_do_not_break_the_likelihood()
    {
        var ll = BgNbd.LogLikelihood(Published, 221, 103.43, 103.57);
        Assert.True(double.IsFinite(ll));
        Assert.True(ll < 0);
        var alive = BgNbd.ProbabilityAlive(Published, 221, 103.43, 103.57);
        Assert.InRange(alive, 0.0, 1.0);
        Assert.True(double.IsFinite(BgNbd.ConditionalExpectedPurchases(Published, 52, 221, 103.43, 103.57)));
        Assert.Equal(0.0, BgNbd.ProbabilityAlive(Published, 221, 1, 103.57), 12);
    }

    [Fact]
    public void Probability_alive_falls_when_a_buyer_goes_quiet()
    {
        var recent = BgNbd.ProbabilityAlive(Published, 5, 38, 38.86);
        var quiet = BgNbd.ProbabilityAlive(Published, 5, 10, 38.86);
        Assert.True(recent > 0.8);
        Assert.True(quiet < recent);
        Assert.Equal(1.0, BgNbd.ProbabilityAlive(Published, 0, 0, 38.86));
    }

    [Fact]
    public void Purchase_count_distribution_sums_to_one_and_has_the_expected_mean()
    {
        foreach (var t in new[] { 1.0, 39, 78 })
        {
            var total = 0.0;
            var mean = 0.0;
            for (var n = 0; n < 400; n++)
            {
                var pn = BgNbd.ProbabilityOfPurchases(Published, t, n);
                total += pn;
                mean += n * pn;
            }
            Assert.Equal(1.0, total, 6);
            Assert.Equal(BgNbd.ExpectedPurchases(Published, t), mean, 4);
        }
    }

    [Fact]
    public void A_customer_seen_for_an_instant_without_repeats_expects_what_a_new_customer_expects()
    {
        Assert.Equal(
            BgNbd.ExpectedPurchases(Published, 52),
            BgNbd.ConditionalExpectedPurchases(Published, 52, 0, 0, 1e-9),
            6);
    }

    [Theory]
    // Hardie's BG/NBD spreadsheet for CDNOW, which uses the unrounded estimates.
    [InlineData(0.1429, 0.0078)]
    [InlineData(1.0, 0.0532)]
    [InlineData(3.0, 0.1506)]
    [InlineData(31.8571, 1.0405)]
    [InlineData(32.0, 1.0437)]
    [InlineData(78.0, 1.8576)]
    public void New_customer_expectation_matches_the_published_spreadsheet(double t, double expected)
    {
        // Within half a unit in the third decimal; the sheet's inputs differ slightly in rounding.
        Assert.InRange(BgNbd.ExpectedPurchases(CdnowFit.Value.Params, t), expected - 5e-4, expected + 5e-4);
    }

    [Fact]
    public void Purchase_count_probabilities_match_the_btyd_package()
    {
        // BTYD (R) documentation: P(X(2) = 10) and P(X(30) = n) for n = 11 … 20 at the published estimates.
        Assert.Equal(1.07869e-07, BgNbd.ProbabilityOfPurchases(Published, 2, 10), 10);
        double[] expected = [0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638,
            0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260];
        for (var n = 11; n <= 20; n++)
        {
            var actual = BgNbd.ProbabilityOfPurchases(Published, 30, n);
            Assert.True(Math.Abs(actual - expected[n - 11]) < 1e-6 * expected[n - 11] + 1e-9, $"n={n}: {actual} vs {expected[n - 11]}");
        }
    }

    [Fact]
    public void Expected_purchases_of_the_cohort_match_the_fitted_cohort_size_scale()
    {
        // With these estimates a new customer makes about 1.5 repeat purchases in 78 weeks (FHL 2005, Figure 1 scale).
        var e78 = BgNbd.ExpectedPurchases(Published, 78);
        Assert.InRange(e78, 1.0, 2.0);
    }
}
