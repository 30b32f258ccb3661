namespace Clientele.Lifecycle;

/// <summary>Revenue of one month, split into front-end sales (customers' first orders) and back-end sales (every later order).</summary>
internal sealed record RevenueMonth(DateOnly Month, decimal FrontEnd, decimal BackEnd, int FirstOrders, int LaterOrders);

/// <summary>
/// The orders of one day in one currency, split as <see cref="RevenueSplit"/> does.
/// </summary>
/// <param name="FirstOrders">Customers' first orders (each one a new customer).</param>
/// <param name="SecondOrders">Customers' second orders (each one a customer who has now bought again); counted in <paramref name="LaterOrders"/> too.</param>
/// <param name="LaterOrders">Every order after a customer's first.</param>
/// <param name="FrontEnd">Revenue of the first orders.</param>
/// <param name="BackEnd">Revenue of the later orders.</param>
internal sealed record SalesDay(DateOnly Day, string Currency, int FirstOrders, int SecondOrders, int LaterOrders, decimal FrontEnd, decimal BackEnd);

/// <summary>
/// Front-end against back-end revenue: what it costs to win customers pays back in the orders that follow, so a
/// healthy business sees the back-end share grow. An order is front-end when it is its customer's earliest.
/// </summary>
internal static class RevenueSplit
{
    /// <summary>Pure: orders (contact, time, amount) in, months out (orders in one currency).</summary>
    public static IReadOnlyList<RevenueMonth> Compute(IEnumerable<(Guid Contact, DateTime PlacedAt, decimal Total)> orders, DateOnly fromMonth, DateOnly toMonth)
    {
        var tally = new Tally();
        foreach (var customer in orders.GroupBy(o => o.Contact))
        {
            tally.AddCustomer(customer.OrderBy(o => o.PlacedAt).Select(o => (o.PlacedAt, o.Total, "")).ToList());
        }
        return Months(tally.Days(), "", fromMonth, toMonth);
    }

    /// <summary>Pure: the days' sales in <paramref name="currency"/> summed by calendar month, every month from <paramref name="fromMonth"/> to <paramref name="toMonth"/>.</summary>
    public static IReadOnlyList<RevenueMonth> Months(IEnumerable<SalesDay> days, string currency, DateOnly fromMonth, DateOnly toMonth)
    {
        var byMonth = days.Where(d => d.Currency == currency)
            .GroupBy(d => new DateOnly(d.Day.Year, d.Day.Month, 1))
            .ToDictionary(g => g.Key, g => g.ToList());
        var months = new List<RevenueMonth>();
        for (var m = new DateOnly(fromMonth.Year, fromMonth.Month, 1); m <= toMonth; m = m.AddMonths(1))
        {
            var inMonth = byMonth.GetValueOrDefault(m) ?? [];
            months.Add(new RevenueMonth(m, inMonth.Sum(d => d.FrontEnd), inMonth.Sum(d => d.BackEnd), inMonth.Sum(d => d.FirstOrders), inMonth.Sum(d => d.LaterOrders)));
        }
        return months;
    }

    /// <summary>Sums orders by day and currency, one customer at a time, so a pass over every order needs to hold only the days.</summary>
    internal sealed class Tally
    {
        private sealed class Day
        {
            public int First, Second, Later;
            public decimal FrontEnd, BackEnd;
        }

        private readonly Dictionary<(DateOnly, string), Day> _days = [];

        /// <summary>One customer's orders, earliest first.</summary>
        public void AddCustomer(IReadOnlyList<(DateTime PlacedAt, decimal Total, string Currency)> orders)
        {
            for (var k = 0; k < orders.Count; k++)
            {
                var (at, total, currency) = orders[k];
                var key = (DateOnly.FromDateTime(at), currency);
                if (!_days.TryGetValue(key, out var day))
                {
                    _days[key] = day = new Day();
                }
                if (k == 0)
                {
                    day.First++;
                    day.FrontEnd += total;
                }
                else
                {
                    day.Second += k == 1 ? 1 : 0;
                    day.Later++;
                    day.BackEnd += total;
                }
            }
        }

        /// <summary>The days with any order, earliest first.</summary>
        public List<SalesDay> Days() => [.. _days.OrderBy(d => d.Key.Item1).ThenBy(d => d.Key.Item2, StringComparer.Ordinal)
            .Select(d => new SalesDay(d.Key.Item1, d.Key.Item2, d.Value.First, d.Value.Second, d.Value.Later, d.Value.FrontEnd, d.Value.BackEnd))];
    }
}
