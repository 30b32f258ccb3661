using System.Security.Claims;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;
using Clientele.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Knowledge;

/// <summary><c>/api/v1/kb</c>: knowledge-base articles (read scope to read, write scope to change) and the search over published ones.</summary>
internal static class KnowledgeApi
{
    public static RouteGroupBuilder MapKnowledge(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/kb").WithTags("Knowledge base");
        group.MapGet("/articles", ListAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Articles without their bodies, by category and title; ?q= searches them (drafts too), ?published=true|false filters");
        group.MapGet("/articles/{key}", GetAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("One article by id or slug, with its Markdown body");
        group.MapPost("/articles", CreateAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<ArticleInput>("application/json")
            .WithSummary("Write an article: {\"title\", \"body\" (Markdown), \"slug\", \"summary\", \"category\", \"tags\", \"published\"}; the slug is made from the title unless given");
        group.MapPut("/articles/{id:guid}", UpdateAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<ArticleInput>("application/json")
            .WithSummary("Change an article: title and body as for a new one; optional fields left out keep their value");
        group.MapPost("/articles/{id:guid}/publish", (Guid id, HttpContext http, ClienteleDatabase database, ClienteleDb db, MailLinks links, TimeProvider time, CancellationToken ct) =>
                SetPublishedAsync(id, true, http, database, db, links, time, ct))
            .RequireAuthorization(ApiKeys.WritePolicy).WithSummary("Make an article public and offered in replies");
        group.MapPost("/articles/{id:guid}/unpublish", (Guid id, HttpContext http, ClienteleDatabase database, ClienteleDb db, MailLinks links, TimeProvider time, CancellationToken ct) =>
                SetPublishedAsync(id, false, http, database, db, links, time, ct))
            .RequireAuthorization(ApiKeys.WritePolicy).WithSummary("Withdraw an article: its address answers 404 and replies no longer offer it; it stays to edit");
        group.MapDelete("/articles/{id:guid}", DeleteAsync).RequireAuthorization(ApiKeys.WritePolicy).WithSummary("Delete an article for good");
        group.MapGet("/search", SearchAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Published articles for ?q= (a few words or a whole customer e-mail), best first, with a plain-text snippet and the public url; &limit= up to 50");
        group.MapPost("/search", SearchTextAsync).RequireAuthorization(ApiKeys.ReadPolicy).Accepts<SearchInput>("application/json")
            .WithSummary("The same search for a text too long for an address: {\"text\", \"limit\"}");
        return api;
    }

    internal sealed record ArticleDto(Guid Id, string Slug, string Title, string? Summary, string Body, string? Category, List<string> Tags, bool Published,
        string Url, DateTime CreatedAt, DateTime UpdatedAt, string? UpdatedBy);

    internal sealed record ArticleListItem(Guid Id, string Slug, string Title, string? Summary, string? Category, List<string> Tags, bool Published,
        string Url, DateTime UpdatedAt, string? UpdatedBy);

    internal sealed record SearchHit(Guid Id, string Slug, string Title, string Snippet, string Url);

    internal sealed record SearchResult(string Query, List<SearchHit> Items);

    internal sealed record SearchInput(string? Text, int? Limit);

    private static ArticleDto Dto(Article a, MailLinks links) =>
        new(a.Id, a.Slug, a.Title, a.Summary, a.Body, a.Category, a.Tags, a.Published, KnowledgeBase.ArticleUrl(links, a.Slug), a.CreatedAt, a.UpdatedAt, a.UpdatedBy);

    /// <summary>Who is saving: the API key's name.</summary>
    private static string By(HttpContext http) => "API key " + (http.User.FindFirstValue(ClaimTypes.Name) ?? "?");

    private static async Task<IResult> ListAsync(string? q, bool? published, ClienteleDb db, MailLinks links, CancellationToken ct)
    {
        var query = db.KnowledgeArticles.AsNoTracking();
        if (published is { } p)
        {
            query = query.Where(a => a.Published == p);
        }
        List<Article> articles;
        if (!string.IsNullOrWhiteSpace(q))
        {
            var hits = await KnowledgeBase.FindAsync(db, q, KnowledgeBase.MaxLimit, drafts: true, ct);
            var ids = hits.Select(h => h.Id).ToList();
            var found = await query.Where(a => ids.Contains(a.Id)).ToDictionaryAsync(a => a.Id, ct);
            articles = [.. ids.Where(found.ContainsKey).Select(id => found[id])];
        }
        else
        {
            articles = (await query.ToListAsync(ct))
                .OrderBy(a => a.Category ?? "\uffff", StringComparer.OrdinalIgnoreCase).ThenBy(a => a.Title, StringComparer.OrdinalIgnoreCase).ToList();
        }
        return TypedResults.Ok(articles.Select(a => new ArticleListItem(a.Id, a.Slug, a.Title, a.Summary, a.Category, a.Tags, a.Published,
            KnowledgeBase.ArticleUrl(links, a.Slug), a.UpdatedAt, a.UpdatedBy)).ToList());
    }

    private static async Task<IResult> GetAsync(string key, ClienteleDb db, MailLinks links, CancellationToken ct)
    {
        var article = Guid.TryParse(key, out var id)
            ? await db.KnowledgeArticles.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, ct)
            : await db.KnowledgeArticles.AsNoTracking().FirstOrDefaultAsync(a => a.Slug == key, ct);
        return article is null ? ApiProblems.NotFound($"There is no article {key}.") : TypedResults.Ok(Dto(article, links));
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, ClienteleDatabase database, ClienteleDb db, MailLinks links, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<ArticleInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (article, invalid) = await ArticleStore.SaveAsync(database, db, null, input!, By(request.HttpContext), time.GetUtcNow().UtcDateTime, ct);
        return invalid ?? TypedResults.Created($"/api/v1/kb/articles/{article!.Id}", Dto(article, links));
    }

    private static async Task<IResult> UpdateAsync(Guid id, HttpRequest request, ClienteleDatabase database, ClienteleDb db, MailLinks links, TimeProvider time, CancellationToken ct)
    {
        if (!await db.KnowledgeArticles.AnyAsync(a => a.Id == id, ct))
        {
            return ApiProblems.NotFound($"There is no article {id}.");
        }
        var (input, problem) = await JsonBody.ReadAsync<ArticleInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (article, invalid) = await ArticleStore.SaveAsync(database, db, id, input!, By(request.HttpContext), time.GetUtcNow().UtcDateTime, ct);
        return invalid ?? TypedResults.Ok(Dto(article!, links));
    }

    private static async Task<IResult> SetPublishedAsync(Guid id, bool published, HttpContext http, ClienteleDatabase database, ClienteleDb db, MailLinks links,
        TimeProvider time, CancellationToken ct)
    {
        if (!await ArticleStore.SetPublishedAsync(database, db, id, published, By(http), time.GetUtcNow().UtcDateTime, ct))
        {
            return ApiProblems.NotFound($"There is no article {id}.");
        }
        return TypedResults.Ok(Dto(await db.KnowledgeArticles.AsNoTracking().SingleAsync(a => a.Id == id, ct), links));
    }

    private static async Task<IResult> DeleteAsync(Guid id, ClienteleDatabase database, ClienteleDb db, CancellationToken ct) =>
        await ArticleStore.DeleteAsync(database, db, id, ct) ? TypedResults.NoContent() : ApiProblems.NotFound($"There is no article {id}.");

    private static async Task<IResult> SearchAsync(string? q, int? limit, ClienteleDb db, MailLinks links, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(q))
        {
            return ApiProblems.BadRequest("Say what to look for: ?q=shipping times (a few words, or a whole e-mail).", "query:q");
        }
        if (limit is < 1 or > KnowledgeBase.MaxLimit)
        {
            return ApiProblems.BadRequest($"The limit is 1 to {KnowledgeBase.MaxLimit}.", "query:limit");
        }
        return TypedResults.Ok(await ResultAsync(db, q, limit, links, ct));
    }

    private static async Task<IResult> SearchTextAsync(HttpRequest request, ClienteleDb db, MailLinks links, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<SearchInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (string.IsNullOrWhiteSpace(input!.Text))
        {
            return ApiProblems.Invalid("/text", "The text to find articles for: a few words, or a whole customer e-mail.");
        }
        if (input.Limit is < 1 or > KnowledgeBase.MaxLimit)
        {
            return ApiProblems.Invalid("/limit", $"The limit is 1 to {KnowledgeBase.MaxLimit}.");
        }
        return TypedResults.Ok(await ResultAsync(db, input.Text, input.Limit, links, ct));
    }

    private static async Task<SearchResult> ResultAsync(ClienteleDb db, string text, int? limit, MailLinks links, CancellationToken ct)
    {
        var hits = await KnowledgeBase.SearchAsync(db, text, limit ?? 5, ct);
        return new SearchResult(text.Length > 200 ? text[..200] + "…" : text,
            [.. hits.Select(h => new SearchHit(h.Id, h.Slug, h.Title, h.Snippet, KnowledgeBase.ArticleUrl(links, h.Slug)))]);
    }
}
