namespace Clientele.Dashboard;

/// <summary>
/// A published journey's conversion in two fortnights: of the contacts who entered in the last 14 days, and in the 14
/// days before, how many have reached its goal (the control group left out).
/// </summary>
internal sealed record JourneyConversion(Guid Id, string Name, int Entered, int Reached, int EnteredBefore, int ReachedBefore)
{
    public double? Rate => Entered == 0 ? null : (double)Reached / Entered;

    public double? RateBefore => EnteredBefore == 0 ? null : (double)ReachedBefore / EnteredBefore;
}

/// <summary>Which journeys convert less than they did: pure, over the counts of the two fortnights.</summary>
internal static class ConversionTrend
{
    public const int WindowDays = 14;

    /// <summary>Entrants each fortnight needs before its rate is compared: fewer say little.</summary>
    public const int MinEntered = 10;

    /// <summary>How far the rate must fall, as a share of the earlier rate (a fifth: 30 % → 24 % or lower).</summary>
    public const double MinFall = 0.2;

    /// <summary>The journeys whose conversion fell by at least <see cref="MinFall"/> of the earlier rate, the steepest fall first.</summary>
    public static IReadOnlyList<JourneyConversion> Falling(IEnumerable<JourneyConversion> journeys) =>
        [.. journeys
            .Where(j => j.Entered >= MinEntered && j.EnteredBefore >= MinEntered && j.RateBefore > 0 && j.Rate <= j.RateBefore * (1 - MinFall))
            .OrderBy(j => j.Rate!.Value / j.RateBefore!.Value)
            .ThenBy(j => j.Name, StringComparer.Ordinal)];
}
