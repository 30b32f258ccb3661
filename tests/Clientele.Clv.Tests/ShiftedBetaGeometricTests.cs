namespace Clientele.Clv.Tests;

public sealed class ShiftedBetaGeometricTests
{
    // Fader & Hardie (2007), "How to Project Customer Retention": customers alive at the start of years 1–8
    // of a 1,000-customer cohort, fitted on years 1–7. Published: regular α = 0.704, β = 1.182 (mean first-year
    // churn 37 %, as the 631 of 1,000 renewals show); high end α = 0.668, β = 3.806.
    private static readonly double[] Regular = [1000, 631, 468, 382, 326, 289, 262, 241];
    private static readonly double[] HighEnd = [1000, 869, 743, 653, 593, 551, 517, 491];

    // Years 8–13 of the same cohorts, not used in the fit (the paper's holdout).
    private static readonly double[] RegularLater = [222, 207, 194, 183, 173];
    private static readonly double[] HighEndLater = [468, 445, 427, 409, 394];

    [Fact]
    public void Fit_reproduces_the_published_regular_estimates()
    {
        var fit = ShiftedBetaGeometric.Fit(Regular);
        Assert.True(fit.Converged);
        Assert.Equal(0.704, fit.Params.Alpha, 3);
        Assert.Equal(1.182, fit.Params.Beta, 3);
    }

    [Fact]
    public void Fit_reproduces_the_published_high_end_estimates()
    {
        var fit = ShiftedBetaGeometric.Fit(HighEnd);
        Assert.True(fit.Converged);
        Assert.Equal(0.668, fit.Params.Alpha, 3);
        Assert.Equal(3.806, fit.Params.Beta, 3);
    }

    [Fact]
    public void Projected_survival_tracks_the_holdout_years()
    {
        // The paper's point: the sBG projection stays close to the actual curve for years it did not see.
        var regular = ShiftedBetaGeometric.Fit(Regular).Params;
        var highEnd = ShiftedBetaGeometric.Fit(HighEnd).Params;
        for (var i = 0; i < RegularLater.Length; i++)
        {
            var t = Regular.Length + i;
            Assert.Equal(RegularLater[i], 1000 * ShiftedBetaGeometric.Survival(regular, t), RegularLater[i] * 0.05);
            Assert.Equal(HighEndLater[i], 1000 * ShiftedBetaGeometric.Survival(highEnd, t), HighEndLater[i] * 0.05);
        }
    }

    [Fact]
    public void Survival_churn_and_retention_are_consistent()
    {
        var p = new SbgParameters(0.668, 3.806);
        Assert.Equal(1.0, ShiftedBetaGeometric.Survival(p, 0));
        // P(T = 1) = α / (α + β); r(t) = (β + t − 1) / (α + β + t − 1).
        Assert.Equal(0.668 / 4.474, ShiftedBetaGeometric.ChurnProbability(p, 1), 12);
        Assert.Equal(3.806 / 4.474, ShiftedBetaGeometric.RetentionRate(p, 1), 12);
        var churned = 0.0;
        for (var t = 1; t <= 40; t++)
        {
            var s = ShiftedBetaGeometric.Survival(p, t);
            churned += ShiftedBetaGeometric.ChurnProbability(p, t);
            Assert.Equal(1 - churned, s, 10);
            Assert.Equal(s / ShiftedBetaGeometric.Survival(p, t - 1), ShiftedBetaGeometric.RetentionRate(p, t), 10);
            Assert.True(ShiftedBetaGeometric.RetentionRate(p, t + 1) > ShiftedBetaGeometric.RetentionRate(p, t));
        }
    }

    [Fact]
    public void Log_likelihood_counts_churners_and_censored_survivors()
    {
        var p = new SbgParameters(0.704, 1.182);
        var expected = 0.0;
        for (var t = 1; t < Regular.Length; t++)
        {
            expected += (Regular[t - 1] - Regular[t]) * Math.Log(ShiftedBetaGeometric.ChurnProbability(p, t));
        }
        expected += Regular[^1] * Math.Log(ShiftedBetaGeometric.Survival(p, Regular.Length - 1));
        Assert.Equal(expected, ShiftedBetaGeometric.LogLikelihood(p, Regular), 8);
        var fit = ShiftedBetaGeometric.Fit(Regular);
        Assert.True(fit.LogLikelihood >= ShiftedBetaGeometric.LogLikelihood(p, Regular));
        Assert.Equal(fit.LogLikelihood, ShiftedBetaGeometric.LogLikelihood(fit.Params, Regular), 9);
    }

    [Fact]
    public void Shares_fit_the_same_parameters_as_counts()
    {
        var shares = Regular.Select(n => n / 1000).ToArray();
        var fromShares = ShiftedBetaGeometric.Fit(shares).Params;
        Assert.Equal(0.704, fromShares.Alpha, 3);
        Assert.Equal(1.182, fromShares.Beta, 3);
    }

    [Fact]
    public void Derl_is_the_discounted_sum_of_future_survival()
    {
        var p = new SbgParameters(0.668, 3.806);
        foreach (var renewals in new[] { 0, 1, 4, 10 })
        {
            var n = renewals + 1;
            var direct = 0.0;
            for (var t = n; t < n + 20_000; t++)
            {
                direct += ShiftedBetaGeometric.Survival(p, t) / ShiftedBetaGeometric.Survival(p, n - 1) / Math.Pow(1.1, t - n);
            }
            Assert.Equal(direct, ShiftedBetaGeometric.DiscountedExpectedResidualLifetime(p, 0.1, renewals), 9);
        }
        // Customers who have renewed more are worth more (they are the loyal ones).
        Assert.True(ShiftedBetaGeometric.DiscountedExpectedResidualLifetime(p, 0.1, 5)
            > ShiftedBetaGeometric.DiscountedExpectedResidualLifetime(p, 0.1, 0));
        var del = 0.0;
        for (var t = 0; t < 20_000; t++)
        {
            del += ShiftedBetaGeometric.Survival(p, t) / Math.Pow(1.1, t);
        }
        Assert.Equal(del, ShiftedBetaGeometric.DiscountedExpectedLifetime(p, 0.1), 9);
    }

    [Fact]
    public void Penalty_shrinks_the_parameters()
    {
        var plain = ShiftedBetaGeometric.Fit(Regular);
        var penalised = ShiftedBetaGeometric.Fit(Regular, new FitOptions(Penalty: 0.05));
        Assert.True(penalised.Params.Beta < plain.Params.Beta);
        Assert.True(penalised.LogLikelihood < plain.LogLikelihood);
    }

    [Fact]
    public void Invalid_curves_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ShiftedBetaGeometric.Fit([1000]));
        Assert.Throws<ArgumentException>(() => ShiftedBetaGeometric.Fit([1000, 1001]));
        Assert.Throws<ArgumentException>(() => ShiftedBetaGeometric.Fit([0, 0]));
        Assert.Throws<ArgumentException>(() => ShiftedBetaGeometric.LogLikelihood(new SbgParameters(1, 1), [100, -1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShiftedBetaGeometric.RetentionRate(new SbgParameters(1, 1), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShiftedBetaGeometric.DiscountedExpectedResidualLifetime(new SbgParameters(1, 1), 0, 0));
    }
}
