using Clientele.Clv;
using Clientele.Lifecycle;

namespace Clientele.Value;

/// <summary>
/// How customer value is scored: the purchase model, the economics of a purchase, and where health changes.
/// Kept in the database (Insights → Customer value) and changed through the UI or <c>PUT /api/v1/scoring/settings</c>.
/// </summary>
/// <param name="Model">Purchase model: mbgnbd (default: one-time buyers can lapse too), bgnbd or pnbd.</param>
/// <param name="Margin">Share of spend that is profit, 0–1.</param>
/// <param name="AnnualDiscountRate">Yearly rate future value is discounted at, e.g. 0.1 for 10 %.</param>
/// <param name="HorizonMonths">How far ahead predicted value looks.</param>
/// <param name="ActiveAbove">P(alive) at or above which a customer is active.</param>
/// <param name="LapsedBelow">P(alive) below which a customer is lapsed; between the two, at risk.</param>
internal sealed record ScoringSettings(
    string Model = "mbgnbd",
    double Margin = 0.3,
    double AnnualDiscountRate = 0.1,
    int HorizonMonths = 36,
    double ActiveAbove = 0.7,
    double LapsedBelow = 0.3)
{
    public static ScoringSettings Default { get; } = new();

    /// <summary>What is wrong, by field, so a form or a problem document can say it where it belongs.</summary>
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (Model is not ("mbgnbd" or "bgnbd" or "pnbd"))
        {
            errors["model"] = ["Use mbgnbd, bgnbd or pnbd."];
        }
        if (Margin is not (> 0 and <= 1))
        {
            errors["margin"] = ["The margin is a share of spend above 0 and at most 1, e.g. 0.3 for 30 %."];
        }
        if (AnnualDiscountRate is not (>= 0 and < 1))
        {
            errors["annualDiscountRate"] = ["The yearly discount rate is 0 or more and below 1, e.g. 0.1 for 10 %."];
        }
        if (HorizonMonths is < 1 or > 120)
        {
            errors["horizonMonths"] = ["The horizon is 1 to 120 months."];
        }
        if (ActiveAbove is not (> 0 and <= 1))
        {
            errors["activeAbove"] = ["A probability above 0 and at most 1."];
        }
        if (LapsedBelow is not (> 0 and <= 1))
        {
            errors["lapsedBelow"] = ["A probability above 0 and at most 1."];
        }
        else if (LapsedBelow > ActiveAbove)
        {
            errors["lapsedBelow"] = [$"Must not be above the active threshold ({ActiveAbove})."];
        }
        return errors;
    }

    public Health HealthOf(double probabilityAlive) =>
        probabilityAlive >= ActiveAbove ? Health.Active : probabilityAlive < LapsedBelow ? Health.Lapsed : Health.AtRisk;
}

/// <summary>One order as scoring sees it.</summary>
internal readonly record struct Purchase(Guid ContactId, DateTime PlacedAt, decimal Amount, string Currency);

/// <summary>What scoring stores on a contact.</summary>
internal sealed record ContactValue(
    Guid ContactId, double ProbabilityAlive, double ExpectedPurchases90, double ExpectedPurchases365, decimal PredictedValue, string RfmCell, Health Health);

/// <summary>How well the models fit, kept with each run so an owner can judge the numbers.</summary>
internal sealed record ScoringDiagnostics(
    string Model,
    IReadOnlyDictionary<string, double> Params,
    double LogLikelihood,
    bool Converged,
    int Customers,
    int RepeatBuyers,
    string SpendModel,
    IReadOnlyDictionary<string, double>? SpendParams,
    string Currency,
    int OrdersInOtherCurrencies,
    double TopFifthRevenueShare,
    HoldoutCheck? Holdout,
    IReadOnlyList<string> Notes);

/// <summary>
/// Calibration against holdout: the model refitted without the last <see cref="Weeks"/> weeks predicts them, by
/// number of repeat purchases before (0, 1, … 7+), beside what customers actually did.
/// </summary>
/// <param name="Weekly">Purchases of the same customers added up week by week through the holdout period, actual beside expected (absent in runs before it was kept).</param>
internal sealed record HoldoutCheck(double Weeks, int Customers, double Actual, double Predicted, IReadOnlyList<HoldoutRow> Rows, IReadOnlyList<HoldoutWeek>? Weekly = null);

/// <summary>Purchases in the first <see cref="Week"/> weeks of the holdout period, summed over customers.</summary>
internal sealed record HoldoutWeek(double Week, double Actual, double Predicted);

internal sealed record HoldoutRow(string Frequency, int Customers, double MeanActual, double MeanPredicted);

internal sealed record ScoringOutcome(IReadOnlyList<ContactValue> Contacts, ScoringDiagnostics Diagnostics);

/// <summary>Scoring cannot run on this data; the message says what is missing.</summary>
internal sealed class ScoringException(string message) : Exception(message);

/// <summary>
/// Pure scoring: orders in, each customer's value and health out. The models learn in weeks from the whole order
/// history up to today; one-time buyers and repeat buyers are all scored.
/// </summary>
internal static class ValueScorer
{
    public const int MinimumCustomers = 20;
    public const int MinimumRepeatBuyers = 5;

    /// <summary>Repeat buyers the spend model needs; with fewer, each customer's own average order value is used.</summary>
    public const int MinimumSpendBuyers = 10;

    private const double WeeksPerYear = 365.25 / 7;

    public static ScoringOutcome Score(IReadOnlyList<Purchase> purchases, DateOnly today, ScoringSettings settings)
    {
        var notes = new List<string>();
        var currency = purchases.Count == 0 ? "" : purchases.GroupBy(p => p.Currency).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
        var inCurrency = purchases.Where(p => p.Currency == currency && DateOnly.FromDateTime(p.PlacedAt) <= today).ToList();
        var otherCurrencies = purchases.Count(p => p.Currency != currency);
        if (otherCurrencies > 0)
        {
            notes.Add($"{otherCurrencies} orders in currencies other than {currency} were left out: spend is modelled in one currency.");
        }
        var transactions = inCurrency.Select(p => new Transaction(p.ContactId.ToString("N"), DateOnly.FromDateTime(p.PlacedAt), p.Amount)).ToList();
        var summaries = RfmSummary.Build(transactions, today, TimeUnit.Weeks);
        var repeatBuyers = summaries.Count(s => s.Frequency > 0);
        if (summaries.Count < MinimumCustomers || repeatBuyers < MinimumRepeatBuyers)
        {
            throw new ScoringException(
                $"Scoring needs at least {MinimumCustomers} customers with orders, {MinimumRepeatBuyers} of whom bought again on another day; there are {summaries.Count} customers and {repeatBuyers} repeat buyers so far.");
        }
        var customers = summaries.Select(s => new ClvCustomer(s.CustomerId, s.Frequency, s.Recency, s.T, s.Monetary, 1, 0, 0, 0)).ToList();
        var model = settings.Model switch
        {
            "bgnbd" => ClvModel.BgNbd,
            "pnbd" => ClvModel.Pnbd,
            _ => ClvModel.MbgNbd,
        };
        var fit = ClvModels.Fit(model, customers, penalty: 0);
        if (!fit.Converged)
        {
            notes.Add("The purchase model did not fully converge; its predictions are approximate.");
        }

        // Spend: Gamma-Gamma on repeat buyers when there are enough and the fit has a mean; otherwise each customer's own average.
        var totals = transactions.GroupBy(t => t.CustomerId).ToDictionary(g => g.Key, g => (Total: g.Sum(t => t.Amount), Days: g.Select(t => t.Date).Distinct().Count()));
        var ownAverage = new Func<ClvCustomer, double>(c => (double)(totals[c.Id].Total / totals[c.Id].Days));
        var spendName = "own average order value";
        IReadOnlyDictionary<string, double>? spendParams = null;
        var averageSpend = ownAverage;
        if (customers.Count(c => c.X > 0 && c.Monetary > 0) >= MinimumSpendBuyers)
        {
            try
            {
                var gg = ClvModels.Fit(ClvModel.Gg, customers, penalty: 0);
                spendParams = gg.Params;
                if (gg.Params["q"] > 1)
                {
                    var model2 = ClvModels.SpendModel(gg);
                    // One-time buyers have no repeat spend; the model's population mean stands in, shrunk towards their first order.
                    averageSpend = c => c.X > 0 ? model2(c) : (model2(c) + ownAverage(c)) / 2;
                    spendName = "gamma-gamma";
                }
                else
                {
                    notes.Add("The spend model found no stable average (q ≤ 1, usually a few very large orders); each customer's own average order value is used.");
                }
            }
            catch (ArgumentException ex)
            {
                notes.Add($"The spend model could not be fitted ({ex.Message}); each customer's own average order value is used.");
            }
        }
        else
        {
            notes.Add($"Fewer than {MinimumSpendBuyers} repeat buyers with spend: each customer's own average order value is used.");
        }

        var weeklyDiscount = Math.Pow(1 + settings.AnnualDiscountRate, 1 / WeeksPerYear) - 1;
        var horizonWeeks = settings.HorizonMonths * 30.4375 / 7;
        var next90 = ClvModels.Predict(fit, (Func<ClvCustomer, double>?)null, customers, 90 / 7.0, 1, 0);
        var next365 = ClvModels.Predict(fit, (Func<ClvCustomer, double>?)null, customers, 365 / 7.0, 1, 0);
        var value = ClvModels.Predict(fit, averageSpend, customers, horizonWeeks, settings.Margin, weeklyDiscount);

        var rfm = RfmScores.Score(summaries.Select(s => new RfmScoreInput(s.CustomerId, s.T - s.Recency, s.Frequency + 1, (double)totals[s.CustomerId].Total)))
            .ToDictionary(r => r.CustomerId, r => r.Cell);

        var contacts = new List<ContactValue>(customers.Count);
        for (var i = 0; i < customers.Count; i++)
        {
            var alive = value[i].ProbabilityAlive;
            contacts.Add(new ContactValue(
                Guid.ParseExact(customers[i].Id, "N"),
                alive,
                next90[i].ExpectedPurchases,
                next365[i].ExpectedPurchases,
                Math.Round((decimal)(value[i].Value ?? 0), 2),
                rfm[customers[i].Id],
                settings.HealthOf(alive)));
        }
        var revenue = totals.Values.Select(t => (double)t.Total).ToList();
        var diagnostics = new ScoringDiagnostics(
            ClvFit.NameOf(model), fit.Params, fit.LogLikelihood, fit.Converged, customers.Count, repeatBuyers,
            spendName, spendParams, currency, otherCurrencies, ParetoCurve.TopTwentyPercentShare(revenue),
            Holdout(transactions, today, model, notes), notes);
        return new ScoringOutcome(contacts, diagnostics);
    }

    /// <summary>
    /// Refits without the last quarter of the history (at most 26 weeks) and compares its forecast with what happened.
    /// Left out, with a note, when the history is too short or too thin to split.
    /// </summary>
    private static HoldoutCheck? Holdout(List<Transaction> transactions, DateOnly today, ClvModel model, List<string> notes)
    {
        var first = transactions.Min(t => t.Date);
        var spanDays = today.DayNumber - first.DayNumber;
        var holdoutDays = Math.Min(26 * 7, spanDays / 4);
        if (holdoutDays < 28)
        {
            notes.Add("The order history is too short to check the model against a holdout period (it needs about four months).");
            return null;
        }
        var calibrationEnd = today.AddDays(-holdoutDays);
        var summaries = RfmSummary.Build(transactions, calibrationEnd, TimeUnit.Weeks, today);
        var customers = summaries.Select(s => new ClvCustomer(s.CustomerId, s.Frequency, s.Recency, s.T, null, 1, 0, 0, 0)).ToList();
        if (customers.Count < MinimumCustomers || customers.Count(c => c.X > 0) < MinimumRepeatBuyers)
        {
            notes.Add("Too few customers before the holdout period to check the model against it.");
            return null;
        }
        ClvFit fit;
        try
        {
            fit = ClvModels.Fit(model, customers, penalty: 0);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or ClvInputException)
        {
            notes.Add($"The holdout check could not fit the model: {ex.Message}");
            return null;
        }
        var weeks = holdoutDays / 7.0;
        var predicted = ClvModels.Predict(fit, (Func<ClvCustomer, double>?)null, customers, weeks, 1, 0);
        var comparison = HoldoutDiagnostics.ByCalibrationFrequency(
            summaries.Select((s, i) => new HoldoutObservation(s.Frequency, s.HoldoutFrequency ?? 0, predicted[i].ExpectedPurchases)));
        return new HoldoutCheck(weeks, comparison.Customers, comparison.TotalActual, comparison.TotalPredicted,
            comparison.Buckets.Select(b => new HoldoutRow(b.Label, b.Customers, b.MeanActual, b.MeanPredicted)).ToList(),
            Weekly(transactions, customers, fit, calibrationEnd, weeks));
    }

    /// <summary>
    /// Cumulative purchases through the holdout period at up to 13 points, actual (distinct purchase days of the
    /// calibration customers) beside the model's expectation for the same span.
    /// </summary>
    private static List<HoldoutWeek> Weekly(List<Transaction> transactions, List<ClvCustomer> customers, ClvFit fit, DateOnly calibrationEnd, double weeks)
    {
        var known = customers.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var later = transactions.Where(t => t.Date > calibrationEnd && known.Contains(t.CustomerId))
            .Select(t => (t.CustomerId, t.Date)).Distinct()
            .Select(t => (t.Date.DayNumber - calibrationEnd.DayNumber) / 7.0).Order().ToList();
        var step = Math.Max(1, Math.Ceiling(weeks / 13));
        var points = new List<double>();
        for (var w = step; w < weeks; w += step)
        {
            points.Add(w);
        }
        points.Add(weeks);
        return
        [
            .. points.Select(w => new HoldoutWeek(Math.Round(w, 2), later.Count(x => x <= w),
                Math.Round(ClvModels.Predict(fit, (Func<ClvCustomer, double>?)null, customers, w, 1, 0).Sum(p => p.ExpectedPurchases), 2))),
        ];
    }
}
