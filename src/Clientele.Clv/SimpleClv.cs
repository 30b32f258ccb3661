namespace Clientele.Clv;

/// <summary>
/// The customer-value arithmetic owners already know, as a check on the model-based figures:
/// value per period discounted over an expected lifespan, and the retention-rate form m·r/(1+d−r).
/// </summary>
public static class SimpleClv
{
    /// <summary>
    /// Average order value × purchases per period × margin, summed over <paramref name="periods"/> periods,
    /// each discounted by (1 + <paramref name="discountRate"/>)^t with t = 1, 2, … (value arrives at period end).
    /// A fractional last period counts in proportion.
    /// </summary>
    public static double Lifetime(double averageOrderValue, double purchasesPerPeriod, double margin, double periods, double discountRate)
    {
        Require(averageOrderValue >= 0, nameof(averageOrderValue), "must not be negative");
        Require(purchasesPerPeriod >= 0, nameof(purchasesPerPeriod), "must not be negative");
        Require(margin is >= 0 and <= 1, nameof(margin), "is a fraction between 0 and 1");
        Require(periods >= 0, nameof(periods), "must not be negative");
        Require(discountRate > -1, nameof(discountRate), "must be greater than -1");

        var perPeriod = averageOrderValue * purchasesPerPeriod * margin;
        var whole = (int)Math.Floor(periods);
        var total = 0.0;
        for (var t = 1; t <= whole; t++)
        {
            total += perPeriod / Math.Pow(1 + discountRate, t);
        }
        var part = periods - whole;
        if (part > 0)
        {
            total += part * perPeriod / Math.Pow(1 + discountRate, whole + 1);
        }
        return total;
    }

    /// <summary>
    /// Value of a customer who brings margin <paramref name="marginPerPeriod"/> each period and stays with
    /// probability <paramref name="retentionRate"/> per period, over an infinite horizon: m·r / (1 + d − r).
    /// </summary>
    public static double RetentionForm(double marginPerPeriod, double retentionRate, double discountRate)
    {
        Require(marginPerPeriod >= 0, nameof(marginPerPeriod), "must not be negative");
        Require(retentionRate is >= 0 and < 1, nameof(retentionRate), "is a probability in [0, 1)");
        Require(discountRate >= 0, nameof(discountRate), "must not be negative");
        return marginPerPeriod * retentionRate / (1 + discountRate - retentionRate);
    }

    /// <summary>
    /// The owner's calculator with a yearly retention rate instead of a lifespan: the customer buys in the first year
    /// for certain and each later year with probability <paramref name="retentionRate"/> per year, value arriving at
    /// each year's end: Σ m·r^(t−1)/(1+d)^t = m / (1 + d − r), with m = order value × purchases per year × margin.
    /// Without discounting this is m × the expected lifespan 1 / (1 − r), so it agrees with <see cref="Lifetime"/>.
    /// </summary>
    public static double WithRetention(double averageOrderValue, double purchasesPerYear, double margin, double retentionRate, double discountRate)
    {
        Require(averageOrderValue >= 0, nameof(averageOrderValue), "must not be negative");
        Require(purchasesPerYear >= 0, nameof(purchasesPerYear), "must not be negative");
        Require(margin is >= 0 and <= 1, nameof(margin), "is a fraction between 0 and 1");
        Require(retentionRate is >= 0 and < 1, nameof(retentionRate), "is a probability in [0, 1)");
        Require(discountRate >= 0, nameof(discountRate), "must not be negative");
        return averageOrderValue * purchasesPerYear * margin / (1 + discountRate - retentionRate);
    }

    /// <summary>Expected years as a customer when a customer stays each further year with probability <paramref name="retentionRate"/>: 1 / (1 − r).</summary>
    public static double ExpectedLifespan(double retentionRate)
    {
        Require(retentionRate is >= 0 and < 1, nameof(retentionRate), "is a probability in [0, 1)");
        return 1 / (1 - retentionRate);
    }

    /// <summary>The yearly retention rate whose expected lifespan is <paramref name="years"/> (at least one): 1 − 1 / years.</summary>
    public static double RetentionForLifespan(double years)
    {
        Require(years >= 1, nameof(years), "is at least one year");
        return 1 - 1 / years;
    }

    private static void Require(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, $"{name} {rule}.");
        }
    }
}
