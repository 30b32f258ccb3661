using FsCheck;
using FsCheck.Fluent;

namespace Clientele.Clv.Tests;

/// <summary>Invariants of the discrete-time models for any valid history and parameters in a wide range.</summary>
public sealed class BgBbPropertyTests
{
    private sealed record Case(BgBbParameters P, int X, int Recency, int N, int Future);

    private sealed record SbgCase(SbgParameters P, int T, double Discount, int Renewals);

    private static Gen<double> LogUniform(double lo, double hi) =>
        Gen.Choose(0, 1_000_000).Select(i => Math.Exp(Math.Log(lo) + (Math.Log(hi) - Math.Log(lo)) * i / 1_000_000.0));

    private static readonly Gen<Case> Cases =
        from alpha in LogUniform(0.01, 100)
        from beta in LogUniform(0.01, 100)
        from gamma in LogUniform(0.01, 100)
        from delta in LogUniform(0.01, 100)
        from n in Gen.OneOf(Gen.Choose(0, 12), Gen.Choose(0, 400))
        from recency in Gen.Choose(0, n)
        from x in Gen.Choose(recency == 0 ? 0 : 1, recency)
        from future in Gen.OneOf(Gen.Choose(0, 20), Gen.Choose(0, 500))
        select new Case(new BgBbParameters(alpha, beta, gamma, delta), x, recency, n, future);

    private static readonly Gen<SbgCase> SbgCases =
        from alpha in LogUniform(0.01, 100)
        from beta in LogUniform(0.01, 100)
        from t in Gen.Choose(0, 2_000)
        from discount in LogUniform(0.001, 2)
        from renewals in Gen.Choose(0, 200)
        select new SbgCase(new SbgParameters(alpha, beta), t, discount, renewals);

    private static void Holds(Func<Case, bool> property) =>
        Prop.ForAll(Cases.ToArbitrary(), property).Check(Config.QuickThrowOnFailure.WithMaxTest(500));

    private static void HoldsSbg(Func<SbgCase, bool> property) =>
        Prop.ForAll(SbgCases.ToArbitrary(), property).Check(Config.QuickThrowOnFailure.WithMaxTest(500));

    private static bool Probability(double v) => v is >= 0 and <= 1;

    private static bool NotBelow(double later, double earlier) => later >= earlier - 1e-9 * (1 + Math.Abs(earlier));

    [Fact]
    public void Bg_bb_likelihood_is_a_finite_log_probability()
    {
        // Discrete data: the likelihood is a probability, so its log is at most 0.
        Holds(c =>
        {
            var ll = BgBb.LogLikelihood(c.P, c.X, c.Recency, c.N);
            return double.IsFinite(ll) && ll <= 1e-12;
        });
    }

    [Fact]
    public void Bg_bb_probability_alive_is_a_probability_and_not_above_the_prior()
    {
        Holds(c =>
        {
            var alive = BgBb.ProbabilityAlive(c.P, c.X, c.Recency, c.N);
            // A customer who transacted at the last opportunity was certainly alive then; only the next drop-out is in doubt.
            var atLast = c.X > 0 ? BgBb.ProbabilityAlive(c.P, c.X, c.N, c.N) : 1;
            return Probability(alive) && NotBelow(atLast, alive);
        });
    }

    [Fact]
    public void Bg_bb_conditional_expectation_is_finite_and_grows_with_the_horizon()
    {
        Holds(c =>
        {
            var near = BgBb.ConditionalExpectedPurchases(c.P, c.Future, c.X, c.Recency, c.N);
            var far = BgBb.ConditionalExpectedPurchases(c.P, c.Future + 1 + (c.Future / 2), c.X, c.Recency, c.N);
            // At most one transaction per opportunity.
            return double.IsFinite(near) && near >= 0 && near <= c.Future * (1 + 1e-9) && NotBelow(far, near);
        });
    }

    [Fact]
    public void Bg_bb_new_customer_expectation_and_distribution_are_consistent()
    {
        Holds(c =>
        {
            var n = Math.Min(c.N, 60);
            var near = BgBb.ExpectedPurchases(c.P, n);
            var far = BgBb.ExpectedPurchases(c.P, n + 1);
            var total = 0.0;
            var mean = 0.0;
            for (var x = 0; x <= n; x++)
            {
                var px = BgBb.ProbabilityOfPurchases(c.P, n, x);
                if (!Probability(px))
                {
                    return false;
                }
                total += px;
                mean += x * px;
            }
            return double.IsFinite(near) && near >= 0 && near <= n * (1 + 1e-9) && NotBelow(far, near)
                && Math.Abs(total - 1) < 1e-8 && Math.Abs(mean - near) < 1e-7 * (1 + near);
        });
    }

    [Fact]
    public void Sbg_survival_retention_and_churn_are_probabilities_and_survival_falls()
    {
        HoldsSbg(c =>
        {
            var s = ShiftedBetaGeometric.Survival(c.P, c.T);
            var next = ShiftedBetaGeometric.Survival(c.P, c.T + 1);
            var r = ShiftedBetaGeometric.RetentionRate(c.P, c.T + 1);
            var rNext = ShiftedBetaGeometric.RetentionRate(c.P, c.T + 2);
            var churn = ShiftedBetaGeometric.ChurnProbability(c.P, c.T + 1);
            return Probability(s) && Probability(next) && Probability(r) && Probability(churn)
                && next <= s && NotBelow(rNext, r) && Math.Abs(s - next - churn) <= 1e-10;
        });
    }

    [Fact]
    public void Sbg_derl_is_finite_positive_and_bounded_by_the_undiscounted_annuity()
    {
        HoldsSbg(c =>
        {
            var derl = ShiftedBetaGeometric.DiscountedExpectedResidualLifetime(c.P, c.Discount, c.Renewals);
            var annuity = (1 + c.Discount) / c.Discount;
            var del = ShiftedBetaGeometric.DiscountedExpectedLifetime(c.P, c.Discount);
            return double.IsFinite(derl) && derl > 0 && derl <= annuity * (1 + 1e-9) && del >= 1 && del <= annuity * (1 + 1e-9);
        });
    }

    [Fact]
    public void Sbg_log_likelihood_of_random_curves_is_finite_and_not_positive()
    {
        var curves =
            from start in Gen.Choose(1, 100_000)
            from drops in Gen.ListOf(Gen.Choose(0, 1000))
            select Curve(start, drops);
        var prop = Prop.ForAll(curves.ToArbitrary(), SbgCases.ToArbitrary(), (curve, c) =>
        {
            var ll = ShiftedBetaGeometric.LogLikelihood(c.P, curve);
            return double.IsFinite(ll) && ll <= 1e-9;
        });
        prop.Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Fact]
    public void Fits_on_random_data_stay_finite()
    {
        var rows =
            from count in Gen.Choose(1, 6)
            from list in Gen.ArrayOf(
                from n in Gen.Choose(1, 10)
                from recency in Gen.Choose(0, n)
                from x in Gen.Choose(recency == 0 ? 0 : 1, recency)
                from w in Gen.Choose(1, 500)
                select new BgBbRow(x, recency, n, w), count)
            select list;
        Prop.ForAll(rows.ToArbitrary(), data =>
        {
            var fit = BgBb.Fit(data, new FitOptions(MaxIterations: 3_000));
            var p = fit.Params;
            return double.IsFinite(fit.LogLikelihood) && fit.LogLikelihood <= 1e-9
                && double.IsFinite(p.Alpha + p.Beta + p.Gamma + p.Delta);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(40));
    }

    private static double[] Curve(int start, IEnumerable<int> drops)
    {
        var alive = new List<double> { start };
        foreach (var d in drops)
        {
            alive.Add(Math.Max(0, alive[^1] - d));
        }
        return [.. alive];
    }
}
