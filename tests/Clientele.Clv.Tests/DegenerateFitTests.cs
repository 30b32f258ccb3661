namespace Clientele.Clv.Tests;

/// <summary>Data that pin no interior optimum must still give a finite answer rather than an exception.</summary>
public sealed class DegenerateFitTests
{
    private static RfmData NoRepeatBuyers() => RfmData.Grouped([(0, 0, 10, 50), (0, 0, 20, 50), (0, 0, 30, 50)]);

    private static RfmData EveryoneStillBuying() => RfmData.Grouped([(5, 29.9, 30, 40), (10, 29.5, 30, 40), (1, 29, 30, 20)]);

    [Fact]
    public void Bg_nbd_fit_returns_finite_results()
    {
        foreach (var data in new[] { NoRepeatBuyers(), EveryoneStillBuying() })
        {
            var fit = BgNbd.Fit(data, new FitOptions(MaxIterations: 3000));
            Assert.True(double.IsFinite(fit.LogLikelihood));
        }
    }

    [Fact]
    public void Pareto_nbd_fit_returns_finite_results()
    {
        foreach (var data in new[] { NoRepeatBuyers(), EveryoneStillBuying() })
        {
            var fit = ParetoNbd.Fit(data, new FitOptions(MaxIterations: 500));
            Assert.True(double.IsFinite(fit.LogLikelihood));
        }
    }

    [Fact]
    public void Mbg_nbd_fit_returns_finite_results()
    {
        foreach (var data in new[] { NoRepeatBuyers(), EveryoneStillBuying() })
        {
            var fit = MbgNbd.Fit(data, new FitOptions(MaxIterations: 3000));
            Assert.True(double.IsFinite(fit.LogLikelihood));
        }
    }

    [Fact]
    public void A_small_penalty_keeps_a_degenerate_fit_bounded()
    {
        var fit = BgNbd.Fit(NoRepeatBuyers(), new FitOptions(Penalty: 0.1));
        Assert.True(fit.Converged);
        Assert.True(fit.Params.R < 100 && fit.Params.Alpha < 100 && fit.Params.A < 100 && fit.Params.B < 100);
    }
}
