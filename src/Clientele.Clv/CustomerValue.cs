namespace Clientele.Clv;

/// <summary>
/// Customer lifetime value from a purchase-count model and a spend model: expected purchases in each future period,
/// times expected spend and margin, discounted to today.
/// </summary>
public static class CustomerValue
{
    /// <summary>
    /// Σᵢ [E(i·L) − E((i−1)·L)] · spend · margin / (1 + d)^i for i = 1 … <paramref name="periods"/>, where E(t) is
    /// <paramref name="expectedPurchasesUpTo"/> (expected purchases in the next t model time units), L is
    /// <paramref name="periodLength"/> in model time units and d the discount rate per period.
    /// Purchases are counted per period and discounted at the period end, so a short period length approximates
    /// continuous discounting.
    /// </summary>
    public static double Discounted(
        Func<double, double> expectedPurchasesUpTo,
        double averageSpend,
        double margin,
        int periods,
        double periodLength,
        double discountRate)
    {
        ArgumentNullException.ThrowIfNull(expectedPurchasesUpTo);
        if (!(averageSpend >= 0) || double.IsInfinity(averageSpend))
        {
            throw new ArgumentOutOfRangeException(nameof(averageSpend), "averageSpend must be finite and not negative.");
        }
        if (margin is not (>= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(margin), "margin is a fraction between 0 and 1.");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(periods);
        if (!(periodLength > 0) || double.IsInfinity(periodLength))
        {
            throw new ArgumentOutOfRangeException(nameof(periodLength), "periodLength must be a finite positive time.");
        }
        if (!(discountRate > -1) || double.IsInfinity(discountRate))
        {
            throw new ArgumentOutOfRangeException(nameof(discountRate), "discountRate must be greater than -1.");
        }
        var total = 0.0;
        var previous = 0.0;
        for (var i = 1; i <= periods; i++)
        {
            var cumulative = expectedPurchasesUpTo(i * periodLength);
            total += Math.Max(0, cumulative - previous) / Math.Pow(1 + discountRate, i);
            previous = Math.Max(previous, cumulative);
        }
        return total * averageSpend * margin;
    }

    /// <summary>
    /// Discounted value of a customer with history (x, t_x, T) and mean repeat spend m̄, using the BG/NBD for purchases
    /// and the Gamma-Gamma model for spend (see <see cref="Discounted"/>). Throws when the spend model has q ≤ 1.
    /// </summary>
    public static double BgNbdGammaGamma(
        BgNbdParameters purchases,
        GammaGammaParameters spend,
        double x,
        double recency,
        double age,
        double monetary,
        double margin,
        int periods,
        double periodLength,
        double discountRate)
    {
        var averageSpend = GammaGamma.ConditionalExpectedAverageSpend(spend, x, monetary);
        return Discounted(
            t => BgNbd.ConditionalExpectedPurchases(purchases, t, x, recency, age),
            averageSpend, margin, periods, periodLength, discountRate);
    }

    /// <summary>As <see cref="BgNbdGammaGamma"/>, with the Pareto/NBD for purchases.</summary>
    public static double ParetoNbdGammaGamma(
        ParetoNbdParameters purchases,
        GammaGammaParameters spend,
        double x,
        double recency,
        double age,
        double monetary,
        double margin,
        int periods,
        double periodLength,
        double discountRate)
    {
        var averageSpend = GammaGamma.ConditionalExpectedAverageSpend(spend, x, monetary);
        return Discounted(
            t => ParetoNbd.ConditionalExpectedPurchases(purchases, t, x, recency, age),
            averageSpend, margin, periods, periodLength, discountRate);
    }
}
