namespace Clientele.Clv;

/// <summary>One point of the concentration curve.</summary>
/// <param name="CustomerShare">Share of customers, best first (0.2 = the top 20 %).</param>
/// <param name="RevenueShare">Share of total revenue those customers account for.</param>
public readonly record struct ParetoPoint(double CustomerShare, double RevenueShare);

/// <summary>
/// How concentrated revenue is: the "80/20" curve of the share of revenue held by the top x % of customers.
/// Customers are ranked by revenue, best first, and the curve is the piecewise-linear line through
/// (k/N, revenue of the top k / total revenue), so fractions of a customer are interpolated.
/// Revenue must not be negative; when it is all zero every share is 0.
/// </summary>
public static class ParetoCurve
{
    /// <summary>Revenue share of the top <paramref name="customerShares"/> of customers (each in [0, 1]), in the order asked.</summary>
    public static IReadOnlyList<ParetoPoint> Compute(IEnumerable<double> revenue, IEnumerable<double> customerShares)
    {
        ArgumentNullException.ThrowIfNull(customerShares);
        var cumulative = Cumulative(revenue);
        return [.. customerShares.Select(s => new ParetoPoint(s, At(cumulative, s)))];
    }

    /// <summary>The curve at every 5 % of customers, 0 % to 100 %.</summary>
    public static IReadOnlyList<ParetoPoint> Compute(IEnumerable<double> revenue) =>
        Compute(revenue, Enumerable.Range(0, 21).Select(i => i / 20.0));

    /// <summary>Share of total revenue from the top <paramref name="customerShare"/> of customers.</summary>
    public static double TopShare(IEnumerable<double> revenue, double customerShare) =>
        At(Cumulative(revenue), customerShare);

    /// <summary>Share of total revenue from the top 20 % of customers (0.8 in the proverbial 80/20 business).</summary>
    public static double TopTwentyPercentShare(IEnumerable<double> revenue) => TopShare(revenue, 0.2);

    /// <summary>
    /// The smallest share of customers, best first, that accounts for <paramref name="revenueShare"/> of revenue
    /// (the inverse of the curve): "how many of our customers bring in 80 % of revenue".
    /// </summary>
    public static double CustomerShareFor(IEnumerable<double> revenue, double revenueShare)
    {
        RequireShare(revenueShare, nameof(revenueShare));
        var c = Cumulative(revenue);
        var n = c.Length - 1;
        if (n == 0 || c[n] == 0 || revenueShare == 0)
        {
            return 0;
        }
        for (var k = 1; k <= n; k++)
        {
            if (c[k] >= revenueShare)
            {
                var step = c[k] - c[k - 1];
                var within = step > 0 ? (revenueShare - c[k - 1]) / step : 0;
                return (k - 1 + Math.Clamp(within, 0, 1)) / n;
            }
        }
        return 1;
    }

    /// <summary>
    /// Gini coefficient of revenue across customers: 0 when everyone spends the same, approaching 1 when one
    /// customer brings in everything (exactly 1 − 1/N then). Twice the area between the curve and the diagonal.
    /// </summary>
    public static double Gini(IEnumerable<double> revenue)
    {
        var c = Cumulative(revenue);
        var n = c.Length - 1;
        if (n == 0 || c[n] == 0)
        {
            return 0;
        }
        var area = 0.0;
        for (var k = 1; k <= n; k++)
        {
            area += (c[k - 1] + c[k]) / (2.0 * n);
        }
        return Math.Max(0, 2 * area - 1);
    }

    /// <summary>Cumulative revenue shares c[0] = 0, c[k] = share of the top k customers; c[N] = 1 unless all revenue is 0.</summary>
    private static double[] Cumulative(IEnumerable<double> revenue)
    {
        ArgumentNullException.ThrowIfNull(revenue);
        var values = revenue.ToArray();
        foreach (var v in values)
        {
            if (!(v >= 0) || double.IsInfinity(v))
            {
                throw new ArgumentOutOfRangeException(nameof(revenue), $"Revenue per customer must be finite and not negative: {v}.");
            }
        }
        Array.Sort(values);
        Array.Reverse(values);
        var total = values.Sum();
        var c = new double[values.Length + 1];
        var running = 0.0;
        for (var k = 0; k < values.Length; k++)
        {
            running += values[k];
            c[k + 1] = total > 0 ? Math.Min(1, running / total) : 0;
        }
        if (total > 0)
        {
            c[^1] = 1;
        }
        return c;
    }

    private static double At(double[] c, double share)
    {
        RequireShare(share, nameof(share));
        var n = c.Length - 1;
        if (n == 0)
        {
            return 0;
        }
        var position = share * n;
        var k = Math.Min((int)Math.Floor(position), n - 1);
        return c[k] + (position - k) * (c[k + 1] - c[k]);
    }

    private static void RequireShare(double share, string name)
    {
        if (!(share is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(name, $"A share must be between 0 and 1: {share}.");
        }
    }
}
