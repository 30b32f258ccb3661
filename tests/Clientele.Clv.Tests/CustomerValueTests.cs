namespace Clientele.Clv.Tests;

public sealed class CustomerValueTests
{
    private static readonly BgNbdParameters Purchases = new(0.243, 4.414, 0.793, 2.426);
    private static readonly GammaGammaParameters Spend = new(6.25, 3.74, 15.44);

    [Fact]
    public void Without_discounting_value_is_expected_purchases_times_spend_times_margin()
    {
        var value = CustomerValue.Discounted(t => 0.5 * t, 20, 0.3, 12, 4, 0);
        Assert.Equal(0.5 * 48 * 20 * 0.3, value, 9);
    }

    [Fact]
    public void Discounting_applies_at_each_period_end()
    {
        // One purchase per period worth 100: 100/1.1 + 100/1.21.
        Assert.Equal(100 / 1.1 + 100 / 1.21, CustomerValue.Discounted(t => t, 100, 1, 2, 1, 0.1), 9);
    }

    [Fact]
    public void Bg_nbd_with_gamma_gamma_value_is_sensible_for_a_cdnow_customer()
    {
        // x = 2, t_x = 30.43, T = 38.86, mean repeat spend 22.35: twelve 4-week periods at 1 % per period.
        var undiscounted = CustomerValue.BgNbdGammaGamma(Purchases, Spend, 2, 30.43, 38.86, 22.35, 1, 12, 4, 0);
        var expectedPurchases = BgNbd.ConditionalExpectedPurchases(Purchases, 48, 2, 30.43, 38.86);
        var spend = GammaGamma.ConditionalExpectedAverageSpend(Spend, 2, 22.35);
        Assert.Equal(expectedPurchases * spend, undiscounted, 9);

        var discounted = CustomerValue.BgNbdGammaGamma(Purchases, Spend, 2, 30.43, 38.86, 22.35, 1, 12, 4, 0.01);
        Assert.InRange(discounted, 0.85 * undiscounted, undiscounted);

        var lapsed = CustomerValue.BgNbdGammaGamma(Purchases, Spend, 2, 5, 38.86, 22.35, 1, 12, 4, 0.01);
        Assert.True(lapsed < discounted);
    }

    [Fact]
    public void Pareto_nbd_with_gamma_gamma_value_is_positive_and_grows_with_the_horizon()
    {
        var p = new ParetoNbdParameters(0.553, 10.58, 0.606, 11.67);
        var year = CustomerValue.ParetoNbdGammaGamma(p, Spend, 2, 30.43, 38.86, 22.35, 1, 12, 4.348, 0.01);
        var twoYears = CustomerValue.ParetoNbdGammaGamma(p, Spend, 2, 30.43, 38.86, 22.35, 1, 24, 4.348, 0.01);
        Assert.True(year > 0);
        Assert.True(twoYears > year);
    }

    [Fact]
    public void Value_is_refused_when_the_spend_model_has_no_mean()
    {
        Assert.Throws<InvalidOperationException>(() =>
            CustomerValue.BgNbdGammaGamma(Purchases, Spend with { Q = 1 }, 2, 30.43, 38.86, 22.35, 1, 12, 4, 0.01));
    }
}
