using Clientele.Api;
using Clientele.Data;
using Markdig;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Knowledge;

/// <summary>What a client sends to save an article. Omitted optional fields keep their value on an update.</summary>
internal sealed record ArticleInput(string? Title, string? Body, string? Slug = null, string? Summary = null, string? Category = null,
    List<string>? Tags = null, bool? Published = null);

/// <summary>Checking and saving articles, shared by the API and the back-office editor.</summary>
internal static class ArticleStore
{
    public const int MaxTitle = 200;
    public const int MaxBody = 100_000;
    public const int MaxSummary = 500;
    public const int MaxCategory = 100;
    public const int MaxTags = 20;
    public const int MaxTag = 50;

    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    /// <summary>Everything wrong with the input, by JSON pointer.</summary>
    public static List<FieldError> Check(ArticleInput input)
    {
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(input.Title) || input.Title.Trim().Length > MaxTitle)
        {
            errors.Add(new("/title", $"A title of 1 to {MaxTitle} characters, the question it answers (e.g. \"How long does shipping take?\")."));
        }
        if (string.IsNullOrWhiteSpace(input.Body))
        {
            errors.Add(new("/body", "The article's text, in Markdown."));
        }
        else if (input.Body.Length > MaxBody)
        {
            errors.Add(new("/body", $"At most {MaxBody:N0} characters; split a longer article in two."));
        }
        else
        {
            try
            {
                Markdown.Parse(input.Body, Pipeline);
            }
            catch (ArgumentException)
            {
                errors.Add(new("/body", "The Markdown is nested too deeply to read."));
            }
        }
        if (input.Slug is { } slug && !Slugs.IsValid(slug))
        {
            errors.Add(new("/slug", $"Lower-case letters, digits and single dashes, up to {Slugs.MaxLength} characters (e.g. shipping-times); leave it out to make one from the title."));
        }
        if (input.Summary is { Length: > MaxSummary })
        {
            errors.Add(new("/summary", $"At most {MaxSummary} characters."));
        }
        if (input.Category is { } category && category.Trim().Length > MaxCategory)
        {
            errors.Add(new("/category", $"At most {MaxCategory} characters."));
        }
        if (input.Tags is { } tags)
        {
            if (tags.Count > MaxTags)
            {
                errors.Add(new("/tags", $"At most {MaxTags} tags."));
            }
            for (var i = 0; i < tags.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(tags[i]) || tags[i].Trim().Length > MaxTag)
                {
                    errors.Add(new($"/tags/{i}", $"A tag of 1 to {MaxTag} characters."));
                }
            }
        }
        return errors;
    }

    private static string? Optional(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>
    /// Creates (<paramref name="id"/> null) or updates an article: the saved article, or the problem to answer with
    /// (invalid fields, an unknown id, a slug in use).
    /// </summary>
    public static async Task<(Article? Article, IResult? Problem)> SaveAsync(ClienteleDatabase database, ClienteleDb db, Guid? id, ArticleInput input,
        string? by, DateTime now, CancellationToken ct)
    {
        var errors = Check(input);
        if (errors.Count > 0)
        {
            return (null, ApiProblems.Invalid(errors));
        }
        using (await database.EnterWriteAsync(ct))
        {
            Article article;
            if (id is { } existing)
            {
                if (await db.KnowledgeArticles.FirstOrDefaultAsync(a => a.Id == existing, ct) is not { } found)
                {
                    return (null, ApiProblems.NotFound($"There is no article {existing}."));
                }
                article = found;
            }
            else
            {
                article = new Article { Id = Guid.CreateVersion7(), CreatedAt = now };
                db.KnowledgeArticles.Add(article);
            }
            article.Title = input.Title!.Trim();
            article.Body = input.Body!;
            if (input.Summary is not null)
            {
                article.Summary = Optional(input.Summary);
            }
            if (input.Category is not null)
            {
                article.Category = Optional(input.Category);
            }
            if (input.Tags is not null)
            {
                article.Tags = [.. input.Tags.Select(t => t.Trim()).Distinct(StringComparer.OrdinalIgnoreCase)];
            }
            if (input.Published is { } published)
            {
                article.Published = published;
            }
            if (input.Slug is { } slug)
            {
                if (slug != article.Slug && await db.KnowledgeArticles.AnyAsync(a => a.Slug == slug && a.Id != article.Id, ct))
                {
                    return (null, ApiProblems.Conflict($"Another article has the address /kb/{slug} already.", "/slug"));
                }
                article.Slug = slug;
            }
            else if (id is null)
            {
                // Made from the title once; later title changes keep it, so links already sent stay good.
                var wanted = Slugs.From(article.Title);
                var taken = await db.KnowledgeArticles.Where(a => a.Slug == wanted || a.Slug.StartsWith(wanted + "-"))
                    .Select(a => a.Slug).ToListAsync(ct);
                article.Slug = Slugs.Unique(wanted, taken.ToHashSet(StringComparer.Ordinal));
            }
            article.UpdatedAt = now;
            article.UpdatedBy = by;
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException)
            {
                // Another instance took the slug between the check and the save.
                return (null, ApiProblems.Conflict($"Another article has the address /kb/{article.Slug} already.", "/slug"));
            }
            return (article, null);
        }
    }

    /// <summary>Publishes or withdraws an article; false when there is no such article.</summary>
    public static async Task<bool> SetPublishedAsync(ClienteleDatabase database, ClienteleDb db, Guid id, bool published, string? by, DateTime now, CancellationToken ct)
    {
        using (await database.EnterWriteAsync(ct))
        {
            return await db.KnowledgeArticles.Where(a => a.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(a => a.Published, published).SetProperty(a => a.UpdatedAt, now).SetProperty(a => a.UpdatedBy, by), ct) > 0;
        }
    }

    /// <summary>Deletes an article (its address then answers 404); false when there is no such article.</summary>
    public static async Task<bool> DeleteAsync(ClienteleDatabase database, ClienteleDb db, Guid id, CancellationToken ct)
    {
        using (await database.EnterWriteAsync(ct))
        {
            return await db.KnowledgeArticles.Where(a => a.Id == id).ExecuteDeleteAsync(ct) > 0;
        }
    }
}
