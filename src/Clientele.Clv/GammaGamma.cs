using MathNet.Numerics;

namespace Clientele.Clv;

/// <summary>
/// Gamma-Gamma spend parameters: each transaction's value is Gamma(p, ν) for the customer, and ν is
/// Gamma(q, γ) across customers, so a customer's mean spend is Gamma-distributed with mean pγ/(q − 1).
/// </summary>
public readonly record struct GammaGammaParameters(double P, double Q, double Gamma)
{
    /// <summary>
    /// Whether the population mean spend exists. For q ≤ 1 the mixing distribution has no mean,
    /// so expected spends are undefined and the model should not be used for value.
    /// </summary>
    public bool HasFiniteMean => Q > 1;

    internal void Validate()
    {
        if (!(P > 0 && Q > 0 && Gamma > 0) || double.IsInfinity(P + Q + Gamma))
        {
            throw new ArgumentOutOfRangeException(nameof(P), $"Gamma-Gamma parameters must be positive and finite: {this}.");
        }
    }

    internal void RequireFiniteMean()
    {
        Validate();
        if (!HasFiniteMean)
        {
            throw new InvalidOperationException(
                $"The Gamma-Gamma spend model has no finite mean when q ≤ 1 (q = {Q}); expected spend is undefined for these parameters.");
        }
    }
}

/// <summary>
/// The Gamma-Gamma model of average transaction value (Fader, Hardie &amp; Lee 2005, "RFM and CLV";
/// Colombo &amp; Jiang 1999). It assumes spend is independent of purchase frequency, so it is fitted on
/// repeat buyers only, from their number of repeat transactions x and the mean value m̄ of those transactions.
/// </summary>
public static class GammaGamma
{
    /// <summary>Log-likelihood of one repeat buyer's mean spend <paramref name="monetary"/> over <paramref name="x"/> transactions.</summary>
    public static double LogLikelihood(GammaGammaParameters p, double x, double monetary)
    {
        p.Validate();
        Require(x, monetary);
        var px = p.P * x;
        return SpecialFunctions.GammaLn(px + p.Q) - SpecialFunctions.GammaLn(px) - SpecialFunctions.GammaLn(p.Q)
            + p.Q * Math.Log(p.Gamma) + (px - 1) * Math.Log(monetary) + px * Math.Log(x)
            - (px + p.Q) * Math.Log(p.Gamma + monetary * x);
    }

    /// <summary>
    /// Weighted sum of the log-likelihoods of the repeat buyers; rows with x = 0 carry no spend information and are skipped.
    /// </summary>
    public static double LogLikelihood(GammaGammaParameters p, IReadOnlyList<double> frequency, IReadOnlyList<double> monetary, IReadOnlyList<double>? weight = null)
    {
        p.Validate();
        var (x, m, w) = RepeatBuyers(frequency, monetary, weight);
        return new Evaluator(x, m, w).LogLikelihood(p.P, p.Q, p.Gamma);
    }

    /// <summary>
    /// Maximum-likelihood estimate of (p, q, γ) from repeat buyers (rows with x = 0 are skipped), by BFGS on
    /// log-parameters (so they stay positive) with the analytic gradient. The estimate may have q ≤ 1; check <see cref="GammaGammaParameters.HasFiniteMean"/>.
    /// </summary>
    public static FitResult<GammaGammaParameters> Fit(
        IReadOnlyList<double> frequency, IReadOnlyList<double> monetary, IReadOnlyList<double>? weight = null, FitOptions? options = null)
    {
        options ??= FitOptions.Default;
        var (x, m, w) = RepeatBuyers(frequency, monetary, weight);
        if (x.Length == 0)
        {
            throw new ArgumentException("The Gamma-Gamma model needs at least one repeat buyer.", nameof(frequency));
        }
        var n = w.Sum();
        var meanSpend = 0.0;
        for (var i = 0; i < x.Length; i++)
        {
            meanSpend += w[i] * m[i] / n;
        }
        var full = new GammaGammaLikelihood(x, m, w);
        var min = Fitting.Maximise(
            full.Evaluate, full.TotalWeight, x.Length,
            rows =>
            {
                var sample = new GammaGammaLikelihood(x, m, w, rows);
                return (sample.Evaluate, sample.TotalWeight);
            },
            [0.0, Math.Log(2.0), Math.Log(meanSpend)], options);
        var result = new GammaGammaParameters(Math.Exp(min.Point[0]), Math.Exp(min.Point[1]), Math.Exp(min.Point[2]));
        return new FitResult<GammaGammaParameters>(result, full.Evaluate([result.P, result.Q, result.Gamma], new double[3]), min.Converged, min.Iterations);
    }

    /// <summary>
    /// Expected mean transaction value for a customer with <paramref name="x"/> repeat transactions of mean value
    /// <paramref name="monetary"/>: a weighted average of the population mean pγ/(q−1) and the customer's own mean,
    /// with more weight on the customer's own mean the more transactions they have made.
    /// For x = 0 this is the population mean. Throws <see cref="InvalidOperationException"/> when q ≤ 1.
    /// </summary>
    public static double ConditionalExpectedAverageSpend(GammaGammaParameters p, double x, double monetary)
    {
        p.RequireFiniteMean();
        if (!(x >= 0) || !(monetary >= 0) || double.IsInfinity(x) || double.IsInfinity(monetary))
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"Not a valid spend history: x={x}, m={monetary}.");
        }
        return p.P * (p.Gamma + monetary * x) / (p.P * x + p.Q - 1);
    }

    /// <summary>Population mean transaction value pγ/(q − 1). Throws <see cref="InvalidOperationException"/> when q ≤ 1.</summary>
    public static double ExpectedAverageSpend(GammaGammaParameters p)
    {
        p.RequireFiniteMean();
        return p.P * p.Gamma / (p.Q - 1);
    }

    private static void Require(double x, double monetary)
    {
        if (!(x > 0) || !(monetary > 0) || double.IsInfinity(x) || double.IsInfinity(monetary))
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"A repeat buyer needs x > 0 and mean spend > 0: x={x}, m={monetary}.");
        }
    }

    private static (double[] X, double[] M, double[] W) RepeatBuyers(IReadOnlyList<double> frequency, IReadOnlyList<double> monetary, IReadOnlyList<double>? weight)
    {
        ArgumentNullException.ThrowIfNull(frequency);
        ArgumentNullException.ThrowIfNull(monetary);
        if (monetary.Count != frequency.Count || (weight is not null && weight.Count != frequency.Count))
        {
            throw new ArgumentException("All columns must have the same length.");
        }
        var x = new List<double>();
        var m = new List<double>();
        var w = new List<double>();
        for (var i = 0; i < frequency.Count; i++)
        {
            if (frequency[i] == 0)
            {
                continue;
            }
            Require(frequency[i], monetary[i]);
            var wi = weight?[i] ?? 1.0;
            if (!(wi >= 0) || double.IsInfinity(wi))
            {
                throw new ArgumentOutOfRangeException(nameof(weight), $"Row {i} has an invalid weight {wi}.");
            }
            x.Add(frequency[i]);
            m.Add(monetary[i]);
            w.Add(wi);
        }
        return (x.ToArray(), m.ToArray(), w.ToArray());
    }

    /// <summary>Precomputes ln x and ln m̄ per row, which do not depend on the parameters.</summary>
    private sealed class Evaluator(double[] x, double[] m, double[] w)
    {
        private readonly double[] _logX = [.. x.Select(v => Math.Log(v))];
        private readonly double[] _logM = [.. m.Select(v => Math.Log(v))];
        private readonly double[] _mx = [.. x.Select((xi, i) => xi * m[i])];

        public double LogLikelihood(double p, double q, double gamma)
        {
            var constant = q * Math.Log(gamma) - SpecialFunctions.GammaLn(q);
            var total = 0.0;
            for (var i = 0; i < x.Length; i++)
            {
                var px = p * x[i];
                total += w[i] * (SpecialFunctions.GammaLn(px + q) - SpecialFunctions.GammaLn(px) + constant
                    + (px - 1) * _logM[i] + px * _logX[i] - (px + q) * Math.Log(gamma + _mx[i]));
            }
            return total;
        }
    }
}
