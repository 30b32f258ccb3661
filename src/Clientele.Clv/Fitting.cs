using System.Runtime.CompilerServices;
using MathNet.Numerics;

[assembly: InternalsVisibleTo("Clientele.Clv.Tests")]

namespace Clientele.Clv;

/// <summary>Log-likelihood of a data set at the natural parameters; writes its gradient with respect to them.</summary>
internal delegate double LogLikelihoodWithGradient(double[] parameters, double[] gradient);

/// <summary>Adds up one block of rows [from, to) into <c>sums</c>.</summary>
internal delegate void RowBlock(int from, int to, double[] sums);

/// <summary>
/// Shared machinery of the maximum-likelihood fits: the log-parameter transform and penalty, BFGS with a warm start from
/// a sample of the rows on large data, parallel sums over rows, and the x-only terms shared by rows with equal x.
/// </summary>
internal static class Fitting
{
    /// <summary>
    /// Sizes of the evenly spaced row samples a large fit runs on first, smallest first; a sample is used when the data have
    /// at least four times as many rows.
    /// </summary>
    private static readonly int[] SampleSizes = [10_000];

    /// <summary>Rows per block of a parallel sum; below two blocks the sum runs on the calling thread.</summary>
    private const int BlockRows = 8_192;

    /// <summary>
    /// Maximises a log-likelihood over positive parameters by minimising −LL/N + λ·Σθ² over log-parameters with BFGS.
    /// On data with many rows the fit first runs on evenly spaced samples of the rows (from <paramref name="sample"/>, given
    /// the row indices), each starting from the previous optimum and curvature estimate, so only the last few
    /// quasi-Newton steps pay for every row.
    /// </summary>
    public static Minimum Maximise(
        LogLikelihoodWithGradient full,
        double fullWeight,
        int rowCount,
        Func<int[], (LogLikelihoodWithGradient LogLikelihood, double Weight)>? sample,
        double[] logStart,
        FitOptions options)
    {
        var gradientTolerance = Math.Clamp(options.Tolerance * 1e4, 1e-10, 1e-5);
        var start = logStart;
        var iterations = 0;
        double[,]? curvature = null;
        foreach (var size in SampleSizes)
        {
            if (sample is null || rowCount < 4 * size)
            {
                break;
            }
            var (ll, weight) = sample(SampleIndices(rowCount, size));
            if (!(weight > 0))
            {
                break;
            }
            var h = new double[logStart.Length, logStart.Length];
            if (curvature is not null)
            {
                Array.Copy(curvature, h, h.Length);
            }
            var rough = QuasiNewton.Bfgs(
                Objective(ll, weight, options.Penalty), start, Math.Max(options.Tolerance, 1e-10), 1e-6, options.MaxIterations, h);
            iterations += rough.Iterations;
            if (double.IsFinite(rough.Value))
            {
                start = rough.Point;
                curvature = h;
            }
        }
        var min = QuasiNewton.Bfgs(
            Objective(full, fullWeight, options.Penalty), start, options.Tolerance, gradientTolerance,
            Math.Max(1, options.MaxIterations - iterations), curvature);
        return min with { Iterations = min.Iterations + iterations };
    }

    private static Func<double[], double[], double> Objective(LogLikelihoodWithGradient ll, double weight, double penalty)
    {
        var p = Array.Empty<double>();
        var gp = Array.Empty<double>();
        return (θ, g) =>
        {
            if (p.Length != θ.Length)
            {
                p = new double[θ.Length];
                gp = new double[θ.Length];
            }
            var reg = 0.0;
            for (var i = 0; i < θ.Length; i++)
            {
                // Beyond e^±200 a parameter has left any meaningful range; refusing such points keeps every value finite.
                if (!(Math.Abs(θ[i]) <= 200))
                {
                    return double.PositiveInfinity;
                }
                p[i] = Math.Exp(θ[i]);
                reg += p[i] * p[i];
            }
            var value = ll(p, gp);
            for (var i = 0; i < θ.Length; i++)
            {
                // Chain rule for θ = ln p: ∂/∂θ = p ∂/∂p.
                g[i] = -gp[i] * p[i] / weight + 2 * penalty * p[i] * p[i];
            }
            return -value / weight + penalty * reg;
        };
    }

    /// <summary>Indices of <paramref name="size"/> evenly spaced rows out of <paramref name="count"/>.</summary>
    private static int[] SampleIndices(int count, int size)
    {
        var indices = new int[size];
        var stride = (double)count / size;
        for (var i = 0; i < size; i++)
        {
            indices[i] = (int)(i * stride + stride / 2);
        }
        return indices;
    }

    /// <summary>
    /// Sums <paramref name="width"/> quantities over <paramref name="count"/> rows, in blocks spread over the thread pool.
    /// The blocks are fixed by the row count and added in order, so the result does not depend on scheduling.
    /// </summary>
    public static double[] SumRows(int count, int width, RowBlock block)
    {
        var blocks = Math.Max(1, count / BlockRows);
        if (blocks == 1)
        {
            var sums = new double[width];
            block(0, count, sums);
            return sums;
        }
        var partial = new double[blocks][];
        Parallel.For(0, blocks, b =>
        {
            var sums = new double[width];
            block((int)((long)count * b / blocks), (int)((long)count * (b + 1) / blocks), sums);
            partial[b] = sums;
        });
        var total = new double[width];
        foreach (var sums in partial)
        {
            for (var j = 0; j < width; j++)
            {
                total[j] += sums[j];
            }
        }
        return total;
    }

    /// <summary>
    /// The distinct values of <paramref name="x"/> (sorted), each row's index into them, and the total weight per value.
    /// Whole numbers below 2^20, the usual case for purchase counts, are indexed directly instead of by search.
    /// </summary>
    public static (double[] Distinct, int[] Index, double[] Weight) DistinctValues(double[] x, double[] w)
    {
        var index = new int[x.Length];
        double[] distinct;
        var max = 0.0;
        var whole = true;
        foreach (var v in x)
        {
            whole &= v == Math.Floor(v) && v >= 0 && v < 1 << 20;
            max = Math.Max(max, v);
        }
        if (whole)
        {
            var slot = new int[(int)max + 1];
            foreach (var v in x)
            {
                slot[(int)v] = 1;
            }
            var k = 0;
            for (var v = 0; v < slot.Length; v++)
            {
                slot[v] = slot[v] == 1 ? k++ : -1;
            }
            distinct = new double[k];
            for (var v = 0; v < slot.Length; v++)
            {
                if (slot[v] >= 0)
                {
                    distinct[slot[v]] = v;
                }
            }
            for (var i = 0; i < x.Length; i++)
            {
                index[i] = slot[(int)x[i]];
            }
        }
        else
        {
            distinct = [.. x.Distinct().Order()];
            for (var i = 0; i < x.Length; i++)
            {
                index[i] = Array.BinarySearch(distinct, x[i]);
            }
        }
        var weight = new double[distinct.Length];
        for (var i = 0; i < x.Length; i++)
        {
            weight[index[i]] += w[i];
        }
        return (distinct, index, weight);
    }

    /// <summary>ψ(a + n) − ψ(a), the derivative of <see cref="LogMath.LogRising"/> in a; a plain sum for small whole n.</summary>
    public static double DigammaRising(double a, double n)
    {
        if (n == 0)
        {
            return 0;
        }
        if (n < 16 && n == Math.Floor(n))
        {
            var s = 0.0;
            for (var k = 0; k < n; k++)
            {
                s += 1 / (a + k);
            }
            return s;
        }
        return SpecialFunctions.DiGamma(a + n) - SpecialFunctions.DiGamma(a);
    }
}
