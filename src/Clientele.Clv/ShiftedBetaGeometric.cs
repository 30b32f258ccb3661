namespace Clientele.Clv;

/// <summary>
/// sBG parameters: each customer cancels at the end of every period with probability θ, and θ is Beta(α, β)
/// across customers.
/// </summary>
public readonly record struct SbgParameters(double Alpha, double Beta)
{
    internal void Validate()
    {
        if (!(Alpha > 0 && Beta > 0) || double.IsInfinity(Alpha + Beta))
        {
            throw new ArgumentOutOfRangeException(nameof(Alpha), $"sBG parameters must be positive and finite: {this}.");
        }
    }
}

/// <summary>
/// The shifted-beta-geometric model of Fader &amp; Hardie (2007), "How to Project Customer Retention", for
/// contractual (subscription) businesses where cancellations are observed and renewals happen once per period.
/// Retention rises with tenure because the customers most likely to leave leave first.
/// </summary>
public static class ShiftedBetaGeometric
{
    /// <summary>S(t): share of a cohort still a customer after <paramref name="t"/> periods (S(0) = 1).</summary>
    public static double Survival(SbgParameters p, int t)
    {
        p.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(t);
        return Math.Exp(LogSurvival(p, t));
    }

    /// <summary>
    /// r(t) = S(t) / S(t − 1) = (β + t − 1) / (α + β + t − 1): the share of the customers alive at the start of
    /// period <paramref name="t"/> (t ≥ 1) who renew at its end.
    /// </summary>
    public static double RetentionRate(SbgParameters p, int t)
    {
        p.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(t, 1);
        return (p.Beta + (t - 1)) / (p.Alpha + p.Beta + (t - 1));
    }

    /// <summary>P(T = t): probability that a new customer cancels at the end of period <paramref name="t"/> (t ≥ 1).</summary>
    public static double ChurnProbability(SbgParameters p, int t)
    {
        p.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(t, 1);
        return Math.Exp(LogChurn(p, t));
    }

    /// <summary>
    /// Log-likelihood of a cohort's survival curve: <paramref name="aliveAtPeriodStart"/>[t] customers are still
    /// active at the start of period t + 1 (index 0 is the cohort size). The n_{t−1} − n_t who left in period t each
    /// contribute ln P(T = t); the customers still active at the last count are right-censored and contribute ln S(T).
    /// Counts may be shares (e.g. percentages) as long as they do not rise.
    /// </summary>
    public static double LogLikelihood(SbgParameters p, IReadOnlyList<double> aliveAtPeriodStart)
    {
        ArgumentNullException.ThrowIfNull(aliveAtPeriodStart);
        p.Validate();
        RequireCurve(aliveAtPeriodStart);
        return LogLikelihoodUnchecked(p, aliveAtPeriodStart);
    }

    /// <summary>
    /// Maximum-likelihood estimate from a survival curve (see <see cref="LogLikelihood"/>). The optimiser works on
    /// log-parameters; with <see cref="FitOptions.Penalty"/> λ it minimises −LL/N + λ(α² + β²), N = cohort size.
    /// </summary>
    public static FitResult<SbgParameters> Fit(IReadOnlyList<double> aliveAtPeriodStart, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(aliveAtPeriodStart);
        options ??= FitOptions.Default;
        RequireCurve(aliveAtPeriodStart);
        if (aliveAtPeriodStart.Count < 2)
        {
            throw new ArgumentException("At least one period after the start is needed to fit the model.", nameof(aliveAtPeriodStart));
        }
        var size = aliveAtPeriodStart[0];
        var lambda = options.Penalty;
        double Objective(double[] θ)
        {
            var p = new SbgParameters(Math.Exp(θ[0]), Math.Exp(θ[1]));
            if (!(p.Alpha > 0 && p.Beta > 0) || double.IsInfinity(p.Alpha + p.Beta))
            {
                return double.PositiveInfinity;
            }
            return -LogLikelihoodUnchecked(p, aliveAtPeriodStart) / size + lambda * (p.Alpha * p.Alpha + p.Beta * p.Beta);
        }
        var min = Optimizer.NelderMead(Objective, [0.0, 0.0], options.Tolerance, options.MaxIterations);
        var fitted = new SbgParameters(Math.Exp(min.Point[0]), Math.Exp(min.Point[1]));
        return new FitResult<SbgParameters>(fitted, LogLikelihoodUnchecked(fitted, aliveAtPeriodStart), min.Converged, min.Iterations);
    }

    /// <summary>
    /// DERL (Fader &amp; Hardie 2010, "Customer-Base Valuation in a Contractual Setting"): the discounted expected
    /// number of further payments from a customer who has made <paramref name="renewals"/> renewals (n − 1) and is
    /// about to make the next renewal decision, counting the payment at that renewal undiscounted:
    /// Σ_{t≥n} S(t)/S(n−1) / (1+d)^(t−n) = (β+n−1)/(α+β+n−1) · ₂F₁(1, β+n; α+β+n; 1/(1+d)).
    /// Multiply by the margin per period to value the customer. Needs d &gt; 0.
    /// </summary>
    public static double DiscountedExpectedResidualLifetime(SbgParameters p, double discountRate, int renewals)
    {
        p.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(renewals);
        if (!(discountRate > 0) || double.IsInfinity(discountRate))
        {
            throw new ArgumentOutOfRangeException(nameof(discountRate), "The discount rate must be positive and finite.");
        }
        var n = renewals + 1.0;
        var lead = (p.Beta + renewals) / (p.Alpha + p.Beta + renewals);
        return lead * Math.Exp(LogMath.LogHyp2F1(1, p.Beta + n, p.Alpha + p.Beta + n, 1 / (1 + discountRate)));
    }

    /// <summary>
    /// Discounted expected lifetime of a customer about to make the first payment: that payment plus the discounted
    /// expected renewals, 1 + DERL(d, 0) / (1 + d).
    /// </summary>
    public static double DiscountedExpectedLifetime(SbgParameters p, double discountRate) =>
        1 + DiscountedExpectedResidualLifetime(p, discountRate, 0) / (1 + discountRate);

    private static double LogSurvival(SbgParameters p, int t) =>
        BgBb.LogRisingInteger(p.Beta, t) - BgBb.LogRisingInteger(p.Alpha + p.Beta, t);

    private static double LogChurn(SbgParameters p, int t) =>
        Math.Log(p.Alpha) - Math.Log(p.Alpha + p.Beta + (t - 1)) + LogSurvival(p, t - 1);

    private static double LogLikelihoodUnchecked(SbgParameters p, IReadOnlyList<double> alive)
    {
        var ll = 0.0;
        var logS = 0.0;
        for (var t = 1; t < alive.Count; t++)
        {
            var lost = alive[t - 1] - alive[t];
            // P(T = t) = S(t−1) · α / (α+β+t−1); S(t) = S(t−1) · (β+t−1) / (α+β+t−1).
            var logDenominator = Math.Log(p.Alpha + p.Beta + (t - 1));
            if (lost > 0)
            {
                ll += lost * (logS + Math.Log(p.Alpha) - logDenominator);
            }
            logS += Math.Log(p.Beta + (t - 1)) - logDenominator;
        }
        var last = alive[^1];
        return last > 0 ? ll + last * logS : ll;
    }

    private static void RequireCurve(IReadOnlyList<double> alive)
    {
        if (alive.Count == 0 || !(alive[0] > 0) || double.IsInfinity(alive[0]))
        {
            throw new ArgumentException("The survival curve must start with a positive, finite cohort size.", nameof(alive));
        }
        for (var t = 1; t < alive.Count; t++)
        {
            if (!(alive[t] >= 0) || alive[t] > alive[t - 1])
            {
                throw new ArgumentException($"Customers alive must not be negative or rise from one period to the next (period {t}: {alive[t]} after {alive[t - 1]}).", nameof(alive));
            }
        }
    }
}
