using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Clientele.Clv;

namespace Clientele.Value;

/// <summary>The models <c>clientele clv</c> fits, by their command-line names.</summary>
internal enum ClvModel
{
    BgNbd,
    MbgNbd,
    Pnbd,
    Gg,
    BgBb,
    Sbg,
}

/// <summary>A fitted model as <c>clv fit --json</c> prints it and <c>clv predict --params</c> reads it.</summary>
internal sealed record ClvFit(ClvModel Model, IReadOnlyDictionary<string, double> Params, double LogLikelihood, double Customers, bool Converged)
{
    public static string NameOf(ClvModel model) => model.ToString().ToLowerInvariant();

    public static bool TryParseModel(string? text, out ClvModel model) =>
        Enum.TryParse(text, ignoreCase: true, out model) && Enum.IsDefined(model) && !int.TryParse(text, out _);

    public static IReadOnlyList<string> ParameterNames(ClvModel model) => model switch
    {
        ClvModel.BgNbd or ClvModel.MbgNbd => ["r", "alpha", "a", "b"],
        ClvModel.Pnbd => ["r", "alpha", "s", "beta"],
        ClvModel.Gg => ["p", "q", "gamma"],
        ClvModel.BgBb => ["alpha", "beta", "gamma", "delta"],
        ClvModel.Sbg => ["alpha", "beta"],
        _ => throw new ArgumentOutOfRangeException(nameof(model)),
    };

    public string ToJson()
    {
        var parameters = new JsonObject();
        foreach (var name in ParameterNames(Model))
        {
            parameters[name] = Params[name];
        }
        var json = new JsonObject
        {
            ["model"] = NameOf(Model),
            ["params"] = parameters,
            ["logLikelihood"] = LogLikelihood,
            ["customers"] = Customers,
            ["converged"] = Converged,
        };
        return json.ToJsonString();
    }

    /// <summary>Reads what <see cref="ToJson"/> wrote; the message says what is missing or wrong.</summary>
    public static ClvFit Parse(string json, string name)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ClvInputException($"{name} is not JSON: {ex.Message}");
        }
        if (node is not JsonObject root || !TryParseModel(root["model"]?.GetValue<string>(), out var model))
        {
            throw new ClvInputException($"{name}: expected the object printed by `clientele clv fit --json`, with \"model\" one of {string.Join(", ", Enum.GetValues<ClvModel>().Select(NameOf))}.");
        }
        var values = new Dictionary<string, double>();
        foreach (var parameter in ParameterNames(model))
        {
            var value = root["params"]?[parameter];
            if (value is not JsonValue v || !v.TryGetValue<double>(out var d) || !(d > 0) || !double.IsFinite(d))
            {
                throw new ClvInputException($"{name}: params.{parameter} of the {NameOf(model)} model must be a positive number.");
            }
            values[parameter] = d;
        }
        var ll = root["logLikelihood"] is JsonValue l && l.TryGetValue<double>(out var lv) ? lv : double.NaN;
        var customers = root["customers"] is JsonValue c && c.TryGetValue<double>(out var cv) ? cv : 0;
        var converged = root["converged"] is JsonValue k && k.TryGetValue<bool>(out var kv) && kv;
        return new ClvFit(model, values, ll, customers, converged);
    }
}

/// <summary>One customer's predictions, as a row of <c>clv predict</c>'s output.</summary>
internal sealed record ClvPrediction(string CustomerId, double ProbabilityAlive, double ExpectedPurchases, double? ExpectedSpend, double? Value);

/// <summary>
/// Fits the customer-base models on <see cref="ClvCustomer"/>s and predicts with them. The time unit of the
/// customers is the model's unit: horizons are in that unit (for the discrete models, whole periods).
/// </summary>
internal static class ClvModels
{
    /// <summary>Steps CLV discounting is evaluated in; a long horizon in days is discounted in these many slices.</summary>
    private const int MaxDiscountSteps = 60;

    public static ClvFit Fit(ClvModel model, IReadOnlyList<ClvCustomer> customers, double penalty)
    {
        var options = new FitOptions(Penalty: penalty);
        switch (model)
        {
            case ClvModel.BgNbd:
            case ClvModel.MbgNbd:
                {
                    var data = Continuous(customers);
                    var fit = model == ClvModel.BgNbd ? BgNbd.Fit(data, options) : MbgNbd.Fit(data, options);
                    var p = fit.Params;
                    return new(model, new Dictionary<string, double> { ["r"] = p.R, ["alpha"] = p.Alpha, ["a"] = p.A, ["b"] = p.B },
                        fit.LogLikelihood, Total(customers), fit.Converged);
                }
            case ClvModel.Pnbd:
                {
                    var fit = ParetoNbd.Fit(Continuous(customers), options);
                    var p = fit.Params;
                    return new(model, new Dictionary<string, double> { ["r"] = p.R, ["alpha"] = p.Alpha, ["s"] = p.S, ["beta"] = p.Beta },
                        fit.LogLikelihood, Total(customers), fit.Converged);
                }
            case ClvModel.Gg:
                {
                    var buyers = RepeatBuyers(customers);
                    var fit = GammaGamma.Fit(buyers.Select(c => c.X).ToArray(), buyers.Select(c => c.Monetary!.Value).ToArray(), buyers.Select(c => c.Weight).ToArray(), options);
                    var p = fit.Params;
                    return new(model, new Dictionary<string, double> { ["p"] = p.P, ["q"] = p.Q, ["gamma"] = p.Gamma },
                        fit.LogLikelihood, Total(buyers), fit.Converged);
                }
            case ClvModel.BgBb:
                {
                    var fit = BgBb.Fit(Discrete(customers, model).Select(c => new BgBbRow(c.PeriodsWithPurchase, c.LastPeriod, c.Opportunities, c.Weight)).ToArray(), options);
                    var p = fit.Params;
                    return new(model, new Dictionary<string, double> { ["alpha"] = p.Alpha, ["beta"] = p.Beta, ["gamma"] = p.Gamma, ["delta"] = p.Delta },
                        fit.LogLikelihood, Total(customers), fit.Converged);
                }
            case ClvModel.Sbg:
                {
                    var fit = SbgTenures.Fit(Discrete(customers, model).Select(Tenure).ToArray(), options);
                    var p = fit.Params;
                    return new(model, new Dictionary<string, double> { ["alpha"] = p.Alpha, ["beta"] = p.Beta },
                        fit.LogLikelihood, Total(customers), fit.Converged);
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(model));
        }
    }

    /// <summary>
    /// Predictions over <paramref name="horizon"/> units for every customer, in input order. Spend and value are
    /// given when <paramref name="spend"/> is (a Gamma-Gamma fit); value is the expected margin of the purchases
    /// in the horizon, discounted at <paramref name="discountRate"/> per unit.
    /// </summary>
    public static IReadOnlyList<ClvPrediction> Predict(
        ClvFit purchases, ClvFit? spend, IReadOnlyList<ClvCustomer> customers, double horizon, double margin, double discountRate) =>
        Predict(purchases, spend is null ? null : SpendModel(spend), customers, horizon, margin, discountRate);

    /// <summary>Expected average spend per customer from a Gamma-Gamma fit; refused when q ≤ 1 (no finite mean).</summary>
    public static Func<ClvCustomer, double> SpendModel(ClvFit spend)
    {
        var gg = new GammaGammaParameters(spend.Params["p"], spend.Params["q"], spend.Params["gamma"]);
        if (!gg.HasFiniteMean)
        {
            throw new ClvInputException(
                $"The spend model has q = {gg.Q.ToString("G4", CultureInfo.InvariantCulture)} ≤ 1, so expected spend is undefined (the data allow arbitrarily large average spends). Predict without amounts, or check the amounts for outliers.");
        }
        return c => GammaGamma.ConditionalExpectedAverageSpend(gg, c.X, c.Monetary ?? 0);
    }

    /// <summary>As above, with any expected-average-spend function (null: purchases only).</summary>
    public static IReadOnlyList<ClvPrediction> Predict(
        ClvFit purchases, Func<ClvCustomer, double>? averageSpend, IReadOnlyList<ClvCustomer> customers, double horizon, double margin, double discountRate)
    {
        var model = PurchaseModel(purchases, customers);
        var steps = (int)Math.Clamp(Math.Ceiling(horizon), 1, MaxDiscountSteps);
        var stepLength = horizon / steps;
        var stepRate = Math.Pow(1 + discountRate, stepLength) - 1;
        var results = new ClvPrediction[customers.Count];
        Parallel.For(0, customers.Count, i =>
        {
            var c = customers[i];
            var alive = model.Alive(c);
            var expected = horizon == 0 ? 0 : model.Expected(c, horizon);
            double? spend = null;
            double? value = null;
            if (averageSpend is not null)
            {
                spend = averageSpend(c);
                value = horizon == 0 ? 0 : CustomerValue.Discounted(t => model.Expected(c, t), spend.Value, margin, steps, stepLength, stepRate);
            }
            results[i] = new ClvPrediction(c.Id, alive, expected, spend, value);
        });
        return results;
    }

    /// <summary>Whether every customer has a mean spend, so that the Gamma-Gamma model can be fitted.</summary>
    public static bool HasSpend(IReadOnlyList<ClvCustomer> customers) => customers.All(c => c.Monetary is not null);

    private sealed record Predictor(Func<ClvCustomer, double> Alive, Func<ClvCustomer, double, double> Expected);

    private static Predictor PurchaseModel(ClvFit fit, IReadOnlyList<ClvCustomer> customers)
    {
        var p = fit.Params;
        switch (fit.Model)
        {
            case ClvModel.BgNbd:
                {
                    var bg = new BgNbdParameters(p["r"], p["alpha"], p["a"], p["b"]);
                    return new(c => BgNbd.ProbabilityAlive(bg, c.X, c.Recency, Age(c)), (c, t) => BgNbd.ConditionalExpectedPurchases(bg, t, c.X, c.Recency, Age(c)));
                }
            case ClvModel.MbgNbd:
                {
                    var mbg = new BgNbdParameters(p["r"], p["alpha"], p["a"], p["b"]);
                    return new(c => MbgNbd.ProbabilityAlive(mbg, c.X, c.Recency, Age(c)), (c, t) => MbgNbd.ConditionalExpectedPurchases(mbg, t, c.X, c.Recency, Age(c)));
                }
            case ClvModel.Pnbd:
                {
                    var pnbd = new ParetoNbdParameters(p["r"], p["alpha"], p["s"], p["beta"]);
                    return new(c => ParetoNbd.ProbabilityAlive(pnbd, c.X, c.Recency, Age(c)), (c, t) => ParetoNbd.ConditionalExpectedPurchases(pnbd, t, c.X, c.Recency, Age(c)));
                }
            case ClvModel.BgBb:
                {
                    Discrete(customers, fit.Model);
                    var bb = new BgBbParameters(p["alpha"], p["beta"], p["gamma"], p["delta"]);
                    return new(
                        c => BgBb.ProbabilityAlive(bb, c.PeriodsWithPurchase, c.LastPeriod, c.Opportunities),
                        (c, t) => BgBb.ConditionalExpectedPurchases(bb, (int)Math.Round(t), c.PeriodsWithPurchase, c.LastPeriod, c.Opportunities));
                }
            case ClvModel.Sbg:
                {
                    Discrete(customers, fit.Model);
                    var sbg = new SbgParameters(p["alpha"], p["beta"]);
                    // Contractual: a customer who renewed in the last period is known to be a customer now; one who did not has left.
                    return new(
                        c => Tenure(c).Churned ? 0 : 1,
                        (c, t) => Tenure(c) is { Churned: false } tenure ? SbgTenures.ExpectedRenewals(sbg, tenure.Periods, (int)Math.Round(t)) : 0);
                }
            default:
                throw new ClvInputException($"The {ClvFit.NameOf(fit.Model)} model predicts spend, not purchases: predict with bgnbd, mbgnbd, pnbd, bgbb or sbg; the spend model is added when amounts are given.");
        }
    }

    /// <summary>
    /// T, with a customer first seen on the calibration end day read as observed for an instant: the models' limit as
    /// T → 0 (nothing learnt yet beyond the first purchase).
    /// </summary>
    private static double Age(ClvCustomer c) => Math.Max(c.T, 1e-9);

    private static RfmData Continuous(IReadOnlyList<ClvCustomer> customers)
    {
        // A customer first seen on the calibration end (T = 0) has told the model nothing yet and adds 0 to the likelihood.
        var rows = customers.Where(c => c.T > 0).Select(c => (c.X, c.Recency, c.T, c.Weight)).ToList();
        if (rows.Count == 0)
        {
            throw new ClvInputException("Every customer made the first purchase on the calibration end day: there is no history to fit yet.");
        }
        return RfmData.Grouped(rows);
    }

    private static List<ClvCustomer> RepeatBuyers(IReadOnlyList<ClvCustomer> customers)
    {
        if (!HasSpend(customers))
        {
            throw new ClvInputException("The gg (Gamma-Gamma) model needs spend: give --amount-column, or a monetary_value column in the summary.");
        }
        var buyers = customers.Where(c => c.X > 0 && c.Monetary > 0 && c.Weight > 0).ToList();
        if (buyers.Count == 0)
        {
            throw new ClvInputException("The gg (Gamma-Gamma) model is fitted on repeat buyers with a positive average spend, and there are none.");
        }
        return buyers;
    }

    /// <summary>The discrete models count whole periods; a summary given to them must hold whole numbers.</summary>
    private static IReadOnlyList<ClvCustomer> Discrete(IReadOnlyList<ClvCustomer> customers, ClvModel model)
    {
        foreach (var c in customers)
        {
            if (c.PeriodsWithPurchase < 0)
            {
                throw new ClvInputException(
                    $"Customer {c.Id}: the {ClvFit.NameOf(model)} model counts whole periods, but frequency, recency and T are {Show(c.X)}, {Show(c.Recency)}, {Show(c.T)}. Give whole numbers (periods), or a transaction log.");
            }
            if (c.Opportunities < c.LastPeriod || c.PeriodsWithPurchase > c.LastPeriod)
            {
                throw new ClvInputException($"Customer {c.Id}: {c.PeriodsWithPurchase} periods with a purchase, the last in period {c.LastPeriod}, of {c.Opportunities} is not a possible history.");
            }
        }
        return customers;
    }

    /// <summary>The sBG reading of a history: paid periods so far, and whether the customer stopped renewing.</summary>
    private static SbgRow Tenure(ClvCustomer c) => c.LastPeriod < c.Opportunities
        ? new SbgRow(c.LastPeriod + 1, Churned: true, c.Weight)
        : new SbgRow(c.Opportunities, Churned: false, c.Weight);

    private static double Total(IEnumerable<ClvCustomer> customers) => customers.Sum(c => c.Weight);

    private static string Show(double v) => v.ToString(CultureInfo.InvariantCulture);
}
