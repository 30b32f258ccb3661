using MathNet.Numerics;

namespace Clientele.Clv;

/// <summary>
/// Gamma-Gamma log-likelihood and analytic gradient over many repeat buyers. Per row (x, m̄) the log-likelihood is
/// ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m̄ + px ln x − (px+q) ln(γ + m̄x), so
/// ∂/∂p = x[ψ(px+q) − ψ(px) + ln m̄ + ln x − ln(γ+m̄x)], ∂/∂q = ψ(px+q) − ψ(q) + ln γ − ln(γ+m̄x) and
/// ∂/∂γ = q/γ − (px+q)/(γ+m̄x). The Gamma and digamma terms depend on x only and are computed once per distinct x.
/// </summary>
internal sealed class GammaGammaLikelihood
{
    private readonly double[] _x, _m, _w, _mx, _rowConstant, _distinct, _distinctWeight;
    private readonly int[] _index;

    /// <summary>Rows (x &gt; 0, m̄ &gt; 0, weight), or only those listed in <paramref name="rows"/>.</summary>
    public GammaGammaLikelihood(double[] x, double[] m, double[] w, int[]? rows = null)
    {
        _x = BgFamilyLikelihood.Pick(x, rows);
        _m = BgFamilyLikelihood.Pick(m, rows);
        _w = BgFamilyLikelihood.Pick(w, rows);
        _mx = new double[_x.Length];
        _rowConstant = new double[_x.Length];
        for (var i = 0; i < _x.Length; i++)
        {
            _mx[i] = _m[i] * _x[i];
            // ln m̄ + ln x: multiplies p in the log-likelihood (the −ln m̄ that does not is added separately).
            _rowConstant[i] = Math.Log(_m[i]) + Math.Log(_x[i]);
        }
        (_distinct, _index, _distinctWeight) = Fitting.DistinctValues(_x, _w);
        TotalWeight = _w.Sum();
        for (var i = 0; i < _x.Length; i++)
        {
            LogMeanSum += _w[i] * Math.Log(_m[i]);
        }
    }

    /// <summary>Sum of the row weights.</summary>
    public double TotalWeight { get; }

    private double LogMeanSum { get; }

    /// <summary>Weighted log-likelihood at (p, q, γ) = <paramref name="parameters"/>; its gradient goes to <paramref name="gradient"/>.</summary>
    public double Evaluate(double[] parameters, double[] gradient)
    {
        double p = parameters[0], q = parameters[1], gamma = parameters[2];
        var k = _distinct.Length;
        double constant = 0, dp = 0, dq = 0;
        var logGamma = Math.Log(gamma);
        var lgq = SpecialFunctions.GammaLn(q);
        var psiQ = SpecialFunctions.DiGamma(q);
        for (var j = 0; j < k; j++)
        {
            var px = p * _distinct[j];
            var wj = _distinctWeight[j];
            var psiSum = SpecialFunctions.DiGamma(px + q);
            constant += wj * (SpecialFunctions.GammaLn(px + q) - SpecialFunctions.GammaLn(px) - lgq + q * logGamma);
            dp += wj * _distinct[j] * (psiSum - SpecialFunctions.DiGamma(px));
            dq += wj * (psiSum - psiQ + logGamma);
        }
        double[] xs = _x, mx = _mx, rc = _rowConstant, w = _w;
        var sums = Fitting.SumRows(xs.Length, 4, (from, to, s) =>
        {
            double ll = 0, gp = 0, gq = 0, gg = 0;
            for (var i = from; i < to; i++)
            {
                var px = p * xs[i];
                var wi = w[i];
                var logTotal = Math.Log(gamma + mx[i]);
                ll += wi * (px * rc[i] - (px + q) * logTotal);
                gp += wi * xs[i] * (rc[i] - logTotal);
                gq -= wi * logTotal;
                gg -= wi * (px + q) / (gamma + mx[i]);
            }
            s[0] += ll;
            s[1] += gp;
            s[2] += gq;
            s[3] += gg;
        });
        gradient[0] = dp + sums[1];
        gradient[1] = dq + sums[2];
        gradient[2] = q / gamma * TotalWeight + sums[3];
        return constant - LogMeanSum + sums[0];
    }
}
