using System.Globalization;
using Clientele.Commerce;
using Clientele.Data;
using Clientele.Web;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Value;

/// <summary>One prefilled calculator input and where it comes from, in the owner's words.</summary>
internal sealed record Prefill(double Value, string From);

/// <summary>The calculator's starting values, taken from the business's own orders and settings.</summary>
internal sealed record CalculatorDefaults(string Currency, Prefill AverageOrderValue, Prefill PurchasesPerYear, Prefill MarginPercent, Prefill RetentionPercent, Prefill DiscountPercent)
{
    /// <summary>Retention assumed when there is no customer from more than a year ago to learn it from.</summary>
    public const double GuessedRetentionPercent = 50;

    /// <summary>
    /// Reads the last two years of orders (in the most used currency) as aggregates: the average order value and
    /// purchases per customer of the last 12 months, and the share of the year before's customers who bought again
    /// in the last 12 months. Margin and discount rate are the scoring settings.
    /// </summary>
    public static async Task<CalculatorDefaults> LoadAsync(ClienteleDb db, DateTime now, CancellationToken ct)
    {
        var settings = await ScoringJob.LoadSettingsAsync(db, ct);
        var margin = new Prefill(Math.Round(settings.Margin * 100, 1), "your margin under Insights → How value is scored");
        var discount = new Prefill(Math.Round(settings.AnnualDiscountRate * 100, 1), "the yearly discount rate under Insights → How value is scored");
        var placed = db.Orders.AsNoTracking().Where(o => o.Status == OrderStatus.Placed);
        var currency = await placed.GroupBy(o => o.Currency).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).Select(g => g.Key).FirstOrDefaultAsync(ct) ?? "";
        var inCurrency = placed.Where(o => o.Currency == currency);
        var yearAgo = now.AddDays(-365);
        var twoYearsAgo = now.AddDays(-730);
        var lastYear = inCurrency.Where(o => o.PlacedAt > yearAgo && o.PlacedAt <= now);
        var year = await lastYear.GroupBy(o => 1)
            .Select(g => new { Orders = g.Count(), Total = g.Sum(o => o.Total), Customers = g.Select(o => o.ContactId).Distinct().Count() })
            .FirstOrDefaultAsync(ct);
        Prefill aov, frequency;
        if (year is { Orders: > 0 })
        {
            aov = new(Math.Round((double)(year.Total / year.Orders), 2),
                $"the average of your {Format.Count(year.Orders)} orders in {currency} in the last 12 months");
            frequency = new(Math.Round((double)year.Orders / year.Customers, 2),
                $"{Format.Count(year.Orders)} orders from {Format.Count(year.Customers)} customers in the last 12 months");
        }
        else
        {
            aov = new(50, "an example: there are no orders in the last 12 months yet");
            frequency = new(2, "an example: there are no orders in the last 12 months yet");
        }
        var before = inCurrency.Where(o => o.PlacedAt > twoYearsAgo && o.PlacedAt <= yearAgo).Select(o => o.ContactId).Distinct();
        var earlier = await before.CountAsync(ct);
        Prefill retention;
        if (earlier > 0)
        {
            var stayed = await before.CountAsync(id => lastYear.Any(o => o.ContactId == id), ct);
            var share = Math.Min(99, Math.Round(100.0 * stayed / earlier, 1));
            retention = new(share, string.Create(CultureInfo.InvariantCulture,
                $"{Format.Count(stayed)} of the {Format.Count(earlier)} customers who bought 13–24 months ago bought again in the last 12 months"));
        }
        else
        {
            retention = new(GuessedRetentionPercent, "a starting guess: no customer bought more than a year ago yet, so retention cannot be measured");
        }
        return new CalculatorDefaults(currency, aov, frequency, margin, retention, discount);
    }
}
