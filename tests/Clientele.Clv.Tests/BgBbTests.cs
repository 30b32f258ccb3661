using System.Globalization;

namespace Clientele.Clv.Tests;

public sealed class BgBbTests
{
    // Fader, Hardie & Shang (2010), donations data (11,104 donors, 6 opportunities 1996–2001).
    private static readonly BgBbParameters Published = new(1.204, 0.750, 0.657, 2.783);

    private static readonly Lazy<IReadOnlyList<BgBbRow>> Donations = new(LoadDonations);

    private static readonly Lazy<FitResult<BgBbParameters>> DonationsFit = new(() => BgBb.Fit(Donations.Value));

    /// <summary>donations.csv: frequency,recency,periods,weights — one line per distinct history.</summary>
    private static List<BgBbRow> LoadDonations() =>
        [.. File.ReadLines(Path.Combine(CdnowData.Directory, "donations.csv"))
            .Skip(1)
            .Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => l.Trim().Split(','))
            .Select(f => new BgBbRow(
                int.Parse(f[0], CultureInfo.InvariantCulture),
                int.Parse(f[1], CultureInfo.InvariantCulture),
                int.Parse(f[2], CultureInfo.InvariantCulture),
                double.Parse(f[3], CultureInfo.InvariantCulture)))];

    private static double TotalDonors => Donations.Value.Sum(r => r.Weight);

    [Fact]
    public void Donations_file_holds_the_published_sample()
    {
        Assert.Equal(22, Donations.Value.Count);
        Assert.Equal(11_104.0, TotalDonors);
        Assert.All(Donations.Value, r => Assert.Equal(6, r.Opportunities));
    }

    [Fact]
    public void Fit_on_donations_reproduces_the_published_estimates()
    {
        var fit = DonationsFit.Value;
        Assert.True(fit.Converged);
        Assert.Equal(1.204, fit.Params.Alpha, 3);
        Assert.Equal(0.750, fit.Params.Beta, 3);
        Assert.Equal(0.657, fit.Params.Gamma, 3);
        Assert.Equal(2.783, fit.Params.Delta, 3);
        Assert.Equal(-33_225.6, fit.LogLikelihood, 1);
    }

    [Fact]
    public void Published_parameters_give_the_published_log_likelihood()
    {
        // The parameters are printed to 3 dp, so the likelihood at them is a little below the maximum.
        var ll = BgBb.LogLikelihood(Published, Donations.Value);
        Assert.InRange(ll, -33_225.6 - 0.5, -33_225.6 + 0.05);
    }

    [Fact]
    public void Grouped_rows_and_single_histories_give_the_same_likelihood()
    {
        var rows = Donations.Value;
        var single = rows.Sum(r => r.Weight * BgBb.LogLikelihood(Published, r.Frequency, r.Recency, r.Opportunities));
        Assert.Equal(single, BgBb.LogLikelihood(Published, rows), 6);
        var split = rows.SelectMany(r => new[] { r with { Weight = r.Weight / 2 }, r with { Weight = r.Weight / 2 } }).ToList();
        Assert.Equal(single, BgBb.LogLikelihood(Published, split), 6);
    }

    [Fact]
    public void Probability_alive_matches_the_paper_table_6()
    {
        // FHS (2010) table 6, P(alive in 2002): never donated again 0.11; two repeats, last in 1999: 0.59; every year: 0.93.
        Assert.Equal(0.11, BgBb.ProbabilityAlive(Published, 0, 0, 6), 2);
        Assert.Equal(0.59, BgBb.ProbabilityAlive(Published, 2, 4, 6), 2);
        Assert.Equal(0.93, BgBb.ProbabilityAlive(Published, 6, 6, 6), 2);
    }

    [Fact]
    public void Conditional_expectations_over_the_next_five_years_add_up_to_the_published_total()
    {
        // Hardie's BG/BB workbook ("Conditional Expectations" sheet): 12,884.2 donations expected in 2002–2006.
        var fit = DonationsFit.Value.Params;
        var total = Donations.Value.Sum(r => r.Weight * BgBb.ConditionalExpectedPurchases(fit, 5, r.Frequency, r.Recency, r.Opportunities));
        Assert.Equal(12_884.2, total, 0);
    }

    [Fact]
    public void Expected_number_of_donors_by_repeat_count_matches_the_in_sample_fit()
    {
        // Hardie's BG/BB workbook ("In-Sample Fit"): 3,454.9 donors expected with no repeat donation, 1,253.1 with six.
        var fit = DonationsFit.Value.Params;
        Assert.Equal(3_454.9, TotalDonors * BgBb.ProbabilityOfPurchases(fit, 6, 0), 0);
        Assert.Equal(1_253.1, TotalDonors * BgBb.ProbabilityOfPurchases(fit, 6, 6), 0);
        var sum = Enumerable.Range(0, 7).Sum(x => BgBb.ProbabilityOfPurchases(fit, 6, x));
        Assert.Equal(1.0, sum, 12);
    }

    [Fact]
    public void Expected_purchases_of_a_new_customer_agree_with_the_distribution_of_purchases()
    {
        for (var n = 1; n <= 12; n++)
        {
            var mean = Enumerable.Range(0, n + 1).Sum(x => x * BgBb.ProbabilityOfPurchases(Published, n, x));
            Assert.Equal(mean, BgBb.ExpectedPurchases(Published, n), 10);
        }
        // The in-sample total of repeat donations over 1996–2001 is close to the actual number.
        var actual = Donations.Value.Sum(r => r.Weight * r.Frequency);
        Assert.Equal(actual, TotalDonors * BgBb.ExpectedPurchases(DonationsFit.Value.Params, 6), actual * 0.01);
    }

    [Fact]
    public void Conditional_expectation_of_an_unseen_customer_is_the_unconditional_one()
    {
        // With no opportunities observed, the history says nothing.
        Assert.Equal(BgBb.ExpectedPurchases(Published, 7), BgBb.ConditionalExpectedPurchases(Published, 7, 0, 0, 0), 12);
        Assert.Equal(1.0, BgBb.ProbabilityAlive(Published, 0, 0, 0) * (Published.Gamma + Published.Delta) / Published.Delta, 12);
    }

    [Fact]
    public void Long_horizons_switch_to_the_closed_form_without_a_jump()
    {
        foreach (var gamma in new[] { 0.657, 1.0, 1.7 })
        {
            var p = Published with { Gamma = gamma };
            var below = BgBb.ConditionalExpectedPurchases(p, 100_000, 3, 5, 6);
            var above = BgBb.ConditionalExpectedPurchases(p, 100_001, 3, 5, 6);
            Assert.True(above >= below, $"γ={gamma}: {above} < {below}");
            Assert.Equal(below, above, below * 1e-4);
            Assert.True(double.IsFinite(BgBb.ConditionalExpectedPurchases(p, int.MaxValue, 3, 5, 6)));
        }
    }

    [Fact]
    public void Fit_recovers_the_parameters_of_simulated_customers()
    {
        // 20,000 customers, 52 weekly opportunities, drawn from the model itself with the donations parameters.
        var rng = new Random(7);
        var truth = new BgBbParameters(1.2, 0.75, 0.66, 2.8);
        var rows = new List<BgBbRow>();
        for (var c = 0; c < 20_000; c++)
        {
            var p = Beta(rng, truth.Alpha, truth.Beta);
            var theta = Beta(rng, truth.Gamma, truth.Delta);
            int x = 0, last = 0;
            for (var t = 1; t <= 52 && rng.NextDouble() >= theta; t++)
            {
                if (rng.NextDouble() < p)
                {
                    x++;
                    last = t;
                }
            }
            rows.Add(new BgBbRow(x, last, 52, 1));
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var fit = BgBb.Fit(rows);
        Assert.True(sw.ElapsedMilliseconds < 10_000, $"took {sw.ElapsedMilliseconds} ms");
        Assert.True(fit.Converged);
        Assert.Equal(truth.Alpha, fit.Params.Alpha, truth.Alpha * 0.1);
        Assert.Equal(truth.Beta, fit.Params.Beta, truth.Beta * 0.1);
        Assert.Equal(truth.Gamma, fit.Params.Gamma, truth.Gamma * 0.1);
        Assert.Equal(truth.Delta, fit.Params.Delta, truth.Delta * 0.1);
    }

    private static double Beta(Random rng, double a, double b)
    {
        var x = Gamma(rng, a);
        return x / (x + Gamma(rng, b));
    }

    // Marsaglia & Tsang (2000), with the usual boost for shapes below 1.
    private static double Gamma(Random rng, double shape)
    {
        if (shape < 1)
        {
            return Gamma(rng, shape + 1) * Math.Pow(rng.NextDouble(), 1 / shape);
        }
        var d = shape - 1.0 / 3;
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            var z = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            var v = Math.Pow(1 + c * z, 3);
            if (v > 0 && Math.Log(1 - rng.NextDouble()) < 0.5 * z * z + d - d * v + d * Math.Log(v))
            {
                return d * v;
            }
        }
    }

    [Fact]
    public void Penalty_shrinks_the_parameters()
    {
        var plain = DonationsFit.Value;
        var penalised = BgBb.Fit(Donations.Value, new FitOptions(Penalty: 0.01));
        Assert.True(penalised.Params.Delta < plain.Params.Delta);
        Assert.True(penalised.LogLikelihood < plain.LogLikelihood);
    }

    [Fact]
    public void Impossible_histories_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BgBb.LogLikelihood(Published, 2, 1, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => BgBb.LogLikelihood(Published, 1, 7, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => BgBb.LogLikelihood(Published, 0, 3, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => BgBb.ProbabilityAlive(Published with { Alpha = 0 }, 0, 0, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => BgBb.Fit([new BgBbRow(1, 1, 6, -1)]));
    }
}
