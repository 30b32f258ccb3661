namespace Clientele.Clv;

/// <summary>
/// Globally adaptive Gauss–Kronrod (7/15) quadrature: the interval with the largest error estimate is split until the
/// total estimated error is small relative to the integral or a fixed number of subintervals is reached, so the cost is
/// always bounded.
/// </summary>
internal static class Quadrature
{
    private static readonly double[] Nodes =
    [
        0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
        0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
        0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
        0.207784955007898467600689403773245, 0.0,
    ];

    private static readonly double[] KronrodWeights =
    [
        0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
        0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
        0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
        0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
    ];

    // Weights of the 7-point Gauss rule, whose nodes are the odd-indexed Kronrod nodes (1, 3, 5, 7).
    private static readonly double[] GaussWeights =
    [
        0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
        0.381830050505118944950369775488975, 0.417959183673469387755102040816327,
    ];

    public static double Integrate(Func<double, double> f, double a, double b, double relativeTolerance, int maxIntervals = 200)
    {
        if (a == b)
        {
            return 0;
        }
        var intervals = new List<(double A, double B, double Value, double Error)> { Rule(f, a, b) };
        var total = intervals[0].Value;
        var error = intervals[0].Error;
        while (error > relativeTolerance * Math.Abs(total) && intervals.Count < maxIntervals)
        {
            var worst = 0;
            for (var i = 1; i < intervals.Count; i++)
            {
                if (intervals[i].Error > intervals[worst].Error)
                {
                    worst = i;
                }
            }
            var (lo, hi, value, err) = intervals[worst];
            var mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi)
            {
                break;
            }
            var left = Rule(f, lo, mid);
            var right = Rule(f, mid, hi);
            intervals[worst] = left;
            intervals.Add(right);
            total += left.Value + right.Value - value;
            error += left.Error + right.Error - err;
        }
        return total;
    }

    private static (double A, double B, double Value, double Error) Rule(Func<double, double> f, double a, double b)
    {
        var center = 0.5 * (a + b);
        var half = 0.5 * (b - a);
        var fc = f(center);
        var kronrod = fc * KronrodWeights[7];
        var gauss = fc * GaussWeights[3];
        for (var i = 0; i < 7; i++)
        {
            var dx = half * Nodes[i];
            var sum = f(center - dx) + f(center + dx);
            kronrod += KronrodWeights[i] * sum;
            if (i % 2 == 1)
            {
                gauss += GaussWeights[i / 2] * sum;
            }
        }
        return (a, b, kronrod * half, Math.Abs((kronrod - gauss) * half));
    }
}
