using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Clientele.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Clientele.Accounts;

internal static class ApiKeys
{
    public const string Scheme = "ApiKey";
    public const string ScopeClaim = "scope";
    public const string ReadPolicy = "api:read";
    public const string WritePolicy = "api:write";
    public const string AdminPolicy = "api:admin";

    /// <summary>Creates a key; the returned secret is shown once and never stored.</summary>
    public static (ApiKey Row, string Secret) Generate(string name, ApiScope scope, DateTime now)
    {
        var prefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var key = $"clt_{prefix}_{secret}";
        return (new ApiKey
        {
            Id = Guid.CreateVersion7(),
            Name = name,
            Prefix = prefix,
            Hash = Hash(key),
            Scope = scope,
            CreatedAt = now,
        }, key);
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static bool TryParsePrefix(string key, out string prefix)
    {
        prefix = "";
        var parts = key.Split('_', 3);
        if (parts.Length != 3 || parts[0] != "clt" || parts[1].Length != 10)
        {
            return false;
        }
        prefix = parts[1];
        return true;
    }

    public static bool Allows(ApiScope granted, ApiScope needed) => granted >= needed;

    public static async Task<string> CreateAsync(ClienteleDb db, string name, ApiScope scope, DateTime now, CancellationToken ct)
    {
        var (row, secret) = Generate(name, scope, now);
        db.ApiKeys.Add(row);
        await db.SaveChangesAsync(ct);
        return secret;
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// <c>Authorization: Bearer clt_…</c>. Keys are found by their public prefix and checked against the
/// stored hash in constant time. Verified keys are cached for a short while so a busy shop does not
/// pay a database read per request; revoking clears the cache on this instance at once.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ClienteleDatabase database,
    IMemoryCache cache,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan TouchEvery = TimeSpan.FromMinutes(1);

    internal static string CacheKey(string prefix) => "apikey:" + prefix;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("Use 'Authorization: Bearer <api key>'.");
        }
        var key = header["Bearer ".Length..].Trim();
        if (!ApiKeys.TryParsePrefix(key, out var prefix))
        {
            return AuthenticateResult.Fail("The API key is malformed.");
        }

        var row = await cache.GetOrCreateAsync(CacheKey(prefix), async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = CacheFor;
            await using var db = database.CreateDbContext();
            return await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Prefix == prefix, Context.RequestAborted);
        });
        if (row is null || row.RevokedAt is not null
            || !CryptographicOperations.FixedTimeEquals(row.Hash, ApiKeys.Hash(key)))
        {
            return AuthenticateResult.Fail("The API key is unknown or revoked.");
        }

        await TouchAsync(row);
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, row.Id.ToString()),
                new Claim(ClaimTypes.Name, row.Name),
                new Claim(ApiKeys.ScopeClaim, row.Scope.ToString().ToLowerInvariant()),
            ],
            ApiKeys.Scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiKeys.Scheme));
    }

    private async Task TouchAsync(ApiKey row)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (row.LastUsedAt is { } last && now - last < TouchEvery)
        {
            return;
        }
        row.LastUsedAt = now; // the cached copy: at most one write per key per minute
        await using var db = database.CreateDbContext();
        await db.ApiKeys.Where(k => k.Id == row.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized",
            failure ?? "Send an API key as 'Authorization: Bearer <key>'. Create one with 'clientele apikeys create' or under Settings → API keys.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var scope = Context.User.FindFirst(ApiKeys.ScopeClaim)?.Value ?? "none";
        return WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden",
            $"This API key has the '{scope}' scope, which does not allow {Request.Method} {Request.Path}.");
    }

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            Response.Headers.WWWAuthenticate = "Bearer";
        }
        var problems = Context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail, Instance = Request.Path },
        });
    }
}
