namespace Clientele.Clv;

/// <summary>One customer in a calibration / holdout check.</summary>
/// <param name="CalibrationFrequency">x: repeat purchases in the calibration period.</param>
/// <param name="ActualHoldout">Purchases actually made in the holdout period.</param>
/// <param name="PredictedHoldout">The model's expected purchases in the holdout period, given the calibration history.</param>
public readonly record struct HoldoutObservation(int CalibrationFrequency, double ActualHoldout, double PredictedHoldout);

/// <summary>Customers grouped by calibration frequency.</summary>
/// <param name="Frequency">Calibration frequency of the group; the last group also holds every higher frequency.</param>
/// <param name="IncludesHigher">Whether this is the open-ended "k or more" group.</param>
/// <param name="Customers">Customers in the group.</param>
/// <param name="MeanActual">Mean holdout purchases actually made.</param>
/// <param name="MeanPredicted">Mean holdout purchases the model expected.</param>
public sealed record HoldoutBucket(int Frequency, bool IncludesHigher, int Customers, double MeanActual, double MeanPredicted)
{
    /// <summary>Label as in the papers' charts: "3", or "7+" for the open-ended group.</summary>
    public string Label => IncludesHigher
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Frequency}+")
        : Frequency.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The comparison table with its totals.</summary>
/// <param name="Buckets">Groups in frequency order; groups with no customers are left out.</param>
/// <param name="Customers">Customers compared.</param>
/// <param name="TotalActual">Holdout purchases actually made by all of them.</param>
/// <param name="TotalPredicted">Holdout purchases the model expected from all of them.</param>
public sealed record HoldoutComparison(IReadOnlyList<HoldoutBucket> Buckets, int Customers, double TotalActual, double TotalPredicted)
{
    /// <summary>Predicted total over actual total, minus 1: how far off the aggregate forecast is (0.05 = 5 % too high).</summary>
    public double RelativeError => TotalActual > 0 ? TotalPredicted / TotalActual - 1 : 0;

    /// <summary>Mean absolute difference between actual and predicted group means, weighted by group size.</summary>
    public double MeanAbsoluteBucketError =>
        Customers > 0 ? Buckets.Sum(b => b.Customers * Math.Abs(b.MeanActual - b.MeanPredicted)) / Customers : 0;
}

/// <summary>
/// The conditional-expectations check of Fader, Hardie &amp; Lee (2005, figure 4): split history into a calibration
/// and a holdout period, fit on the first, and compare, for groups of customers with the same calibration frequency,
/// the mean number of holdout purchases the model expected with the mean they actually made.
/// </summary>
public static class HoldoutDiagnostics
{
    /// <summary>Default open-ended group: "7 or more" calibration purchases, as in the papers.</summary>
    public const int DefaultMaxFrequency = 7;

    /// <summary>
    /// Groups customers by calibration frequency 0, 1, …, <paramref name="maxFrequency"/> − 1 and
    /// "<paramref name="maxFrequency"/> or more", and averages actual and predicted holdout purchases per group.
    /// </summary>
    public static HoldoutComparison ByCalibrationFrequency(IEnumerable<HoldoutObservation> customers, int maxFrequency = DefaultMaxFrequency)
    {
        ArgumentNullException.ThrowIfNull(customers);
        ArgumentOutOfRangeException.ThrowIfNegative(maxFrequency);
        var count = new int[maxFrequency + 1];
        var actual = new double[maxFrequency + 1];
        var predicted = new double[maxFrequency + 1];
        foreach (var c in customers)
        {
            if (c.CalibrationFrequency < 0 || !(c.ActualHoldout >= 0) || !(c.PredictedHoldout >= 0)
                || double.IsInfinity(c.ActualHoldout) || double.IsInfinity(c.PredictedHoldout))
            {
                throw new ArgumentOutOfRangeException(nameof(customers), $"Not a valid holdout observation: {c}.");
            }
            var k = Math.Min(c.CalibrationFrequency, maxFrequency);
            count[k]++;
            actual[k] += c.ActualHoldout;
            predicted[k] += c.PredictedHoldout;
        }
        var buckets = new List<HoldoutBucket>();
        for (var k = 0; k <= maxFrequency; k++)
        {
            if (count[k] > 0)
            {
                buckets.Add(new HoldoutBucket(k, k == maxFrequency, count[k], actual[k] / count[k], predicted[k] / count[k]));
            }
        }
        return new HoldoutComparison(buckets, count.Sum(), actual.Sum(), predicted.Sum());
    }

    /// <summary>
    /// Pairs each summary built with a holdout end (see <see cref="RfmSummary.Build"/>) with a model's prediction for it
    /// (e.g. <c>c =&gt; BgNbd.ConditionalExpectedPurchases(p, holdoutLength, c.Frequency, c.Recency, c.T)</c>).
    /// Customers first seen on the calibration end day (T = 0) are left out, as in <see cref="RfmData.FromSummaries"/>.
    /// </summary>
    public static IReadOnlyList<HoldoutObservation> Observations(IEnumerable<CustomerSummary> customers, Func<CustomerSummary, double> predict)
    {
        ArgumentNullException.ThrowIfNull(customers);
        ArgumentNullException.ThrowIfNull(predict);
        return
        [
            .. customers.Where(c => c.T > 0).Select(c => new HoldoutObservation(
                c.Frequency,
                c.HoldoutFrequency ?? throw new ArgumentException($"Customer {c.CustomerId} has no holdout figures; build the summaries with a holdout end.", nameof(customers)),
                predict(c))),
        ];
    }
}
