namespace Clientele.Clv;

/// <summary>Outcome of a minimisation.</summary>
internal readonly record struct Minimum(double[] Point, double Value, bool Converged, int Iterations);

/// <summary>
/// Nelder–Mead simplex with restarts. The likelihoods here are smooth but cheap and low-dimensional,
/// so a derivative-free method is the simplest reliable choice; restarting from the best vertex with a fresh
/// simplex guards against the simplex collapsing before it reaches the optimum.
/// </summary>
internal static class Optimizer
{
    public static Minimum NelderMead(Func<double[], double> f, double[] start, double tolerance = 1e-12, int maxIterations = 20_000)
    {
        var n = start.Length;
        var best = (double[])start.Clone();
        var bestValue = Safe(f, best);
        var total = 0;
        for (var restart = 0; restart < 20; restart++)
        {
            var (point, value, converged, iterations) = Run(f, best, bestValue, tolerance, maxIterations - total);
            total += iterations;
            var improved = bestValue - value > tolerance * (1 + Math.Abs(value));
            var moved = false;
            for (var i = 0; i < n; i++)
            {
                moved |= Math.Abs(point[i] - best[i]) > 1e-7 * (1 + Math.Abs(best[i]));
            }
            if (value <= bestValue)
            {
                best = point;
                bestValue = value;
            }
            if (!converged)
            {
                return new Minimum(best, bestValue, false, total);
            }
            if (!improved && !moved)
            {
                return new Minimum(best, bestValue, true, total);
            }
        }
        return new Minimum(best, bestValue, false, total);
    }

    // A point where the objective cannot be evaluated (overflow, a series that does not converge) is treated as
    // infinitely bad, so the simplex moves away from it instead of the whole fit failing.
    private static double Safe(Func<double[], double> f, double[] p)
    {
        try
        {
            var v = f(p);
            return double.IsNaN(v) ? double.PositiveInfinity : v;
        }
        catch (ArithmeticException)
        {
            return double.PositiveInfinity;
        }
        catch (ArgumentOutOfRangeException)
        {
            return double.PositiveInfinity;
        }
    }

    private static Minimum Run(Func<double[], double> f, double[] start, double startValue, double tolerance, int maxIterations)
    {
        var n = start.Length;
        // Adaptive coefficients (Gao & Han 2012) behave better than the classic ones as the dimension grows.
        double alpha = 1, beta = 1 + 2.0 / n, gamma = 0.75 - 1.0 / (2 * n), delta = 1 - 1.0 / n;
        var simplex = new double[n + 1][];
        var values = new double[n + 1];
        simplex[0] = (double[])start.Clone();
        values[0] = startValue;
        for (var i = 0; i < n; i++)
        {
            var v = (double[])start.Clone();
            v[i] += Math.Abs(v[i]) > 1e-3 ? 0.1 * Math.Abs(v[i]) : 0.1;
            simplex[i + 1] = v;
            values[i + 1] = Safe(f, v);
        }
        var order = new int[n + 1];
        var centroid = new double[n];
        var trial = new double[n];
        var trial2 = new double[n];
        for (var iter = 1; iter <= Math.Max(maxIterations, 1); iter++)
        {
            for (var i = 0; i <= n; i++)
            {
                order[i] = i;
            }
            Array.Sort(order, (p, q) => values[p].CompareTo(values[q]));
            int lo = order[0], hi = order[n], nextHi = order[n - 1];

            var spread = Math.Abs(values[hi] - values[lo]);
            var size = 0.0;
            for (var i = 0; i <= n; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    size = Math.Max(size, Math.Abs(simplex[i][j] - simplex[lo][j]));
                }
            }
            if (spread <= tolerance * (1 + Math.Abs(values[lo])) && size <= 1e-9)
            {
                return new Minimum((double[])simplex[lo].Clone(), values[lo], true, iter);
            }

            Array.Clear(centroid);
            for (var i = 0; i <= n; i++)
            {
                if (i == hi)
                {
                    continue;
                }
                for (var j = 0; j < n; j++)
                {
                    centroid[j] += simplex[i][j] / n;
                }
            }
            for (var j = 0; j < n; j++)
            {
                trial[j] = centroid[j] + alpha * (centroid[j] - simplex[hi][j]);
            }
            var fr = Safe(f, trial);
            if (fr < values[lo])
            {
                for (var j = 0; j < n; j++)
                {
                    trial2[j] = centroid[j] + beta * (trial[j] - centroid[j]);
                }
                var fe = Safe(f, trial2);
                if (fe < fr)
                {
                    Array.Copy(trial2, simplex[hi], n);
                    values[hi] = fe;
                }
                else
                {
                    Array.Copy(trial, simplex[hi], n);
                    values[hi] = fr;
                }
                continue;
            }
            if (fr < values[nextHi])
            {
                Array.Copy(trial, simplex[hi], n);
                values[hi] = fr;
                continue;
            }
            var outside = fr < values[hi];
            for (var j = 0; j < n; j++)
            {
                trial2[j] = outside
                    ? centroid[j] + gamma * (trial[j] - centroid[j])
                    : centroid[j] - gamma * (centroid[j] - simplex[hi][j]);
            }
            var fc = Safe(f, trial2);
            if (fc < (outside ? fr : values[hi]))
            {
                Array.Copy(trial2, simplex[hi], n);
                values[hi] = fc;
                continue;
            }
            for (var i = 0; i <= n; i++)
            {
                if (i == lo)
                {
                    continue;
                }
                for (var j = 0; j < n; j++)
                {
                    simplex[i][j] = simplex[lo][j] + delta * (simplex[i][j] - simplex[lo][j]);
                }
                values[i] = Safe(f, simplex[i]);
            }
        }
        var b = 0;
        for (var i = 1; i <= n; i++)
        {
            if (values[i] < values[b])
            {
                b = i;
            }
        }
        return new Minimum((double[])simplex[b].Clone(), values[b], false, maxIterations);
    }
}
