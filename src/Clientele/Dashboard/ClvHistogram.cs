namespace Clientele.Dashboard;

/// <summary>One bar of the distribution: customers whose predicted value is in [From, To); the last bar has no upper end.</summary>
internal sealed record ClvBin(decimal From, decimal? To, int Customers);

/// <summary>
/// How predicted customer value is spread: about ten bars of a round width (1, 2 or 5 times a power of ten) that cover
/// the values up to the 95th percentile, and a last bar for everyone above, so a few large customers do not squash the rest.
/// </summary>
internal static class ClvHistogram
{
    public static IReadOnlyList<ClvBin> Bins(IEnumerable<decimal> values, int bars = 10)
    {
        var sorted = values.Where(v => v >= 0).Order().ToArray();
        if (sorted.Length == 0)
        {
            return [];
        }
        var top = sorted[(int)Math.Ceiling(0.95 * sorted.Length) - 1];
        var width = RoundWidth(top / bars);
        var counts = new int[bars + 1];
        foreach (var v in sorted)
        {
            counts[(int)Math.Min(bars, Math.Floor(v / width))]++;
        }
        var last = bars;
        while (last > 0 && counts[last] == 0)
        {
            last--;
        }
        return [.. Enumerable.Range(0, last + 1).Select(i => new ClvBin(i * width, i == bars ? null : (i + 1) * width, counts[i]))];
    }

    /// <summary>The smallest of 1, 2 and 5 times a power of ten at or above <paramref name="raw"/> (at least 0.01).</summary>
    internal static decimal RoundWidth(decimal raw)
    {
        var power = 0.01m;
        while (true)
        {
            foreach (var step in new[] { 1m, 2m, 5m })
            {
                if (step * power >= raw)
                {
                    return step * power;
                }
            }
            power *= 10;
        }
    }
}
