using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Commerce;

/// <summary>What customers bought together: a product's partners and a contact's picks.</summary>
internal static class RecommendationsApi
{
    public const int MaxLimit = 20;

    public static RouteGroupBuilder MapRecommendations(this RouteGroupBuilder api)
    {
        api.MapGet("/products/{sku}/bought-together", BoughtTogetherAsync).WithTags("Products").RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("The products most often bought by the customers who bought this one, with how many bought both, confidence, lift and score");
        api.MapGet("/contacts/{id:guid}/recommendations", ForContactAsync).WithTags("Contacts").RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Products picked for the contact (what e-mails show as recommendations): bought together with what they bought, else best sellers");
        return api;
    }

    internal sealed record PartnerDto(
        string Sku, string Name, decimal Price, string Currency, string? Url, string? ImageUrl, int Buyers, double Confidence, double Lift, double Score);

    internal sealed record BoughtTogetherDto(string Sku, string Name, int Buyers, DateTime? ComputedAt, List<PartnerDto> Items);

    internal sealed record RecommendationDto(
        string Sku, string Name, decimal Price, string Currency, string? Url, string? ImageUrl, string Source, double Score, IReadOnlyList<string> Because);

    internal sealed record RecommendationsDto(Guid ContactId, DateTime? ComputedAt, List<RecommendationDto> Items);

    internal static async Task<Results<Ok<BoughtTogetherDto>, ProblemHttpResult>> BoughtTogetherAsync(string sku, ClienteleDb db, CancellationToken ct)
    {
        var product = await db.Products.AsNoTracking().FirstOrDefaultAsync(p => p.Sku == sku, ct);
        if (product is null)
        {
            return ApiProblems.NotFound($"No product has the SKU '{sku}'.");
        }
        var items = await db.ProductPairs.AsNoTracking().Where(p => p.Sku == sku)
            .Join(db.Products, p => p.PartnerSku, other => other.Sku, (p, other) => new { p, other })
            .OrderBy(x => x.p.Rank)
            .Select(x => new PartnerDto(x.other.Sku, x.other.Name, x.other.Price, x.other.Currency, x.other.Url, x.other.ImageUrl,
                x.p.Buyers, x.p.Confidence, x.p.Lift, x.p.Score))
            .ToListAsync(ct);
        var buyers = await db.ProductSales.AsNoTracking().Where(s => s.Sku == sku).Select(s => s.Buyers).FirstOrDefaultAsync(ct);
        var state = await Recommendations.StateAsync(db, ct);
        return TypedResults.Ok(new BoughtTogetherDto(product.Sku, product.Name, buyers, state?.ComputedAt, items));
    }

    internal static async Task<Results<Ok<RecommendationsDto>, ProblemHttpResult>> ForContactAsync(Guid id, int? limit, ClienteleDb db, CancellationToken ct)
    {
        if (!await db.Contacts.AnyAsync(c => c.Id == id && c.DeletedAt == null, ct))
        {
            return ApiProblems.NotFound($"No contact has the id {id}.");
        }
        if (limit is < 1 or > MaxLimit)
        {
            return ApiProblems.BadRequest($"The limit must be between 1 and {MaxLimit}.", "query:limit");
        }
        var picks = await Recommendations.ForContactAsync(db, id, limit ?? BoughtTogether.DefaultPicks, ct);
        var state = await Recommendations.StateAsync(db, ct);
        return TypedResults.Ok(new RecommendationsDto(id, state?.ComputedAt,
            [.. picks.Select(p => new RecommendationDto(p.Sku, p.Name, p.Price, p.Currency, p.Url, p.ImageUrl, SourceName(p.Source), Math.Round(p.Score, 4), p.Because))]));
    }

    private static string SourceName(PickSource source) => source switch
    {
        PickSource.BoughtTogether => "bought-together",
        PickSource.BestSeller => "best-seller",
        _ => "catalog",
    };
}
