namespace Clientele.Clv;

/// <summary>Unit in which recency, age (T) and prediction horizons are expressed.</summary>
public enum TimeUnit
{
    /// <summary>Calendar days.</summary>
    Days,

    /// <summary>Seven days.</summary>
    Weeks,

    /// <summary>
    /// 30.4375 days, the mean Gregorian month (365.25 / 12), so that twelve months make an average year
    /// and the unit does not depend on which months a customer happened to live through.
    /// </summary>
    Months,
}

/// <summary>One purchase. Only the calendar day matters: purchases on the same day count as one.</summary>
/// <param name="CustomerId">Identifies the customer.</param>
/// <param name="Date">Day of the purchase.</param>
/// <param name="Amount">Value of the purchase.</param>
public readonly record struct Transaction(string CustomerId, DateOnly Date, decimal Amount)
{
    /// <summary>A purchase stamped with a time; the time of day is dropped.</summary>
    public Transaction(string customerId, DateTime timestamp, decimal amount)
        : this(customerId, DateOnly.FromDateTime(timestamp), amount)
    {
    }
}

/// <summary>
/// What the customer-base models need to know about one customer, measured over the calibration period.
/// </summary>
/// <param name="CustomerId">Identifies the customer.</param>
/// <param name="Frequency">x: number of repeat purchase days (the first purchase day is not counted).</param>
/// <param name="Recency">t_x: time from the first to the last purchase day in the calibration period.</param>
/// <param name="T">Age: time from the first purchase day to the end of the calibration period.</param>
/// <param name="Monetary">Mean value of the repeat purchase days (same-day amounts summed first); 0 when x = 0.
/// The first purchase is left out because it is often unlike the rest (a welcome offer, a starter kit).</param>
/// <param name="HoldoutFrequency">Number of purchase days after the calibration end up to the holdout end,
/// or null when no holdout end was given.</param>
/// <param name="HoldoutMonetary">Total spend in the holdout period, or null when no holdout end was given.</param>
public sealed record CustomerSummary(
    string CustomerId,
    int Frequency,
    double Recency,
    double T,
    double Monetary,
    int? HoldoutFrequency = null,
    double? HoldoutMonetary = null);

/// <summary>Builds per-customer frequency / recency / age / monetary summaries from a transaction log.</summary>
public static class RfmSummary
{
    /// <summary>Days in one <see cref="TimeUnit"/>.</summary>
    public static double DaysPer(TimeUnit unit) => unit switch
    {
        TimeUnit.Days => 1.0,
        TimeUnit.Weeks => 7.0,
        TimeUnit.Months => 30.4375,
        _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, "Unknown time unit."),
    };

    /// <summary>
    /// Summarises each customer whose first purchase is on or before <paramref name="calibrationEnd"/>.
    /// Purchases on the calibration end day belong to the calibration period; purchases after it are ignored
    /// for the calibration figures and, when <paramref name="holdoutEnd"/> is given, counted (by day) and summed
    /// for the holdout figures up to and including that day. Customers are returned ordered by id (ordinal).
    /// </summary>
    public static IReadOnlyList<CustomerSummary> Build(
        IEnumerable<Transaction> transactions,
        DateOnly calibrationEnd,
        TimeUnit unit,
        DateOnly? holdoutEnd = null)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        if (holdoutEnd is { } h && h < calibrationEnd)
        {
            throw new ArgumentOutOfRangeException(nameof(holdoutEnd), "The holdout end must not be before the calibration end.");
        }
        var daysPer = DaysPer(unit);

        // One pass numbers the customers (in order of first appearance) and keeps each row as (customer, day, amount).
        var capacity = transactions is ICollection<Transaction> known ? known.Count : 1024;
        var numbers = new Dictionary<string, int>(StringComparer.Ordinal);
        var ids = new List<string>();
        var customerOf = new int[capacity];
        var dayOf = new int[capacity];
        var amountOf = new decimal[capacity];
        var rows = 0;
        foreach (var t in transactions)
        {
            if (!numbers.TryGetValue(t.CustomerId, out var c))
            {
                c = ids.Count;
                numbers.Add(t.CustomerId, c);
                ids.Add(t.CustomerId);
            }
            if (rows == customerOf.Length)
            {
                Array.Resize(ref customerOf, rows * 2);
                Array.Resize(ref dayOf, rows * 2);
                Array.Resize(ref amountOf, rows * 2);
            }
            customerOf[rows] = c;
            dayOf[rows] = t.Date.DayNumber;
            amountOf[rows] = t.Amount;
            rows++;
        }

        // Rows are bucketed by customer (a counting sort, linear in the rows) so that each customer's purchases are contiguous.
        var customers = ids.Count;
        var offset = new int[customers + 1];
        for (var i = 0; i < rows; i++)
        {
            offset[customerOf[i] + 1]++;
        }
        for (var c = 0; c < customers; c++)
        {
            offset[c + 1] += offset[c];
        }
        var next = offset[..customers];
        var days = new int[rows];
        var amounts = new decimal[rows];
        for (var i = 0; i < rows; i++)
        {
            var slot = next[customerOf[i]]++;
            days[slot] = dayOf[i];
            amounts[slot] = amountOf[i];
        }

        // Output order is by id (ordinal).
        var order = new int[customers];
        for (var c = 0; c < customers; c++)
        {
            order[c] = c;
        }
        var sortedIds = ids.ToArray();
        Array.Sort(sortedIds, order, StringComparer.Ordinal);

        var calibrationDay = calibrationEnd.DayNumber;
        var holdoutDay = holdoutEnd?.DayNumber;
        var summaries = new CustomerSummary?[customers];
        Parallel.For(0, (customers + 4095) / 4096, block =>
        {
            for (var k = block * 4096; k < Math.Min(customers, (block + 1) * 4096); k++)
            {
                var c = order[k];
                summaries[k] = Summarise(
                    sortedIds[k], days.AsSpan(offset[c], offset[c + 1] - offset[c]), amounts.AsSpan(offset[c], offset[c + 1] - offset[c]),
                    calibrationDay, holdoutDay, daysPer);
            }
        });
        var result = new List<CustomerSummary>(customers);
        foreach (var summary in summaries)
        {
            if (summary is not null)
            {
                result.Add(summary);
            }
        }
        return result;
    }

    /// <summary>
    /// One customer's summary from their purchases (in any order), or null when the first purchase is after the calibration end.
    /// Same-day purchases are merged first: the models count purchase occasions, not line items.
    /// </summary>
    private static CustomerSummary? Summarise(
        string id, Span<int> days, Span<decimal> amounts, int calibrationDay, int? holdoutDay, double daysPer)
    {
        days.Sort(amounts);
        var first = days[0];
        if (first > calibrationDay)
        {
            return null;
        }
        var x = 0;
        var last = first;
        decimal repeatSpend = 0;
        var holdoutCount = 0;
        decimal holdoutSpend = 0;
        var i = 0;
        while (i < days.Length)
        {
            var day = days[i];
            var amount = amounts[i];
            for (i++; i < days.Length && days[i] == day; i++)
            {
                amount += amounts[i];
            }
            if (day <= calibrationDay)
            {
                if (day != first)
                {
                    x++;
                    repeatSpend += amount;
                    last = day;
                }
            }
            else if (holdoutDay is { } end && day <= end)
            {
                holdoutCount++;
                holdoutSpend += amount;
            }
        }
        return new CustomerSummary(
            id,
            x,
            (last - first) / daysPer,
            (calibrationDay - first) / daysPer,
            x == 0 ? 0.0 : (double)(repeatSpend / x),
            holdoutDay is null ? null : holdoutCount,
            holdoutDay is null ? null : (double)holdoutSpend);
    }

    /// <summary>Length of the holdout period in <paramref name="unit"/>s, for predictions over that horizon.</summary>
    public static double HoldoutLength(DateOnly calibrationEnd, DateOnly holdoutEnd, TimeUnit unit) =>
        (holdoutEnd.DayNumber - calibrationEnd.DayNumber) / DaysPer(unit);
}

/// <summary>
/// Frequency / recency / age of a set of customers laid out as columns for fast likelihood evaluation,
/// optionally with identical rows merged into one row with a weight (the number of customers it stands for).
/// </summary>
public sealed class RfmData
{
    private RfmData(double[] x, double[] tx, double[] t, double[] w)
    {
        Frequency = x;
        Recency = tx;
        Age = t;
        Weight = w;
        TotalWeight = w.Sum();
    }

    /// <summary>x per row.</summary>
    public IReadOnlyList<double> Frequency { get; }

    /// <summary>t_x per row.</summary>
    public IReadOnlyList<double> Recency { get; }

    /// <summary>T per row.</summary>
    public IReadOnlyList<double> Age { get; }

    /// <summary>Number of customers each row stands for.</summary>
    public IReadOnlyList<double> Weight { get; }

    /// <summary>Number of rows.</summary>
    public int Count => ((double[])Frequency).Length;

    /// <summary>Sum of the weights: the number of customers.</summary>
    public double TotalWeight { get; }

    /// <summary>Weighted mean customer age T: the scale fits start from.</summary>
    internal double MeanAge
    {
        get
        {
            var sum = 0.0;
            for (var i = 0; i < Count; i++)
            {
                sum += W[i] * TT[i];
            }
            return TotalWeight > 0 ? sum / TotalWeight : 0;
        }
    }

    internal double[] X => (double[])Frequency;

    internal double[] Tx => (double[])Recency;

    internal double[] TT => (double[])Age;

    internal double[] W => (double[])Weight;

    /// <summary>
    /// Columns from raw arrays (copied). Checks 0 ≤ x, 0 ≤ t_x ≤ T, T &gt; 0, weight ≥ 0, and t_x = 0 when x = 0.
    /// </summary>
    public static RfmData Create(
        IReadOnlyList<double> frequency,
        IReadOnlyList<double> recency,
        IReadOnlyList<double> age,
        IReadOnlyList<double>? weight = null)
    {
        var n = frequency.Count;
        if (recency.Count != n || age.Count != n || (weight is not null && weight.Count != n))
        {
            throw new ArgumentException("All columns must have the same length.");
        }
        var x = frequency.ToArray();
        var tx = recency.ToArray();
        var t = age.ToArray();
        var w = weight?.ToArray() ?? Enumerable.Repeat(1.0, n).ToArray();
        for (var i = 0; i < n; i++)
        {
            if (!(x[i] >= 0) || !(tx[i] >= 0) || !(t[i] > 0) || tx[i] > t[i] || !(w[i] >= 0) || double.IsInfinity(t[i]) || double.IsInfinity(w[i]))
            {
                throw new ArgumentOutOfRangeException(nameof(frequency), $"Row {i} is not a valid customer: x={x[i]}, t_x={tx[i]}, T={t[i]}, weight={w[i]}.");
            }
        }
        return new RfmData(x, tx, t, w);
    }

    /// <summary>
    /// Columns from customer summaries, merging identical (x, t_x, T) rows when <paramref name="group"/> is set.
    /// Customers first seen on the last calibration day (T = 0) are left out: nothing has been observed about them yet,
    /// so they add exactly zero to every model's log-likelihood.
    /// </summary>
    public static RfmData FromSummaries(IEnumerable<CustomerSummary> customers, bool group = true)
    {
        var rows = customers.Where(c => c.T > 0).Select(c => (x: (double)c.Frequency, tx: c.Recency, t: c.T)).ToList();
        return group ? Grouped(rows.Select(r => (r.x, r.tx, r.t, 1.0))) : Create(
            rows.Select(r => r.x).ToArray(), rows.Select(r => r.tx).ToArray(), rows.Select(r => r.t).ToArray());
    }

    /// <summary>
    /// Merges rows with identical (x, t_x, T), adding their weights. Many customers share a row
    /// (e.g. all one-time buyers of the same cohort), so the likelihood is evaluated once per distinct row.
    /// </summary>
    public static RfmData Grouped(IEnumerable<(double X, double Recency, double T, double Weight)> rows)
    {
        var groups = new Dictionary<(double, double, double), double>();
        foreach (var (x, tx, t, w) in rows)
        {
            var key = (x, tx, t);
            groups[key] = groups.TryGetValue(key, out var sum) ? sum + w : w;
        }
        var ordered = groups.OrderBy(g => g.Key.Item1).ThenBy(g => g.Key.Item2).ThenBy(g => g.Key.Item3).ToList();
        return Create(
            ordered.Select(g => g.Key.Item1).ToArray(),
            ordered.Select(g => g.Key.Item2).ToArray(),
            ordered.Select(g => g.Key.Item3).ToArray(),
            ordered.Select(g => g.Value).ToArray());
    }
}
