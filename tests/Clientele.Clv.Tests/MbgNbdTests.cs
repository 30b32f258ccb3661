namespace Clientele.Clv.Tests;

public sealed class MbgNbdTests
{
    [Fact]
    public void Fit_on_cdnow_matches_the_reference_implementation()
    {
        // Reference estimates on the CDNOW summary from the BTYDplus R package: r 0.525, α 6.183, a 0.891, b 1.614.
        var fit = MbgNbd.Fit(CdnowData.SummaryData());
        Assert.True(fit.Converged);
        Assert.Equal(0.525, fit.Params.R, 3);
        Assert.Equal(6.183, fit.Params.Alpha, 3);
        Assert.Equal(0.891, fit.Params.A, 3);
        Assert.Equal(1.614, fit.Params.B, 3);
        Assert.Equal(fit.LogLikelihood, MbgNbd.LogLikelihood(fit.Params, CdnowData.SummaryData()), 9);
        // Allowing drop-out after the first purchase fits CDNOW slightly differently from the BG/NBD, not much better.
        Assert.InRange(fit.LogLikelihood, -9600, -9570);
    }

    [Fact]
    public void One_time_buyers_may_already_be_gone()
    {
        var p = new BgNbdParameters(0.525, 6.183, 0.891, 1.614);
        var alive = MbgNbd.ProbabilityAlive(p, 0, 0, 38.86);
        Assert.InRange(alive, 0.0, 0.999);
        Assert.True(MbgNbd.ProbabilityAlive(p, 5, 38, 38.86) > MbgNbd.ProbabilityAlive(p, 5, 5, 38.86));
    }

    [Fact]
    public void Predictions_are_sensible_on_cdnow()
    {
        var p = new BgNbdParameters(0.525, 6.183, 0.891, 1.614);
        var e = MbgNbd.ConditionalExpectedPurchases(p, 39, 2, 30.43, 38.86);
        Assert.InRange(e, 1.0, 1.4);
        Assert.True(double.IsFinite(MbgNbd.LogLikelihood(p, 221, 103.43, 103.57)));
        Assert.True(double.IsFinite(MbgNbd.ConditionalExpectedPurchases(p, 52, 221, 103.43, 103.57)));
        Assert.InRange(MbgNbd.ExpectedPurchases(p, 78), 1.0, 2.5);
    }

    [Fact]
    public void A_customer_seen_for_an_instant_without_repeats_expects_what_a_new_customer_expects()
    {
        // At T → 0 the history says nothing beyond what the population says.
        var p = new BgNbdParameters(0.525, 6.183, 0.891, 1.614);
        Assert.Equal(MbgNbd.ExpectedPurchases(p, 52), MbgNbd.ConditionalExpectedPurchases(p, 52, 0, 0, 1e-9), 5);
    }
}
