namespace Clientele.Clv.Tests;

public sealed class GammaGammaTests
{
    private static (double[] X, double[] M) RepeatBuyers()
    {
        var rows = CdnowData.SummaryWithTransactions().Where(r => r.X > 0).ToList();
        return (rows.Select(r => (double)r.X).ToArray(), rows.Select(r => r.Zbar).ToArray());
    }

    [Fact]
    public void Fit_on_cdnow_repeat_buyers_reproduces_the_published_estimates()
    {
        var (x, m) = RepeatBuyers();
        Assert.Equal(946, x.Length);
        var fit = GammaGamma.Fit(x, m);
        Assert.True(fit.Converged);
        // Fader, Hardie & Lee (2005), "RFM and CLV": p = 6.25, q = 3.74, γ = 15.44.
        Assert.Equal(6.25, fit.Params.P, 2);
        Assert.Equal(3.74, fit.Params.Q, 2);
        // zbar in the file is rounded to cents, which moves γ by a few thousandths (15.448 here).
        Assert.InRange(fit.Params.Gamma, 15.44 - 0.01, 15.44 + 0.01);
        Assert.True(fit.Params.HasFiniteMean);
        Assert.Equal(fit.LogLikelihood, GammaGamma.LogLikelihood(fit.Params, x, m), 9);
    }

    [Fact]
    public void Fit_on_spend_computed_from_the_cdnow_transactions_reproduces_the_published_estimates()
    {
        var repeat = RfmSummary.Build(CdnowData.SampleTransactions(), new DateOnly(1997, 9, 30), TimeUnit.Weeks)
            .Where(c => c.Frequency > 0)
            .ToList();
        var fit = GammaGamma.Fit(
            repeat.Select(c => (double)c.Frequency).ToArray(), repeat.Select(c => c.Monetary).ToArray());
        Assert.True(fit.Converged);
        Assert.Equal(6.25, fit.Params.P, 2);
        Assert.Equal(3.74, fit.Params.Q, 2);
        Assert.Equal(15.44, fit.Params.Gamma, 2);
    }

    [Fact]
    public void One_time_buyers_are_ignored_by_the_fit()
    {
        var (x, m) = RepeatBuyers();
        var withZeros = GammaGamma.Fit([.. x, 0, 0], [.. m, 0, 0]);
        var without = GammaGamma.Fit(x, m);
        Assert.Equal(without.Params.P, withZeros.Params.P, 9);
    }

    [Fact]
    public void Conditional_spend_shrinks_the_customer_mean_towards_the_population_mean()
    {
        var p = new GammaGammaParameters(6.25, 3.74, 15.44);
        var population = GammaGamma.ExpectedAverageSpend(p);
        Assert.Equal(6.25 * 15.44 / 2.74, population, 9);
        Assert.Equal(population, GammaGamma.ConditionalExpectedAverageSpend(p, 0, 0), 9);
        var one = GammaGamma.ConditionalExpectedAverageSpend(p, 1, 100);
        var many = GammaGamma.ConditionalExpectedAverageSpend(p, 20, 100);
        Assert.InRange(one, population, 100);
        Assert.InRange(many, one, 100);
    }

    [Fact]
    public void Expected_spend_is_refused_when_q_is_at_most_one()
    {
        var p = new GammaGammaParameters(6.25, 0.9, 15.44);
        Assert.False(p.HasFiniteMean);
        Assert.Throws<InvalidOperationException>(() => GammaGamma.ConditionalExpectedAverageSpend(p, 3, 20));
        Assert.Throws<InvalidOperationException>(() => GammaGamma.ExpectedAverageSpend(p));
    }
}
