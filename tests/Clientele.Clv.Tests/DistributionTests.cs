using MathNet.Numerics;

namespace Clientele.Clv.Tests;

/// <summary>P(X(t) = n) for the MBG/NBD and the Pareto/NBD, and the Pareto/NBD DERT.</summary>
public sealed class DistributionTests
{
    private static readonly BgNbdParameters Mbg = new(0.525, 6.183, 0.891, 1.614);

    // Fader & Hardie's CDNOW estimates (weeks).
    private static readonly ParetoNbdParameters Pareto = new(0.553, 10.578, 0.606, 11.669);

    private static (double Total, double Mean) Moments(Func<int, double> probability, int terms)
    {
        double total = 0, mean = 0;
        for (var n = 0; n < terms; n++)
        {
            var pn = probability(n);
            Assert.InRange(pn, 0.0, 1.0);
            total += pn;
            mean += n * pn;
        }
        return (total, mean);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(39.0)]
    [InlineData(78.0)]
    public void Mbg_nbd_purchase_count_distribution_sums_to_one_and_has_the_expected_mean(double t)
    {
        var (total, mean) = Moments(n => MbgNbd.ProbabilityOfPurchases(Mbg, t, n), 1500);
        Assert.Equal(1.0, total, 8);
        Assert.Equal(MbgNbd.ExpectedPurchases(Mbg, t), mean, 5);
    }

    [Fact]
    public void Mbg_nbd_customers_without_purchases_are_the_early_drop_outs_and_the_slow_buyers()
    {
        // P(X(t) = 0) = a/(a+b) (gone right after the first purchase) + b/(a+b) · (α/(α+t))^r (no purchase yet).
        var expected = Mbg.A / (Mbg.A + Mbg.B) + Mbg.B / (Mbg.A + Mbg.B) * Math.Pow(Mbg.Alpha / (Mbg.Alpha + 39), Mbg.R);
        Assert.Equal(expected, MbgNbd.ProbabilityOfPurchases(Mbg, 39, 0), 12);
        Assert.Equal(1.0, MbgNbd.ProbabilityOfPurchases(Mbg, 0, 0));
        Assert.Equal(0.0, MbgNbd.ProbabilityOfPurchases(Mbg, 0, 3));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(39.0)]
    [InlineData(78.0)]
    public void Pareto_nbd_purchase_count_distribution_sums_to_one_and_has_the_expected_mean(double t)
    {
        var (total, mean) = Moments(n => ParetoNbd.ProbabilityOfPurchases(Pareto, t, n), 800);
        Assert.Equal(1.0, total, 8);
        Assert.Equal(ParetoNbd.ExpectedPurchases(Pareto, t), mean, 6);
    }

    [Theory]
    [InlineData(0.553, 10.578, 0.606, 11.669, 39, 0)]
    [InlineData(0.553, 10.578, 0.606, 11.669, 39, 1)]
    [InlineData(0.553, 10.578, 0.606, 11.669, 78, 3)]
    [InlineData(0.553, 10.578, 0.606, 11.669, 78, 10)]
    [InlineData(0.553, 11.669, 0.606, 10.578, 52, 2)]
    [InlineData(2.0, 40, 1.5, 5, 20, 4)]
    public void Pareto_nbd_purchase_count_probability_matches_the_hypergeometric_expression(
        double r, double alpha, double s, double beta, double t, int x)
    {
        var p = new ParetoNbdParameters(r, alpha, s, beta);
        Assert.Equal(HypergeometricPmf(p, t, x), ParetoNbd.ProbabilityOfPurchases(p, t, x), 9);
    }

    // Fader & Hardie (2006), "Deriving an Expression for P(X(t) = x) Under the Pareto/NBD Model", equation (16):
    // NBD(x; t)·(β/(β+t))^s + α^r β^s B(r+x, s+1)/B(r, s) · [B₁ − Σ_{j≤x} Γ(r+s+j)/(Γ(r+s) j!) t^j B₂ⱼ].
    private static double HypergeometricPmf(ParetoNbdParameters p, double t, int x)
    {
        double r = p.R, alpha = p.Alpha, s = p.S, beta = p.Beta;
        var nbd = Math.Exp(SpecialFunctions.GammaLn(r + x) - SpecialFunctions.GammaLn(r) - SpecialFunctions.FactorialLn(x)
            + r * Math.Log(alpha / (alpha + t)) + x * Math.Log(t / (alpha + t)) + s * Math.Log(beta / (beta + t)));
        double F(double a, double b, double c, double z) => Math.Exp(LogMath.LogHyp2F1(a, b, c, z));
        double Upper(double j, double u) => alpha >= beta
            ? F(r + s + j, s + 1, r + s + x + 1, (alpha - beta) / (alpha + u)) / Math.Pow(alpha + u, r + s + j)
            : F(r + s + j, r + x, r + s + x + 1, (beta - alpha) / (beta + u)) / Math.Pow(beta + u, r + s + j);
        var sum = 0.0;
        for (var j = 0; j <= x; j++)
        {
            sum += Math.Exp(SpecialFunctions.GammaLn(r + s + j) - SpecialFunctions.GammaLn(r + s) - SpecialFunctions.FactorialLn(j))
                * Math.Pow(t, j) * Upper(j, t);
        }
        var factor = Math.Pow(alpha, r) * Math.Pow(beta, s)
            * Math.Exp(SpecialFunctions.BetaLn(r + x, s + 1) - SpecialFunctions.BetaLn(r, s));
        return nbd + factor * (Upper(0, 0) - sum);
    }

    [Theory]
    [InlineData(2, 30.43, 38.86)]
    [InlineData(0, 0, 38.86)]
    [InlineData(7, 35, 38.86)]
    [InlineData(7, 10, 38.86)]
    [InlineData(221, 103.43, 103.57)]
    public void Pareto_nbd_dert_matches_the_papers_closed_form(double x, double tx, double t)
    {
        // FHL (2005) eq. (A.5): DERT = α^r β^s δ^(s−1) Γ(r+x+1) Ψ(s, s; δ(β+T)) / [Γ(r) (α+T)^(r+x+1) L], rewritten as
        // P(alive)·(r+x)/(α+T)·(β+T)^s δ^(s−1) Ψ(s, s; δ(β+T)), with Ψ(s, s; z) = e^z Γ(1−s, z) for s < 1.
        var delta = Math.Log(1.15) / 52;
        var c = Pareto.Beta + t;
        var z = delta * c;
        var psi = Math.Exp(z + SpecialFunctions.GammaLn(1 - Pareto.S)) * SpecialFunctions.GammaUpperRegularized(1 - Pareto.S, z);
        var expected = ParetoNbd.ProbabilityAlive(Pareto, x, tx, t) * (Pareto.R + x) / (Pareto.Alpha + t)
            * Math.Pow(c, Pareto.S) * Math.Pow(delta, Pareto.S - 1) * psi;
        var actual = ParetoNbd.DiscountedExpectedResidualTransactions(Pareto, delta, x, tx, t);
        Assert.True(double.IsFinite(actual));
        Assert.Equal(1.0, actual / expected, 9);
    }

    [Theory]
    [InlineData(0.606)]
    [InlineData(1.0)]
    [InlineData(2.5)]
    public void Pareto_nbd_dert_is_the_discounted_sum_of_conditional_expectations(double s)
    {
        // Purchases expected in each short period, discounted at the period's midpoint, added up far into the future.
        var p = Pareto with { S = s };
        var delta = 0.0027;
        const double Step = 0.25;
        double sum = 0, before = 0;
        for (var i = 1; i * Step * delta < 30; i++)
        {
            var cumulative = ParetoNbd.ConditionalExpectedPurchases(p, i * Step, 2, 30.43, 38.86);
            sum += (cumulative - before) * Math.Exp(-delta * (i - 0.5) * Step);
            before = cumulative;
        }
        Assert.Equal(1.0, ParetoNbd.DiscountedExpectedResidualTransactions(p, delta, 2, 30.43, 38.86) / sum, 5);
    }

    [Fact]
    public void Pareto_nbd_dert_falls_with_the_discount_rate_and_with_silence()
    {
        var low = ParetoNbd.DiscountedExpectedResidualTransactions(Pareto, 0.001, 2, 30.43, 38.86);
        var high = ParetoNbd.DiscountedExpectedResidualTransactions(Pareto, 0.01, 2, 30.43, 38.86);
        var quiet = ParetoNbd.DiscountedExpectedResidualTransactions(Pareto, 0.001, 2, 5, 38.86);
        Assert.True(high < low);
        Assert.True(quiet < low);
        Assert.Throws<ArgumentOutOfRangeException>(() => ParetoNbd.DiscountedExpectedResidualTransactions(Pareto, 0, 2, 30.43, 38.86));
    }

    [Fact]
    public void Bg_nbd_far_tail_keeps_its_digits()
    {
        // Far in the tail the drop-out term is the incomplete-beta tail times a beta ratio; it must fall smoothly, not cancel to 0.
        var p = new BgNbdParameters(0.243, 4.414, 0.793, 2.426);
        var previous = BgNbd.ProbabilityOfPurchases(p, 39, 150);
        Assert.True(previous > 0);
        for (var n = 151; n < 200; n++)
        {
            var pn = BgNbd.ProbabilityOfPurchases(p, 39, n);
            Assert.True(pn > 0 && pn < previous, $"n={n}: {pn} after {previous}");
            previous = pn;
        }
    }
}
