using Clientele.Api;
using Clientele.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace Clientele.Accounts;

internal static class ApiKeysApi
{
    public static RouteGroupBuilder MapApiKeys(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/apikeys").WithTags("API keys").RequireAuthorization(ApiKeys.AdminPolicy);
        group.MapGet("/", List);
        group.MapPost("/", Create);
        group.MapDelete("/{id:guid}", Revoke);
        return api;
    }

    internal static async Task<Ok<List<ApiKeyDto>>> List(ClienteleDb db, CancellationToken ct) =>
        TypedResults.Ok(await db.ApiKeys.AsNoTracking().OrderByDescending(k => k.CreatedAt)
            .Select(k => new ApiKeyDto(k.Id, k.Name, "clt_" + k.Prefix + "_…", k.Scope.ToString().ToLower(), k.CreatedAt, k.LastUsedAt, k.RevokedAt))
            .ToListAsync(ct));

    internal static async Task<Results<Created<CreatedApiKey>, ValidationProblem>> Create(CreateApiKey input, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > 100)
        {
            return ApiProblems.Invalid("/name", "A name of 1 to 100 characters, to tell keys apart.");
        }
        if (!Enum.TryParse<ApiScope>(input.Scope, ignoreCase: true, out var scope) || !Enum.IsDefined(scope))
        {
            return ApiProblems.Invalid("/scope", "One of \"read\", \"write\", \"admin\".");
        }
        var key = await ApiKeys.CreateAsync(db, input.Name.Trim(), scope, time.GetUtcNow().UtcDateTime, ct);
        return TypedResults.Created("/api/v1/apikeys", new CreatedApiKey(input.Name.Trim(), scope.ToString().ToLowerInvariant(), key));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> Revoke(Guid id, ClienteleDb db, IMemoryCache cache, TimeProvider time, CancellationToken ct)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id, ct);
        if (key is null)
        {
            return ApiProblems.NotFound($"No API key has the id {id}.");
        }
        key.RevokedAt ??= time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        cache.Remove(ApiKeyAuthenticationHandler.CacheKey(key.Prefix));
        return TypedResults.NoContent();
    }
}

internal sealed record CreateApiKey(string? Name, string? Scope);

internal sealed record CreatedApiKey(string Name, string Scope, string Key);

internal sealed record ApiKeyDto(Guid Id, string Name, string Key, string Scope, DateTime CreatedAt, DateTime? LastUsedAt, DateTime? RevokedAt);
