using MathNet.Numerics.Distributions;

namespace Clientele.Clv;

/// <summary>
/// Synthetic customer bases drawn from the models themselves, for checking that a fit recovers the parameters it was given
/// and for benchmarks. A seed fixes the draw, so the same call always returns the same data.
/// </summary>
public static class FittingSimulation
{
    /// <summary>
    /// Customers with ages T uniform on (0, <paramref name="maxAge"/>] whose purchases follow the BG/NBD with parameters
    /// <paramref name="p"/>. With <paramref name="resolution"/> &gt; 0, T is rounded up and t_x down to a multiple of it
    /// (e.g. 1/7 for whole days when times are in weeks) and identical rows are merged; otherwise every row is distinct.
    /// </summary>
    public static RfmData BgNbd(BgNbdParameters p, int customers, double maxAge, int seed, double resolution = 0)
    {
        p.Validate();
        var random = new Random(seed);
        return Build(customers, maxAge, resolution, random, age =>
        {
            var lambda = Gamma.Sample(random, p.R, p.Alpha);
            var dropout = Beta.Sample(random, p.A, p.B);
            double time = 0, last = 0;
            var x = 0;
            while (true)
            {
                time += Exponential.Sample(random, lambda);
                if (time > age)
                {
                    break;
                }
                x++;
                last = time;
                if (random.NextDouble() < dropout)
                {
                    break;
                }
            }
            return (x, last);
        });
    }

    /// <summary>As <see cref="BgNbd"/>, with purchases from the Pareto/NBD: Poisson purchases until an exponential lifetime ends.</summary>
    public static RfmData ParetoNbd(ParetoNbdParameters p, int customers, double maxAge, int seed, double resolution = 0)
    {
        p.Validate();
        var random = new Random(seed);
        return Build(customers, maxAge, resolution, random, age =>
        {
            var lambda = Gamma.Sample(random, p.R, p.Alpha);
            var mu = Gamma.Sample(random, p.S, p.Beta);
            var end = Math.Min(age, Exponential.Sample(random, mu));
            double time = 0, last = 0;
            var x = 0;
            while (true)
            {
                time += Exponential.Sample(random, lambda);
                if (time > end)
                {
                    break;
                }
                x++;
                last = time;
            }
            return (x, last);
        });
    }

    /// <summary>
    /// Repeat buyers with 1 to <paramref name="maxTransactions"/> transactions (uniformly) whose values follow the
    /// Gamma-Gamma model: each customer's rate ν is Gamma(q, γ) and each transaction value Gamma(p, ν).
    /// Returns the frequency x and the mean value m̄ of each customer's transactions.
    /// </summary>
    public static (double[] Frequency, double[] Monetary) GammaGamma(GammaGammaParameters p, int customers, int seed, int maxTransactions = 10)
    {
        p.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTransactions, 1);
        var random = new Random(seed);
        var x = new double[customers];
        var m = new double[customers];
        for (var i = 0; i < customers; i++)
        {
            var n = random.Next(1, maxTransactions + 1);
            var nu = MathNet.Numerics.Distributions.Gamma.Sample(random, p.Q, p.Gamma);
            var total = 0.0;
            for (var k = 0; k < n; k++)
            {
                total += MathNet.Numerics.Distributions.Gamma.Sample(random, p.P, nu);
            }
            x[i] = n;
            m[i] = total / n;
        }
        return (x, m);
    }

    private static RfmData Build(int customers, double maxAge, double resolution, Random random, Func<double, (int X, double Last)> customer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(customers);
        if (!(maxAge > 0) || double.IsInfinity(maxAge))
        {
            throw new ArgumentOutOfRangeException(nameof(maxAge), "maxAge must be a finite positive time.");
        }
        var x = new double[customers];
        var tx = new double[customers];
        var t = new double[customers];
        for (var i = 0; i < customers; i++)
        {
            var age = maxAge * (1 - random.NextDouble());
            if (resolution > 0)
            {
                age = Math.Max(1, Math.Ceiling(age / resolution)) * resolution;
            }
            var (n, last) = customer(age);
            x[i] = n;
            tx[i] = resolution > 0 ? Math.Min(age, Math.Floor(last / resolution) * resolution) : last;
            t[i] = age;
        }
        return resolution > 0
            ? RfmData.Grouped(Enumerable.Range(0, customers).Select(i => (x[i], tx[i], t[i], 1.0)))
            : RfmData.Create(x, tx, t);
    }
}
