namespace Clientele.Clv;

/// <summary>Outcome of a maximum-likelihood fit.</summary>
/// <typeparam name="TParams">The model's parameter record.</typeparam>
/// <param name="Params">Estimated parameters.</param>
/// <param name="LogLikelihood">Weighted sum of the per-customer log-likelihoods at <paramref name="Params"/>,
/// without any penalty, so that fits can be compared with published values.</param>
/// <param name="Converged">Whether the optimiser met its tolerance before its iteration limit.</param>
/// <param name="Iterations">Optimiser iterations used.</param>
public sealed record FitResult<TParams>(TParams Params, double LogLikelihood, bool Converged, int Iterations);

/// <summary>Settings for a maximum-likelihood fit.</summary>
/// <param name="Penalty">L2 penalty λ: the optimiser minimises −LL/N + λ·Σθ² over the natural parameters θ
/// (N = total weight), which shrinks estimates towards zero when the data say little about them.
/// 0 gives the plain maximum-likelihood estimate.</param>
/// <param name="Tolerance">Relative change in the objective below which the fit counts as converged. The BG/NBD, MBG/NBD,
/// Pareto/NBD and Gamma-Gamma fits use BFGS and also stop once the largest component of the objective's gradient in
/// log-parameters is below 10⁴ × this tolerance (kept within 10⁻¹⁰ … 10⁻⁵), which is 10⁻⁹ by default.</param>
/// <param name="MaxIterations">Iteration limit for the optimiser (simplex steps for Nelder–Mead, quasi-Newton steps for BFGS).</param>
public sealed record FitOptions(double Penalty = 0, double Tolerance = 1e-13, int MaxIterations = 20_000)
{
    /// <summary>Plain maximum likelihood.</summary>
    public static FitOptions Default { get; } = new();
}
