using Ganss.Xss;
using Markdig;
using MathNet.Numerics.Distributions;

namespace Clientele.Forms;

/// <summary>A landing page at <c>/p/{slug}</c>: content with a form, in one or more variants that share its traffic.</summary>
internal sealed class LandingPage
{
    public Guid Id { get; set; }
    public string Slug { get; set; } = "";
    public string Name { get; set; } = "";

    /// <summary>The form shown under the content; a submission through it is a conversion.</summary>
    public Guid FormId { get; set; }

    /// <summary>Once promoted, every visitor sees this variant.</summary>
    public string? WinnerKey { get; set; }

    public bool Active { get; set; } = true;
    public List<LandingVariant> Variants { get; set; } = [];
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>One version of a landing page, with its share of the traffic and what it achieved.</summary>
internal sealed class LandingVariant
{
    public Guid Id { get; set; }
    public Guid PageId { get; set; }

    /// <summary>A, B, C …</summary>
    public string Key { get; set; } = "A";

    public string Title { get; set; } = "";

    /// <summary>Markdown (HTML allowed); sanitised when shown.</summary>
    public string Content { get; set; } = "";

    /// <summary>Relative share of new visitors.</summary>
    public int Weight { get; set; } = 1;

    public int Views { get; set; }
    public int Conversions { get; set; }
}

/// <summary>One variant's result in the comparison.</summary>
/// <param name="Key">The variant.</param>
/// <param name="Rate">Conversions per view.</param>
/// <param name="PValue">Two-sided p-value of the difference to the leading variant (null for the leader itself or without data).</param>
internal sealed record VariantResult(string Key, int Views, int Conversions, double Rate, double? PValue);

/// <summary>The comparison and, when the data allow it, the winner.</summary>
internal sealed record AbOutcome(IReadOnlyList<VariantResult> Variants, string? Winner, string Explanation);

/// <summary>
/// Which variant converts better, decided by a two-sided two-proportion z-test (pooled standard error) of the leading
/// variant against each other one, at a 5 % significance level split over the comparisons (Bonferroni). A winner is
/// declared only when every comparison is significant and each variant has at least <see cref="MinimumViews"/> views
/// and enough conversions and non-conversions (5 of each expected) for the normal approximation to hold.
/// </summary>
internal static class AbTest
{
    public const int MinimumViews = 100;
    public const double Alpha = 0.05;

    public static AbOutcome Compare(IReadOnlyList<(string Key, int Views, int Conversions)> variants)
    {
        var rated = variants.Select(v => (v.Key, v.Views, v.Conversions, Rate: v.Views == 0 ? 0 : (double)v.Conversions / v.Views)).ToList();
        if (rated.Count < 2)
        {
            return new([.. rated.Select(v => new VariantResult(v.Key, v.Views, v.Conversions, v.Rate, null))], null, "A test needs two variants or more.");
        }
        var leader = rated.OrderByDescending(v => v.Rate).ThenByDescending(v => v.Views).First();
        var alpha = Alpha / (rated.Count - 1);
        var results = new List<VariantResult>();
        var allSignificant = true;
        var enough = true;
        foreach (var v in rated)
        {
            if (v.Key == leader.Key)
            {
                results.Add(new VariantResult(v.Key, v.Views, v.Conversions, v.Rate, null));
                continue;
            }
            var p = PValue(leader.Views, leader.Conversions, v.Views, v.Conversions);
            results.Add(new VariantResult(v.Key, v.Views, v.Conversions, v.Rate, p));
            allSignificant &= p is { } value && value < alpha;
        }
        foreach (var v in rated)
        {
            var pooled = rated.Sum(x => x.Conversions) / (double)Math.Max(1, rated.Sum(x => x.Views));
            enough &= v.Views >= MinimumViews && v.Views * pooled >= 5 && v.Views * (1 - pooled) >= 5;
        }
        if (!enough)
        {
            return new(results, null, $"Not enough data yet: each variant needs at least {MinimumViews} views and a few conversions.");
        }
        return allSignificant
            ? new(results, leader.Key, $"Variant {leader.Key} converts better, significant at the {Alpha:P0} level (two-proportion z-test).")
            : new(results, null, "No significant difference yet: keep the test running.");
    }

    /// <summary>Two-sided p-value of the difference between two conversion rates; null when it cannot be computed.</summary>
    public static double? PValue(int viewsA, int conversionsA, int viewsB, int conversionsB)
    {
        if (viewsA == 0 || viewsB == 0)
        {
            return null;
        }
        var pooled = (double)(conversionsA + conversionsB) / (viewsA + viewsB);
        var se = Math.Sqrt(pooled * (1 - pooled) * (1.0 / viewsA + 1.0 / viewsB));
        if (se == 0)
        {
            return 1;
        }
        var z = ((double)conversionsA / viewsA - (double)conversionsB / viewsB) / se;
        return 2 * (1 - Normal.CDF(0, 1, Math.Abs(z)));
    }

    /// <summary>Picks a variant for a new visitor in proportion to the weights; <paramref name="roll"/> is uniform in [0, 1).</summary>
    public static string Pick(IReadOnlyList<(string Key, int Weight)> variants, double roll)
    {
        var total = variants.Sum(v => Math.Max(0, v.Weight));
        if (total == 0)
        {
            return variants[0].Key;
        }
        var target = roll * total;
        foreach (var (key, weight) in variants)
        {
            target -= Math.Max(0, weight);
            if (target < 0)
            {
                return key;
            }
        }
        return variants[^1].Key;
    }
}

/// <summary>Markdown (with HTML) to HTML that cannot run script or load anything active.</summary>
internal static class SafeHtml
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();
    private static readonly HtmlSanitizer Sanitizer = new();

    public static string FromMarkdown(string markdown) => Sanitizer.Sanitize(Markdown.ToHtml(markdown ?? "", Pipeline));
}
