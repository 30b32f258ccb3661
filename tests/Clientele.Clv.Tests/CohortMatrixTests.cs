namespace Clientele.Clv.Tests;

public sealed class CohortMatrixTests
{
    private static Transaction T(string id, int year, int month, int day) => new(id, new DateOnly(year, month, day), 1m);

    [Fact]
    public void Monthly_cohorts_count_customers_active_in_each_month_since_their_first()
    {
        Transaction[] log =
        [
            T("a", 2024, 1, 5), T("a", 2024, 1, 20), T("a", 2024, 2, 1), T("a", 2024, 4, 30),
            T("b", 2024, 1, 31), T("b", 2024, 3, 1),
            T("c", 2024, 2, 29), T("c", 2024, 3, 31), T("c", 2024, 4, 1),
            T("d", 2024, 4, 15),
        ];
        var m = CohortMatrix.Build(log, TimeUnit.Months);
        Assert.Equal(new DateOnly(2024, 4, 30), m.ObservationEnd);
        Assert.Equal(4, m.Periods);
        Assert.Equal([new DateOnly(2024, 1, 1), new DateOnly(2024, 2, 1), new DateOnly(2024, 4, 1)], m.Rows.Select(r => r.CohortStart));

        var jan = m.Rows[0];
        Assert.Equal(2, jan.Customers);
        Assert.Equal([2, 1, 1, 1], jan.Active);
        Assert.Equal([1.0, 0.5, 0.5, 0.5], jan.Retention);

        var feb = m.Rows[1];
        Assert.Equal(1, feb.Customers);
        Assert.Equal([1, 1, 1], feb.Active);

        var apr = m.Rows[2];
        Assert.Equal([1], apr.Active);
        Assert.Null(m.Retention(2, 1));
        Assert.Equal(0.5, m.Retention(0, 3));

        // Weighted over the cohorts that reached each month: month 1 has Jan (1 of 2) and Feb (1 of 1).
        Assert.Equal([1.0, 2.0 / 3, 2.0 / 3, 0.5], m.AverageRetention());
    }

    [Fact]
    public void Observation_end_cuts_off_later_purchases_and_customers()
    {
        Transaction[] log = [T("a", 2024, 1, 5), T("a", 2024, 3, 5), T("b", 2024, 3, 1), T("a", 2024, 6, 1)];
        var m = CohortMatrix.Build(log, TimeUnit.Months, new DateOnly(2024, 2, 15));
        var row = Assert.Single(m.Rows);
        Assert.Equal([1, 0], row.Active);
        Assert.Equal(2, m.Periods);
    }

    [Fact]
    public void Weeks_start_on_monday_and_days_are_days()
    {
        Assert.Equal(DayOfWeek.Monday, DateOnly.FromDayNumber(0).DayOfWeek);
        Assert.Equal(new DateOnly(2024, 1, 1), CohortMatrix.PeriodStart(new DateOnly(2024, 1, 7), TimeUnit.Weeks));
        Assert.Equal(new DateOnly(2024, 1, 8), CohortMatrix.PeriodStart(new DateOnly(2024, 1, 8), TimeUnit.Weeks));
        Assert.Equal(1, CohortMatrix.PeriodsBetween(new DateOnly(2024, 1, 7), new DateOnly(2024, 1, 8), TimeUnit.Weeks));
        Assert.Equal(1, CohortMatrix.PeriodsBetween(new DateOnly(2023, 12, 31), new DateOnly(2024, 1, 1), TimeUnit.Months));
        Assert.Equal(new DateOnly(2024, 2, 1), CohortMatrix.PeriodStart(new DateOnly(2024, 2, 29), TimeUnit.Months));

        Transaction[] log = [T("a", 2024, 1, 7), T("a", 2024, 1, 8), T("b", 2024, 1, 8), T("b", 2024, 1, 9)];
        var weeks = CohortMatrix.Build(log, TimeUnit.Weeks);
        Assert.Equal([1, 1], weeks.Rows[0].Active);
        Assert.Equal([1], weeks.Rows[1].Active);
        var days = CohortMatrix.Build(log, TimeUnit.Days);
        Assert.Equal(3, days.Periods);
        Assert.Equal([1, 1, 0], days.Rows[0].Active);
        Assert.Equal([1, 1], days.Rows[1].Active);
    }

    [Fact]
    public void Cdnow_first_quarter_cohorts()
    {
        // CDNOW's sample is the cohort of first-time buyers of January–March 1997, tracked to June 1998.
        var m = CohortMatrix.Build(CdnowData.SampleTransactions(), TimeUnit.Months);
        Assert.Equal([new DateOnly(1997, 1, 1), new DateOnly(1997, 2, 1), new DateOnly(1997, 3, 1)], m.Rows.Select(r => r.CohortStart));
        Assert.Equal([781, 857, 719], m.Rows.Select(r => r.Customers));
        Assert.Equal(2357, m.Rows.Sum(r => r.Customers));
        Assert.Equal([18, 17, 16], m.Rows.Select(r => r.Active.Count));
        Assert.Equal([781, 124, 95, 70], m.Rows[0].Active.Take(4));
        Assert.All(m.Rows, r =>
        {
            Assert.Equal(1.0, r.Retention[0]);
            Assert.All(r.Retention.Skip(1), v => Assert.InRange(v, 0.0, 0.25));
        });
        // The monthly counts, summed over months, never exceed the customers' purchase-days.
        var purchaseDays = CdnowData.SampleTransactions().Select(t => (t.CustomerId, t.Date)).Distinct().Count();
        Assert.True(m.Rows.Sum(r => r.Active.Sum()) <= purchaseDays);
    }

    [Fact]
    public void Empty_log_gives_an_empty_matrix()
    {
        var m = CohortMatrix.Build([], TimeUnit.Months);
        Assert.Empty(m.Rows);
        Assert.Equal(0, m.Periods);
        Assert.Empty(m.AverageRetention());
    }
}
