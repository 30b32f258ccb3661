namespace Clientele.Clv.Tests;

/// <summary>Fits on data drawn from a model with known parameters recover those parameters.</summary>
public sealed class FitRecoveryTests
{
    private static void Near(double expected, double actual, double relative, string name) =>
        Assert.True(Math.Abs(actual / expected - 1) <= relative, $"{name}: expected {expected} ± {relative:P0}, got {actual}");

    [Fact]
    public void Bg_nbd_fit_recovers_simulated_parameters_grouped_and_ungrouped()
    {
        var truth = new BgNbdParameters(0.243, 4.414, 0.793, 2.426);
        foreach (var resolution in new[] { 0, 1 / 7.0 })
        {
            var data = FittingSimulation.BgNbd(truth, 200_000, 78, seed: 1, resolution);
            var fit = BgNbd.Fit(data);
            Assert.True(fit.Converged);
            Near(truth.R, fit.Params.R, 0.05, "r");
            Near(truth.Alpha, fit.Params.Alpha, 0.05, "α");
            Near(truth.A, fit.Params.A, 0.15, "a");
            Near(truth.B, fit.Params.B, 0.15, "b");
        }
    }

    [Fact]
    public void Mbg_nbd_fit_on_bg_nbd_data_finds_a_finite_optimum()
    {
        var data = FittingSimulation.BgNbd(new BgNbdParameters(0.5, 6, 0.9, 1.6), 50_000, 78, seed: 2, 1 / 7.0);
        var fit = MbgNbd.Fit(data);
        Assert.True(fit.Converged);
        Assert.True(double.IsFinite(fit.LogLikelihood));
    }

    [Fact]
    public void Pareto_nbd_fit_recovers_simulated_parameters()
    {
        var truth = new ParetoNbdParameters(0.553, 10.578, 0.606, 11.669);
        var data = FittingSimulation.ParetoNbd(truth, 200_000, 78, seed: 3, 1 / 7.0);
        var fit = ParetoNbd.Fit(data);
        Assert.True(fit.Converged);
        Near(truth.R, fit.Params.R, 0.05, "r");
        Near(truth.Alpha, fit.Params.Alpha, 0.08, "α");
        Near(truth.S, fit.Params.S, 0.15, "s");
        Near(truth.Beta, fit.Params.Beta, 0.3, "β");
        Assert.Equal(fit.LogLikelihood, ParetoNbd.LogLikelihood(fit.Params, data), 6);
    }

    [Fact]
    public void Gamma_gamma_fit_recovers_simulated_parameters()
    {
        var truth = new GammaGammaParameters(6.25, 3.74, 15.44);
        var (x, m) = FittingSimulation.GammaGamma(truth, 200_000, seed: 4);
        var fit = GammaGamma.Fit(x, m);
        Assert.True(fit.Converged);
        Near(truth.P, fit.Params.P, 0.05, "p");
        Near(truth.Q, fit.Params.Q, 0.05, "q");
        Near(truth.Gamma, fit.Params.Gamma, 0.08, "γ");
    }

    [Fact]
    public void The_same_seed_gives_the_same_data()
    {
        var p = new BgNbdParameters(0.243, 4.414, 0.793, 2.426);
        var one = FittingSimulation.BgNbd(p, 1000, 78, seed: 9);
        var two = FittingSimulation.BgNbd(p, 1000, 78, seed: 9);
        Assert.Equal(one.Frequency, two.Frequency);
        Assert.Equal(one.Recency, two.Recency);
    }
}
