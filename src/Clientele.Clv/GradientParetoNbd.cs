namespace Clientele.Clv;

/// <summary>
/// Pareto/NBD log-likelihood and its gradient over many rows. Per row the likelihood is
/// Γ(r+x)α^r β^s / Γ(r) · [e^A + e^D] with A = −(r+x) ln(α+T) − s ln(β+T) (alive at T) and
/// e^D = s ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ (died unobserved after t_x). Expanding the integrand around the larger
/// of α and β gives the ₂F₁ difference of Fader &amp; Hardie's note as a single series of positive terms,
/// e^D = s u^−(r+s+x) Σₙ cₙ zⁿ (1 − ρ^(r+s+x+n)) / (r+s+x+n), with u = max(α,β) + t_x, z = |α−β| / u, ρ = u / (max(α,β) + T) and
/// cₙ = (s+1)ₙ/n! when α ≥ β or (r+x)ₙ/n! when α &lt; β. Every parameter enters each term through elementary functions,
/// so the gradient is summed term by term alongside the value: exact up to rounding, with no ₂F₁ parameter derivatives.
/// Where z exceeds <see cref="ParetoNbd.SeriesLimit"/> (one of α, β ten times the other) the series would be slow; those rows
/// fall back to the quadrature form and central differences of it.
/// </summary>
internal sealed class ParetoNbdLikelihood
{
    private readonly double[] _x, _tx, _t, _w, _distinct, _distinctWeight;
    private readonly int[] _index;

    /// <summary>Rows of <paramref name="data"/>, or only those listed in <paramref name="rows"/>.</summary>
    public ParetoNbdLikelihood(RfmData data, int[]? rows = null)
    {
        _x = BgFamilyLikelihood.Pick(data.X, rows);
        _tx = BgFamilyLikelihood.Pick(data.Tx, rows);
        _t = BgFamilyLikelihood.Pick(data.TT, rows);
        _w = BgFamilyLikelihood.Pick(data.W, rows);
        (_distinct, _index, _distinctWeight) = Fitting.DistinctValues(_x, _w);
        TotalWeight = _w.Sum();
    }

    /// <summary>Sum of the row weights.</summary>
    public double TotalWeight { get; }

    /// <summary>Weighted log-likelihood at (r, α, s, β) = <paramref name="p"/>; its gradient goes to <paramref name="gradient"/>.</summary>
    public double Evaluate(double[] p, double[] gradient)
    {
        double r = p[0], alpha = p[1], s = p[2], beta = p[3];
        double constant = 0, dr = 0;
        double logAlpha = Math.Log(alpha), logBeta = Math.Log(beta);
        for (var j = 0; j < _distinct.Length; j++)
        {
            var wj = _distinctWeight[j];
            constant += wj * (LogMath.LogRising(r, _distinct[j]) + r * logAlpha + s * logBeta);
            dr += wj * (Fitting.DigammaRising(r, _distinct[j]) + logAlpha);
        }
        double[] xs = _x, tx = _tx, t = _t, w = _w;
        var sums = Fitting.SumRows(xs.Length, 5, (from, to, acc) =>
        {
            Span<double> row = stackalloc double[4];
            double ll = 0, gr = 0, ga = 0, gs = 0, gb = 0;
            for (var i = from; i < to; i++)
            {
                var value = Row(r, alpha, s, beta, xs[i], tx[i], t[i], row);
                var wi = w[i];
                ll += wi * value;
                gr += wi * row[0];
                ga += wi * row[1];
                gs += wi * row[2];
                gb += wi * row[3];
            }
            acc[0] += ll;
            acc[1] += gr;
            acc[2] += ga;
            acc[3] += gs;
            acc[4] += gb;
        });
        gradient[0] = dr + sums[1];
        gradient[1] = r / alpha * TotalWeight + sums[2];
        gradient[2] = logBeta * TotalWeight + sums[3];
        gradient[3] = s / beta * TotalWeight + sums[4];
        return constant + sums[0];
    }

    /// <summary>
    /// ln(e^A + e^D) for one row (the part of the log-likelihood that is not a function of x alone or a constant), and its
    /// gradient in (r, α, s, β).
    /// </summary>
    internal static double Row(double r, double alpha, double s, double beta, double x, double recency, double age, Span<double> g)
    {
        var logAlphaT = Math.Log(alpha + age);
        var logBetaT = Math.Log(beta + age);
        var alive = -(r + x) * logAlphaT - s * logBetaT;
        // ∂A: (−ln(α+T), −(r+x)/(α+T), −ln(β+T), −s/(β+T)).
        double ar = -logAlphaT, aa = -(r + x) / (alpha + age), @as = -logBetaT, ab = -s / (beta + age);
        Span<double> dg = stackalloc double[4];
        var dead = LogDead(r, alpha, s, beta, x, recency, age, dg);
        if (double.IsNegativeInfinity(dead))
        {
            g[0] = ar;
            g[1] = aa;
            g[2] = @as;
            g[3] = ab;
            return alive;
        }
        double wAlive, wDead, lse;
        if (alive >= dead)
        {
            var e = Math.Exp(dead - alive);
            wAlive = 1 / (1 + e);
            wDead = e * wAlive;
            lse = alive + LogMath.Log1P(e);
        }
        else
        {
            var e = Math.Exp(alive - dead);
            wDead = 1 / (1 + e);
            wAlive = e * wDead;
            lse = dead + LogMath.Log1P(e);
        }
        g[0] = wAlive * ar + wDead * dg[0];
        g[1] = wAlive * aa + wDead * dg[1];
        g[2] = wAlive * @as + wDead * dg[2];
        g[3] = wAlive * ab + wDead * dg[3];
        return lse;
    }

    /// <summary>D = ln of the death term (−∞ when t_x = T) and its gradient in (r, α, s, β); see the class summary.</summary>
    internal static double LogDead(double r, double alpha, double s, double beta, double x, double recency, double age, Span<double> g)
    {
        if (recency >= age)
        {
            g.Clear();
            return double.NegativeInfinity;
        }
        var alphaLarger = alpha >= beta;
        var big = alphaLarger ? alpha : beta;
        var u = big + recency;
        var z = Math.Abs(alpha - beta) / u;
        if (z > ParetoNbd.SeriesLimit)
        {
            return LogDeadByQuadrature(r, alpha, s, beta, x, recency, age, g);
        }
        var rsx = r + s + x;
        var shape = alphaLarger ? s + 1 : r + x;
        var logU = Math.Log(u);
        var span = age - recency;
        var logRho = -LogMath.Log1P(span / u);
        // ∂ρ^m/∂(the larger of α, β) / ρ^m = −m (T − t_x) / (u (u + T − t_x)) enters through ρ only.
        var rhoShift = span / (u * (u + span));
        double sum = 0, sumM = 0, sumShape = 0, sumZ = 0, sumShift = 0, logScale = 0;
        double coefficient = 1, zPower = 1, zPowerBefore = 0, harmonic = 0;
        // ρ^m and 1 − ρ^m are carried from term to term: ρ^(m+1) = ρ·ρ^m and 1 − ρ^(m+1) = (1 − ρ) + ρ(1 − ρ^m), a sum of
        // positive parts, so the small differences for T close to t_x keep their digits without an expm1 per term.
        var rho = Math.Exp(logRho);
        var oneMinusRho = -LogMath.ExpM1(logRho);
        var rhoM = Math.Exp(rsx * logRho);
        var oneMinus = -LogMath.ExpM1(rsx * logRho);
        for (var n = 0; ; n++)
        {
            var inverseM = 1 / (rsx + n);
            var gn = oneMinus * inverseM;
            // ∂g/∂m for g = (1 − ρ^m)/m.
            var gnM = (-rhoM * logRho - gn) * inverseM;
            var cz = coefficient * zPower;
            var term = cz * gn;
            sum += term;
            sumM += cz * gnM;
            sumShape += term * harmonic;
            sumZ += n * coefficient * zPowerBefore * gn;
            sumShift -= cz * rhoM * rhoShift;
            if (sum > 1e250)
            {
                logScale += Math.Log(sum);
                var f = 1 / sum;
                sum = 1;
                sumM *= f;
                sumShape *= f;
                sumZ *= f;
                sumShift *= f;
                coefficient *= f;
                cz *= f;
                term *= f;
            }
            var step = (shape + n) / (n + 1);
            if (n > 0 && (term * (n + 1) <= 1e-17 * sum || cz == 0) && step * z < 1)
            {
                break;
            }
            if (n > 5_000_000)
            {
                throw new ArithmeticException("The Pareto/NBD death-term series did not converge.");
            }
            harmonic += 1 / (shape + n);
            oneMinus = oneMinusRho + rho * oneMinus;
            rhoM *= rho;
            coefficient *= step;
            zPowerBefore = zPower;
            zPower *= z;
        }
        double mr = sumM / sum, sh = sumShape / sum, sz = sumZ / sum, sshift = sumShift / sum;
        // z = (α − β)/(α + t_x) or (β − α)/(β + t_x).
        var zOwn = (Math.Min(alpha, beta) + recency) / (u * u);
        var zOther = -1 / u;
        g[0] = -logU + mr + (alphaLarger ? 0 : sh);
        g[2] = 1 / s - logU + mr + (alphaLarger ? sh : 0);
        if (alphaLarger)
        {
            g[1] = -rsx / u + sz * zOwn + sshift;
            g[3] = sz * zOther;
        }
        else
        {
            g[1] = sz * zOther;
            g[3] = -rsx / u + sz * zOwn + sshift;
        }
        return Math.Log(s) - rsx * logU + logScale + Math.Log(sum);
    }

    // The quadrature form, with central differences in each parameter (relative step 1e-5) for the gradient.
    private static double LogDeadByQuadrature(double r, double alpha, double s, double beta, double x, double recency, double age, Span<double> g)
    {
        var value = ParetoNbd.LogDeathIntegral(r, alpha, s, beta, x, recency, age);
        Span<double> p = [r, alpha, s, beta];
        for (var i = 0; i < 4; i++)
        {
            var h = 1e-5 * p[i];
            var keep = p[i];
            p[i] = keep + h;
            var up = ParetoNbd.LogDeathIntegral(p[0], p[1], p[2], p[3], x, recency, age);
            p[i] = keep - h;
            var down = ParetoNbd.LogDeathIntegral(p[0], p[1], p[2], p[3], x, recency, age);
            p[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return value;
    }
}
