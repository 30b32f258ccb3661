namespace Clientele.Clv.Tests;

public sealed class ParetoNbdTests
{
    // Fader & Hardie, "A Note on Deriving the Pareto/NBD Model and Related Expressions" (2005), CDNOW sample, weeks.
    private static readonly ParetoNbdParameters Published = new(0.553, 10.578, 0.606, 11.669);

    [Fact]
    public void Fit_on_cdnow_reproduces_the_published_estimates()
    {
        var fit = ParetoNbd.Fit(CdnowData.SummaryData());
        Assert.True(fit.Converged);
        Assert.Equal(0.553, fit.Params.R, 3);
        Assert.Equal(10.58, fit.Params.Alpha, 2);
        Assert.Equal(0.606, fit.Params.S, 3);
        Assert.Equal(11.67, fit.Params.Beta, 2);
        Assert.Equal(-9595.0, fit.LogLikelihood, 1);
    }

    [Fact]
    public void Single_customer_likelihoods_add_up_to_the_data_likelihood()
    {
        var rows = CdnowData.Summary();
        var sum = rows.Sum(r => ParetoNbd.LogLikelihood(Published, r.X, r.Tx, r.T));
        Assert.Equal(sum, ParetoNbd.LogLikelihood(Published, CdnowData.SummaryData()), 6);
    }

    [Fact]
    public void Both_branches_of_the_likelihood_agree_where_they_meet()
    {
        // α = β is where the note switches formula; the likelihood is continuous there.
        var below = new ParetoNbdParameters(0.5, 10 - 1e-7, 0.6, 10);
        var above = new ParetoNbdParameters(0.5, 10 + 1e-7, 0.6, 10);
        Assert.Equal(ParetoNbd.LogLikelihood(below, 3, 20, 38), ParetoNbd.LogLikelihood(above, 3, 20, 38), 5);
    }

    [Fact]
    public void Extreme_customers_do_not_break_the_likelihood()
    {
        var ll = ParetoNbd.LogLikelihood(Published, 221, 103.43, 103.57);
        Assert.True(double.IsFinite(ll));
        Assert.InRange(ParetoNbd.ProbabilityAlive(Published, 221, 103.43, 103.57), 0.0, 1.0);
        Assert.True(double.IsFinite(ParetoNbd.ConditionalExpectedPurchases(Published, 52, 221, 103.43, 103.57)));
        // A heavy buyer silent for most of the period is almost surely gone.
        Assert.True(ParetoNbd.ProbabilityAlive(Published, 50, 10, 103.57) < 1e-6);
    }

    [Fact]
    public void Probability_alive_and_conditional_expectation_are_sensible()
    {
        var active = ParetoNbd.ProbabilityAlive(Published, 2, 30.43, 38.86);
        var lapsed = ParetoNbd.ProbabilityAlive(Published, 2, 5, 38.86);
        Assert.InRange(active, 0.5, 1.0);
        Assert.True(lapsed < active);
        var e = ParetoNbd.ConditionalExpectedPurchases(Published, 39, 2, 30.43, 38.86);
        Assert.InRange(e, 0.5, 2.0);
        Assert.Equal(
            ParetoNbd.ExpectedPurchases(Published, 52),
            ParetoNbd.ConditionalExpectedPurchases(Published, 52, 0, 0, 1e-10),
            6);
    }

    [Fact]
    public void Expected_purchases_for_s_equal_to_one_is_the_limit()
    {
        var near = new ParetoNbdParameters(0.5, 10, 1 + 1e-9, 12);
        var at = new ParetoNbdParameters(0.5, 10, 1, 12);
        Assert.Equal(ParetoNbd.ExpectedPurchases(near, 39), ParetoNbd.ExpectedPurchases(at, 39), 6);
    }
}
