namespace Clientele.Clv;

/// <summary>Outcome of a minimisation.</summary>
internal readonly record struct Minimum(double[] Point, double Value, bool Converged, int Iterations);

/// <summary>
/// Nelder–Mead simplex with restarts, for likelihoods without a gradient (models with a gradient use
/// <see cref="QuasiNewton.Bfgs"/>, which needs far fewer evaluations). Restarting from the best vertex with a fresh
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

/// <summary>
/// Quasi-Newton minimisation (BFGS with a backtracking Armijo line search) for smooth objectives whose gradient is known.
/// In four or fewer dimensions the dense inverse-Hessian update costs nothing next to one evaluation of a likelihood,
/// and it converges superlinearly near the optimum, which is where Nelder–Mead spends most of its evaluations.
/// </summary>
internal static class QuasiNewton
{
    /// <summary>Largest move of any coordinate in one step: the coordinates are log-parameters, so e^8 ≈ 3000-fold.</summary>
    private const double MaxStep = 8;

    /// <summary>
    /// Minimises <paramref name="f"/>, which returns the value at its first argument and writes the gradient into its second.
    /// Converged means the largest gradient component fell below <paramref name="gradientTolerance"/>, or the objective
    /// stopped changing (relative change below <paramref name="tolerance"/>) with the gradient already small.
    /// <paramref name="inverseHessian"/>, when given, receives the final inverse-Hessian approximation; unless it is all
    /// zeros it is also the starting one (e.g. from a fit on a sample of the data).
    /// </summary>
    public static Minimum Bfgs(
        Func<double[], double[], double> f,
        double[] start,
        double tolerance,
        double gradientTolerance,
        int maxIterations,
        double[,]? inverseHessian = null)
    {
        var n = start.Length;
        var x = (double[])start.Clone();
        var g = new double[n];
        var value = Safe(f, x, g);
        if (!double.IsFinite(value))
        {
            return new Minimum(x, value, false, 0);
        }
        var h = inverseHessian ?? new double[n, n];
        var scaled = false;
        foreach (var e in h)
        {
            scaled |= e != 0;
        }
        if (!scaled)
        {
            SetIdentity(h);
        }
        var d = new double[n];
        var trial = new double[n];
        var gTrial = new double[n];
        var s = new double[n];
        var y = new double[n];
        var hy = new double[n];
        var smallChanges = 0;
        for (var iter = 1; iter <= Math.Max(maxIterations, 1); iter++)
        {
            if (MaxAbs(g) <= gradientTolerance)
            {
                return new Minimum(x, value, true, iter - 1);
            }
            var slope = Direction(h, g, d);
            if (!(slope < 0))
            {
                // Not a descent direction (the curvature estimate has gone bad): restart from steepest descent.
                SetIdentity(h);
                scaled = false;
                slope = Direction(h, g, d);
            }
            var longest = MaxAbs(d);
            var step = longest > MaxStep ? MaxStep / longest : 1.0;
            var accepted = false;
            double trialValue = double.PositiveInfinity;
            for (var k = 0; k < 60; k++)
            {
                for (var i = 0; i < n; i++)
                {
                    trial[i] = x[i] + step * d[i];
                }
                trialValue = Safe(f, trial, gTrial);
                if (double.IsFinite(trialValue) && trialValue <= value + 1e-4 * step * slope)
                {
                    accepted = true;
                    break;
                }
                // Near the optimum of a sum over many rows the objective changes by less than its rounding error, while the
                // gradient is still accurate: a step that leaves the value unchanged to rounding and shrinks the gradient is
                // progress too.
                if (Math.Abs(trialValue - value) <= 1e-14 * (1 + Math.Abs(value)) && MaxAbs(gTrial) < 0.5 * MaxAbs(g))
                {
                    accepted = true;
                    break;
                }
                // Minimum of the quadratic through f(x), f'(x) and f(x + step·d), kept within [0.1, 0.5] of the step.
                var next = double.IsFinite(trialValue)
                    ? -slope * step * step / (2 * (trialValue - value - slope * step))
                    : 0.1 * step;
                step = Math.Clamp(double.IsFinite(next) ? next : 0.1 * step, 0.1 * step, 0.5 * step);
            }
            if (!accepted)
            {
                if (MaxAbs(g) <= Math.Sqrt(gradientTolerance))
                {
                    // No further decrease is measurable and the gradient is already small: as good as it gets.
                    return new Minimum(x, value, true, iter);
                }
                if (!IsIdentity(h))
                {
                    SetIdentity(h);
                    scaled = false;
                    continue;
                }
                // No decrease along the gradient: the objective is flat to rounding here.
                return new Minimum(x, value, MaxAbs(g) <= Math.Sqrt(gradientTolerance), iter);
            }
            double sy = 0, yy = 0;
            for (var i = 0; i < n; i++)
            {
                s[i] = trial[i] - x[i];
                y[i] = gTrial[i] - g[i];
                sy += s[i] * y[i];
                yy += y[i] * y[i];
            }
            var change = value - trialValue;
            Array.Copy(trial, x, n);
            Array.Copy(gTrial, g, n);
            value = trialValue;
            if (sy > 1e-12 * Math.Sqrt(yy) * Norm(s))
            {
                if (!scaled)
                {
                    // Shanno–Phua scaling of the first approximation to the size of the observed curvature.
                    var gamma = sy / yy;
                    for (var i = 0; i < n; i++)
                    {
                        for (var j = 0; j < n; j++)
                        {
                            h[i, j] = i == j ? gamma : 0;
                        }
                    }
                    scaled = true;
                }
                Update(h, s, y, sy, hy);
            }
            smallChanges = change <= tolerance * (1 + Math.Abs(value)) ? smallChanges + 1 : 0;
            if (smallChanges >= 3 && MaxAbs(g) <= Math.Sqrt(gradientTolerance))
            {
                return new Minimum(x, value, true, iter);
            }
        }
        return new Minimum(x, value, MaxAbs(g) <= gradientTolerance, maxIterations);
    }

    // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ with ρ = 1 / sᵀy, expanded.
    private static void Update(double[,] h, double[] s, double[] y, double sy, double[] hy)
    {
        var n = s.Length;
        var rho = 1 / sy;
        var yhy = 0.0;
        for (var i = 0; i < n; i++)
        {
            hy[i] = 0;
            for (var j = 0; j < n; j++)
            {
                hy[i] += h[i, j] * y[j];
            }
            yhy += y[i] * hy[i];
        }
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                h[i, j] += rho * ((1 + rho * yhy) * s[i] * s[j] - hy[i] * s[j] - s[i] * hy[j]);
            }
        }
    }

    private static double Direction(double[,] h, double[] g, double[] d)
    {
        var slope = 0.0;
        for (var i = 0; i < g.Length; i++)
        {
            d[i] = 0;
            for (var j = 0; j < g.Length; j++)
            {
                d[i] -= h[i, j] * g[j];
            }
            slope += d[i] * g[i];
        }
        return slope;
    }

    private static void SetIdentity(double[,] h)
    {
        for (var i = 0; i < h.GetLength(0); i++)
        {
            for (var j = 0; j < h.GetLength(1); j++)
            {
                h[i, j] = i == j ? 1 : 0;
            }
        }
    }

    private static bool IsIdentity(double[,] h)
    {
        for (var i = 0; i < h.GetLength(0); i++)
        {
            for (var j = 0; j < h.GetLength(1); j++)
            {
                if (h[i, j] != (i == j ? 1 : 0))
                {
                    return false;
                }
            }
        }
        return true;
    }

    private static double MaxAbs(double[] v)
    {
        var m = 0.0;
        foreach (var e in v)
        {
            m = Math.Max(m, Math.Abs(e));
        }
        return double.IsNaN(m) ? double.PositiveInfinity : m;
    }

    private static double Norm(double[] v)
    {
        var s = 0.0;
        foreach (var e in v)
        {
            s += e * e;
        }
        return Math.Sqrt(s);
    }

    // As Optimizer.Safe: a point where the objective or its gradient cannot be evaluated counts as infinitely bad.
    private static double Safe(Func<double[], double[], double> f, double[] p, double[] g)
    {
        try
        {
            var v = f(p, g);
            foreach (var e in g)
            {
                if (!double.IsFinite(e))
                {
                    return double.PositiveInfinity;
                }
            }
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
}
