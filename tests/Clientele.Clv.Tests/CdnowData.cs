using System.Globalization;

namespace Clientele.Clv.Tests;

/// <summary>Reads the CDNOW files kept next to the repository (../shared/data/cdnow from the folder holding Clientele.slnx).</summary>
internal static class CdnowData
{
    private static readonly Lazy<string> Dir = new(Locate);

    public static string Directory => Dir.Value;

    private static string Locate()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Clientele.slnx")))
        {
            dir = dir.Parent;
        }
        if (dir is null)
        {
            Assert.Fail($"Could not find Clientele.slnx above {AppContext.BaseDirectory}, so the CDNOW data cannot be located.");
        }
        var data = Path.GetFullPath(Path.Combine(dir!.FullName, "..", "shared", "data", "cdnow"));
        if (!System.IO.Directory.Exists(data))
        {
            Assert.Fail($"CDNOW data folder not found at {data} (expected as sibling 'shared/data/cdnow' of the repository root).");
        }
        return data;
    }

    public static IEnumerable<Transaction> SampleTransactions() =>
        File.ReadLines(Path.Combine(Directory, "CDNOW_sample.txt"))
            .Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l =>
            {
                var f = l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                return new Transaction(
                    int.Parse(f[1], CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
                    DateOnly.ParseExact(f[2], "yyyyMMdd", CultureInfo.InvariantCulture),
                    decimal.Parse(f[4], CultureInfo.InvariantCulture));
            });

    public static IReadOnlyList<(string Id, int X, double Tx, double T)> Summary() =>
        Csv("cdnow_customers_summary.csv")
            .Select(f => (f[0], int.Parse(f[1], CultureInfo.InvariantCulture), D(f[2]), D(f[3])))
            .ToList();

    public static IReadOnlyList<(string Id, int X, double Tx, double T, double Zbar)> SummaryWithTransactions() =>
        Csv("cdnow_customers_summary_with_transactions.csv")
            .Select(f => (f[0], int.Parse(f[1], CultureInfo.InvariantCulture), D(f[2]), D(f[3]), D(f[4])))
            .ToList();

    public static RfmData SummaryData() =>
        RfmData.Grouped(Summary().Select(s => ((double)s.X, s.Tx, s.T, 1.0)));

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    private static IEnumerable<string[]> Csv(string name) =>
        File.ReadLines(Path.Combine(Directory, name))
            .Skip(1)
            .Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => l.Trim().Split(','));
}
