using MathNet.Numerics;

namespace Clientele.Clv;

/// <summary>
/// BG/BB parameters. While alive, a customer transacts at each opportunity with probability p, and p is
/// Beta(α, β) across customers; before each opportunity an alive customer drops out with probability θ,
/// and θ is Beta(γ, δ) across customers.
/// </summary>
public readonly record struct BgBbParameters(double Alpha, double Beta, double Gamma, double Delta)
{
    internal void Validate()
    {
        if (!(Alpha > 0 && Beta > 0 && Gamma > 0 && Delta > 0) || double.IsInfinity(Alpha + Beta + Gamma + Delta))
        {
            throw new ArgumentOutOfRangeException(nameof(Alpha), $"BG/BB parameters must be positive and finite: {this}.");
        }
    }
}

/// <summary>
/// One line of discrete-time data: customers with the same history over <paramref name="Opportunities"/>
/// transaction opportunities (e.g. years in which a donation could be made).
/// </summary>
/// <param name="Frequency">x: number of opportunities with a repeat transaction.</param>
/// <param name="Recency">t_x: the opportunity (1 … n) of the last repeat transaction; 0 when x = 0.</param>
/// <param name="Opportunities">n: number of repeat-transaction opportunities observed.</param>
/// <param name="Weight">Number of customers with this history.</param>
public readonly record struct BgBbRow(int Frequency, int Recency, int Opportunities, double Weight);

/// <summary>
/// The beta-geometric / beta-binomial model of Fader, Hardie &amp; Shang (2010), "Customer-Base Analysis in a
/// Discrete-Time Noncontractual Setting": the discrete-time counterpart of the Pareto/NBD and BG/NBD,
/// for businesses where a transaction can only happen at fixed occasions (a yearly donation drive, an annual event).
/// </summary>
public static class BgBb
{
    /// <summary>
    /// Log-likelihood of one history (x, t_x, n). The likelihood is "alive through opportunity n" plus a sum over
    /// the possible drop-out points after t_x; the terms are combined in log space (log-sum-exp).
    /// </summary>
    public static double LogLikelihood(BgBbParameters p, int x, int recency, int n)
    {
        p.Validate();
        RequireHistory(x, recency, n);
        return LogLikelihood(new Risings(p.Alpha, p.Beta, p.Gamma, p.Delta, n), x, recency, n);
    }

    /// <summary>Weighted sum of <see cref="LogLikelihood(BgBbParameters, int, int, int)"/> over the rows.</summary>
    public static double LogLikelihood(BgBbParameters p, IReadOnlyList<BgBbRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        p.Validate();
        RequireRows(rows);
        return Sum(p.Alpha, p.Beta, p.Gamma, p.Delta, Group(rows));
    }

    /// <summary>
    /// Maximum-likelihood estimate. The optimiser works on log-parameters so that every step stays positive;
    /// with <see cref="FitOptions.Penalty"/> λ it minimises −LL/N + λ(α² + β² + γ² + δ²) as the other models do.
    /// </summary>
    public static FitResult<BgBbParameters> Fit(IReadOnlyList<BgBbRow> rows, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        options ??= FitOptions.Default;
        RequireRows(rows);
        var grouped = Group(rows);
        var total = grouped.Sum(g => g.Weight);
        if (!(total > 0))
        {
            throw new ArgumentException("The rows must carry some weight to fit the model.", nameof(rows));
        }
        var lambda = options.Penalty;
        double Objective(double[] θ)
        {
            double alpha = Math.Exp(θ[0]), beta = Math.Exp(θ[1]), gamma = Math.Exp(θ[2]), delta = Math.Exp(θ[3]);
            if (!(alpha > 0 && beta > 0 && gamma > 0 && delta > 0) || double.IsInfinity(alpha + beta + gamma + delta))
            {
                // The log-parameter under- or overflowed: treat as infinitely bad rather than let the Beta function throw.
                return double.PositiveInfinity;
            }
            var ll = Sum(alpha, beta, gamma, delta, grouped);
            return -ll / total + lambda * (alpha * alpha + beta * beta + gamma * gamma + delta * delta);
        }
        var min = Optimizer.NelderMead(Objective, [0.0, 0.0, 0.0, 0.0], options.Tolerance, options.MaxIterations);
        var p = new BgBbParameters(Math.Exp(min.Point[0]), Math.Exp(min.Point[1]), Math.Exp(min.Point[2]), Math.Exp(min.Point[3]));
        return new FitResult<BgBbParameters>(p, Sum(p.Alpha, p.Beta, p.Gamma, p.Delta, grouped), min.Converged, min.Iterations);
    }

    /// <summary>
    /// P(alive at opportunity n + 1 | x, t_x, n): the chance that a customer with this history is still
    /// a customer at the next opportunity.
    /// </summary>
    public static double ProbabilityAlive(BgBbParameters p, int x, int recency, int n)
    {
        p.Validate();
        RequireHistory(x, recency, n);
        var r = new Risings(p.Alpha, p.Beta, p.Gamma, p.Delta, n + 1);
        var logAlive = r.Transactions(x, n - x) + r.Survives(n + 1);
        var ll = LogLikelihood(r, x, recency, n);
        return Math.Clamp(Math.Exp(logAlive - ll), 0, 1);
    }

    /// <summary>
    /// E[X(n, n + n*) | x, t_x, n]: expected transactions in the next <paramref name="futureOpportunities"/>
    /// opportunities for a customer with history (x, t_x, n).
    /// </summary>
    public static double ConditionalExpectedPurchases(BgBbParameters p, int futureOpportunities, int x, int recency, int n)
    {
        p.Validate();
        RequireHistory(x, recency, n);
        ArgumentOutOfRangeException.ThrowIfNegative(futureOpportunities);
        if (futureOpportunities == 0)
        {
            return 0;
        }
        var r = new Risings(p.Alpha, p.Beta, p.Gamma, p.Delta, n + 1);
        var ll = LogLikelihood(r, x, recency, n);
        // ∫∫ p^(x+1) (1−p)^(n−x) Σ_k (1−θ)^(n+k) over the two beta mixing distributions, divided by the likelihood.
        var log = r.Transactions(x + 1, n - x)
            + r.Survives(n + 1) + Math.Log(RelativeSurvivalSum(p.Gamma, p.Delta + (n + 1), futureOpportunities))
            - ll;
        return Math.Exp(log);
    }

    /// <summary>E[X(n)]: expected transactions in the first <paramref name="n"/> opportunities of a new customer.</summary>
    public static double ExpectedPurchases(BgBbParameters p, int n)
    {
        p.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (n == 0)
        {
            return 0;
        }
        // Σ_{t=1}^{n} P(alive at t) · E[p]; P(alive at 1) = δ / (γ + δ).
        return p.Alpha / (p.Alpha + p.Beta) * p.Delta / (p.Gamma + p.Delta) * RelativeSurvivalSum(p.Gamma, p.Delta + 1, n);
    }

    /// <summary>P(X(n) = x): probability that a new customer transacts at exactly <paramref name="x"/> of the first <paramref name="n"/> opportunities.</summary>
    public static double ProbabilityOfPurchases(BgBbParameters p, int n, int x)
    {
        p.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (x < 0 || x > n)
        {
            return 0;
        }
        // Alive throughout: x of n Bernoulli successes.
        var r = new Risings(p.Alpha, p.Beta, p.Gamma, p.Delta, n);
        var log = SpecialFunctions.BinomialLn(n, x) + r.Transactions(x, n - x) + r.Survives(n);
        // Dropped out just after opportunity i (x ≤ i < n): x of i successes, alive for i opportunities, then gone.
        for (var i = x; i < n; i++)
        {
            var term = SpecialFunctions.BinomialLn(i, x) + r.Transactions(x, i - x) + r.DropsAfter(i);
            log = LogMath.LogAddExp(log, term);
        }
        return Math.Clamp(Math.Exp(log), 0, 1);
    }

    /// <summary>
    /// ln L(α, β, γ, δ | x, t_x, n) = ln[B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
    /// + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ)]: alive throughout, or dropped out
    /// after one of the opportunities t_x, …, n−1.
    /// </summary>
    private static double LogLikelihood(Risings r, int x, int recency, int n)
    {
        var alive = r.Transactions(x, n - x) + r.Survives(n);
        var count = n - recency;
        if (count == 0)
        {
            return alive;
        }
        // The drop-out terms shrink steadily (each is the previous times two ratios below 1), so the first is the
        // largest: the sum is that term times a sum of ratios in [0, 1], which can neither overflow nor underflow.
        var first = r.Transactions(x, recency - x) + r.DropsAfter(recency);
        double alpha = r.Alpha, beta = r.Beta, gamma = r.Gamma, delta = r.Delta;
        var relative = 1.0;
        var term = 1.0;
        for (var i = 0; i < count - 1; i++)
        {
            double b = beta + (recency - x + i), d = delta + (recency + i);
            term *= b / (alpha + b + x) * (d / (gamma + 1 + d));
            relative += term;
        }
        return LogMath.LogAddExp(alive, first + Math.Log(relative));
    }

    /// <summary>
    /// The Beta-function ratios of the model, written as rising factorials with integer counts, ln[(a)_k] = Σ_{j&lt;k} ln(a + j),
    /// rather than as differences of ln B: those differences lose every digit when a parameter is huge (as degenerate data
    /// push it), and the optimiser would then chase rounding errors instead of the likelihood. For the counts a data set
    /// needs, the sums are tabulated once per parameter point, so each row costs a few look-ups.
    /// </summary>
    private sealed class Risings
    {
        private const int MaxTable = 1 << 20;
        private readonly double[]? _a, _b, _ab, _d, _gd;
        private readonly double _logGamma;

        public Risings(double alpha, double beta, double gamma, double delta, int maxCount)
        {
            Alpha = alpha;
            Beta = beta;
            Gamma = gamma;
            Delta = delta;
            _logGamma = Math.Log(gamma);
            // Counts go up to n + 1 (one past the last opportunity).
            var size = maxCount + 2;
            if (size <= MaxTable)
            {
                _a = Table(alpha, size);
                _b = Table(beta, size);
                _ab = Table(alpha + beta, size);
                _d = Table(delta, size);
                _gd = Table(gamma + delta, size);
            }
        }

        public double Alpha { get; }

        public double Beta { get; }

        public double Gamma { get; }

        public double Delta { get; }

        /// <summary>ln B(α+s, β+f) / B(α, β) = ln[(α)_s (β)_f / (α+β)_(s+f)]: s transactions and f misses.</summary>
        public double Transactions(int s, int f) => _a is null
            ? LogRisingInteger(Alpha, s) + LogRisingInteger(Beta, f) - LogRisingInteger(Alpha + Beta, s + f)
            : _a[s] + _b![f] - _ab![s + f];

        /// <summary>ln B(γ, δ+t) / B(γ, δ) = ln[(δ)_t / (γ+δ)_t]: still alive at opportunity t.</summary>
        public double Survives(int t) => _d is null
            ? LogRisingInteger(Delta, t) - LogRisingInteger(Gamma + Delta, t)
            : _d[t] - _gd![t];

        /// <summary>ln B(γ+1, δ+t) / B(γ, δ) = ln[γ (δ)_t / (γ+δ)_(t+1)]: alive for t opportunities, gone before the next.</summary>
        public double DropsAfter(int t) => _d is null
            ? _logGamma + LogRisingInteger(Delta, t) - LogRisingInteger(Gamma + Delta, t + 1)
            : _logGamma + _d[t] - _gd![t + 1];

        private static double[] Table(double a, int size)
        {
            var t = new double[size];
            for (var k = 1; k < size; k++)
            {
                t[k] = t[k - 1] + Math.Log(a + (k - 1));
            }
            return t;
        }
    }

    /// <summary>ln[(a)_k] = ln Γ(a+k) − ln Γ(a) for a whole number k ≥ 0, accurate however large a is.</summary>
    internal static double LogRisingInteger(double a, int k)
    {
        if (k <= 64)
        {
            var s = 0.0;
            for (var j = 0; j < k; j++)
            {
                s += Math.Log(a + j);
            }
            return s;
        }
        return LogGammaRatio(a, k, 0);
    }

    /// <summary>Σ_{k=0}^{m−1} B(γ, c+k) / B(γ, c), which is at least 1 for m ≥ 1.</summary>
    private static double RelativeSurvivalSum(double gamma, double c, int m)
    {
        if (m <= 100_000)
        {
            var sum = 0.0;
            var term = 1.0;
            for (var k = 0; k < m; k++)
            {
                sum += term;
                term *= (c + k) / (gamma + c + k);
            }
            return sum;
        }
        if (gamma == 1)
        {
            // The closed form below is 0/0 here; its limit is c (ψ(c+m) − ψ(c)).
            return c * (SpecialFunctions.DiGamma(c + m) - SpecialFunctions.DiGamma(c));
        }
        // Σ = (γ+c−1)/(γ−1) · (1 − Γ(c+m) Γ(γ+c−1) / (Γ(γ+c+m−1) Γ(c))).
        var u = LogGammaRatio(c + m, 0, gamma - 1) - LogGammaRatio(c, 0, gamma - 1);
        return (gamma + c - 1) / (gamma - 1) * -LogMath.ExpM1(u);
    }

    /// <summary>ln Γ(z + a) − ln Γ(z + b), with Stirling's series for large z so that the difference keeps its digits.</summary>
    internal static double LogGammaRatio(double z, double a, double b)
    {
        var lo = z + Math.Min(a, b);
        if (lo < 1e4)
        {
            return SpecialFunctions.GammaLn(z + a) - SpecialFunctions.GammaLn(z + b);
        }
        double za = z + a, zb = z + b, d = a - b;
        return d * Math.Log(zb) + (za - 0.5) * LogMath.Log1P(d / zb) - d
            + (1 / za - 1 / zb) / 12 - (1 / (za * za * za) - 1 / (zb * zb * zb)) / 360;
    }

    private static double Sum(double alpha, double beta, double gamma, double delta, IReadOnlyList<BgBbRow> rows)
    {
        var maxCount = 0;
        foreach (var row in rows)
        {
            maxCount = Math.Max(maxCount, row.Opportunities);
        }
        var r = new Risings(alpha, beta, gamma, delta, maxCount);
        var total = 0.0;
        foreach (var row in rows)
        {
            if (row.Weight > 0)
            {
                total += row.Weight * LogLikelihood(r, row.Frequency, row.Recency, row.Opportunities);
            }
        }
        return total;
    }

    /// <summary>Merges rows with the same (x, t_x, n), so each distinct history is evaluated once.</summary>
    private static List<BgBbRow> Group(IReadOnlyList<BgBbRow> rows)
    {
        var groups = new Dictionary<(int, int, int), double>();
        foreach (var r in rows)
        {
            var key = (r.Frequency, r.Recency, r.Opportunities);
            groups[key] = groups.TryGetValue(key, out var w) ? w + r.Weight : r.Weight;
        }
        return [.. groups.OrderBy(g => g.Key).Select(g => new BgBbRow(g.Key.Item1, g.Key.Item2, g.Key.Item3, g.Value))];
    }

    private static void RequireRows(IReadOnlyList<BgBbRow> rows)
    {
        foreach (var r in rows)
        {
            RequireHistory(r.Frequency, r.Recency, r.Opportunities);
            if (!(r.Weight >= 0) || double.IsInfinity(r.Weight))
            {
                throw new ArgumentOutOfRangeException(nameof(rows), $"Row weight must be finite and non-negative: {r}.");
            }
        }
    }

    /// <summary>0 ≤ x ≤ t_x ≤ n, and t_x = 0 exactly when x = 0.</summary>
    private static void RequireHistory(int x, int recency, int n)
    {
        if (x < 0 || recency < x || recency > n || (x == 0) != (recency == 0))
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"Not a valid discrete-time history: x={x}, t_x={recency}, n={n}.");
        }
    }
}
