using System.Text;
using Clientele.Data;
using Markdig;

namespace Clientele.Knowledge;

/// <summary>A published article found for a text: what a reply or a results page shows of it (the snippet is plain text).</summary>
internal sealed record ArticleHit(Guid Id, string Slug, string Title, string Snippet);

/// <summary>
/// Finding articles for a text — a search box's few words or a whole customer e-mail — and the public address of an
/// article, for the replies that link to it.
/// </summary>
internal static class KnowledgeBase
{
    /// <summary>A message's words used in its search, at most: the rarest among the articles.</summary>
    public const int MaxTerms = 8;

    public const int MaxLimit = 50;

    public const int SnippetLength = 200;

    /// <summary>For a message, articles scoring less than this share of the best one are left out.</summary>
    public const double RelevantShare = 0.25;

    /// <summary>
    /// The published articles most relevant to <paramref name="text"/>, best first; empty when nothing is. Never throws
    /// on what the text holds. Articles holding ANY of its meaningful words are ranked by the database (title above
    /// summary above body). A longer text (an e-mail) drops its quoted replies and signature, and uses only its words
    /// that some articles hold but most do not (at most <see cref="MaxTerms"/>, rarest first), and offers only articles
    /// scoring at least <see cref="RelevantShare"/> of the best; a short query also matches its last word as a prefix, as
    /// it is typed.
    /// </summary>
    public static Task<IReadOnlyList<ArticleHit>> SearchAsync(ClienteleDb db, string text, int limit, CancellationToken ct) =>
        FindAsync(db, text, limit, drafts: false, ct);

    /// <summary>The same search, over drafts too when <paramref name="drafts"/> (the back office).</summary>
    internal static async Task<IReadOnlyList<ArticleHit>> FindAsync(ClienteleDb db, string? text, int limit, bool drafts, CancellationToken ct)
    {
        limit = Math.Clamp(limit, 1, MaxLimit);
        var read = SearchTerms.Read(text);
        IReadOnlyList<string> terms = read.Terms;
        if (terms.Count == 0)
        {
            return [];
        }
        if (read.IsMessage)
        {
            var (published, counts) = await KnowledgeIndex.CountAsync(db, terms, ct);
            terms = Pick(terms, counts, published);
            if (terms.Count == 0)
            {
                return [];
            }
        }
        else if (terms.Count > MaxTerms)
        {
            terms = [.. terms.Take(MaxTerms)];
        }
        var rows = await KnowledgeIndex.RankAsync(db, terms, read.PrefixLast && terms.Count == read.Terms.Count, limit, drafts, ct);
        if (read.IsMessage && rows.Count > 1)
        {
            // A message's best match is what it is about; one that shares only a stray word with it is not worth offering.
            var best = Math.Abs(rows[0].Rank);
            rows = [.. rows.Where(r => Math.Abs(r.Rank) >= best * RelevantShare)];
        }
        return [.. rows.Select(r => new ArticleHit(r.Id, r.Slug, r.Title, Snippet(r.Summary, r.Body, terms)))];
    }

    /// <summary>
    /// A message's words worth searching for: held by at least one published article, and — once there are four or
    /// more articles — by no more than half of them (a word every article uses says nothing about which one helps);
    /// at most <see cref="MaxTerms"/>, rarest first, ties in the order they were written.
    /// </summary>
    internal static List<string> Pick(IReadOnlyList<string> terms, IReadOnlyList<long> counts, long published) =>
        [.. terms.Select((term, i) => (Term: term, Count: counts[i], Index: i))
            .Where(t => t.Count > 0 && (published < 4 || t.Count * 2 <= published))
            .OrderBy(t => t.Count).ThenBy(t => t.Index)
            .Take(MaxTerms)
            .Select(t => t.Term)];

    /// <summary>The public address of an article: <c>{base}/kb/{slug}</c>, e.g. for a link in a reply.</summary>
    public static string ArticleUrl(string publicBaseUrl, string slug) =>
        publicBaseUrl.TrimEnd('/') + "/kb/" + Uri.EscapeDataString(slug);

    /// <summary>The public address of an article, from the app's configured public address (<c>Clientele:PublicUrl</c>).</summary>
    public static string ArticleUrl(Clientele.Outbox.MailLinks links, string slug) => ArticleUrl(links.BaseUrl, slug);

    private static readonly MarkdownPipeline PlainPipeline = new MarkdownPipelineBuilder().UsePipeTables().Build();

    /// <summary>The article as plain text, for snippets and summaries.</summary>
    internal static string PlainText(string markdown)
    {
        string plain;
        try
        {
            plain = Markdown.ToPlainText(markdown, PlainPipeline);
        }
        catch (ArgumentException)
        {
            plain = markdown; // nested too deeply to parse: the raw text still reads
        }
        var sb = new StringBuilder(plain.Length);
        var space = false;
        foreach (var ch in plain)
        {
            if (char.IsWhiteSpace(ch))
            {
                space = sb.Length > 0;
                continue;
            }
            if (space)
            {
                sb.Append(' ');
                space = false;
            }
            sb.Append(ch);
        }
        return sb.ToString();
    }

    /// <summary>
    /// About <see cref="SnippetLength"/> characters of plain text: the summary when there is one, else the body from a
    /// little before the first word that matched, cut at word boundaries.
    /// </summary>
    internal static string Snippet(string? summary, string body, IReadOnlyList<string> terms)
    {
        if (!string.IsNullOrWhiteSpace(summary))
        {
            return Cut(PlainText(summary), 0);
        }
        var text = PlainText(body);
        var at = -1;
        foreach (var term in terms)
        {
            // a crude stem, so "returns" finds "returned" as the database did
            var stem = term.Length > 5 ? term[..(term.Length - 2)] : term;
            var i = IndexOfWord(text, stem);
            if (i >= 0 && (at < 0 || i < at))
            {
                at = i;
            }
        }
        var start = at < 60 ? 0 : text.LastIndexOf(' ', at - 40) + 1;
        return Cut(text, start);
    }

    private static int IndexOfWord(string text, string stem)
    {
        for (var i = text.IndexOf(stem, StringComparison.OrdinalIgnoreCase); i >= 0; i = text.IndexOf(stem, i + 1, StringComparison.OrdinalIgnoreCase))
        {
            if (i == 0 || !char.IsLetterOrDigit(text[i - 1]))
            {
                return i;
            }
        }
        return -1;
    }

    private static string Cut(string text, int start)
    {
        var prefix = start > 0 ? "…" : "";
        if (text.Length - start <= SnippetLength)
        {
            return prefix + text[start..];
        }
        var end = text.LastIndexOf(' ', start + SnippetLength);
        if (end <= start + SnippetLength / 2)
        {
            end = start + SnippetLength;
        }
        return prefix + text[start..end].TrimEnd(',', ';', ':', ' ') + "…";
    }
}
