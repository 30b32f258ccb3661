using MathNet.Numerics;

namespace Clientele.Clv;

/// <summary>
/// Special functions in log space. The customer-base likelihoods multiply huge and tiny factors
/// (e.g. (α+T)^(r+x) for heavy buyers), so everything is kept as logarithms until the end.
/// </summary>
public static class LogMath
{
    /// <summary>ln(1 + x), accurate for small x (Kahan's trick: the rounding of 1 + x cancels out).</summary>
    public static double Log1P(double x)
    {
        var u = 1.0 + x;
        return u == 1.0 ? x : Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>e^x − 1, accurate for small x (Kahan's trick, as in <see cref="Log1P"/>).</summary>
    public static double ExpM1(double x)
    {
        if (Math.Abs(x) > 0.5)
        {
            return Math.Exp(x) - 1.0;
        }
        var u = Math.Exp(x);
        return u == 1.0 ? x : (u - 1.0) * x / Math.Log(u);
    }

    /// <summary>ln(e^a + e^b) without overflow or underflow.</summary>
    public static double LogAddExp(double a, double b)
    {
        if (double.IsNegativeInfinity(a))
        {
            return b;
        }
        if (double.IsNegativeInfinity(b))
        {
            return a;
        }
        return a > b ? a + LogMath.Log1P(Math.Exp(b - a)) : b + LogMath.Log1P(Math.Exp(a - b));
    }

    /// <summary>ln(e^a − e^b) for a ≥ b; −∞ when they are equal.</summary>
    public static double LogSubExp(double a, double b)
    {
        if (b > a)
        {
            throw new ArgumentOutOfRangeException(nameof(b), "ln(e^a − e^b) needs a ≥ b.");
        }
        if (a == b || double.IsNegativeInfinity(b))
        {
            return a == b ? double.NegativeInfinity : a;
        }
        var d = b - a;
        // For e^d close to 1, log(−expm1(d)) keeps the digits that log1p(−e^d) would lose.
        return a + (d > -0.693 ? Math.Log(-LogMath.ExpM1(d)) : LogMath.Log1P(-Math.Exp(d)));
    }

    /// <summary>ln Γ(a + n) − ln Γ(a): the log rising factorial, exact-ish for small integer n.</summary>
    public static double LogRising(double a, double n)
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
                s += Math.Log(a + k);
            }
            return s;
        }
        return SpecialFunctions.GammaLn(a + n) - SpecialFunctions.GammaLn(a);
    }

    /// <summary>
    /// ln ₂F₁(a, b; c; z) for a, b, c &gt; 0 and 0 ≤ z &lt; 1, where every term of the power series is positive.
    /// When c − a − b &lt; 0 the series grows like (1 − z)^(c−a−b) as z → 1, so Euler's transformation
    /// ₂F₁(a,b;c;z) = (1−z)^(c−a−b) ₂F₁(c−a, c−b; c; z) is applied (when c−a and c−b stay positive)
    /// to sum a bounded series instead. The number of terms grows roughly like 1/(1 − z).
    /// </summary>
    public static double LogHyp2F1(double a, double b, double c, double z)
    {
        if (!(a > 0 && b > 0 && c > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(c), "LogHyp2F1 is implemented for a, b, c > 0.");
        }
        if (!(z >= 0 && z < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(z), "LogHyp2F1 is implemented for 0 ≤ z < 1.");
        }
        if (z == 0)
        {
            return 0;
        }
        var cab = c - a - b;
        if (cab < 0 && c - a > 0 && c - b > 0 && z > 0.5)
        {
            return cab * LogMath.Log1P(-z) + LogSeries(c - a, c - b, c, z);
        }
        return LogSeries(a, b, c, z);
    }

    private static double LogSeries(double a, double b, double c, double z)
    {
        // Terms are summed relative to a running scale so that sums far beyond double range stay finite.
        var logScale = 0.0;
        var term = 1.0;
        var sum = 1.0;
        const int MaxTerms = 2_000_000;
        for (var k = 0; k < MaxTerms; k++)
        {
            term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z;
            sum += term;
            if (sum > 1e250)
            {
                var l = Math.Log(sum);
                logScale += l;
                term /= sum;
                sum = 1.0;
            }
            // Stop once terms are negligible and shrinking (the ratio tends to z < 1 from here on).
            if (term < sum * 1e-17 && (a + k + 1) * (b + k + 1) * z < (c + k + 1) * (k + 2))
            {
                return logScale + Math.Log(sum);
            }
        }
        throw new ArithmeticException($"₂F₁({a}, {b}; {c}; {z}) did not converge.");
    }
}
