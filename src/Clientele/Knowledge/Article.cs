using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Clientele.Knowledge;

/// <summary>
/// A knowledge-base article: Markdown answering a question customers ask, public at <c>/kb/{slug}</c> once published,
/// and offered in automatic replies to incoming mail. Its search index (FTS5 / tsvector) is kept by the database.
/// </summary>
internal sealed class Article
{
    public Guid Id { get; set; }

    /// <summary>Its address under <c>/kb/</c>: lower-case letters, digits and dashes, unique. Kept when the title changes, so links stay good.</summary>
    public string Slug { get; set; } = "";

    public string Title { get; set; } = "";

    /// <summary>Markdown.</summary>
    public string Body { get; set; } = "";

    /// <summary>One or two sentences shown in search results and replies instead of a piece of the body.</summary>
    public string? Summary { get; set; }

    /// <summary>Groups articles on the public index (e.g. "Shipping").</summary>
    public string? Category { get; set; }

    public List<string> Tags { get; set; } = [];

    /// <summary>Only published articles are public and offered in replies.</summary>
    public bool Published { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>Who saved it last: a user's e-mail, or "API key NAME".</summary>
    public string? UpdatedBy { get; set; }
}

/// <summary>Slugs: made from titles, checked when given.</summary>
internal static partial class Slugs
{
    public const int MaxLength = 80;

    [GeneratedRegex("^[a-z0-9]+(?:-[a-z0-9]+)*$")]
    private static partial Regex Pattern();

    public static bool IsValid(string? slug) => slug is { Length: > 0 and <= MaxLength } && Pattern().IsMatch(slug);

    /// <summary>"Où est ma commande ?" → "ou-est-ma-commande"; a title with no letters or digits gives "article".</summary>
    public static string From(string title)
    {
        var sb = new StringBuilder();
        var dash = false;
        foreach (var ch in title.Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(ch) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }
            var c = char.ToLowerInvariant(ch);
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                if (dash && sb.Length > 0)
                {
                    sb.Append('-');
                }
                sb.Append(c);
                dash = false;
            }
            else if (c != '\'' && c != '’')
            {
                dash = true; // "Don't" stays "dont"
            }
            if (sb.Length >= MaxLength)
            {
                break;
            }
        }
        var slug = sb.ToString(0, Math.Min(sb.Length, MaxLength)).Trim('-');
        return slug.Length == 0 ? "article" : slug;
    }

    /// <summary>The first of <paramref name="slug"/>, slug-2, slug-3, … that <paramref name="taken"/> does not hold.</summary>
    public static string Unique(string slug, IReadOnlySet<string> taken)
    {
        if (!taken.Contains(slug))
        {
            return slug;
        }
        for (var i = 2; ; i++)
        {
            var suffix = "-" + i.ToString(CultureInfo.InvariantCulture);
            var candidate = slug[..Math.Min(slug.Length, MaxLength - suffix.Length)].TrimEnd('-') + suffix;
            if (!taken.Contains(candidate))
            {
                return candidate;
            }
        }
    }
}
