using System.Globalization;
using Clientele.Clv;

namespace Clientele.Value;

/// <summary>What the owner types into the calculator; percentages as the owner says them (30 for 30 %).</summary>
/// <param name="UseLifespan">Whether the lifespan in years is given instead of the yearly retention rate.</param>
internal sealed record CalculatorInput(
    double? AverageOrderValue, double? PurchasesPerYear, double? MarginPercent, bool UseLifespan, double? RetentionPercent, double? LifespanYears, double? DiscountPercent);

/// <summary>One point of the what-if curve: the value at another retention rate (or lifespan).</summary>
internal sealed record WhatIfPoint(double X, double Value, bool Current);

/// <summary>The calculator's answer.</summary>
/// <param name="Value">Customer lifetime value: the discounted margin a customer brings over their life.</param>
/// <param name="YearlyMargin">Order value × purchases per year × margin.</param>
/// <param name="LifespanYears">Expected years as a customer (given, or 1 / (1 − retention)).</param>
/// <param name="WhatIf">The value as retention (or lifespan) varies, the current input marked.</param>
internal sealed record CalculatorResult(double Value, double YearlyMargin, double LifespanYears, IReadOnlyList<WhatIfPoint> WhatIf);

/// <summary>The owner's simple CLV calculator: checks each input and computes the value and its what-if curve. Pure.</summary>
internal static class ClvCalculator
{
    public const double MaxLifespanYears = 100;

    /// <summary>What is wrong with each input, by field name (averageOrderValue, purchasesPerYear, marginPercent, retentionPercent, lifespanYears, discountPercent).</summary>
    public static Dictionary<string, string> Validate(CalculatorInput input)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (input.AverageOrderValue is not { } aov || !double.IsFinite(aov))
        {
            errors["averageOrderValue"] = "Enter the average order value, e.g. 45.";
        }
        else if (aov < 0)
        {
            errors["averageOrderValue"] = "The average order value cannot be negative.";
        }
        if (input.PurchasesPerYear is not { } freq || !double.IsFinite(freq))
        {
            errors["purchasesPerYear"] = "Enter how many times a customer buys in a year, e.g. 3.";
        }
        else if (freq < 0)
        {
            errors["purchasesPerYear"] = "Purchases per year cannot be negative.";
        }
        if (input.MarginPercent is not { } margin || !double.IsFinite(margin))
        {
            errors["marginPercent"] = "Enter the margin in percent, e.g. 30.";
        }
        else if (margin is < 0 or > 100)
        {
            errors["marginPercent"] = "The margin is a percentage between 0 and 100.";
        }
        if (input.UseLifespan)
        {
            if (input.LifespanYears is not { } years || !double.IsFinite(years))
            {
                errors["lifespanYears"] = "Enter how many years a customer stays, e.g. 3.";
            }
            else if (years is < 0 or > MaxLifespanYears)
            {
                errors["lifespanYears"] = $"The lifespan is between 0 and {MaxLifespanYears:0} years.";
            }
        }
        else if (input.RetentionPercent is not { } retention || !double.IsFinite(retention))
        {
            errors["retentionPercent"] = "Enter the share of customers who buy again the next year, e.g. 60.";
        }
        else if (retention is < 0 or >= 100)
        {
            errors["retentionPercent"] = "Retention is a percentage from 0 to under 100 (at 100 % nobody ever leaves and the value has no end).";
        }
        if (input.DiscountPercent is not { } discount || !double.IsFinite(discount))
        {
            errors["discountPercent"] = "Enter a yearly discount rate in percent, e.g. 10 (or 0 to leave future money undiscounted).";
        }
        else if (discount is < 0 or > 100)
        {
            errors["discountPercent"] = "The discount rate is a percentage between 0 and 100.";
        }
        return errors;
    }

    /// <summary>The value, or null when an input is not valid (see <see cref="Validate"/>).</summary>
    public static CalculatorResult? Compute(CalculatorInput input)
    {
        if (Validate(input).Count > 0)
        {
            return null;
        }
        var aov = input.AverageOrderValue!.Value;
        var freq = input.PurchasesPerYear!.Value;
        var margin = input.MarginPercent!.Value / 100;
        var discount = input.DiscountPercent!.Value / 100;
        var yearly = aov * freq * margin;
        if (input.UseLifespan)
        {
            var years = input.LifespanYears!.Value;
            var points = new SortedDictionary<double, bool>();
            for (var y = 1; y <= Math.Max(10, Math.Ceiling(years * 2)) && y <= MaxLifespanYears; y++)
            {
                points[y] = false;
            }
            points[years] = true;
            return new CalculatorResult(SimpleClv.Lifetime(aov, freq, margin, years, discount), yearly, years,
                [.. points.Select(p => new WhatIfPoint(p.Key, SimpleClv.Lifetime(aov, freq, margin, p.Key, discount), p.Value))]);
        }
        var retention = input.RetentionPercent!.Value / 100;
        var steps = new SortedDictionary<double, bool>();
        for (var r = 0; r <= 90; r += 10)
        {
            steps[r] = false;
        }
        steps[95] = false;
        steps[Math.Round(retention * 100, 6)] = true;
        return new CalculatorResult(SimpleClv.WithRetention(aov, freq, margin, retention, discount), yearly, SimpleClv.ExpectedLifespan(retention),
            [.. steps.Select(p => new WhatIfPoint(p.Key, SimpleClv.WithRetention(aov, freq, margin, p.Key / 100, discount), p.Value))]);
    }

    /// <summary>A what-if point's label: "60 %" or "3 years".</summary>
    public static string Label(WhatIfPoint point, bool lifespan) => lifespan
        ? point.X.ToString("0.#", CultureInfo.InvariantCulture) + (point.X == 1 ? " year" : " years")
        : point.X.ToString("0.#", CultureInfo.InvariantCulture) + " %";
}
