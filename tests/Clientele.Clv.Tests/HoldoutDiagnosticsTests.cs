namespace Clientele.Clv.Tests;

public sealed class HoldoutDiagnosticsTests
{
    private static readonly DateOnly CalibrationEnd = new(1997, 9, 30);
    private static readonly DateOnly HoldoutEnd = new(1998, 6, 30);

    // Fader, Hardie & Lee (2005), CDNOW sample, weeks.
    private static readonly BgNbdParameters Published = new(0.243, 4.414, 0.793, 2.426);

    private static readonly Lazy<IReadOnlyList<CustomerSummary>> Summaries = new(() =>
        RfmSummary.Build(CdnowData.SampleTransactions(), CalibrationEnd, TimeUnit.Weeks, HoldoutEnd));

    private static HoldoutComparison CdnowComparison()
    {
        var weeks = RfmSummary.HoldoutLength(CalibrationEnd, HoldoutEnd, TimeUnit.Weeks);
        Assert.Equal(39.0, weeks, 12);
        var observations = HoldoutDiagnostics.Observations(
            Summaries.Value, c => BgNbd.ConditionalExpectedPurchases(Published, weeks, c.Frequency, c.Recency, c.T));
        return HoldoutDiagnostics.ByCalibrationFrequency(observations);
    }

    [Fact]
    public void Cdnow_holdout_table_has_the_papers_groups_and_actuals()
    {
        // FHL (2005) figure 4: weeks 40–78 by number of repeat purchases in weeks 1–39, "7+" as the last group.
        var table = CdnowComparison();
        Assert.Equal(2357, table.Customers);
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7+"], table.Buckets.Select(b => b.Label));
        Assert.Equal([1411, 439, 214, 100, 62, 38, 29, 64], table.Buckets.Select(b => b.Customers));
        // Purchase days in the holdout, counted from CDNOW_sample (same-day purchases merged, as in calibration).
        Assert.Equal(1882.0, table.TotalActual);
        Assert.Equal([334.0, 306, 298, 156, 157, 112, 112, 407], table.Buckets.Select(b => Math.Round(b.MeanActual * b.Customers, 6)));
        Assert.Equal(0.2367, table.Buckets[0].MeanActual, 4);
        Assert.Equal(6.3594, table.Buckets[^1].MeanActual, 4);
    }

    [Fact]
    public void Cdnow_bg_nbd_conditional_expectations_track_the_holdout()
    {
        var table = CdnowComparison();
        // The model's expectations at the published parameters, by group (computed here; the paper shows them only as a
        // chart). The BG/NBD is close for the non-repeaters and the heavy buyers and low for one or two repeat purchases.
        double[] predicted = [0.2255, 0.5232, 1.0442, 1.5203, 2.1639, 2.6538, 3.5040, 6.1571];
        for (var i = 0; i < predicted.Length; i++)
        {
            Assert.Equal(predicted[i], table.Buckets[i].MeanPredicted, 0.0006);
        }
        Assert.Equal(1653.9, table.TotalPredicted, 0);
        Assert.InRange(table.RelativeError, -0.13, -0.11);
        Assert.InRange(Math.Abs(table.Buckets[0].MeanPredicted - table.Buckets[0].MeanActual), 0, 0.02);
        Assert.InRange(Math.Abs(table.Buckets[^1].MeanPredicted / table.Buckets[^1].MeanActual - 1), 0, 0.05);
        Assert.InRange(table.MeanAbsoluteBucketError, 0.01, 0.2);
    }

    [Fact]
    public void Cdnow_conditional_total_agrees_with_the_cohort_forecast()
    {
        // Averaged over calibration histories, the conditional expectation is the unconditional one, so the sum of the
        // per-customer forecasts should be close to the cohort forecast Σ E[X(T+39)] − E[X(T)] (about 1,669 here).
        var cohort = Summaries.Value.Sum(c => BgNbd.ExpectedPurchases(Published, c.T + 39) - BgNbd.ExpectedPurchases(Published, c.T));
        Assert.Equal(1668.8, cohort, 0.5);
        Assert.Equal(cohort, CdnowComparison().TotalPredicted, cohort * 0.02);
    }

    [Fact]
    public void Cdnow_refit_gives_the_same_table()
    {
        var fit = BgNbd.Fit(RfmData.FromSummaries(Summaries.Value)).Params;
        var observations = HoldoutDiagnostics.Observations(
            Summaries.Value, c => BgNbd.ConditionalExpectedPurchases(fit, 39, c.Frequency, c.Recency, c.T));
        var table = HoldoutDiagnostics.ByCalibrationFrequency(observations);
        Assert.Equal(CdnowComparison().TotalPredicted, table.TotalPredicted, 1.0);
    }

    [Fact]
    public void Groups_average_within_and_pool_the_open_ended_group()
    {
        HoldoutObservation[] data =
        [
            new(0, 0, 0.1),
            new(0, 1, 0.3),
            new(2, 2, 1.5),
            new(3, 4, 3.0),
            new(9, 8, 7.0),
        ];
        var table = HoldoutDiagnostics.ByCalibrationFrequency(data, maxFrequency: 3);
        Assert.Equal(["0", "2", "3+"], table.Buckets.Select(b => b.Label));
        Assert.Equal(0.5, table.Buckets[0].MeanActual, 12);
        Assert.Equal(0.2, table.Buckets[0].MeanPredicted, 12);
        Assert.True(table.Buckets[^1].IncludesHigher);
        Assert.Equal(2, table.Buckets[^1].Customers);
        Assert.Equal(6.0, table.Buckets[^1].MeanActual, 12);
        Assert.Equal(5.0, table.Buckets[^1].MeanPredicted, 12);
        Assert.Equal(15.0, table.TotalActual, 12);
        Assert.Equal(11.9, table.TotalPredicted, 12);
        Assert.Equal(5, table.Customers);
    }

    [Fact]
    public void Empty_input_gives_an_empty_table()
    {
        var table = HoldoutDiagnostics.ByCalibrationFrequency([]);
        Assert.Empty(table.Buckets);
        Assert.Equal(0, table.Customers);
        Assert.Equal(0.0, table.RelativeError);
        Assert.Equal(0.0, table.MeanAbsoluteBucketError);
    }

    [Fact]
    public void Summaries_without_holdout_figures_and_bad_rows_are_refused()
    {
        var noHoldout = RfmSummary.Build(CdnowData.SampleTransactions().Take(50), CalibrationEnd, TimeUnit.Weeks);
        Assert.Throws<ArgumentException>(() => HoldoutDiagnostics.Observations(noHoldout, _ => 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => HoldoutDiagnostics.ByCalibrationFrequency([new(-1, 0, 0)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => HoldoutDiagnostics.ByCalibrationFrequency([new(1, 0, double.NaN)]));
    }
}
