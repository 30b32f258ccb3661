using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Clientele.Clv;

namespace Clientele.Bench;

/// <summary>Fits on the CDNOW sample (2,357 customers, 1,135 distinct rows), as in the published examples.</summary>
[ShortRunJob]
[MemoryDiagnoser]
public class ClvCdnowBenchmarks
{
    private RfmData _cdnow = null!;
    private readonly BgNbdParameters _published = new(0.243, 4.414, 0.793, 2.426);

    [GlobalSetup]
    public void Setup() => _cdnow = ClvData.Cdnow();

    /// <summary>Baseline: one evaluation of the BG/NBD log-likelihood over the same rows.</summary>
    [Benchmark(Baseline = true)]
    public double BgNbdLogLikelihoodOnce() => BgNbd.LogLikelihood(_published, _cdnow);

    [Benchmark]
    public BgNbdParameters BgNbdFit() => BgNbd.Fit(_cdnow).Params;

    [Benchmark]
    public BgNbdParameters MbgNbdFit() => MbgNbd.Fit(_cdnow).Params;

    [Benchmark]
    public ParetoNbdParameters ParetoNbdFit() => ParetoNbd.Fit(_cdnow).Params;
}

/// <summary>
/// Fits on 1,000,000 simulated customers (ages up to 78 weeks, drawn from the CDNOW estimates) and the RFM summary of a
/// 5,000,000-row transaction log. "Ungrouped" data have continuous times, so every customer is its own row; "grouped" data
/// have times in whole days with identical rows merged. Each operation takes long enough to be timed once per iteration.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 7)]
[MemoryDiagnoser]
public class ClvLargeBenchmarks
{
    private const int Customers = 1_000_000;
    private readonly BgNbdParameters _bg = new(0.243, 4.414, 0.793, 2.426);
    private readonly ParetoNbdParameters _pareto = new(0.553, 10.578, 0.606, 11.669);
    private RfmData _bgRows = null!, _bgGrouped = null!, _paretoRows = null!, _paretoGrouped = null!;
    private double[] _frequency = [], _monetary = [];
    private Transaction[] _log = [];

    [GlobalSetup]
    public void Setup()
    {
        _bgRows = FittingSimulation.BgNbd(_bg, Customers, 78, seed: 1);
        _bgGrouped = FittingSimulation.BgNbd(_bg, Customers, 78, seed: 1, resolution: 1 / 7.0);
        _paretoRows = FittingSimulation.ParetoNbd(_pareto, Customers, 78, seed: 3);
        _paretoGrouped = FittingSimulation.ParetoNbd(_pareto, Customers, 78, seed: 3, resolution: 1 / 7.0);
        (_frequency, _monetary) = FittingSimulation.GammaGamma(new GammaGammaParameters(6.25, 3.74, 15.44), Customers, seed: 4);
        _log = ClvData.TransactionLog(5_000_000, Customers, seed: 5);
        Console.WriteLine($"// rows: BG/NBD grouped {_bgGrouped.Count}, Pareto/NBD grouped {_paretoGrouped.Count}");
    }

    /// <summary>Baseline: a plain loop over the 1,000,000 rows adding up x·T (no logarithms).</summary>
    [Benchmark(Baseline = true)]
    public double PlainLoopOverRows()
    {
        var x = _bgRows.Frequency;
        var t = _bgRows.Age;
        var sum = 0.0;
        for (var i = 0; i < x.Count; i++)
        {
            sum += x[i] * t[i];
        }
        return sum;
    }

    /// <summary>Baseline: one single-threaded evaluation of the BG/NBD log-likelihood over the 1,000,000 rows.</summary>
    [Benchmark]
    public double BgNbdLogLikelihoodOnce() => BgNbd.LogLikelihood(_bg, _bgRows);

    /// <summary>Baseline: one single-threaded evaluation of the Pareto/NBD log-likelihood over the 1,000,000 rows.</summary>
    [Benchmark]
    public double ParetoNbdLogLikelihoodOnce() => ParetoNbd.LogLikelihood(_pareto, _paretoRows);

    [Benchmark]
    public BgNbdParameters BgNbdFitUngrouped() => BgNbd.Fit(_bgRows).Params;

    [Benchmark]
    public BgNbdParameters BgNbdFitGrouped() => BgNbd.Fit(_bgGrouped).Params;

    [Benchmark]
    public ParetoNbdParameters ParetoNbdFitUngrouped() => ParetoNbd.Fit(_paretoRows).Params;

    [Benchmark]
    public ParetoNbdParameters ParetoNbdFitGrouped() => ParetoNbd.Fit(_paretoGrouped).Params;

    [Benchmark]
    public GammaGammaParameters GammaGammaFit() => GammaGamma.Fit(_frequency, _monetary).Params;

    /// <summary>Baseline for the summary: count the 5,000,000 transactions per customer id in a dictionary.</summary>
    [Benchmark]
    public int TransactionsPerCustomerBaseline()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in _log)
        {
            counts[t.CustomerId] = counts.TryGetValue(t.CustomerId, out var n) ? n + 1 : 1;
        }
        return counts.Count;
    }

    [Benchmark]
    public int RfmSummaryOf5MillionRows() =>
        RfmSummary.Build(_log, new DateOnly(2025, 12, 31), TimeUnit.Weeks, new DateOnly(2026, 6, 30)).Count;
}

/// <summary>Data for the customer-value benchmarks.</summary>
internal static class ClvData
{
    /// <summary>The CDNOW summary kept next to the repository (../shared/data/cdnow from the folder holding Clientele.slnx).</summary>
    public static RfmData Cdnow()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Clientele.slnx")))
        {
            dir = dir.Parent;
        }
        var file = Path.Combine(dir?.FullName ?? ".", "..", "shared", "data", "cdnow", "cdnow_customers_summary.csv");
        var rows = File.ReadLines(file).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).ToList();
        double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        return RfmData.Grouped(rows.Select(f => (D(f[1]), D(f[2]), D(f[3]), 1.0)));
    }

    /// <summary>
    /// A transaction log of <paramref name="rows"/> purchases by <paramref name="customers"/> customers over 2024–2026,
    /// in time order; each customer buys from a first day onwards, some several times on one day.
    /// </summary>
    public static Transaction[] TransactionLog(int rows, int customers, int seed)
    {
        var random = new Random(seed);
        var ids = new string[customers];
        var first = new int[customers];
        var start = new DateOnly(2024, 1, 1).DayNumber;
        for (var c = 0; c < customers; c++)
        {
            ids[c] = "C" + c.ToString("D8", CultureInfo.InvariantCulture);
            first[c] = start + random.Next(0, 700);
        }
        var log = new Transaction[rows];
        for (var i = 0; i < rows; i++)
        {
            // The first purchase of every customer comes first, the rest at random.
            var c = i < customers ? i : random.Next(customers);
            var day = i < customers ? first[c] : first[c] + random.Next(0, 900 - (first[c] - start));
            log[i] = new Transaction(ids[c], DateOnly.FromDayNumber(day), Math.Round((decimal)(5 + 95 * random.NextDouble()), 2));
        }
        return log;
    }
}
