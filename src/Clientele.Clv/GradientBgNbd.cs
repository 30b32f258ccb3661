namespace Clientele.Clv;

/// <summary>
/// Log-likelihood and analytic gradient of the BG/NBD and the MBG/NBD over many rows. Per row the likelihood is
/// c(x) + r ln α + ln(e^A + e^D) with A = −(r+x) ln(α+T) (alive at T) and D = d(x) − (r+x) ln(α+t_x) (dropped out after the
/// last purchase), where c and d depend on x only. With the weights w_A, w_D = e^A, e^D / (e^A + e^D) the derivatives are
/// ∂/∂r = ∂c/∂r + ln α − w_A ln(α+T) − w_D ln(α+t_x), ∂/∂α = r/α − (r+x)[w_A/(α+T) + w_D/(α+t_x)],
/// ∂/∂a = ∂c/∂a + w_D ∂d/∂a and ∂/∂b = ∂c/∂b + w_D ∂d/∂b. The x-only terms are computed once per distinct x per evaluation.
/// </summary>
internal sealed class BgFamilyLikelihood
{
    private readonly double[] _x, _tx, _t, _w, _distinct, _distinctWeight;
    private readonly int[] _index;
    private readonly bool _modified;

    /// <summary>Rows of <paramref name="data"/>, or only those listed in <paramref name="rows"/>.</summary>
    public BgFamilyLikelihood(RfmData data, bool modified, int[]? rows = null)
    {
        _modified = modified;
        _x = Pick(data.X, rows);
        _tx = Pick(data.Tx, rows);
        _t = Pick(data.TT, rows);
        _w = Pick(data.W, rows);
        (_distinct, _index, _distinctWeight) = Fitting.DistinctValues(_x, _w);
        TotalWeight = _w.Sum();
    }

    /// <summary>Sum of the row weights.</summary>
    public double TotalWeight { get; }

    internal static double[] Pick(double[] column, int[]? rows) => rows is null ? column : [.. rows.Select(i => column[i])];

    /// <summary>Weighted log-likelihood at (r, α, a, b) = <paramref name="p"/>; its gradient goes to <paramref name="gradient"/>.</summary>
    public double Evaluate(double[] p, double[] gradient)
    {
        double r = p[0], alpha = p[1], a = p[2], b = p[3];
        var k = _distinct.Length;
        var common = new double[k];
        var drop = new double[k];
        var dropDb = new double[k];
        double constant = 0, dr = 0, da = 0, db = 0;
        var logAlpha = Math.Log(alpha);
        for (var j = 0; j < k; j++)
        {
            var x = _distinct[j];
            // BG/NBD: B(a, b+x)/B(a, b) and drop-out only after a repeat purchase; MBG/NBD: B(a, b+x+1)/B(a, b), drop-out from the start.
            var shift = _modified ? x + 1 : x;
            common[j] = LogMath.LogRising(r, x) + LogMath.LogRising(b, shift) - LogMath.LogRising(a + b, shift);
            var hasDrop = _modified || x > 0;
            var denominator = _modified ? b + x : b + x - 1;
            drop[j] = hasDrop ? Math.Log(a) - Math.Log(denominator) : double.NegativeInfinity;
            dropDb[j] = hasDrop ? -1 / denominator : 0;
            var wj = _distinctWeight[j];
            constant += wj * (common[j] + r * logAlpha);
            var dab = Fitting.DigammaRising(a + b, shift);
            dr += wj * (Fitting.DigammaRising(r, x) + logAlpha);
            da -= wj * dab;
            db += wj * (Fitting.DigammaRising(b, shift) - dab);
        }
        double[] xs = _x, tx = _tx, t = _t, w = _w;
        var index = _index;
        var sums = Fitting.SumRows(_x.Length, 5, (from, to, s) =>
        {
            double ll = 0, gr = 0, ga = 0, gDrop = 0, gb = 0;
            for (var i = from; i < to; i++)
            {
                var j = index[i];
                var rx = r + xs[i];
                var logT = Math.Log(alpha + t[i]);
                var alive = -rx * logT;
                var wi = w[i];
                if (double.IsNegativeInfinity(drop[j]))
                {
                    ll += wi * alive;
                    gr -= wi * logT;
                    ga -= wi * rx / (alpha + t[i]);
                    continue;
                }
                var logTx = Math.Log(alpha + tx[i]);
                var dead = drop[j] - rx * logTx;
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
                ll += wi * lse;
                gr -= wi * (wAlive * logT + wDead * logTx);
                ga -= wi * rx * (wAlive / (alpha + t[i]) + wDead / (alpha + tx[i]));
                gDrop += wi * wDead;
                gb += wi * wDead * dropDb[j];
            }
            s[0] += ll;
            s[1] += gr;
            s[2] += ga;
            s[3] += gDrop;
            s[4] += gb;
        });
        gradient[0] = dr + sums[1];
        gradient[1] = r / alpha * TotalWeight + sums[2];
        gradient[2] = da + sums[3] / a;
        gradient[3] = db + sums[4];
        return constant + sums[0];
    }
}
