using System.Security.Claims;
using System.Text.Json;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Privacy;

/// <summary>A data subject's rights through the API: export everything (access) and erase (erasure). Admin keys only.</summary>
internal static class PrivacyApi
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    internal sealed record ErasureDto(Guid Id, Guid ContactId, DateTime At, string By, JsonElement Removed, JsonElement Scrubbed, bool Compacted, DateTime? CompactedAt, string Check);

    public static void MapPrivacy(IEndpointRouteBuilder app, RouteGroupBuilder api)
    {
        api.MapGet("/contacts/{id:guid}/export", ExportAsync).RequireAuthorization(ApiKeys.AdminPolicy).WithTags("Privacy")
            .WithSummary("Everything about a contact as JSON: the contact, the consent log, events, orders, messages, tickets, answers…");
        api.MapPost("/contacts/{id:guid}/erase", EraseAsync).RequireAuthorization(ApiKeys.AdminPolicy).WithTags("Privacy")
            .WithSummary("Erase a contact for good: their rows everywhere, and their address wherever another row mentions it");
        var privacy = api.MapGroup("/privacy").WithTags("Privacy").RequireAuthorization(ApiKeys.AdminPolicy);
        privacy.MapGet("/erasures", ListAsync).WithSummary("Erasures done, newest first");
        privacy.MapGet("/erasures/{id:guid}", GetAsync).WithSummary("One erasure, with whether the database has been compacted since");

        // The same export for the back office (owners, signed in).
        app.MapGet("/contacts/{id:guid}/export.json", ExportAsync).RequireAuthorization(Web.Access.Owner);
    }

    private static async Task<IResult> ExportAsync(Guid id, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        var document = await ContactExport.BuildAsync(db, id, time.GetUtcNow().UtcDateTime, ct);
        if (document is null)
        {
            return ApiProblems.NotFound($"No contact has the id {id}.");
        }
        var bytes = JsonSerializer.SerializeToUtf8Bytes(document, Indented);
        return TypedResults.File(bytes, "application/json", $"contact-{id}.json");
    }

    private static async Task<IResult> EraseAsync(Guid id, ClaimsPrincipal user, ClienteleDatabase database, ErasureCompactor compactor, TimeProvider time, CancellationToken ct)
    {
        var by = user.Identity?.Name is { Length: > 0 } name ? "api key " + name : "api";
        var outcome = await ContactErasure.EraseAsync(database, id, by, time.GetUtcNow().UtcDateTime, ct);
        if (outcome is null)
        {
            return ApiProblems.NotFound($"No contact has the id {id}. It may have been erased already: see GET /api/v1/privacy/erasures.");
        }
        compactor.Compact(outcome);
        return TypedResults.Ok(Dto(outcome.Erasure));
    }

    private static async Task<IResult> ListAsync(ClienteleDb db, int? limit, CancellationToken ct)
    {
        var rows = await db.Erasures.AsNoTracking().OrderByDescending(e => e.At).Take(Math.Clamp(limit ?? 100, 1, 1000)).ToListAsync(ct);
        return TypedResults.Ok(new { items = rows.Select(Dto) });
    }

    private static async Task<IResult> GetAsync(Guid id, ClienteleDb db, CancellationToken ct) =>
        await db.Erasures.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, ct) is { } erasure
            ? TypedResults.Ok(Dto(erasure))
            : ApiProblems.NotFound($"There is no erasure {id}.");

    internal static ErasureDto Dto(Erasure e) => new(e.Id, e.ContactId, e.At, e.By,
        JsonSerializer.Deserialize<JsonElement>(e.Removed), JsonSerializer.Deserialize<JsonElement>(e.Scrubbed), e.CompactedAt is not null, e.CompactedAt, e.Check);
}
