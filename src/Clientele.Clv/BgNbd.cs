using MathNet.Numerics;

namespace Clientele.Clv;

/// <summary>
/// BG/NBD parameters: purchase rates are Gamma(r, α) across customers; after each purchase a customer
/// drops out with probability p, and p is Beta(a, b) across customers.
/// </summary>
public readonly record struct BgNbdParameters(double R, double Alpha, double A, double B)
{
    internal void Validate()
    {
        if (!(R > 0 && Alpha > 0 && A > 0 && B > 0) || double.IsInfinity(R + Alpha + A + B))
        {
            throw new ArgumentOutOfRangeException(nameof(R), $"BG/NBD parameters must be positive and finite: {this}.");
        }
    }
}

/// <summary>
/// The beta-geometric / negative binomial distribution model of Fader, Hardie &amp; Lee (2005),
/// "Counting Your Customers the Easy Way". Times are in whatever unit the data use.
/// </summary>
public static class BgNbd
{
    /// <summary>
    /// Log-likelihood of one customer's (x, t_x, T). The likelihood is a sum of two terms of very different
    /// size for heavy buyers, so they are combined with log-sum-exp rather than exponentiated.
    /// </summary>
    public static double LogLikelihood(BgNbdParameters p, double x, double recency, double age)
    {
        p.Validate();
        var common = LogRising(p.R, x) + LogRising(p.B, x) - LogRising(p.A + p.B, x) + p.R * Math.Log(p.Alpha);
        var alive = -(p.R + x) * Math.Log(p.Alpha + age);
        var dropped = x > 0
            ? Math.Log(p.A) - Math.Log(p.B + x - 1) - (p.R + x) * Math.Log(p.Alpha + recency)
            : double.NegativeInfinity;
        return common + LogMath.LogAddExp(alive, dropped);
    }

    /// <summary>Weighted sum of <see cref="LogLikelihood(BgNbdParameters, double, double, double)"/> over the rows.</summary>
    public static double LogLikelihood(BgNbdParameters p, RfmData data)
    {
        p.Validate();
        return new Evaluator(data).LogLikelihood(p.R, p.Alpha, p.A, p.B);
    }

    /// <summary>
    /// Maximum-likelihood estimate by BFGS on log-parameters (so that every step stays positive) with the analytic
    /// gradient of the log-likelihood. On large data the fit starts from a fit on an evenly spaced sample of the rows.
    /// </summary>
    public static FitResult<BgNbdParameters> Fit(RfmData data, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= FitOptions.Default;
        var (min, p, ll) = FitBgFamily(data, options, modified: false);
        return new FitResult<BgNbdParameters>(p, ll, min.Converged, min.Iterations);
    }

    /// <summary>
    /// The BFGS fit shared by the BG/NBD and the MBG/NBD, in log-parameters; also returns the estimate and its log-likelihood
    /// (evaluated once more over all rows, in parallel).
    /// </summary>
    internal static (Minimum Min, BgNbdParameters Params, double LogLikelihood) FitBgFamily(RfmData data, FitOptions options, bool modified)
    {
        var full = new BgFamilyLikelihood(data, modified);
        var start = new[] { 0.0, Math.Log(Math.Max(data.MeanAge / 10, 1e-3)), 0.0, 0.0 };
        var min = Fitting.Maximise(
            full.Evaluate, full.TotalWeight, data.Count,
            rows =>
            {
                var sample = new BgFamilyLikelihood(data, modified, rows);
                return (sample.Evaluate, sample.TotalWeight);
            },
            start, options);
        var p = new BgNbdParameters(Math.Exp(min.Point[0]), Math.Exp(min.Point[1]), Math.Exp(min.Point[2]), Math.Exp(min.Point[3]));
        return (min, p, full.Evaluate([p.R, p.Alpha, p.A, p.B], new double[4]));
    }

    /// <summary>
    /// E[X(t)]: expected purchases in the first <paramref name="t"/> time units of a customer just acquired.
    /// Needs a + b &gt; 1 and a ≠ 1.
    /// </summary>
    public static double ExpectedPurchases(BgNbdParameters p, double t)
    {
        p.Validate();
        RequireNonNegative(t, nameof(t));
        if (t == 0)
        {
            return 0;
        }
        var c = p.A + p.B - 1;
        RequireHypergeometric(c, p);
        var logTail = p.R * Math.Log(p.Alpha / (p.Alpha + t)) + LogMath.LogHyp2F1(p.R, p.B, c, t / (p.Alpha + t));
        // 1 − e^logTail and (a − 1) have the same sign, so the ratio is positive for a on either side of 1.
        return c / (p.A - 1) * -LogMath.ExpM1(logTail);
    }

    /// <summary>
    /// Expected purchases in the next <paramref name="t"/> time units for a customer with history (x, t_x, T).
    /// Needs a + b + x &gt; 1 and a ≠ 1.
    /// </summary>
    public static double ConditionalExpectedPurchases(BgNbdParameters p, double t, double x, double recency, double age)
    {
        p.Validate();
        RequireCustomer(x, recency, age);
        RequireNonNegative(t, nameof(t));
        if (t == 0)
        {
            return 0;
        }
        var c = p.A + p.B + x - 1;
        RequireHypergeometric(c, p);
        var logTail = (p.R + x) * Math.Log((p.Alpha + age) / (p.Alpha + age + t))
            + LogMath.LogHyp2F1(p.R + x, p.B + x, c, t / (p.Alpha + age + t));
        return c / (p.A - 1) * -LogMath.ExpM1(logTail) * ProbabilityAlive(p, x, recency, age);
    }

    /// <summary>
    /// Probability that a customer with history (x, t_x, T) has not yet dropped out. A customer with no repeat
    /// purchase cannot have dropped out under this model (drop-out happens only right after a purchase), so this is 1 when x = 0.
    /// </summary>
    public static double ProbabilityAlive(BgNbdParameters p, double x, double recency, double age)
    {
        p.Validate();
        RequireCustomer(x, recency, age);
        if (x == 0)
        {
            return 1.0;
        }
        var logOdds = Math.Log(p.A) - Math.Log(p.B + x - 1) + (p.R + x) * Math.Log((p.Alpha + age) / (p.Alpha + recency));
        // 1 / (1 + e^logOdds), written so that it neither overflows nor loses the small values.
        return logOdds > 0 ? Math.Exp(-logOdds) / (1 + Math.Exp(-logOdds)) : 1 / (1 + Math.Exp(logOdds));
    }

    /// <summary>P(X(t) = n): probability that a new customer makes exactly <paramref name="n"/> purchases in (0, t].</summary>
    public static double ProbabilityOfPurchases(BgNbdParameters p, double t, int n)
    {
        p.Validate();
        RequireNonNegative(t, nameof(t));
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (t == 0)
        {
            return n == 0 ? 1.0 : 0.0;
        }
        var logBab = SpecialFunctions.BetaLn(p.A, p.B);
        var logQ = Math.Log(p.Alpha / (p.Alpha + t));
        var logZ = Math.Log(t / (p.Alpha + t));
        var first = Math.Exp(SpecialFunctions.BetaLn(p.A, p.B + n) - logBab
            + LogNbd(p.R, n, logQ, logZ));
        if (n == 0)
        {
            return Math.Clamp(first, 0, 1);
        }
        // The second term is the chance of dropping out after the n-th purchase while the Poisson clock would have
        // produced at least n purchases. P(NBD ≥ n) is the regularised incomplete beta I_z(n, r) with z = t/(α+t), which
        // keeps its digits far in the tail where 1 − Σ_{j<n} P(NBD = j) would cancel to nothing.
        var atLeast = SpecialFunctions.BetaRegularized(n, p.R, Math.Exp(logZ));
        var second = Math.Exp(SpecialFunctions.BetaLn(p.A + 1, p.B + n - 1) - logBab) * atLeast;
        return Math.Clamp(first + second, 0, 1);
    }

    private static double LogNbd(double r, int j, double logQ, double logZ) =>
        LogRising(r, j) - SpecialFunctions.FactorialLn(j) + r * logQ + j * logZ;

    private static double LogRising(double a, double n) => LogMath.LogRising(a, n);

    internal static void RequireCustomer(double x, double recency, double age)
    {
        if (!(x >= 0 && recency >= 0 && age > 0 && recency <= age) || double.IsInfinity(x) || double.IsInfinity(age))
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"Not a valid customer history: x={x}, t_x={recency}, T={age}.");
        }
    }

    internal static void RequireNonNegative(double t, string name)
    {
        if (!(t >= 0) || double.IsInfinity(t))
        {
            throw new ArgumentOutOfRangeException(name, $"{name} must be a finite non-negative time.");
        }
    }

    private static void RequireHypergeometric(double c, BgNbdParameters p)
    {
        if (!(c > 0) || p.A == 1)
        {
            throw new ArgumentOutOfRangeException(nameof(p), $"The BG/NBD expectation needs a + b + x > 1 and a ≠ 1: {p}.");
        }
    }

    /// <summary>
    /// Likelihood over many rows. The Gamma-function terms depend on x only, and x takes few distinct values,
    /// so they are computed once per distinct x per evaluation instead of once per row.
    /// </summary>
    private sealed class Evaluator
    {
        private readonly double[] _x, _tx, _t, _w, _distinct, _c1, _c4;
        private readonly int[] _index;

        public Evaluator(RfmData data)
        {
            _x = data.X;
            _tx = data.Tx;
            _t = data.TT;
            _w = data.W;
            _distinct = [.. _x.Distinct().Order()];
            _index = new int[_x.Length];
            for (var i = 0; i < _x.Length; i++)
            {
                _index[i] = Array.BinarySearch(_distinct, _x[i]);
            }
            _c1 = new double[_distinct.Length];
            _c4 = new double[_distinct.Length];
        }

        public double LogLikelihood(double r, double alpha, double a, double b)
        {
            var logA = Math.Log(a);
            for (var k = 0; k < _distinct.Length; k++)
            {
                var x = _distinct[k];
                _c1[k] = LogRising(r, x) + LogRising(b, x) - LogRising(a + b, x);
                _c4[k] = x > 0 ? logA - Math.Log(b + x - 1) : double.NegativeInfinity;
            }
            var total = 0.0;
            var rLogAlpha = r * Math.Log(alpha);
            for (var i = 0; i < _x.Length; i++)
            {
                var k = _index[i];
                var rx = r + _x[i];
                var alive = -rx * Math.Log(alpha + _t[i]);
                var ll = _x[i] > 0
                    ? LogMath.LogAddExp(alive, _c4[k] - rx * Math.Log(alpha + _tx[i]))
                    : alive;
                total += _w[i] * (_c1[k] + rLogAlpha + ll);
            }
            return total;
        }
    }
}
