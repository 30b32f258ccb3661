namespace Clientele.Journeys;

/// <summary>What a journey changed: the conversion rate of those who got it against the control group, with a 95 % interval.</summary>
internal sealed record Lift(int Treated, int TreatedConverted, int Control, int ControlConverted, double TreatedRate, double ControlRate,
    double Difference, double Low, double High)
{
    private const double Z = 1.959963984540054; // the 97.5th percentile of the standard normal

    /// <summary>
    /// The difference of two proportions with Newcombe's hybrid score interval (Wilson intervals of each rate combined),
    /// which stays within −1…1 and behaves with small groups and rates near 0 or 1; null without both groups.
    /// </summary>
    public static Lift? Compute(int treated, int treatedConverted, int control, int controlConverted)
    {
        if (treated <= 0 || control <= 0)
        {
            return null;
        }
        var p1 = (double)treatedConverted / treated;
        var p2 = (double)controlConverted / control;
        var (l1, u1) = Wilson(treatedConverted, treated);
        var (l2, u2) = Wilson(controlConverted, control);
        var d = p1 - p2;
        var low = d - Math.Sqrt(((p1 - l1) * (p1 - l1)) + ((u2 - p2) * (u2 - p2)));
        var high = d + Math.Sqrt(((u1 - p1) * (u1 - p1)) + ((p2 - l2) * (p2 - l2)));
        return new Lift(treated, treatedConverted, control, controlConverted, p1, p2, d, low, high);
    }

    /// <summary>Wilson's score interval for <paramref name="k"/> of <paramref name="n"/>.</summary>
    internal static (double Low, double High) Wilson(int k, int n)
    {
        var p = (double)k / n;
        var z2 = Z * Z;
        var centre = p + (z2 / (2 * n));
        var spread = Z * Math.Sqrt((p * (1 - p) / n) + (z2 / (4.0 * n * n)));
        var denominator = 1 + (z2 / n);
        return ((centre - spread) / denominator, (centre + spread) / denominator);
    }
}
