using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Clientele.Data;
using Clientele.Outbox;
using Clientele.Templates;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Knowledge;

/// <summary>
/// The public knowledge base, plain HTML on the business's brand: <c>/kb</c> (search box and the articles by category),
/// <c>/kb?q=…</c> (results with snippets) and <c>/kb/{slug}</c> (one article). Only published articles are shown.
/// </summary>
internal static class KnowledgePages
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    public const string GeneralCategory = "General";

    public static void MapKnowledgePages(WebApplication app)
    {
        app.MapGet("/kb", IndexAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/kb/{slug}", ArticleAsync).AllowAnonymous().ExcludeFromDescription();
    }

    private static async Task<IResult> IndexAsync(string? q, ClienteleDb db, OutboxContent content, CancellationToken ct)
    {
        var brand = await content.BrandAsync(ct);
        var query = q?.Trim() ?? "";
        if (query.Length > 200)
        {
            query = query[..200];
        }
        var body = new StringBuilder();
        body.Append(SearchBox(query));
        if (query.Length > 0)
        {
            var hits = await KnowledgeBase.SearchAsync(db, query, 20, ct);
            body.Append($"<h2>Results for “{Html.Encode(query)}”</h2>");
            if (hits.Count == 0)
            {
                body.Append("<p class=\"empty\" role=\"status\">No articles match. Try fewer or other words, or <a href=\"/kb\">browse all articles</a>.</p>");
            }
            else
            {
                body.Append("<ol class=\"results\">");
                foreach (var hit in hits)
                {
                    body.Append($"<li><a href=\"/kb/{Html.Encode(hit.Slug)}\">{Html.Encode(hit.Title)}</a><p>{Html.Encode(hit.Snippet)}</p></li>");
                }
                body.Append("</ol>");
            }
            return Page(brand, StatusCodes.Status200OK, $"Search: {query}", "Help centre", body.ToString());
        }
        var articles = await db.KnowledgeArticles.AsNoTracking().Where(a => a.Published)
            .Select(a => new { a.Slug, a.Title, a.Category }).ToListAsync(ct);
        if (articles.Count == 0)
        {
            body.Append("<p class=\"empty\" role=\"status\">There are no articles here yet. Please check back soon, or reply to any of our e-mails to ask us directly.</p>");
        }
        foreach (var group in articles.GroupBy(a => string.IsNullOrWhiteSpace(a.Category) ? GeneralCategory : a.Category.Trim())
                     .OrderBy(g => g.Key == GeneralCategory).ThenBy(g => g.Key, StringComparer.OrdinalIgnoreCase))
        {
            body.Append($"<section><h2>{Html.Encode(group.Key)}</h2><ul>");
            foreach (var a in group.OrderBy(a => a.Title, StringComparer.OrdinalIgnoreCase))
            {
                body.Append($"<li><a href=\"/kb/{Html.Encode(a.Slug)}\">{Html.Encode(a.Title)}</a></li>");
            }
            body.Append("</ul></section>");
        }
        return Page(brand, StatusCodes.Status200OK, "Help centre", "Help centre", body.ToString());
    }

    private static async Task<IResult> ArticleAsync(string slug, ClienteleDb db, OutboxContent content, CancellationToken ct)
    {
        var brand = await content.BrandAsync(ct);
        var article = Slugs.IsValid(slug)
            ? await db.KnowledgeArticles.AsNoTracking().FirstOrDefaultAsync(a => a.Slug == slug && a.Published, ct)
            : null;
        if (article is null)
        {
            return Page(brand, StatusCodes.Status404NotFound, "Article not found", "Article not found",
                "<p>There is no such article, or it is no longer available.</p>" + SearchBox("") + "<p><a href=\"/kb\">All articles</a></p>");
        }
        var crumbs = $"<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"/kb\">Help centre</a>"
            + (string.IsNullOrWhiteSpace(article.Category) ? "" : $" › {Html.Encode(article.Category.Trim())}") + "</nav>";
        var html = $"{crumbs}<article>{Render(article.Body)}</article>"
            + $"<p class=\"meta\">Updated {article.UpdatedAt.ToString("d MMMM yyyy", CultureInfo.InvariantCulture)}</p>{SearchBox("")}";
        return Page(brand, StatusCodes.Status200OK, article.Title, article.Title, html);
    }

    /// <summary>An article's Markdown as HTML, through the sanitiser: script, event handlers and unsafe links are removed.</summary>
    internal static string Render(string markdown)
    {
        try
        {
            return Clientele.Forms.SafeHtml.FromMarkdown(markdown);
        }
        catch (ArgumentException)
        {
            return "<pre>" + Html.Encode(markdown) + "</pre>"; // nested too deeply to parse
        }
    }

    private static string SearchBox(string query) =>
        "<form class=\"search\" method=\"get\" action=\"/kb\" role=\"search\"><label for=\"q\">Search the help centre</label>"
        + $"<div class=\"row\"><input id=\"q\" name=\"q\" type=\"search\" value=\"{Html.Encode(query)}\" placeholder=\"e.g. shipping times\" maxlength=\"200\">"
        + "<button type=\"submit\">Search</button></div></form>";

    private static IResult Page(Brand brand, int status, string title, string heading, string body) =>
        Results.Content(Document(brand, title, heading, body), "text/html; charset=utf-8", Encoding.UTF8, status);

    internal static string Document(Brand brand, string title, string heading, string body)
    {
        var primary = Brand.SafeColor(brand.PrimaryColor, "#3558d8");
        var background = Brand.SafeColor(brand.BackgroundColor, "#f4f5f7");
        var surface = Brand.SafeColor(brand.ContentBackgroundColor, "#ffffff");
        var text = Brand.SafeColor(brand.TextColor, "#1f2933");
        var name = Html.Encode(brand.BusinessName);
        var logo = Brand.IsWebUrl(brand.LogoUrl) ? $"<img src=\"{Html.Encode(brand.LogoUrl!)}\" alt=\"{name}\" height=\"40\">" : $"<span>{name}</span>";
        var website = Brand.IsWebUrl(brand.WebsiteUrl) ? $"<a href=\"{Html.Encode(brand.WebsiteUrl!)}\">{Html.Encode(brand.WebsiteUrl!)}</a>" : "";
        return $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{Html.Encode(title)}} · {{name}}</title>
            <style>
            body { font: 16px/1.6 system-ui, sans-serif; margin: 0; color: {{text}}; background: {{background}}; }
            header, main, footer { max-width: 46rem; margin: 0 auto; padding: 16px; box-sizing: border-box; }
            header a { color: inherit; text-decoration: none; font-weight: 700; font-size: 1.2rem; }
            main { background: {{surface}}; border-radius: 8px; padding: 24px 32px; }
            a { color: {{primary}}; }
            h1 { line-height: 1.25; margin-top: 0; }
            .search { margin: 16px 0 24px; }
            .search label { display: block; font-weight: 600; margin-bottom: 4px; }
            .search .row { display: flex; gap: 8px; }
            .search input { flex: 1; font: inherit; padding: 8px; border: 1px solid #767676; border-radius: 4px; }
            button { font: inherit; padding: 8px 20px; border: 0; border-radius: 4px; background: {{primary}}; color: #fff; cursor: pointer; }
            button:focus, input:focus, a:focus { outline: 3px solid #f5c211; outline-offset: 1px; }
            .results li { margin-bottom: 12px; }
            .results p { margin: 4px 0 0; }
            .crumbs, .meta, footer { font-size: 0.875rem; opacity: 0.8; }
            article img { max-width: 100%; height: auto; }
            article pre { overflow-x: auto; background: rgba(0, 0, 0, 0.05); padding: 8px; }
            article table { border-collapse: collapse; }
            article th, article td { border: 1px solid #ccc; padding: 4px 8px; }
            </style>
            </head>
            <body>
            <header><a href="/kb">{{logo}}</a></header>
            <main><h1>{{Html.Encode(heading)}}</h1>{{body}}</main>
            <footer>{{name}} {{website}}</footer>
            </body>
            </html>
            """;
    }
}
