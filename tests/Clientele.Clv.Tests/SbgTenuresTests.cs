namespace Clientele.Clv.Tests;

public sealed class SbgTenuresTests
{
    private static readonly double[] HighEnd = [1000, 869, 743, 653, 593, 551, 517, 491];

    private static List<SbgRow> Tenures(double[] alive)
    {
        var rows = new List<SbgRow>();
        for (var k = 1; k < alive.Length; k++)
        {
            rows.Add(new SbgRow(k, Churned: true, alive[k - 1] - alive[k]));
        }
        rows.Add(new SbgRow(alive.Length - 1, Churned: false, alive[^1]));
        return rows;
    }

    [Fact]
    public void One_cohort_as_tenures_gives_the_survival_curve_fit()
    {
        var fit = SbgTenures.Fit(Tenures(HighEnd));

        Assert.True(fit.Converged);
        Assert.Equal(0.668, fit.Params.Alpha, 3);
        Assert.Equal(3.806, fit.Params.Beta, 3);
        Assert.Equal(ShiftedBetaGeometric.LogLikelihood(fit.Params, HighEnd), fit.LogLikelihood, 6);
    }

    [Fact]
    public void Customers_observed_for_different_lengths_are_fitted_together()
    {
        // A second cohort that joined three periods later: it has only been seen for 4 periods.
        var rows = Tenures(HighEnd);
        var later = Tenures(HighEnd[..5]);
        var fit = SbgTenures.Fit([.. rows, .. later]);

        // The joint estimate beats the first cohort's own estimate on the joint data, and differs from it.
        var first = SbgTenures.Fit(rows).Params;
        Assert.True(fit.LogLikelihood > SbgTenures.LogLikelihood(first, [.. rows, .. later]));
        Assert.NotEqual(first.Alpha, fit.Params.Alpha, 3);
        Assert.Equal(SbgTenures.LogLikelihood(fit.Params, rows) + SbgTenures.LogLikelihood(fit.Params, later), fit.LogLikelihood, 6);
    }

    [Fact]
    public void Expected_renewals_add_up_conditional_survival_and_grow_with_the_horizon()
    {
        var p = new SbgParameters(0.668, 3.806);

        var one = SbgTenures.ExpectedRenewals(p, 4, 1);
        var ten = SbgTenures.ExpectedRenewals(p, 4, 10);

        Assert.Equal(ShiftedBetaGeometric.Survival(p, 5) / ShiftedBetaGeometric.Survival(p, 4), one, 10);
        Assert.InRange(ten, one, 10);
        Assert.Equal(0, SbgTenures.ExpectedRenewals(p, 4, 0));
    }

    [Fact]
    public void A_base_where_nobody_has_churned_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => SbgTenures.Fit([new SbgRow(3, Churned: false, 10)]));
        Assert.Contains("No customer has churned", ex.Message);
    }
}
