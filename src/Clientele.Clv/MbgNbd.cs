using MathNet.Numerics;

namespace Clientele.Clv;

/// <summary>
/// The modified BG/NBD model of Batislam, Denizel &amp; Filiztekin (2007). Like the BG/NBD, but a customer may also drop out
/// right after the first purchase, so customers without repeat purchases are not assumed to be alive.
/// Uses the same parameters (r, α, a, b) as <see cref="BgNbd"/>.
/// </summary>
public static class MbgNbd
{
    /// <summary>Log-likelihood of one customer's (x, t_x, T); the two likelihood terms are combined with log-sum-exp.</summary>
    public static double LogLikelihood(BgNbdParameters p, double x, double recency, double age)
    {
        p.Validate();
        BgNbd.RequireCustomer(x, recency, age);
        return Common(p.R, p.A, p.B, x) + p.R * Math.Log(p.Alpha)
            + LogMath.LogAddExp(
                -(p.R + x) * Math.Log(p.Alpha + age),
                Math.Log(p.A) - Math.Log(p.B + x) - (p.R + x) * Math.Log(p.Alpha + recency));
    }

    /// <summary>Weighted sum of the per-customer log-likelihoods.</summary>
    public static double LogLikelihood(BgNbdParameters p, RfmData data)
    {
        p.Validate();
        ArgumentNullException.ThrowIfNull(data);
        return Sum(p.R, p.Alpha, p.A, p.B, data);
    }

    /// <summary>
    /// Maximum-likelihood estimate by BFGS on log-parameters with the analytic gradient (see <see cref="BgNbd.Fit"/>).
    /// </summary>
    public static FitResult<BgNbdParameters> Fit(RfmData data, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= FitOptions.Default;
        var (min, p, ll) = BgNbd.FitBgFamily(data, options, modified: true);
        return new FitResult<BgNbdParameters>(p, ll, min.Converged, min.Iterations);
    }

    /// <summary>Probability that a customer with history (x, t_x, T) is still alive; below 1 even when x = 0.</summary>
    public static double ProbabilityAlive(BgNbdParameters p, double x, double recency, double age)
    {
        p.Validate();
        BgNbd.RequireCustomer(x, recency, age);
        var logOdds = Math.Log(p.A) - Math.Log(p.B + x) + (p.R + x) * Math.Log((p.Alpha + age) / (p.Alpha + recency));
        return logOdds > 0 ? Math.Exp(-logOdds) / (1 + Math.Exp(-logOdds)) : 1 / (1 + Math.Exp(logOdds));
    }

    /// <summary>E[X(t)]: expected purchases in (0, t] of a customer just acquired. Needs a ≠ 1.</summary>
    public static double ExpectedPurchases(BgNbdParameters p, double t)
    {
        p.Validate();
        BgNbd.RequireNonNegative(t, nameof(t));
        RequireANotOne(p);
        if (t == 0)
        {
            return 0;
        }
        var logTail = p.R * Math.Log(p.Alpha / (p.Alpha + t)) + LogMath.LogHyp2F1(p.R, p.B + 1, p.A + p.B, t / (p.Alpha + t));
        return p.B / (p.A - 1) * -LogMath.ExpM1(logTail);
    }

    /// <summary>Expected purchases in the next <paramref name="t"/> time units for a customer with history (x, t_x, T). Needs a ≠ 1.</summary>
    public static double ConditionalExpectedPurchases(BgNbdParameters p, double t, double x, double recency, double age)
    {
        p.Validate();
        BgNbd.RequireCustomer(x, recency, age);
        BgNbd.RequireNonNegative(t, nameof(t));
        RequireANotOne(p);
        if (t == 0)
        {
            return 0;
        }
        var logTail = (p.R + x) * Math.Log((p.Alpha + age) / (p.Alpha + age + t))
            + LogMath.LogHyp2F1(p.R + x, p.B + x + 1, p.A + p.B + x, t / (p.Alpha + age + t));
        return (p.A + p.B + x) / (p.A - 1) * -LogMath.ExpM1(logTail) * ProbabilityAlive(p, x, recency, age);
    }

    /// <summary>
    /// P(X(t) = n): probability that a new customer makes exactly <paramref name="n"/> repeat purchases in (0, t].
    /// The customer either is still active after the n-th purchase and the Poisson clock gives exactly n purchases, or drops
    /// out right after the n-th (the initial purchase counts as the 0-th) while the clock would have given at least n:
    /// B(a, b+n+1)/B(a, b) · NBD(n) + B(a+1, b+n)/B(a, b) · P(NBD ≥ n), with NBD the Gamma-Poisson count in (0, t].
    /// </summary>
    public static double ProbabilityOfPurchases(BgNbdParameters p, double t, int n)
    {
        p.Validate();
        BgNbd.RequireNonNegative(t, nameof(t));
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (t == 0)
        {
            return n == 0 ? 1.0 : 0.0;
        }
        var logBab = SpecialFunctions.BetaLn(p.A, p.B);
        var z = t / (p.Alpha + t);
        var logNbd = LogMath.LogRising(p.R, n) - SpecialFunctions.FactorialLn(n)
            + p.R * Math.Log(p.Alpha / (p.Alpha + t)) + (n == 0 ? 0 : n * Math.Log(z));
        var active = Math.Exp(SpecialFunctions.BetaLn(p.A, p.B + n + 1) - logBab + logNbd);
        // P(NBD ≥ n) is the regularised incomplete beta I_z(n, r); no subtraction from 1, so the far tail keeps its digits.
        var atLeast = n == 0 ? 1.0 : SpecialFunctions.BetaRegularized(n, p.R, z);
        var dropped = Math.Exp(SpecialFunctions.BetaLn(p.A + 1, p.B + n) - logBab) * atLeast;
        return Math.Clamp(active + dropped, 0, 1);
    }

    private static void RequireANotOne(BgNbdParameters p)
    {
        if (p.A == 1)
        {
            throw new ArgumentOutOfRangeException(nameof(p), $"The MBG/NBD expectation needs a ≠ 1: {p}.");
        }
    }

    // ln[B(a, b + x + 1) / B(a, b)] + ln[Γ(r + x) / Γ(r)], written with rising factorials.
    private static double Common(double r, double a, double b, double x) =>
        LogMath.LogRising(r, x) + LogMath.LogRising(b, x + 1) - LogMath.LogRising(a + b, x + 1);

    private static double Sum(double r, double alpha, double a, double b, RfmData data)
    {
        double[] xs = data.X, txs = data.Tx, ts = data.TT, ws = data.W;
        var logA = Math.Log(a);
        var rLogAlpha = r * Math.Log(alpha);
        var lastX = double.NaN;
        double common = 0, dropTerm = 0;
        var total = 0.0;
        for (var i = 0; i < xs.Length; i++)
        {
            // Rows are usually sorted by x, so the x-only terms are reused along a run of equal x.
            if (xs[i] != lastX)
            {
                lastX = xs[i];
                common = Common(r, a, b, lastX);
                dropTerm = logA - Math.Log(b + lastX);
            }
            var rx = r + xs[i];
            total += ws[i] * (common + rLogAlpha
                + LogMath.LogAddExp(-rx * Math.Log(alpha + ts[i]), dropTerm - rx * Math.Log(alpha + txs[i])));
        }
        return total;
    }
}
