namespace Clientele.Clv;

/// <summary>What RFM scoring needs to know about one customer.</summary>
/// <param name="CustomerId">Identifies the customer.</param>
/// <param name="TimeSinceLastPurchase">Time from the last purchase to the scoring date, in any unit (smaller is better).</param>
/// <param name="Frequency">Number of purchases (or repeat purchases) in any consistent definition (larger is better).</param>
/// <param name="Monetary">Spend, total or mean, in any consistent definition (larger is better).</param>
public sealed record RfmScoreInput(string CustomerId, double TimeSinceLastPurchase, double Frequency, double Monetary);

/// <summary>A customer's recency, frequency and monetary scores, each from 1 (worst) to the number of bins (best).</summary>
/// <param name="CustomerId">Identifies the customer.</param>
/// <param name="Recency">Recency score: the most recent buyers score highest.</param>
/// <param name="Frequency">Frequency score: the most frequent buyers score highest.</param>
/// <param name="Monetary">Monetary score: the biggest spenders score highest.</param>
public sealed record RfmScore(string CustomerId, int Recency, int Frequency, int Monetary)
{
    /// <summary>The RFM cell, e.g. "555" for the best customers and "111" for lapsed one-off small spenders.</summary>
    public string Cell => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Recency}{Frequency}{Monetary}");
}

/// <summary>
/// Classic RFM segmentation: each of recency, frequency and monetary value is cut into equal-sized groups
/// (quintiles by default) over the customers being scored.
/// </summary>
public static class RfmScores
{
    /// <summary>
    /// Scores every customer; results are in input order. A value's score is 1 + ⌊bins · w / N⌋, where w is the number
    /// of customers with a strictly worse value and N the number of customers: the quantile group of the value's
    /// lowest rank. Equal values therefore always get equal scores, and the result does not depend on input order;
    /// when many customers share a value (e.g. everyone with one purchase) some scores may go unused.
    /// </summary>
    /// <param name="customers">The customers to score against each other.</param>
    /// <param name="bins">Number of groups, 2–9 (5 gives quintiles).</param>
    public static IReadOnlyList<RfmScore> Score(IEnumerable<RfmScoreInput> customers, int bins = 5)
    {
        ArgumentNullException.ThrowIfNull(customers);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bins, 9);
        var list = customers.ToList();
        foreach (var c in list)
        {
            if (!double.IsFinite(c.TimeSinceLastPurchase) || !double.IsFinite(c.Frequency) || !double.IsFinite(c.Monetary))
            {
                throw new ArgumentOutOfRangeException(nameof(customers), $"RFM inputs must be finite numbers: {c}.");
            }
        }
        // Recency is scored on the negated time, so that "more recent" is "larger".
        var r = Scores([.. list.Select(c => -c.TimeSinceLastPurchase)], bins);
        var f = Scores([.. list.Select(c => c.Frequency)], bins);
        var m = Scores([.. list.Select(c => c.Monetary)], bins);
        var result = new RfmScore[list.Count];
        for (var i = 0; i < list.Count; i++)
        {
            result[i] = new RfmScore(list[i].CustomerId, r[i], f[i], m[i]);
        }
        return result;
    }

    /// <summary>
    /// Scores customer summaries: time since the last purchase is T − t_x (age minus recency), frequency is the
    /// repeat-purchase count x and monetary value the mean repeat-purchase value, all as of the calibration end.
    /// </summary>
    public static IReadOnlyList<RfmScore> Score(IEnumerable<CustomerSummary> customers, int bins = 5)
    {
        ArgumentNullException.ThrowIfNull(customers);
        return Score(customers.Select(c => new RfmScoreInput(c.CustomerId, c.T - c.Recency, c.Frequency, c.Monetary)), bins);
    }

    /// <summary>
    /// Quantile scores 1 … <paramref name="bins"/> of <paramref name="values"/> (larger is better), as described in
    /// <see cref="Score(IEnumerable{RfmScoreInput}, int)"/>.
    /// </summary>
    public static int[] Scores(IReadOnlyList<double> values, int bins = 5)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var n = values.Count;
        var sorted = values.ToArray();
        if (sorted.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentOutOfRangeException(nameof(values), "Values to score must be finite numbers.");
        }
        Array.Sort(sorted);
        var scores = new int[n];
        for (var i = 0; i < n; i++)
        {
            // Index of the first occurrence of the value in sorted order = number of strictly smaller values.
            var below = LowerBound(sorted, values[i]);
            scores[i] = 1 + (int)((long)bins * below / n);
        }
        return scores;
    }

    private static int LowerBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            if (sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }
}
