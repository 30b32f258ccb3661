using System.Security.Claims;
using System.Security.Cryptography;
using Clientele.Accounts;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Api;

/// <summary>
/// A POST with an <c>Idempotency-Key</c> header runs once per API key: a retry with the same key and
/// body gets the first response again (with <c>Idempotent-Replayed: true</c>); the same key with a
/// different body is refused, since that is a client bug that would otherwise lose data.
/// </summary>
internal sealed class IdempotencyMiddleware(RequestDelegate next)
{
    public const string Header = "Idempotency-Key";
    public static readonly TimeSpan KeepFor = TimeSpan.FromHours(24);

    public async Task InvokeAsync(HttpContext http, ClienteleDatabase database, TimeProvider time)
    {
        if (!HttpMethods.IsPost(http.Request.Method)
            || !http.Request.Headers.TryGetValue(Header, out var values)
            || http.User.FindFirstValue(ClaimTypes.NameIdentifier) is not { } keyIdText
            || !Guid.TryParse(keyIdText, out var apiKeyId)
            || http.User.Identity?.AuthenticationType != ApiKeys.Scheme)
        {
            await next(http);
            return;
        }
        var key = values.ToString();
        if (key.Length is 0 or > 200)
        {
            await ApiProblems.BadRequest("The Idempotency-Key header must be 1 to 200 characters.", "header:Idempotency-Key").ExecuteAsync(http);
            return;
        }

        http.Request.EnableBuffering();
        var hash = await SHA256.HashDataAsync(http.Request.Body, http.RequestAborted);
        http.Request.Body.Position = 0;
        var path = http.Request.Path.Value ?? "";

        await using (var db = database.CreateDbContext())
        {
            var earlier = await db.IdempotentRequests.AsNoTracking()
                .FirstOrDefaultAsync(r => r.ApiKeyId == apiKeyId && r.Key == key, http.RequestAborted);
            if (earlier is not null)
            {
                if (earlier.Path != path || !earlier.RequestHash.AsSpan().SequenceEqual(hash))
                {
                    await ApiProblems.Make(StatusCodes.Status422UnprocessableEntity, "Idempotency key reused",
                        $"The Idempotency-Key '{key}' was already used for a different request. Use a new key for a new request.",
                        "header:Idempotency-Key", null).ExecuteAsync(http);
                    return;
                }
                http.Response.StatusCode = earlier.StatusCode;
                http.Response.ContentType = earlier.StatusCode >= 400 ? "application/problem+json" : "application/json";
                http.Response.Headers["Idempotent-Replayed"] = "true";
                await http.Response.WriteAsync(earlier.ResponseBody, http.RequestAborted);
                return;
            }
        }

        var original = http.Response.Body;
        using var buffer = new MemoryStream();
        http.Response.Body = buffer;
        try
        {
            await next(http);
        }
        finally
        {
            http.Response.Body = original;
        }
        buffer.Position = 0;
        var body = await new StreamReader(buffer).ReadToEndAsync(http.RequestAborted);
        // Server errors are not remembered: the retry deserves a fresh attempt.
        if (http.Response.StatusCode < 500)
        {
            await RememberAsync(database, time, apiKeyId, key, path, hash, http.Response.StatusCode, body, http.RequestAborted);
        }
        buffer.Position = 0;
        await buffer.CopyToAsync(original, http.RequestAborted);
    }

    private static async Task RememberAsync(ClienteleDatabase database, TimeProvider time, Guid apiKeyId, string key, string path,
        byte[] hash, int status, string body, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        db.IdempotentRequests.Add(new IdempotentRequest
        {
            ApiKeyId = apiKeyId,
            Key = key,
            Path = path,
            RequestHash = hash,
            StatusCode = status,
            ResponseBody = body,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // A concurrent request with the same key stored its response first; either answer is the same.
        }
    }
}
