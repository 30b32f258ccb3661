using System.Globalization;
using Clientele.Clv;
using Clientele.Contacts;

namespace Clientele.Value;

/// <summary>The input cannot be modelled; the message names the row and column at fault.</summary>
internal sealed class ClvInputException(string message) : Exception(message);

/// <summary>
/// One customer as the models see it: repeat purchases x, recency t_x and age T in the chosen unit, mean repeat
/// spend (when amounts are known) and how many customers the row stands for. For the discrete-time models the
/// same history is also counted in whole periods: <see cref="Opportunities"/> periods have passed since the first
/// purchase, <see cref="PeriodsWithPurchase"/> of them had a purchase and the last one did is <see cref="LastPeriod"/>
/// (all −1 for a summary row with fractional values, which has no such reading).
/// </summary>
internal sealed record ClvCustomer(
    string Id,
    double X,
    double Recency,
    double T,
    double? Monetary,
    double Weight,
    int PeriodsWithPurchase,
    int LastPeriod,
    int Opportunities);

/// <summary>Where the customers come from: a transaction log or a ready summary.</summary>
internal abstract record ClvSource
{
    public sealed record Transactions(
        string Path,
        string CustomerColumn,
        string DateColumn,
        string? AmountColumn,
        string? DateFormat,
        string CalibrationEnd) : ClvSource;

    public sealed record Summary(string Path) : ClvSource;
}

/// <summary>Reads transaction logs and summary files into <see cref="ClvCustomer"/>s, checking every row.</summary>
internal static class ClvInput
{
    /// <summary>Rows reported before giving up on a file.</summary>
    private const int MaxReported = 20;

    public static async Task<IReadOnlyList<ClvCustomer>> ReadAsync(ClvSource source, TimeUnit unit, CancellationToken ct) => source switch
    {
        ClvSource.Transactions t => await ReadTransactionsAsync(t, unit, ct),
        ClvSource.Summary s => await ReadSummaryAsync(s.Path, ct),
        _ => throw new ArgumentOutOfRangeException(nameof(source)),
    };

    /// <summary>
    /// A date as written in a file: with <paramref name="format"/> exactly that format; otherwise ISO 8601
    /// (<c>2026-03-01</c>, with or without a time and offset) or <c>yyyyMMdd</c>.
    /// </summary>
    public static bool TryParseDate(string text, string? format, out DateOnly date)
    {
        if (format is not null)
        {
            if (DateTime.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var exact))
            {
                date = DateOnly.FromDateTime(exact);
                return true;
            }
            date = default;
            return false;
        }
        if (DateOnly.TryParseExact(text, ["yyyy-MM-dd", "yyyyMMdd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out date))
        {
            return true;
        }
        // A timestamp keeps the calendar day it was written in (its own offset), as the shop saw it.
        if (text.Length > 10 && text[4] == '-' && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var stamp))
        {
            date = DateOnly.FromDateTime(stamp.DateTime);
            return true;
        }
        return false;
    }

    private static async Task<IReadOnlyList<ClvCustomer>> ReadTransactionsAsync(ClvSource.Transactions source, TimeUnit unit, CancellationToken ct)
    {
        if (!TryParseDate(source.CalibrationEnd, source.DateFormat, out var calibrationEnd)
            && !TryParseDate(source.CalibrationEnd, null, out calibrationEnd))
        {
            throw new ClvInputException($"--calibration-end: \"{source.CalibrationEnd}\" is not a date (expected e.g. 1997-09-30).");
        }
        var name = Path.GetFileName(source.Path);
        var errors = new List<string>();
        var transactions = new List<Transaction>();
        await using (var csv = await OpenAsync(source.Path, ct))
        {
            var customer = Column(csv, name, source.CustomerColumn, "--customer-column");
            var dateColumn = Column(csv, name, source.DateColumn, "--date-column");
            var amount = source.AmountColumn is null ? -1 : Column(csv, name, source.AmountColumn, "--amount-column");
            await foreach (var row in csv.ReadRowsAsync(ct))
            {
                if (row.IsBlank)
                {
                    continue;
                }
                var where = $"{name}, row {row.Row} (line {row.Line})";
                if (row.BadData is { } bad)
                {
                    Report(errors, $"{where}: {bad}.");
                    continue;
                }
                var id = row.Cell(customer);
                var dateText = row.Cell(dateColumn);
                var ok = true;
                if (id is null)
                {
                    ok = Report(errors, $"{where}, column \"{source.CustomerColumn}\": the customer is empty.");
                }
                var date = default(DateOnly);
                if (dateText is null)
                {
                    ok = Report(errors, $"{where}, column \"{source.DateColumn}\": the date is empty.");
                }
                else if (!TryParseDate(dateText, source.DateFormat, out date))
                {
                    ok = Report(errors, $"{where}, column \"{source.DateColumn}\": \"{dateText}\" is not a date"
                        + (source.DateFormat is null ? " (expected yyyy-MM-dd or yyyyMMdd; give --date-format for others)." : $" in the format {source.DateFormat}."));
                }
                var value = 0m;
                if (amount >= 0)
                {
                    var text = row.Cell(amount);
                    if (text is null || !decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out value))
                    {
                        ok = Report(errors, $"{where}, column \"{source.AmountColumn}\": \"{text}\" is not an amount (use a dot for decimals).");
                    }
                    else if (value < 0)
                    {
                        ok = Report(errors, $"{where}, column \"{source.AmountColumn}\": the amount {text} is negative; leave refunds out of the log.");
                    }
                }
                if (ok)
                {
                    transactions.Add(new Transaction(id!, date, value));
                }
            }
        }
        ThrowIfAny(errors);
        var summaries = RfmSummary.Build(transactions, calibrationEnd, unit);
        if (summaries.Count == 0)
        {
            throw new ClvInputException($"{name}: no customer made a first purchase on or before the calibration end {calibrationEnd:yyyy-MM-dd}.");
        }
        var periods = Periods(transactions, calibrationEnd, unit);
        return summaries.Select(s =>
        {
            var (withPurchase, last, opportunities) = periods[s.CustomerId];
            return new ClvCustomer(s.CustomerId, s.Frequency, s.Recency, s.T, source.AmountColumn is null ? null : s.Monetary, 1, withPurchase, last, opportunities);
        }).ToList();
    }

    /// <summary>
    /// The history in whole periods of the unit, counted from each customer's first purchase: period k covers
    /// days [k·L, (k+1)·L) after it, and periods 1 … ⌊T⌋ (those begun by the calibration end) are the opportunities,
    /// as a summary row's T is read.
    /// </summary>
    private static Dictionary<string, (int WithPurchase, int Last, int Opportunities)> Periods(
        List<Transaction> transactions, DateOnly calibrationEnd, TimeUnit unit)
    {
        var daysPer = RfmSummary.DaysPer(unit);
        var firsts = new Dictionary<string, DateOnly>(StringComparer.Ordinal);
        foreach (var t in transactions)
        {
            if (!firsts.TryGetValue(t.CustomerId, out var first) || t.Date < first)
            {
                firsts[t.CustomerId] = t.Date;
            }
        }
        var seen = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
        foreach (var t in transactions)
        {
            var first = firsts[t.CustomerId];
            var opportunities = (int)Math.Floor((calibrationEnd.DayNumber - first.DayNumber) / daysPer);
            var period = (int)Math.Floor((t.Date.DayNumber - first.DayNumber) / daysPer);
            if (period >= 1 && period <= opportunities)
            {
                if (!seen.TryGetValue(t.CustomerId, out var set))
                {
                    seen[t.CustomerId] = set = [];
                }
                set.Add(period);
            }
        }
        var result = new Dictionary<string, (int, int, int)>(StringComparer.Ordinal);
        foreach (var (id, first) in firsts)
        {
            var opportunities = Math.Max(0, (int)Math.Floor((calibrationEnd.DayNumber - first.DayNumber) / daysPer));
            result[id] = seen.TryGetValue(id, out var set) ? (set.Count, set.Max(), opportunities) : (0, 0, opportunities);
        }
        return result;
    }

    private static async Task<IReadOnlyList<ClvCustomer>> ReadSummaryAsync(string path, CancellationToken ct)
    {
        var name = Path.GetFileName(path);
        var errors = new List<string>();
        var customers = new List<ClvCustomer>();
        await using (var csv = await OpenAsync(path, ct))
        {
            var id = Optional(csv, "customer_id") is var c and >= 0 ? c : Optional(csv, "id");
            if (id < 0)
            {
                throw new ClvInputException($"{name}: no column \"customer_id\"; a summary has the header customer_id,frequency,recency,T[,monetary_value][,weights] (found {string.Join(",", csv.Header)}).");
            }
            var frequency = Required(csv, name, "frequency");
            var recency = Required(csv, name, "recency");
            var age = Required(csv, name, "T");
            var monetary = Optional(csv, "monetary_value");
            var weights = Optional(csv, "weights");
            await foreach (var row in csv.ReadRowsAsync(ct))
            {
                if (row.IsBlank)
                {
                    continue;
                }
                var where = $"{name}, row {row.Row} (line {row.Line})";
                if (row.BadData is { } bad)
                {
                    Report(errors, $"{where}: {bad}.");
                    continue;
                }
                var ok = true;
                double Number(int column, string label, bool positive = false)
                {
                    var text = row.Cell(column);
                    if (text is null || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                    {
                        ok = Report(errors, $"{where}, column \"{label}\": \"{text}\" is not a number.");
                        return 0;
                    }
                    if (v < 0 || (positive && v == 0))
                    {
                        ok = Report(errors, $"{where}, column \"{label}\": {text} must be {(positive ? "greater than 0" : "0 or more")}.");
                    }
                    return v;
                }
                var customer = row.Cell(id);
                if (customer is null)
                {
                    ok = Report(errors, $"{where}, column \"{csv.Header[id]}\": the customer is empty.");
                }
                var x = Number(frequency, "frequency");
                var tx = Number(recency, "recency");
                var t = Number(age, "T");
                double? m = monetary >= 0 ? Number(monetary, "monetary_value") : null;
                var w = weights >= 0 ? Number(weights, "weights") : 1;
                if (ok && tx > t)
                {
                    ok = Report(errors, $"{where}, column \"recency\": recency {tx.ToString(CultureInfo.InvariantCulture)} is greater than T {t.ToString(CultureInfo.InvariantCulture)}; the last purchase cannot be after the calibration end.");
                }
                if (ok && x == 0 && tx != 0)
                {
                    ok = Report(errors, $"{where}, column \"recency\": a customer with frequency 0 has recency 0 (found {tx.ToString(CultureInfo.InvariantCulture)}).");
                }
                if (ok)
                {
                    // In whole periods a summary row reads as: x periods with a purchase, the last in period t_x, of T.
                    // A row with fractions has no such reading (marked −1) and the discrete models refuse it.
                    var whole = x == Math.Floor(x) && tx == Math.Floor(tx) && t == Math.Floor(t) && t <= int.MaxValue;
                    customers.Add(whole
                        ? new ClvCustomer(customer!, x, tx, t, m, w, (int)x, (int)tx, (int)t)
                        : new ClvCustomer(customer!, x, tx, t, m, w, -1, -1, -1));
                }
            }
        }
        ThrowIfAny(errors);
        if (customers.Count == 0)
        {
            throw new ClvInputException($"{name} has a header but no customers.");
        }
        return customers;
    }

    private static async Task<ImportCsv> OpenAsync(string path, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            throw new ClvInputException(Directory.Exists(path) ? $"{path} is a folder, not a CSV file." : $"Cannot read {path}: there is no such file.");
        }
        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            return await ImportCsv.OpenAsync(stream, Path.GetFileName(path), ct);
        }
        catch (ImportFileException ex)
        {
            throw new ClvInputException(ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ClvInputException($"Cannot read {path}: {ex.Message}");
        }
    }

    private static int Optional(ImportCsv csv, string column) =>
        Array.FindIndex(csv.Header, h => string.Equals(h, column, StringComparison.OrdinalIgnoreCase));

    private static int Required(ImportCsv csv, string name, string column) => Optional(csv, column) is var i and >= 0
        ? i
        : throw new ClvInputException($"{name}: no column \"{column}\"; a summary has the header customer_id,frequency,recency,T[,monetary_value][,weights] (found {string.Join(",", csv.Header)}).");

    private static int Column(ImportCsv csv, string name, string column, string option) => Optional(csv, column) is var i and >= 0
        ? i
        : throw new ClvInputException($"{name}: no column \"{column}\" (named by {option}); the header has {string.Join(", ", csv.Header.Select(h => $"\"{h}\""))}.");

    private static bool Report(List<string> errors, string message)
    {
        if (errors.Count < MaxReported)
        {
            errors.Add(message);
        }
        else if (errors.Count == MaxReported)
        {
            errors.Add("… further rows have errors too; fix these first.");
        }
        return false;
    }

    private static void ThrowIfAny(List<string> errors)
    {
        if (errors.Count > 0)
        {
            throw new ClvInputException(string.Join(Environment.NewLine, errors));
        }
    }
}
