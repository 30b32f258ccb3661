namespace Clientele.Clv;

/// <summary>One acquisition cohort's activity by period since acquisition.</summary>
/// <param name="CohortStart">First day of the period in which the cohort's customers made their first purchase.</param>
/// <param name="Customers">Number of customers acquired in that period.</param>
/// <param name="Active">Active[k]: customers of the cohort with at least one purchase in the k-th period after
/// acquisition (Active[0] = <paramref name="Customers"/>). Only periods that have started by the observation end are
/// listed, so younger cohorts have shorter rows; the last listed period may be incomplete.</param>
/// <param name="Retention">Retention[k] = Active[k] / Customers.</param>
public sealed record CohortRow(DateOnly CohortStart, int Customers, IReadOnlyList<int> Active, IReadOnlyList<double> Retention);

/// <summary>
/// Cohort retention table ("triangle"): rows are acquisition cohorts (the period of each customer's first purchase),
/// columns are periods since acquisition, and each cell is the share of the cohort that bought in that period.
/// Periods are calendar-aligned: days, weeks starting on Monday, or calendar months (not the 30.4375-day months the
/// models use, since cohorts are reported by calendar month).
/// </summary>
public sealed class CohortMatrix
{
    private CohortMatrix(TimeUnit unit, DateOnly observationEnd, IReadOnlyList<CohortRow> rows)
    {
        Unit = unit;
        ObservationEnd = observationEnd;
        Rows = rows;
        Periods = rows.Count == 0 ? 0 : rows.Max(r => r.Active.Count);
    }

    /// <summary>Length of one period.</summary>
    public TimeUnit Unit { get; }

    /// <summary>Last day of data taken into account.</summary>
    public DateOnly ObservationEnd { get; }

    /// <summary>Cohorts, oldest first.</summary>
    public IReadOnlyList<CohortRow> Rows { get; }

    /// <summary>Number of columns: periods since acquisition observed for the oldest cohort.</summary>
    public int Periods { get; }

    /// <summary>Retention of cohort <paramref name="row"/> in period <paramref name="period"/> since acquisition, or null when not yet observed.</summary>
    public double? Retention(int row, int period)
    {
        var r = Rows[row];
        return period >= 0 && period < r.Retention.Count ? r.Retention[period] : null;
    }

    /// <summary>
    /// Retention by period since acquisition over all cohorts that have reached that period, weighted by cohort size
    /// (total active over total customers); one value per column.
    /// </summary>
    public IReadOnlyList<double> AverageRetention()
    {
        var result = new double[Periods];
        for (var k = 0; k < Periods; k++)
        {
            long active = 0, customers = 0;
            foreach (var r in Rows)
            {
                if (k < r.Active.Count)
                {
                    active += r.Active[k];
                    customers += r.Customers;
                }
            }
            result[k] = customers > 0 ? (double)active / customers : 0;
        }
        return result;
    }

    /// <summary>
    /// Builds the table. Customers are assigned to the period of their first purchase; purchases after
    /// <paramref name="observationEnd"/> (default: the last purchase date in the log) are ignored, as are customers
    /// whose first purchase comes after it. Every transaction counts as activity, whatever its amount.
    /// </summary>
    public static CohortMatrix Build(IEnumerable<Transaction> transactions, TimeUnit unit = TimeUnit.Months, DateOnly? observationEnd = null)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        _ = RfmSummary.DaysPer(unit); // rejects unknown units
        var list = transactions.ToList();
        var end = observationEnd ?? (list.Count == 0 ? DateOnly.MinValue : list.Max(t => t.Date));

        var periodsByCustomer = new Dictionary<string, SortedSet<int>>(StringComparer.Ordinal);
        foreach (var t in list)
        {
            if (t.Date > end)
            {
                continue;
            }
            if (!periodsByCustomer.TryGetValue(t.CustomerId, out var set))
            {
                set = [];
                periodsByCustomer[t.CustomerId] = set;
            }
            set.Add(PeriodIndex(t.Date, unit));
        }

        var lastPeriod = PeriodIndex(end, unit);
        var rows = periodsByCustomer.Values
            .GroupBy(s => s.Min)
            .OrderBy(g => g.Key)
            .Select(g =>
            {
                var width = lastPeriod - g.Key + 1;
                var active = new int[width];
                var customers = 0;
                foreach (var periods in g)
                {
                    customers++;
                    foreach (var p in periods)
                    {
                        active[p - g.Key]++;
                    }
                }
                return new CohortRow(
                    PeriodStart(g.Key, unit),
                    customers,
                    active,
                    [.. active.Select(a => (double)a / customers)]);
            })
            .ToList();
        return new CohortMatrix(unit, end, rows);
    }

    /// <summary>First day of the period containing <paramref name="date"/>: the day itself, its week's Monday, or the 1st of its month.</summary>
    public static DateOnly PeriodStart(DateOnly date, TimeUnit unit) => PeriodStart(PeriodIndex(date, unit), unit);

    /// <summary>Number of whole periods from the period of <paramref name="from"/> to that of <paramref name="to"/>.</summary>
    public static int PeriodsBetween(DateOnly from, DateOnly to, TimeUnit unit) => PeriodIndex(to, unit) - PeriodIndex(from, unit);

    // Periods are numbered from an epoch so that differences are period counts. DateOnly.DayNumber 0 (0001-01-01) is a Monday.
    private static int PeriodIndex(DateOnly date, TimeUnit unit) => unit switch
    {
        TimeUnit.Days => date.DayNumber,
        TimeUnit.Weeks => date.DayNumber / 7,
        TimeUnit.Months => (date.Year * 12) + date.Month - 1,
        _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, "Unknown time unit."),
    };

    private static DateOnly PeriodStart(int index, TimeUnit unit) => unit switch
    {
        TimeUnit.Days => DateOnly.FromDayNumber(index),
        TimeUnit.Weeks => DateOnly.FromDayNumber(index * 7),
        TimeUnit.Months => new DateOnly(index / 12, (index % 12) + 1, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, "Unknown time unit."),
    };
}
