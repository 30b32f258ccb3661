using System.CommandLine;
using System.Globalization;
using System.Text;
using Clientele.Clv;

namespace Clientele.Value;

/// <summary>
/// <c>clientele clv fit|predict</c>: the customer-base models on any transaction log or summary file, without a database.
/// Exit codes: 0 done, 2 bad input (the message names the row and column), 1 the model cannot answer.
/// </summary>
internal static class ClvCommand
{
    public static Command Create()
    {
        var input = new InputOptions();
        var json = new Option<bool>("--json") { Description = "Print the fit as one JSON object" };
        var fit = new Command("fit", "Fit a model by maximum likelihood and print its parameters");
        input.AddTo(fit);
        fit.Options.Add(json);
        fit.SetAction(async (result, ct) => await RunAsync(Console.Error, async () =>
        {
            var (model, customers) = await input.ReadAsync(result, ct);
            var fitted = ClvModels.Fit(model, customers, result.GetValue(input.Penalty));
            await Console.Out.WriteLineAsync(result.GetValue(json) ? fitted.ToJson() : Describe(fitted));
            await WarnAsync(fitted, Console.Error);
        }, ct));

        var parameters = new Option<string[]>("--params") { Description = "JSON printed by `clv fit --json` (repeatable: the purchase model, and gg for spend); without it the models are fitted first" };
        var horizon = new Option<double>("--horizon") { Description = "How far ahead to predict, in --unit units (whole periods for bgbb and sbg)", Required = true };
        var margin = new Option<double>("--margin") { Description = "Share of spend that is profit, 0–1 (default 1: value is revenue)", DefaultValueFactory = _ => 1.0 };
        var discount = new Option<double>("--discount-rate") { Description = "Discount rate per --unit, e.g. 0.0027 per week ≈ 15 % a year (default 0)", DefaultValueFactory = _ => 0.0 };
        var output = new Option<string>("--out") { Description = "CSV file to write: customer_id, p_alive, expected_purchases[, expected_spend, clv]", Required = true };
        var predict = new Command("predict", "Predict each customer's chance of being active, purchases and value over a horizon");
        input.AddTo(predict);
        predict.Options.Add(parameters);
        predict.Options.Add(horizon);
        predict.Options.Add(margin);
        predict.Options.Add(discount);
        predict.Options.Add(output);
        predict.SetAction(async (result, ct) => await RunAsync(Console.Error, async () =>
        {
            var h = result.GetValue(horizon);
            var m = result.GetValue(margin);
            var d = result.GetValue(discount);
            if (!(h >= 0) || !double.IsFinite(h))
            {
                throw new ClvInputException("--horizon must be 0 or more.");
            }
            if (m is not (>= 0 and <= 1))
            {
                throw new ClvInputException("--margin is a share of spend between 0 and 1, e.g. 0.3 for 30 %.");
            }
            if (!(d > -1) || !double.IsFinite(d))
            {
                throw new ClvInputException("--discount-rate must be greater than -1, e.g. 0.01 for 1 % per unit.");
            }
            var (model, customers) = await input.ReadAsync(result, ct);
            var given = new List<ClvFit>();
            foreach (var path in result.GetValue(parameters) ?? [])
            {
                given.Add(ClvFit.Parse(await ReadTextAsync(path, ct), Path.GetFileName(path)));
            }
            var purchases = given.FirstOrDefault(f => f.Model == model) ?? ClvModels.Fit(model, customers, result.GetValue(input.Penalty));
            ClvFit? spend = null;
            if (model != ClvModel.Gg && ClvModels.HasSpend(customers))
            {
                spend = given.FirstOrDefault(f => f.Model == ClvModel.Gg) ?? ClvModels.Fit(ClvModel.Gg, customers, result.GetValue(input.Penalty));
            }
            await WarnAsync(purchases, Console.Error);
            var predictions = ClvModels.Predict(purchases, spend, customers, h, m, d);
            var path2 = result.GetValue(output)!;
            await WriteAsync(path2, predictions, spend is not null, ct);
            await Console.Out.WriteLineAsync($"Wrote {predictions.Count.ToString("N0", CultureInfo.InvariantCulture)} customers to {path2}.");
        }, ct));

        return new Command("clv", "Customer-base models (BG/NBD, Pareto/NBD, Gamma-Gamma, BG/BB, sBG) on a transaction log or summary file")
        {
            fit,
            predict,
        };
    }

    /// <summary>Runs a verb, turning bad input into its message and exit code 2, and a model that cannot answer into 1.</summary>
    private static async Task<int> RunAsync(TextWriter error, Func<Task> verb, CancellationToken ct)
    {
        try
        {
            await verb();
            return 0;
        }
        catch (ClvInputException ex)
        {
            await error.WriteLineAsync(ex.Message);
            return 2;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            await error.WriteLineAsync($"The model cannot be used on this data: {ex.Message}");
            return 1;
        }
    }

    private static async Task WarnAsync(ClvFit fit, TextWriter error)
    {
        if (!fit.Converged)
        {
            await error.WriteLineAsync($"Warning: the {ClvFit.NameOf(fit.Model)} fit did not converge; the parameters are the best found. Try --penalizer 0.001.");
        }
        if (fit.Model == ClvModel.Gg && fit.Params["q"] <= 1)
        {
            await error.WriteLineAsync("Warning: q ≤ 1, so the fitted spend distribution has no mean and expected spends are undefined; look for outliers in the amounts.");
        }
    }

    private static string Describe(ClvFit fit)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{ClvFit.NameOf(fit.Model)} fitted on {fit.Customers:N0} customers");
        text.AppendLine(fit.Converged ? "." : " (did not converge).");
        foreach (var (name, value) in fit.Params)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {name,-6} {value:G6}");
        }
        text.Append(CultureInfo.InvariantCulture, $"  log-likelihood {fit.LogLikelihood:F2}");
        return text.ToString();
    }

    private static async Task<string> ReadTextAsync(string path, CancellationToken ct)
    {
        try
        {
            return await File.ReadAllTextAsync(path, ct);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ClvInputException($"Cannot read {path}: {ex.Message}");
        }
    }

    private static async Task WriteAsync(string path, IReadOnlyList<ClvPrediction> predictions, bool withSpend, CancellationToken ct)
    {
        try
        {
            await using var file = new StreamWriter(path, append: false, new UTF8Encoding(false));
            await file.WriteLineAsync(withSpend ? "customer_id,p_alive,expected_purchases,expected_spend,clv" : "customer_id,p_alive,expected_purchases");
            foreach (var p in predictions)
            {
                ct.ThrowIfCancellationRequested();
                var line = $"{Cell(p.CustomerId)},{N(p.ProbabilityAlive)},{N(p.ExpectedPurchases)}";
                await file.WriteLineAsync(withSpend ? $"{line},{N(p.ExpectedSpend!.Value)},{N(p.Value!.Value)}" : line);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ClvInputException($"Cannot write {path}: {ex.Message}");
        }
    }

    private static string N(double v) => v.ToString("G9", CultureInfo.InvariantCulture);

    private static string Cell(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : text;

    /// <summary>The options shared by fit and predict: where the customers come from, the unit and the model.</summary>
    private sealed class InputOptions
    {
        public Option<string?> Transactions { get; } = new("--transactions") { Description = "Transaction log: CSV with a header, one row per purchase" };
        public Option<string?> CustomerColumn { get; } = new("--customer-column") { Description = "Column of the transaction log naming the customer" };
        public Option<string?> DateColumn { get; } = new("--date-column") { Description = "Column with the purchase date" };
        public Option<string?> AmountColumn { get; } = new("--amount-column") { Description = "Column with the purchase value (enables the spend model)" };
        public Option<string?> DateFormat { get; } = new("--date-format") { Description = "Date format, e.g. yyyyMMdd or dd/MM/yyyy (default: ISO 8601 or yyyyMMdd)" };
        public Option<string?> CalibrationEnd { get; } = new("--calibration-end") { Description = "Last day of the period the model learns from, e.g. 1997-09-30" };
        public Option<string?> Summary { get; } = new("--summary") { Description = "Summary CSV: customer_id,frequency,recency,T[,monetary_value][,weights]" };
        public Option<string> Unit { get; } = new("--unit") { Description = "Time unit of recency, T and horizons: days, weeks or months", Required = true };
        public Option<string> Model { get; } = new("--model") { Description = "bgnbd, mbgnbd, pnbd, gg, bgbb or sbg", Required = true };
        public Option<double> Penalty { get; } = new("--penalizer") { Description = "L2 penalty on the parameters (default 0: plain maximum likelihood)", DefaultValueFactory = _ => 0.0 };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Transactions, CustomerColumn, DateColumn, AmountColumn, DateFormat, CalibrationEnd, Summary, Unit, Model, Penalty })
            {
                command.Options.Add(option);
            }
        }

        public async Task<(ClvModel Model, IReadOnlyList<ClvCustomer> Customers)> ReadAsync(ParseResult result, CancellationToken ct)
        {
            var modelText = result.GetValue(Model);
            if (!ClvFit.TryParseModel(modelText, out var model))
            {
                throw new ClvInputException($"--model: \"{modelText}\" is not a model; use bgnbd, mbgnbd, pnbd, gg, bgbb or sbg.");
            }
            var unitText = result.GetValue(Unit);
            if (!Enum.TryParse<TimeUnit>(unitText, ignoreCase: true, out var unit) || !Enum.IsDefined(unit) || int.TryParse(unitText, out _))
            {
                throw new ClvInputException($"--unit: \"{unitText}\" is not a unit; use days, weeks or months.");
            }
            var penalty = result.GetValue(Penalty);
            if (!(penalty >= 0) || !double.IsFinite(penalty))
            {
                throw new ClvInputException("--penalizer must be 0 or more.");
            }
            var transactions = result.GetValue(Transactions);
            var summary = result.GetValue(Summary);
            ClvSource source;
            if (transactions is not null && summary is not null)
            {
                throw new ClvInputException("Give either --transactions or --summary, not both.");
            }
            if (summary is not null)
            {
                source = new ClvSource.Summary(summary);
            }
            else if (transactions is not null)
            {
                var missing = new[] { (CustomerColumn, "--customer-column"), (DateColumn, "--date-column"), (CalibrationEnd, "--calibration-end") }
                    .Where(o => result.GetValue(o.Item1) is null).Select(o => o.Item2).ToList();
                if (missing.Count > 0)
                {
                    throw new ClvInputException($"--transactions needs {string.Join(", ", missing)}.");
                }
                source = new ClvSource.Transactions(transactions, result.GetValue(CustomerColumn)!, result.GetValue(DateColumn)!,
                    result.GetValue(AmountColumn), result.GetValue(DateFormat), result.GetValue(CalibrationEnd)!);
            }
            else
            {
                throw new ClvInputException("Give the customers: --transactions FILE (with --customer-column, --date-column, --calibration-end) or --summary FILE.");
            }
            return (model, await ClvInput.ReadAsync(source, unit, ct));
        }
    }
}
