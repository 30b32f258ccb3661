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
}
