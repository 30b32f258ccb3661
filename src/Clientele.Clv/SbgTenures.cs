using MathNet.Numerics;

namespace Clientele.Clv;

/// <summary>
/// One subscriber's tenure for the shifted-beta-geometric model: <paramref name="Periods"/> paid periods, and whether the
/// customer then stopped renewing (churned at the end of the last paid period) or is still subscribed
/// (right-censored: the lifetime is longer than <paramref name="Periods"/>).
/// </summary>
/// <param name="Periods">Paid periods so far (for a churned customer, at least 1).</param>
/// <param name="Churned">Whether the customer has left.</param>
/// <param name="Weight">Number of customers the row stands for.</param>
public readonly record struct SbgRow(int Periods, bool Churned, double Weight);

/// <summary>
/// The shifted-beta-geometric model fitted on individual tenures rather than one cohort's survival curve, so that
/// customers who joined at different times (and are observed for different numbers of periods) can be fitted together.
/// </summary>
public static class SbgTenures
{
    /// <summary>
    /// Weighted log-likelihood: log P(T = n) for a customer who churned after n periods, log S(n) for one still
    /// subscribed after n periods.
    /// </summary>
    public static double LogLikelihood(SbgParameters p, IReadOnlyList<SbgRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        Require(p);
        var sum = 0.0;
        foreach (var row in rows)
        {
            Require(row);
            if (row.Weight > 0)
            {
                sum += row.Weight * LogTerm(p.Alpha, p.Beta, row);
            }
        }
        return sum;
    }

    /// <summary>Maximum-likelihood estimate, optimising log-parameters so that they stay positive.</summary>
    public static FitResult<SbgParameters> Fit(IReadOnlyList<SbgRow> rows, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        options ??= FitOptions.Default;
        // Identical tenures are evaluated once.
        var grouped = rows.Select(r => { Require(r); return r; })
            .Where(r => r.Weight > 0)
            .GroupBy(r => (r.Periods, r.Churned))
            .Select(g => new SbgRow(g.Key.Periods, g.Key.Churned, g.Sum(r => r.Weight)))
            .ToArray();
        var total = grouped.Sum(r => r.Weight);
        if (!grouped.Any(r => r.Churned))
        {
            throw new ArgumentException("No customer has churned yet, so the churn rate cannot be estimated.", nameof(rows));
        }
        if (!grouped.Any(r => r.Periods > 1 || !r.Churned))
        {
            throw new ArgumentException("Every customer churned after the first period; the heterogeneity of churn cannot be estimated.", nameof(rows));
        }
        var lambda = options.Penalty;
        double Objective(double[] θ)
        {
            double alpha = Math.Exp(θ[0]), beta = Math.Exp(θ[1]);
            var ll = 0.0;
            foreach (var row in grouped)
            {
                ll += row.Weight * LogTerm(alpha, beta, row);
            }
            var value = -ll / total + lambda * (alpha * alpha + beta * beta);
            return double.IsFinite(value) ? value : double.MaxValue;
        }
        var min = Optimizer.NelderMead(Objective, [0.0, 0.0], options.Tolerance, options.MaxIterations);
        var p = new SbgParameters(Math.Exp(min.Point[0]), Math.Exp(min.Point[1]));
        return new FitResult<SbgParameters>(p, LogLikelihood(p, grouped), min.Converged, min.Iterations);
    }

    /// <summary>
    /// Expected further renewals in the next <paramref name="periods"/> periods of a customer still subscribed after
    /// <paramref name="paidPeriods"/> periods: Σₖ S(n + k) / S(n), k = 1 … periods.
    /// </summary>
    public static double ExpectedRenewals(SbgParameters p, int paidPeriods, int periods)
    {
        Require(p);
        ArgumentOutOfRangeException.ThrowIfNegative(paidPeriods);
        ArgumentOutOfRangeException.ThrowIfNegative(periods);
        var logNow = LogSurvival(p.Alpha, p.Beta, paidPeriods);
        var sum = 0.0;
        for (var k = 1; k <= periods; k++)
        {
            sum += Math.Exp(LogSurvival(p.Alpha, p.Beta, paidPeriods + k) - logNow);
        }
        return sum;
    }

    private static double LogTerm(double alpha, double beta, SbgRow row) => row.Churned
        ? LogBeta(alpha + 1, beta + row.Periods - 1) - LogBeta(alpha, beta)
        : LogSurvival(alpha, beta, row.Periods);

    /// <summary>log S(t) = log B(α, β + t) − log B(α, β).</summary>
    private static double LogSurvival(double alpha, double beta, int t) => LogBeta(alpha, beta + t) - LogBeta(alpha, beta);

    private static double LogBeta(double a, double b) =>
        SpecialFunctions.GammaLn(a) + SpecialFunctions.GammaLn(b) - SpecialFunctions.GammaLn(a + b);

    private static void Require(SbgParameters p)
    {
        if (!(p.Alpha > 0 && p.Beta > 0) || !double.IsFinite(p.Alpha + p.Beta))
        {
            throw new ArgumentOutOfRangeException(nameof(p), $"sBG parameters must be positive and finite: {p}.");
        }
    }

    private static void Require(SbgRow row)
    {
        if (row.Periods < 0 || (row.Churned && row.Periods < 1) || !(row.Weight >= 0) || !double.IsFinite(row.Weight))
        {
            throw new ArgumentOutOfRangeException(nameof(row), $"Not a valid tenure: {row}.");
        }
    }
}
