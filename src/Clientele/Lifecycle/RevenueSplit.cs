using Clientele.Commerce;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Lifecycle;

/// <summary>Revenue of one month, split into front-end sales (customers' first orders) and back-end sales (every later order).</summary>
internal sealed record RevenueMonth(DateOnly Month, decimal FrontEnd, decimal BackEnd, int FirstOrders, int LaterOrders);

/// <summary>
/// Front-end against back-end revenue: what it costs to win customers pays back in the orders that follow, so a
/// healthy business sees the back-end share grow.
/// </summary>
internal static class RevenueSplit
{
    /// <summary>Pure: orders (contact, time, amount) in, months out; an order is front-end when it is its contact's earliest.</summary>
    public static IReadOnlyList<RevenueMonth> Compute(IEnumerable<(Guid Contact, DateTime PlacedAt, decimal Total)> orders, DateOnly fromMonth, DateOnly toMonth)
    {
        var list = orders.ToList();
        var firsts = list.GroupBy(o => o.Contact).ToDictionary(g => g.Key, g => g.Min(o => o.PlacedAt));
        var months = new List<RevenueMonth>();
        for (var m = new DateOnly(fromMonth.Year, fromMonth.Month, 1); m <= toMonth; m = m.AddMonths(1))
        {
            var start = m.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            var end = m.AddMonths(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            var inMonth = list.Where(o => o.PlacedAt >= start && o.PlacedAt < end).ToList();
            var front = inMonth.Where(o => o.PlacedAt == firsts[o.Contact]).ToList();
            var back = inMonth.Where(o => o.PlacedAt != firsts[o.Contact]).ToList();
            months.Add(new RevenueMonth(m, front.Sum(o => o.Total), back.Sum(o => o.Total), front.Count, back.Count));
        }
        return months;
    }

    /// <summary>The last <paramref name="months"/> calendar months up to today's, in the currency most orders use.</summary>
    public static async Task<(IReadOnlyList<RevenueMonth> Months, string Currency)> ReadAsync(ClienteleDb db, DateTime now, int months, CancellationToken ct)
    {
        var currency = await db.Orders.Where(o => o.Status == OrderStatus.Placed).GroupBy(o => o.Currency)
            .OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefaultAsync(ct) ?? "USD";
        // Every order of the currency: a customer's first order may be older than the window.
        var orders = await db.Orders.AsNoTracking().Where(o => o.Status == OrderStatus.Placed && o.Currency == currency)
            .Select(o => new { o.ContactId, o.PlacedAt, o.Total }).ToListAsync(ct);
        var today = DateOnly.FromDateTime(now);
        var to = new DateOnly(today.Year, today.Month, 1);
        return (Compute(orders.Select(o => (o.ContactId, o.PlacedAt, o.Total)), to.AddMonths(1 - months), to), currency);
    }
}
