namespace Clientele.Clv.Tests;

public sealed class LogMathTests
{
    [Theory]
    // Closed forms: ₂F₁(1,1;2;z) = −ln(1−z)/z, ₂F₁(a,b;b;z) = (1−z)^−a.
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.999)]
    public void Hypergeometric_matches_closed_forms(double z)
    {
        Assert.Equal(Math.Log(-Math.Log(1 - z) / z), LogMath.LogHyp2F1(1, 1, 2, z), 10);
        Assert.Equal(-2.5 * Math.Log(1 - z), LogMath.LogHyp2F1(2.5, 3, 3, z), 9);
    }

    [Fact]
    public void Hypergeometric_near_one_stays_finite_for_large_parameters()
    {
        // ₂F₁(a,b;b;z) with a = 300: the plain series value is (1−z)^−300, far beyond double range.
        Assert.Equal(-300 * Math.Log(1e-3), LogMath.LogHyp2F1(300, 5, 5, 0.999), 6);
    }

    [Fact]
    public void Log_sum_and_difference_do_not_overflow()
    {
        Assert.Equal(1000 + Math.Log(2), LogMath.LogAddExp(1000, 1000), 12);
        Assert.Equal(-1000, LogMath.LogAddExp(-1000, double.NegativeInfinity));
        Assert.Equal(1000 + Math.Log(1 - Math.Exp(-1)), LogMath.LogSubExp(1000, 999), 10);
        Assert.Equal(double.NegativeInfinity, LogMath.LogSubExp(5, 5));
        Assert.Equal(1e-20, LogMath.Log1P(1e-20));
        Assert.Equal(1e-20, LogMath.ExpM1(1e-20));
    }
}
