namespace Clientele.Clv.Tests;

/// <summary>The analytic gradients used by the fits agree with central differences of the log-likelihood.</summary>
public sealed class FitGradientTests
{
    private static RfmData Mixed() => RfmData.Create(
        [0, 1, 2, 5, 221, 3, 0, 40],
        [0, 10, 30.43, 20, 103.43, 3, 0, 10],
        [38.86, 38.86, 38.86, 50, 103.57, 3.0001, 1, 103.57],
        [120, 3, 2, 1, 1, 2, 7, 1]);

    private static void AssertGradient(LogLikelihoodWithGradient f, double[] p)
    {
        var g = new double[p.Length];
        var value = f(p, g);
        Assert.True(double.IsFinite(value));
        var scratch = new double[p.Length];
        for (var i = 0; i < p.Length; i++)
        {
            var h = 1e-6 * p[i];
            var up = (double[])p.Clone();
            var down = (double[])p.Clone();
            up[i] += h;
            down[i] -= h;
            var numeric = (f(up, scratch) - f(down, scratch)) / (2 * h);
            Assert.True(Math.Abs(numeric - g[i]) <= 1e-5 * (1 + Math.Abs(numeric)), $"∂/∂p{i}: analytic {g[i]}, numeric {numeric}");
        }
    }

    [Theory]
    [InlineData(0.243, 4.414, 0.793, 2.426)]
    [InlineData(2.5, 0.3, 5, 0.2)]
    [InlineData(0.05, 60, 0.1, 30)]
    public void Bg_nbd_and_mbg_nbd_gradients_match_differences(double r, double alpha, double a, double b)
    {
        foreach (var modified in new[] { false, true })
        {
            var f = new BgFamilyLikelihood(Mixed(), modified);
            AssertGradient(f.Evaluate, [r, alpha, a, b]);
            var p = new BgNbdParameters(r, alpha, a, b);
            var reference = modified ? MbgNbd.LogLikelihood(p, Mixed()) : BgNbd.LogLikelihood(p, Mixed());
            Assert.Equal(reference, f.Evaluate([r, alpha, a, b], new double[4]), 8);
        }
    }

    [Theory]
    [InlineData(0.553, 10.578, 0.606, 11.669)]
    [InlineData(0.553, 11.669, 0.606, 10.578)]
    [InlineData(0.5, 10, 0.6, 10)]
    [InlineData(2.0, 40, 1.5, 5)]
    [InlineData(0.3, 5, 0.2, 40)]
    [InlineData(0.5, 100, 0.6, 2)]
    [InlineData(0.5, 2, 0.6, 100)]
    public void Pareto_nbd_gradient_matches_differences_and_the_likelihood(double r, double alpha, double s, double beta)
    {
        var f = new ParetoNbdLikelihood(Mixed());
        AssertGradient(f.Evaluate, [r, alpha, s, beta]);
        Assert.Equal(ParetoNbd.LogLikelihood(new ParetoNbdParameters(r, alpha, s, beta), Mixed()), f.Evaluate([r, alpha, s, beta], new double[4]), 8);
    }

    [Theory]
    [InlineData(6.25, 3.74, 15.44)]
    [InlineData(0.5, 0.8, 200)]
    public void Gamma_gamma_gradient_matches_differences_and_the_likelihood(double p, double q, double gamma)
    {
        double[] x = [1, 2, 2, 5, 30, 1];
        double[] m = [10, 35.5, 12, 40, 22.25, 300];
        double[] w = [3, 1, 2, 1, 1, 4];
        var f = new GammaGammaLikelihood(x, m, w);
        AssertGradient(f.Evaluate, [p, q, gamma]);
        Assert.Equal(GammaGamma.LogLikelihood(new GammaGammaParameters(p, q, gamma), x, m, w), f.Evaluate([p, q, gamma], new double[3]), 8);
    }

    [Fact]
    public void Fits_with_an_extreme_customer_stay_finite()
    {
        // CDNOW plus a customer with 221 repeat purchases, the last just before the end of the period.
        var rows = CdnowData.Summary().Select(r => ((double)r.X, r.Tx, r.T, 1.0)).Append((221, 103.43, 103.57, 1.0));
        var data = RfmData.Grouped(rows);
        var bg = BgNbd.Fit(data);
        var mbg = MbgNbd.Fit(data);
        var pareto = ParetoNbd.Fit(data);
        Assert.True(bg.Converged && mbg.Converged && pareto.Converged);
        Assert.True(double.IsFinite(bg.LogLikelihood) && double.IsFinite(mbg.LogLikelihood) && double.IsFinite(pareto.LogLikelihood));
        var g = new double[4];
        var p = pareto.Params;
        new ParetoNbdLikelihood(data).Evaluate([p.R, p.Alpha, p.S, p.Beta], g);
        Assert.All(g, v => Assert.True(Math.Abs(v) < 1e-3, $"gradient {v} at the optimum"));
    }
}
