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

public sealed class ParetoNbdDeathTermTests
{
    [Theory]
    [InlineData(0.553, 10.58, 0.606, 11.67, 2, 30.43, 38.86)]
    [InlineData(0.553, 10.58, 0.606, 11.67, 0, 0, 38.86)]
    [InlineData(0.553, 11.67, 0.606, 10.58, 7, 3, 38.86)]
    [InlineData(2.0, 40, 1.5, 5, 1, 0.5, 20)]
    [InlineData(0.3, 5, 0.2, 40, 30, 1, 70)]
    [InlineData(1.0, 10, 1.0, 2, 3, 4, 50)]
    public void Quadrature_agrees_with_the_hypergeometric_form(double r, double alpha, double s, double beta, double x, double tx, double t)
    {
        // Same likelihood computed two ways: below the series limit the ₂F₁ form is used, the quadrature is the fallback.
        var z = alpha >= beta ? (alpha - beta) / (alpha + tx) : (beta - alpha) / (beta + tx);
        Assert.True(z <= ParetoNbd.SeriesLimit);
        var p = new ParetoNbdParameters(r, alpha, s, beta);
        var viaSeries = ParetoNbd.LogLikelihood(p, x, tx, t);
        var alive = -(r + x) * Math.Log(alpha + t) - s * Math.Log(beta + t);
        var dead = ParetoNbd.LogDeathIntegral(r, alpha, s, beta, x, tx, t);
        var viaQuadrature = LogMath.LogRising(r, x) + r * Math.Log(alpha) + s * Math.Log(beta) + LogMath.LogAddExp(alive, dead);
        Assert.Equal(viaSeries, viaQuadrature, 9);
    }

    [Fact]
    public void Likelihood_is_continuous_across_the_series_limit()
    {
        // z = (α − β)/(α + t_x) crosses the limit as β falls; the two methods must meet.
        var alpha = 10.0;
        var betaAtLimit = alpha * (1 - ParetoNbd.SeriesLimit);
        var below = ParetoNbd.LogLikelihood(new ParetoNbdParameters(0.5, alpha, 0.6, betaAtLimit * (1 + 1e-9)), 0, 0, 30);
        var above = ParetoNbd.LogLikelihood(new ParetoNbdParameters(0.5, alpha, 0.6, betaAtLimit * (1 - 1e-9)), 0, 0, 30);
        Assert.Equal(below, above, 7);
    }

    [Fact]
    public void Extreme_ratios_of_alpha_to_beta_are_handled()
    {
        var p = new ParetoNbdParameters(0.5, 1e6, 0.05, 1e-3);
        Assert.True(double.IsFinite(ParetoNbd.LogLikelihood(p, 0, 0, 50)));
        Assert.True(double.IsFinite(ParetoNbd.LogLikelihood(p, 221, 103.43, 103.57)));
        Assert.InRange(ParetoNbd.ProbabilityAlive(p, 3, 10, 50), 0.0, 1.0);
        var q = new ParetoNbdParameters(0.5, 1e-3, 3, 1e6);
        Assert.True(double.IsFinite(ParetoNbd.LogLikelihood(q, 0, 0, 50)));
        Assert.True(double.IsFinite(ParetoNbd.LogLikelihood(q, 40, 10, 50)));
    }
}
