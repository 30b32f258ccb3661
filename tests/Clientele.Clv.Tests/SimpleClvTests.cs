namespace Clientele.Clv.Tests;

public sealed class SimpleClvTests
{
    [Fact]
    public void Without_discounting_lifetime_value_is_order_value_times_frequency_times_margin_times_years()
    {
        // $50 orders, 4 a year, 30 % margin, 3 years.
        Assert.Equal(180.0, SimpleClv.Lifetime(50, 4, 0.3, 3, 0), 9);
    }

    [Fact]
    public void Discounting_makes_later_years_worth_less()
    {
        // 60 a year at 10 %: 60/1.1 + 60/1.21 + 60/1.331 = 149.21…
        Assert.Equal(149.2111, SimpleClv.Lifetime(50, 4, 0.3, 3, 0.10), 4);
    }

    [Fact]
    public void Half_a_final_year_counts_half()
    {
        Assert.Equal(90.0, SimpleClv.Lifetime(50, 4, 0.3, 1.5, 0), 9);
    }

    [Fact]
    public void Retention_form_matches_the_textbook_formula()
    {
        // m = 100, r = 0.8, d = 0.1: 100·0.8 / (1.1 − 0.8) = 266.67
        Assert.Equal(266.6667, SimpleClv.RetentionForm(100, 0.8, 0.1), 4);
    }

    [Theory]
    [InlineData(-1, 4, 0.3, 3, 0.1)]
    [InlineData(50, 4, 1.5, 3, 0.1)]
    [InlineData(50, 4, 0.3, -2, 0.1)]
    public void Impossible_inputs_are_refused_with_the_name_of_the_input(double aov, double freq, double margin, double years, double rate)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => SimpleClv.Lifetime(aov, freq, margin, years, rate));
        Assert.False(string.IsNullOrEmpty(ex.ParamName));
    }

    [Fact]
    public void A_retention_rate_of_one_is_refused_because_the_value_would_be_infinite()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SimpleClv.RetentionForm(100, 1.0, 0.1));
    }

    [Fact]
    public void With_a_retention_rate_the_first_year_counts_in_full_and_later_years_by_the_chance_of_staying()
    {
        // m = 50 · 4 · 0.3 = 60 a year, r = 0.6, d = 0.1: 60 / (1.1 − 0.6) = 120.
        Assert.Equal(120.0, SimpleClv.WithRetention(50, 4, 0.3, 0.6, 0.1), 9);
        // 60/1.1 + 60·0.6/1.21 + 60·0.36/1.331 + … summed by hand for 60 years comes to the same.
        var byHand = Enumerable.Range(1, 60).Sum(t => 60 * Math.Pow(0.6, t - 1) / Math.Pow(1.1, t));
        Assert.Equal(byHand, SimpleClv.WithRetention(50, 4, 0.3, 0.6, 0.1), 6);
    }

    [Fact]
    public void Without_discounting_retention_and_lifespan_give_the_same_value()
    {
        // r = 0.75 means four years on average: 60 × 4 = 240 either way.
        Assert.Equal(4.0, SimpleClv.ExpectedLifespan(0.75), 9);
        Assert.Equal(0.75, SimpleClv.RetentionForLifespan(4), 9);
        Assert.Equal(240.0, SimpleClv.WithRetention(50, 4, 0.3, 0.75, 0), 9);
        Assert.Equal(240.0, SimpleClv.Lifetime(50, 4, 0.3, 4, 0), 9);
    }

    [Theory]
    [InlineData(50, 4, 0.3, 1.0, 0.1)]
    [InlineData(50, 4, 0.3, -0.1, 0.1)]
    [InlineData(50, -4, 0.3, 0.5, 0.1)]
    [InlineData(50, 4, 0.3, 0.5, -0.1)]
    public void A_retention_calculation_refuses_impossible_inputs(double aov, double freq, double margin, double retention, double rate)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => SimpleClv.WithRetention(aov, freq, margin, retention, rate));
        Assert.False(string.IsNullOrEmpty(ex.ParamName));
    }
}
