using Clientele.Dashboard;
using Clientele.Value;

namespace Clientele.Tests.Value;

public sealed class ClvCalculatorTests
{
    private static readonly CalculatorInput Shop = new(AverageOrderValue: 50, PurchasesPerYear: 4, MarginPercent: 30, UseLifespan: false, RetentionPercent: 60, LifespanYears: null, DiscountPercent: 10);

    [Fact]
    public void With_retention_the_value_is_the_yearly_margin_over_one_plus_discount_minus_retention()
    {
        var result = ClvCalculator.Compute(Shop)!;

        // 50 × 4 × 30 % = 60 a year; 60 / (1 + 0.10 − 0.60) = 120; a customer stays 1 / (1 − 0.6) = 2.5 years.
        Assert.Equal(60, result.YearlyMargin, 9);
        Assert.Equal(120, result.Value, 9);
        Assert.Equal(2.5, result.LifespanYears, 9);
    }

    [Fact]
    public void With_a_lifespan_each_year_is_discounted_once_more()
    {
        var result = ClvCalculator.Compute(Shop with { UseLifespan = true, LifespanYears = 3 })!;

        // 60/1.1 + 60/1.21 + 60/1.331 = 149.21
        Assert.Equal(149.21, result.Value, 2);
    }

    [Fact]
    public void The_what_if_curve_marks_the_owners_retention_and_rises_with_retention()
    {
        var result = ClvCalculator.Compute(Shop with { RetentionPercent = 65 })!;

        var current = Assert.Single(result.WhatIf, p => p.Current);
        Assert.Equal(65, current.X);
        Assert.Equal(result.Value, current.Value, 9);
        Assert.Equal(60 / 1.1, result.WhatIf[0].Value, 9); // nobody comes back: one year's margin
        Assert.True(result.WhatIf.Zip(result.WhatIf.Skip(1)).All(p => p.First.Value < p.Second.Value));
        Assert.Equal("65 %", ClvCalculator.Label(current, lifespan: false));
    }

    [Fact]
    public void Each_invalid_input_gets_its_own_message_and_no_value_is_computed()
    {
        var input = new CalculatorInput(-5, null, 130, false, 100, null, -1);

        var errors = ClvCalculator.Validate(input);

        Assert.Equal(["averageOrderValue", "discountPercent", "marginPercent", "purchasesPerYear", "retentionPercent"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("cannot be negative", errors["averageOrderValue"]);
        Assert.Contains("between 0 and 100", errors["marginPercent"]);
        Assert.Contains("no end", errors["retentionPercent"]);
        Assert.Null(ClvCalculator.Compute(input));
    }

    [Fact]
    public void A_lifespan_calculation_ignores_the_retention_field_and_checks_the_lifespan()
    {
        var errors = ClvCalculator.Validate(Shop with { UseLifespan = true, RetentionPercent = 100, LifespanYears = -2 });

        Assert.Equal(["lifespanYears"], errors.Keys);
    }

    [Fact]
    public void Spend_for_a_period_counts_for_the_days_it_shares_with_the_range()
    {
        var january = new SourceSpend("google", 310, new DateOnly(2026, 1, 1), new DateOnly(2026, 1, 31));

        Assert.Equal(310, AcquisitionInsight.SpendIn(january, null, null));
        Assert.Equal(100, AcquisitionInsight.SpendIn(january, new DateOnly(2026, 1, 22), new DateOnly(2026, 3, 1))); // 10 of 31 days
        Assert.Equal(0, AcquisitionInsight.SpendIn(january, new DateOnly(2026, 2, 1), null));
        Assert.Equal(500, AcquisitionInsight.SpendIn(new SourceSpend("tv", 500), new DateOnly(2026, 2, 1), null)); // no period: always in full
    }
}
