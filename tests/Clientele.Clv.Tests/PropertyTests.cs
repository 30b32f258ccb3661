using FsCheck;
using FsCheck.Fluent;

namespace Clientele.Clv.Tests;

/// <summary>Invariants that must hold for any valid customer history and parameters in a plausible range.</summary>
public sealed class PropertyTests
{
    private sealed record Case(double X, double Recency, double T, double R, double Alpha, double A, double B, double Horizon);

    private static Gen<double> Between(double lo, double hi) =>
        Gen.Choose(0, 1_000_000).Select(i => lo + (hi - lo) * i / 1_000_000.0);

    private static readonly Gen<Case> Cases =
        from x in Gen.Choose(0, 300)
        from t in Between(0.01, 200)
        from share in Between(0, 1)
        from r in Between(0.05, 5)
        from alpha in Between(0.1, 50)
        from a in Gen.OneOf(Between(0.05, 0.95), Between(1.05, 5))
        from b in Between(0.5, 10)
        from horizon in Between(0.1, 100)
        select new Case(x, x == 0 ? 0 : share * t, t, r, alpha, a, b, horizon);

    private static void Holds(Func<Case, bool> property) =>
        Prop.ForAll(Cases.ToArbitrary(), property).Check(Config.QuickThrowOnFailure.WithMaxTest(500));

    private static BgNbdParameters Bg(Case c) => new(c.R, c.Alpha, c.A, c.B);

    private static ParetoNbdParameters Pareto(Case c) => new(c.R, c.Alpha, c.A, c.B);

    [Fact]
    public void Bg_nbd_probability_alive_is_a_probability()
    {
        Holds(c => BgNbd.ProbabilityAlive(Bg(c), c.X, c.Recency, c.T) is >= 0 and <= 1);
    }

    [Fact]
    public void Pareto_nbd_probability_alive_is_a_probability()
    {
        Holds(c => ParetoNbd.ProbabilityAlive(Pareto(c), c.X, c.Recency, c.T) is >= 0 and <= 1);
    }

    // A density in t_x, so the likelihood may exceed 1; only finiteness is required.
    [Fact]
    public void Likelihoods_are_finite()
    {
        Holds(c =>
        {
            var bg = BgNbd.LogLikelihood(Bg(c), c.X, c.Recency, c.T);
            var pn = ParetoNbd.LogLikelihood(Pareto(c), c.X, c.Recency, c.T);
            return double.IsFinite(bg) && double.IsFinite(pn);
        });
    }

    [Fact]
    public void Bg_nbd_conditional_expectation_is_finite_and_does_not_fall_with_the_horizon()
    {
        Holds(c =>
        {
            var p = Bg(c);
            if (c.A + c.B + c.X <= 1)
            {
                // Outside the closed form's documented range (a + b + x > 1), where it throws instead.
                return true;
            }
            var near = BgNbd.ConditionalExpectedPurchases(p, c.Horizon, c.X, c.Recency, c.T);
            var far = BgNbd.ConditionalExpectedPurchases(p, c.Horizon * 1.5, c.X, c.Recency, c.T);
            return double.IsFinite(near) && near >= 0 && far >= near - 1e-9 * (1 + near);
        });
    }

    [Fact]
    public void Pareto_nbd_conditional_expectation_is_finite_and_does_not_fall_with_the_horizon()
    {
        Holds(c =>
        {
            var p = Pareto(c);
            var near = ParetoNbd.ConditionalExpectedPurchases(p, c.Horizon, c.X, c.Recency, c.T);
            var far = ParetoNbd.ConditionalExpectedPurchases(p, c.Horizon * 1.5, c.X, c.Recency, c.T);
            return double.IsFinite(near) && near >= 0 && far >= near - 1e-9 * (1 + near);
        });
    }

    [Fact]
    public void Bg_nbd_new_customer_expectation_does_not_fall_with_the_horizon()
    {
        Holds(c =>
        {
            var p = Bg(c);
            if (c.A + c.B <= 1)
            {
                return true;
            }
            var near = BgNbd.ExpectedPurchases(p, c.Horizon);
            var far = BgNbd.ExpectedPurchases(p, c.Horizon * 1.5);
            return double.IsFinite(near) && near >= 0 && far >= near - 1e-9 * (1 + near);
        });
    }

    [Fact]
    public void Mbg_nbd_probability_alive_is_a_probability_and_expectations_are_finite_and_non_decreasing()
    {
        Holds(c =>
        {
            var p = Bg(c);
            var alive = MbgNbd.ProbabilityAlive(p, c.X, c.Recency, c.T);
            var ll = MbgNbd.LogLikelihood(p, c.X, c.Recency, c.T);
            var near = MbgNbd.ConditionalExpectedPurchases(p, c.Horizon, c.X, c.Recency, c.T);
            var far = MbgNbd.ConditionalExpectedPurchases(p, c.Horizon * 1.5, c.X, c.Recency, c.T);
            return alive is >= 0 and <= 1 && double.IsFinite(ll) && double.IsFinite(near) && near >= 0
                && far >= near - 1e-9 * (1 + near);
        });
    }

    [Fact]
    public void Summaries_of_random_logs_are_valid_model_input()
    {
        var start = new DateOnly(2024, 1, 1);
        var purchases =
            from customer in Gen.Choose(0, 9)
            from day in Gen.Choose(0, 120)
            from cents in Gen.Choose(1, 50_000)
            select new Transaction($"c{customer}", start.AddDays(day), cents / 100m);
        var logs = Gen.ListOf(purchases).Select(l => l.ToArray());
        Prop.ForAll(logs.ToArbitrary(), log =>
        {
            var end = start.AddDays(90);
            var summary = RfmSummary.Build(log, end, TimeUnit.Weeks, start.AddDays(120));
            var valid = summary.All(c =>
            {
                var days = log.Where(t => t.CustomerId == c.CustomerId && t.Date <= end).Select(t => t.Date).Distinct().Count();
                return c.Frequency == days - 1 && c.Recency >= 0 && c.Recency <= c.T && c.T >= 0
                    && (c.Frequency > 0 || (c.Recency == 0 && c.Monetary == 0)) && c.HoldoutFrequency >= 0;
            });
            var expected = log.Where(t => t.Date <= end).Select(t => t.CustomerId).Distinct().Count();
            return valid && summary.Count == expected;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }
}
