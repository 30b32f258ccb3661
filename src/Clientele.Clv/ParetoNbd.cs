namespace Clientele.Clv;

/// <summary>
/// Pareto/NBD parameters: purchase rates λ are Gamma(r, α) and drop-out rates μ are Gamma(s, β) across customers.
/// </summary>
public readonly record struct ParetoNbdParameters(double R, double Alpha, double S, double Beta)
{
    internal void Validate()
    {
        if (!(R > 0 && Alpha > 0 && S > 0 && Beta > 0) || double.IsInfinity(R + Alpha + S + Beta))
        {
            throw new ArgumentOutOfRangeException(nameof(R), $"Pareto/NBD parameters must be positive and finite: {this}.");
        }
    }
}

/// <summary>
/// The Pareto/NBD model of Schmittlein, Morrison &amp; Colombo (1987): customers buy at Poisson rate λ while alive and
/// die after an exponential lifetime with rate μ, unobserved. The likelihood follows Fader &amp; Hardie's note
/// "A Note on Deriving the Pareto/NBD Model and Related Expressions" (2005), evaluated in log space.
/// </summary>
public static class ParetoNbd
{
    /// <summary>Log-likelihood of one customer's (x, t_x, T).</summary>
    public static double LogLikelihood(ParetoNbdParameters p, double x, double recency, double age)
    {
        p.Validate();
        BgNbd.RequireCustomer(x, recency, age);
        var (logAliveTerm, logDeadTerm) = Terms(p.R, p.Alpha, p.S, p.Beta, x, recency, age);
        return LogMath.LogRising(p.R, x) + p.R * Math.Log(p.Alpha) + p.S * Math.Log(p.Beta)
            + LogMath.LogAddExp(logAliveTerm, logDeadTerm);
    }

    /// <summary>Weighted sum of the per-customer log-likelihoods.</summary>
    public static double LogLikelihood(ParetoNbdParameters p, RfmData data)
    {
        p.Validate();
        ArgumentNullException.ThrowIfNull(data);
        return Sum(p.R, p.Alpha, p.S, p.Beta, data);
    }

    /// <summary>
    /// Maximum-likelihood estimate by BFGS on log-parameters (so they stay positive). The gradient is summed term by term
    /// with the likelihood's series (see <see cref="ParetoNbdLikelihood"/>); on large data the fit starts from a fit on an
    /// evenly spaced sample of the rows.
    /// </summary>
    public static FitResult<ParetoNbdParameters> Fit(RfmData data, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= FitOptions.Default;
        var scale = Math.Log(Math.Max(data.MeanAge / 4, 1e-3));
        var full = new ParetoNbdLikelihood(data);
        var min = Fitting.Maximise(
            full.Evaluate, full.TotalWeight, data.Count,
            rows =>
            {
                var sample = new ParetoNbdLikelihood(data, rows);
                return (sample.Evaluate, sample.TotalWeight);
            },
            [0.0, scale, 0.0, scale], options);
        var p = new ParetoNbdParameters(Math.Exp(min.Point[0]), Math.Exp(min.Point[1]), Math.Exp(min.Point[2]), Math.Exp(min.Point[3]));
        return new FitResult<ParetoNbdParameters>(p, full.Evaluate([p.R, p.Alpha, p.S, p.Beta], new double[4]), min.Converged, min.Iterations);
    }

    /// <summary>Probability that a customer with history (x, t_x, T) is still alive at T.</summary>
    public static double ProbabilityAlive(ParetoNbdParameters p, double x, double recency, double age)
    {
        p.Validate();
        BgNbd.RequireCustomer(x, recency, age);
        var (logAliveTerm, logDeadTerm) = Terms(p.R, p.Alpha, p.S, p.Beta, x, recency, age);
        // P(alive) = alive / (alive + dead) = 1 / (1 + e^(dead − alive)).
        var logOdds = logDeadTerm - logAliveTerm;
        if (double.IsNegativeInfinity(logOdds))
        {
            return 1.0;
        }
        return logOdds > 0 ? Math.Exp(-logOdds) / (1 + Math.Exp(-logOdds)) : 1 / (1 + Math.Exp(logOdds));
    }

    /// <summary>E[X(t)]: expected purchases in (0, t] of a customer just acquired.</summary>
    public static double ExpectedPurchases(ParetoNbdParameters p, double t)
    {
        p.Validate();
        BgNbd.RequireNonNegative(t, nameof(t));
        return p.R / p.Alpha * p.Beta * Horizon(p.S, p.Beta, t);
    }

    /// <summary>Expected purchases in the next <paramref name="t"/> time units for a customer with history (x, t_x, T).</summary>
    public static double ConditionalExpectedPurchases(ParetoNbdParameters p, double t, double x, double recency, double age)
    {
        p.Validate();
        BgNbd.RequireCustomer(x, recency, age);
        BgNbd.RequireNonNegative(t, nameof(t));
        return (p.R + x) / (p.Alpha + age) * (p.Beta + age) * Horizon(p.S, p.Beta + age, t)
            * ProbabilityAlive(p, x, recency, age);
    }

    /// <summary>
    /// P(X(t) = n): probability that a new customer makes exactly <paramref name="n"/> purchases in (0, t]. Either the customer
    /// is alive at t and the Gamma-Poisson count is n, or dies at some τ ≤ t with n purchases by then:
    /// NBD(n; t)·(β/(β+t))^s + ∫₀ᵗ NBD(n; τ) · sβ^s/(β+τ)^(s+1) dτ, where NBD(n; τ) = Γ(r+n)/(Γ(r) n!) (α/(α+τ))^r (τ/(α+τ))^n.
    /// This is the same quantity as Fader &amp; Hardie's ₂F₁ expression ("Deriving an Expression for P(X(t) = x) Under the
    /// Pareto/NBD Model", 2006), computed with adaptive quadrature of a smooth, positive integrand instead of a difference of sums.
    /// </summary>
    public static double ProbabilityOfPurchases(ParetoNbdParameters p, double t, int n)
    {
        p.Validate();
        BgNbd.RequireNonNegative(t, nameof(t));
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (t == 0)
        {
            return n == 0 ? 1.0 : 0.0;
        }
        var constant = LogMath.LogRising(p.R, n) - MathNet.Numerics.SpecialFunctions.FactorialLn(n) + p.R * Math.Log(p.Alpha);
        double LogNbd(double tau) => constant - (p.R + n) * Math.Log(p.Alpha + tau) + (n == 0 ? 0 : n * Math.Log(tau));
        var aliveTerm = LogNbd(t) + p.S * (Math.Log(p.Beta) - Math.Log(p.Beta + t));
        var logDeath = Math.Log(p.S) + p.S * Math.Log(p.Beta);
        double LogIntegrand(double tau) => LogNbd(tau) + logDeath - (p.S + 1) * Math.Log(p.Beta + tau);
        // Scale the integrand by its largest value on a grid so that tiny probabilities (large n) do not underflow.
        var peak = double.NegativeInfinity;
        for (var k = 1; k <= 64; k++)
        {
            peak = Math.Max(peak, LogIntegrand(t * k / 64));
        }
        var integral = Quadrature.Integrate(tau => tau == 0 && n > 0 ? 0 : Math.Exp(LogIntegrand(tau) - peak), 0, t, 1e-12);
        var deathTerm = integral > 0 ? peak + Math.Log(integral) : double.NegativeInfinity;
        return Math.Clamp(Math.Exp(LogMath.LogAddExp(aliveTerm, deathTerm)), 0, 1);
    }

    /// <summary>
    /// Discounted expected residual transactions (Fader, Hardie &amp; Lee 2005, "RFM and CLV: Using Iso-value Curves"):
    /// the expected number of purchases after T by a customer with history (x, t_x, T), each discounted at the continuously
    /// compounded rate <paramref name="discountRate"/> δ per time unit (e.g. ln(1.15)/52 for 15% a year with weekly data).
    /// Given the history and alive at T, λ is Gamma(r+x, α+T) and μ is Gamma(s, β+T), so
    /// DERT = P(alive) · (r+x)/(α+T) · E[1/(μ+δ)] = P(alive) · (r+x)/(α+T) · ∫₀^∞ e^(−δτ) ((β+T)/(β+T+τ))^s dτ,
    /// which equals the paper's expression with the confluent hypergeometric function Ψ(s, s; δ(β+T)).
    /// Multiply by the expected spend per transaction for the residual value.
    /// </summary>
    public static double DiscountedExpectedResidualTransactions(ParetoNbdParameters p, double discountRate, double x, double recency, double age)
    {
        p.Validate();
        BgNbd.RequireCustomer(x, recency, age);
        if (!(discountRate > 0) || double.IsInfinity(discountRate))
        {
            throw new ArgumentOutOfRangeException(nameof(discountRate), "The continuous discount rate must be finite and positive.");
        }
        var c = p.Beta + age;
        return ProbabilityAlive(p, x, recency, age) * (p.R + x) / (p.Alpha + age) * c * DiscountedLifetime(discountRate * c, p.S);
    }

    /// <summary>
    /// ∫₀^∞ e^(−zw) (1+w)^(−s) dw (= U(1, 2−s, z), Tricomi's function), integrated in y = ln(1+w), where the integrand
    /// exp(−z(e^y − 1) + (1−s)y) is smooth, peaks at e^y = (1−s)/z when s &lt; 1 and then falls off doubly exponentially.
    /// </summary>
    private static double DiscountedLifetime(double z, double s)
    {
        double Phi(double y) => -z * LogMath.ExpM1(y) + (1 - s) * y;
        var top = s < 1 ? Math.Max(0, Math.Log((1 - s) / z)) : 0;
        var peak = Phi(top);
        // Beyond the peak, step out until the integrand is e^-50 of its peak.
        var end = top + 1;
        while (Phi(end) > peak - 50)
        {
            end += end - top;
        }
        var integral = Quadrature.Integrate(y => Math.Exp(Phi(y) - peak), 0, top, 1e-12)
            + Quadrature.Integrate(y => Math.Exp(Phi(y) - peak), top, end, 1e-12);
        return Math.Exp(peak) * integral;
    }

    /// <summary>
    /// [1 − (β/(β+t))^(s−1)] / (s − 1): the expected time alive in the next t, per unit of β, for a Gamma(s, β) death rate.
    /// Written with expm1 so it stays accurate for s near 1, where it tends to ln((β+t)/β).
    /// </summary>
    private static double Horizon(double s, double beta, double t)
    {
        var l = LogMath.Log1P(t / beta);
        var sm1 = s - 1;
        return Math.Abs(sm1 * l) < 1e-12 ? l : -LogMath.ExpM1(-sm1 * l) / sm1;
    }

    private static double Sum(double r, double alpha, double s, double beta, RfmData data)
    {
        double[] xs = data.X, txs = data.Tx, ts = data.TT, ws = data.W;
        var constant = r * Math.Log(alpha) + s * Math.Log(beta);
        var total = 0.0;
        var lastX = double.NaN;
        var logRising = 0.0;
        for (var i = 0; i < xs.Length; i++)
        {
            // Rows are usually sorted by x, so the Gamma-function term is reused along a run of equal x.
            if (xs[i] != lastX)
            {
                lastX = xs[i];
                logRising = LogMath.LogRising(r, lastX);
            }
            var (alive, dead) = Terms(r, alpha, s, beta, xs[i], txs[i], ts[i]);
            total += ws[i] * (logRising + constant + LogMath.LogAddExp(alive, dead));
        }
        return total;
    }

    /// <summary>
    /// The two parts of the likelihood (without the common factor Γ(r+x)α^r β^s / Γ(r)), as logarithms:
    /// alive through T, and died somewhere in (t_x, T]. The second is a difference of two ₂F₁ terms,
    /// taken in log space; it vanishes when t_x = T.
    /// </summary>
    private static (double Alive, double Dead) Terms(double r, double alpha, double s, double beta, double x, double recency, double age)
    {
        var alive = -(r + x) * Math.Log(alpha + age) - s * Math.Log(beta + age);
        if (recency >= age)
        {
            return (alive, double.NegativeInfinity);
        }
        var rsx = r + s + x;
        // The note's two cases keep the ₂F₁ argument in [0, 1). Its largest value is at t_x.
        var z = alpha >= beta ? (alpha - beta) / (alpha + recency) : (beta - alpha) / (beta + recency);
        if (z > SeriesLimit)
        {
            return (alive, LogDeathIntegral(r, alpha, s, beta, x, recency, age));
        }
        double upper, lower;
        if (alpha >= beta)
        {
            upper = LogMath.LogHyp2F1(rsx, s + 1, rsx + 1, (alpha - beta) / (alpha + recency)) - rsx * Math.Log(alpha + recency);
            lower = LogMath.LogHyp2F1(rsx, s + 1, rsx + 1, (alpha - beta) / (alpha + age)) - rsx * Math.Log(alpha + age);
        }
        else
        {
            upper = LogMath.LogHyp2F1(rsx, r + x, rsx + 1, (beta - alpha) / (beta + recency)) - rsx * Math.Log(beta + recency);
            lower = LogMath.LogHyp2F1(rsx, r + x, rsx + 1, (beta - alpha) / (beta + age)) - rsx * Math.Log(beta + age);
        }
        var dead = upper > lower
            ? Math.Log(s) - Math.Log(rsx) + LogMath.LogSubExp(upper, lower)
            : double.NegativeInfinity;
        return (alive, dead);
    }

    /// <summary>
    /// Above this ₂F₁ argument the series needs too many terms (about 1/(1 − z)), so the death term is integrated instead.
    /// </summary>
    public const double SeriesLimit = 0.9;

    /// <summary>
    /// ln of s ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ: the chance of x purchases by τ, none after, and death at τ,
    /// integrated over the unobserved death time. This is what the ₂F₁ difference evaluates in closed form; the integrand
    /// is smooth and positive, so adaptive Gauss–Kronrod quadrature handles the cases where the series would be slow.
    /// The variable is y = ln(α+τ), which flattens the power-law decay, and the integrand is scaled by its value at t_x.
    /// </summary>
    public static double LogDeathIntegral(double r, double alpha, double s, double beta, double x, double recency, double age)
    {
        var y0 = Math.Log(alpha + recency);
        var y1 = Math.Log(alpha + age);
        double Psi(double y) => -(r + x - 1) * y - (s + 1) * Math.Log(beta - alpha + Math.Exp(y));
        var psi0 = Psi(y0);
        var integral = Quadrature.Integrate(y => Math.Exp(Psi(y) - psi0), y0, y1, 1e-12);
        return Math.Log(s) + psi0 + Math.Log(integral);
    }
}
