using System.Globalization;
using System.Text.Json;
using Clientele.Cli;
using Clientele.Tests.Cli;

namespace Clientele.Tests.Value;

/// <summary>
/// <c>clientele clv fit|predict</c> on the CDNOW data kept beside the repository (../shared/data/cdnow), checked
/// against the published fits: Fader, Hardie &amp; Lee (2005) for BG/NBD, Pareto/NBD and Gamma-Gamma; Fader,
/// Hardie &amp; Shang (2010) for BG/BB on the donations data; Fader &amp; Hardie (2007) for the sBG.
/// </summary>
[Collection(nameof(ConsoleOutput))]
public sealed class ClvCliTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("clientele-clv-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string TempFile(string name, IEnumerable<string> lines)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        var (originalOut, originalError) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var exit = await CliApp.RunAsync(args);
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
        }
    }

    private static string Cdnow(string file)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Clientele.slnx")))
        {
            dir = dir.Parent;
        }
        var path = Path.GetFullPath(Path.Combine(dir?.FullName ?? ".", "..", "shared", "data", "cdnow", file));
        Assert.True(File.Exists(path), $"The CDNOW data is expected beside the repository, at {path}.");
        return path;
    }

    /// <summary>CDNOW_sample.txt (whitespace, no header, yyyyMMdd) as the CSV a shop would export.</summary>
    private string SampleLog() => TempFile("cdnow.csv", File.ReadLines(Cdnow("CDNOW_sample.txt"))
        .Where(l => !string.IsNullOrWhiteSpace(l))
        .Select(l => l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        .Select(f => $"{f[1].TrimStart('0')},{f[2]},{f[4]}")
        .Prepend("customer,date,amount"));

    private static string[] LogOptions(string path) =>
        ["--transactions", path, "--customer-column", "customer", "--date-column", "date", "--date-format", "yyyyMMdd", "--calibration-end", "1997-09-30", "--unit", "weeks"];

    private static async Task<JsonElement> FitAsync(params string[] args)
    {
        var (exit, output, error) = await RunAsync(["clv", "fit", .. args, "--json"]);
        Assert.True(exit == 0, error);
        return JsonDocument.Parse(output).RootElement;
    }

    private static double Param(JsonElement fit, string name) => fit.GetProperty("params").GetProperty(name).GetDouble();

    [Fact]
    public async Task Fit_bgnbd_on_the_published_cdnow_summary_prints_the_published_parameters_as_json()
    {
        var fit = await FitAsync("--summary", Cdnow("cdnow_customers_summary.csv"), "--unit", "weeks", "--model", "bgnbd");

        Assert.Equal("bgnbd", fit.GetProperty("model").GetString());
        Assert.Equal(0.243, Param(fit, "r"), 3);
        Assert.Equal(4.414, Param(fit, "alpha"), 3);
        Assert.Equal(0.793, Param(fit, "a"), 3);
        Assert.Equal(2.426, Param(fit, "b"), 3);
        Assert.Equal(-9582.4, fit.GetProperty("logLikelihood").GetDouble(), 1);
        Assert.Equal(2357, fit.GetProperty("customers").GetDouble());
        Assert.True(fit.GetProperty("converged").GetBoolean());
    }

    [Fact]
    public async Task Fit_on_the_raw_transaction_log_reproduces_the_published_pareto_nbd_and_gamma_gamma_fits()
    {
        var log = SampleLog();

        var pnbd = await FitAsync([.. LogOptions(log), "--model", "pnbd"]);
        var gg = await FitAsync([.. LogOptions(log), "--amount-column", "amount", "--model", "gg"]);

        Assert.Equal(0.55, Param(pnbd, "r"), 2);
        Assert.Equal(10.58, Param(pnbd, "alpha"), 2);
        Assert.Equal(0.61, Param(pnbd, "s"), 2);
        Assert.Equal(11.67, Param(pnbd, "beta"), 2);
        Assert.Equal(-9595.0, pnbd.GetProperty("logLikelihood").GetDouble(), 0);
        Assert.Equal(2357, pnbd.GetProperty("customers").GetDouble());
        Assert.Equal(6.25, Param(gg, "p"), 2);
        Assert.Equal(3.74, Param(gg, "q"), 2);
        Assert.Equal(15.44, Param(gg, "gamma"), 2);
        Assert.Equal(946, gg.GetProperty("customers").GetDouble()); // repeat buyers only
    }

    [Fact]
    public async Task Fit_bgbb_on_the_weighted_donations_summary_reproduces_the_published_fit()
    {
        // donations.csv: frequency,recency,periods,weights — 11,104 donors in 22 distinct histories over 6 opportunities.
        var rows = File.ReadLines(Cdnow("donations.csv")).Skip(1).Where(l => l.Trim().Length > 0)
            .Select((l, i) => l.Trim().Split(',') is var f ? $"d{i},{f[0]},{f[1]},{f[2]},{f[3]}" : "");
        var summary = TempFile("donations.csv", rows.Prepend("customer_id,frequency,recency,T,weights"));

        var fit = await FitAsync("--summary", summary, "--unit", "months", "--model", "bgbb");

        Assert.Equal(1.204, Param(fit, "alpha"), 2);
        Assert.Equal(0.750, Param(fit, "beta"), 2);
        Assert.Equal(0.657, Param(fit, "gamma"), 2);
        Assert.Equal(2.783, Param(fit, "delta"), 2);
        Assert.Equal(-33225.6, fit.GetProperty("logLikelihood").GetDouble(), 0);
        Assert.Equal(11104, fit.GetProperty("customers").GetDouble());
    }

    [Fact]
    public async Task Fit_sbg_on_subscriber_tenures_reproduces_the_published_regular_customer_fit()
    {
        // Fader & Hardie (2007), "regular" customers: 1,000 at the start, alive at each renewal 631, 468, 382, 326, 289, 262, 241.
        int[] alive = [1000, 631, 468, 382, 326, 289, 262, 241];
        var lines = new List<string> { "customer_id,frequency,recency,T,weights" };
        for (var k = 1; k < alive.Length; k++)
        {
            // Churned after k paid periods: the last renewal was in period k − 1 of the 7 observed.
            lines.Add($"churned{k},{k - 1},{k - 1},7,{alive[k - 1] - alive[k]}");
        }
        lines.Add($"active,7,7,7,{alive[^1]}");
        var summary = TempFile("tenures.csv", lines);

        var fit = await FitAsync("--summary", summary, "--unit", "months", "--model", "sbg");

        Assert.Equal(0.704, Param(fit, "alpha"), 3);
        Assert.Equal(1.182, Param(fit, "beta"), 3);
        Assert.Equal(1000, fit.GetProperty("customers").GetDouble());
    }

    [Fact]
    public async Task Predict_writes_one_row_per_customer_with_the_published_conditional_expectation_and_reuses_fitted_params()
    {
        var log = SampleLog();
        var (_, bgnbdJson, _) = await RunAsync(["clv", "fit", .. LogOptions(log), "--model", "bgnbd", "--json"]);
        var paramsFile = TempFile("bgnbd.json", [bgnbdJson]);
        var outFile = Path.Combine(_dir.FullName, "predictions.csv");

        var (exit, output, error) = await RunAsync(
            ["clv", "predict", .. LogOptions(log), "--amount-column", "amount", "--model", "bgnbd", "--params", paramsFile,
                "--horizon", "39", "--margin", "0.3", "--discount-rate", "0.0027", "--out", outFile]);

        Assert.True(exit == 0, error);
        Assert.Contains("2,357 customers", output);
        var lines = File.ReadAllLines(outFile);
        Assert.Equal("customer_id,p_alive,expected_purchases,expected_spend,clv", lines[0]);
        Assert.Equal(2357 + 1, lines.Length);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToDictionary(f => f[0], f => f[1..].Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray());
        // Customer 1 of the sample (x = 2, t_x = 30.43, T = 38.86): 1.226 expected purchases in the next 39 weeks (FHL 2005).
        Assert.Equal(1.226, rows["1"][1], 3);
        Assert.All(rows.Values, r => Assert.InRange(r[0], 0, 1));
        // Value is discounted margin on the expected purchases: less than their undiscounted margin, more than nothing.
        Assert.InRange(rows["1"][3], 0.9 * 0.3 * rows["1"][1] * rows["1"][2], 0.3 * rows["1"][1] * rows["1"][2]);
        // One-off buyers are expected to buy less than the customer with two repeat purchases.
        Assert.True(rows.Values.Where(r => r[2] > 0).Min(r => r[1]) < rows["1"][1]);
    }

    [Fact]
    public async Task Predict_without_amounts_writes_purchases_only_and_fits_when_no_params_are_given()
    {
        var outFile = Path.Combine(_dir.FullName, "p.csv");

        var (exit, _, error) = await RunAsync("clv", "predict", "--summary", Cdnow("cdnow_customers_summary.csv"), "--unit", "weeks", "--model", "pnbd", "--horizon", "52", "--out", outFile);

        Assert.True(exit == 0, error);
        var lines = File.ReadAllLines(outFile);
        Assert.Equal("customer_id,p_alive,expected_purchases", lines[0]);
        Assert.Equal(2358, lines.Length);
    }

    [Fact]
    public async Task Bad_rows_exit_with_2_and_name_the_row_and_the_column()
    {
        var log = TempFile("bad.csv", [
            "customer,date,amount",
            "a,19970101,10.00",
            "a,19970301,-5.00",
            "b,1997-13-45,3.00",
            "c,19970105,12",
        ]);
        var summary = TempFile("summary.csv", ["customer_id,frequency,recency,T", "x,1,10,20", "y,2,30,20"]);

        var (badLog, _, logError) = await RunAsync(["clv", "fit", .. LogOptions(log), "--amount-column", "amount", "--model", "gg", "--json"]);
        var (badSummary, _, summaryError) = await RunAsync("clv", "fit", "--summary", summary, "--unit", "weeks", "--model", "bgnbd", "--json");
        var (missing, _, missingError) = await RunAsync(["clv", "fit", .. LogOptions(log), "--amount-column", "value", "--model", "gg"]);
        var (badDate, _, dateError) = await RunAsync("clv", "fit", "--transactions", log, "--customer-column", "customer", "--date-column", "date",
            "--calibration-end", "1997-09-30", "--unit", "weeks", "--model", "bgnbd");

        Assert.Equal(2, badLog);
        Assert.Contains("row 2 (line 3), column \"amount\"", logError);
        Assert.Contains("negative", logError);
        Assert.Contains("row 3 (line 4), column \"date\"", logError);
        Assert.Equal(2, badSummary);
        Assert.Contains("row 2 (line 3), column \"recency\"", summaryError);
        Assert.Contains("greater than T", summaryError);
        Assert.Equal(2, missing);
        Assert.Contains("no column \"value\"", missingError);
        Assert.Equal(2, badDate); // 19970101 is read without --date-format, but 1997-13-45 is no date in any format
        Assert.Contains("\"1997-13-45\" is not a date", dateError);
    }

    [Fact]
    public async Task Usage_errors_exit_with_2()
    {
        var (unknownModel, _, modelError) = await RunAsync("clv", "fit", "--summary", Cdnow("cdnow_customers_summary.csv"), "--unit", "weeks", "--model", "gamma", "--json");
        var (noUnit, _, unitError) = await RunAsync("clv", "fit", "--summary", Cdnow("cdnow_customers_summary.csv"), "--model", "bgnbd");
        var (noFile, _, fileError) = await RunAsync("clv", "fit", "--summary", Path.Combine(_dir.FullName, "nope.csv"), "--unit", "weeks", "--model", "bgnbd");

        Assert.Equal(2, unknownModel);
        Assert.Contains("bgnbd, mbgnbd, pnbd, gg, bgbb or sbg", modelError);
        Assert.Equal(2, noUnit);
        Assert.Contains("--unit", unitError);
        Assert.Equal(2, noFile);
        Assert.Contains("no such file", fileError);
    }
}
