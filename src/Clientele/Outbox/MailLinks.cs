using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Clientele.Data;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Clientele.Outbox;

/// <summary>
/// The links a message carries back to the app: open pixel, click redirect, one-click unsubscribe and preference
/// centre. Each holds an HMAC of what it points at, made with a key kept in the database, so a tampered or made-up
/// link is refused (no open redirect, no unsubscribing someone else).
/// </summary>
internal sealed class MailLinks(ClienteleDatabase database, IConfiguration config, IServiceProvider services)
{
    private const string SecretKey = "mail.secret";
    private byte[]? _key;
    private string? _baseUrl;

    /// <summary>The app's public address (<c>Clientele:PublicUrl</c>), else the first address it listens on.</summary>
    public string BaseUrl => _baseUrl ??= ResolveBaseUrl();

    private string ResolveBaseUrl()
    {
        if (config["Clientele:PublicUrl"] is { Length: > 0 } configured)
        {
            return configured.TrimEnd('/');
        }
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        var first = addresses?.FirstOrDefault(a => a.StartsWith("https://", StringComparison.Ordinal)) ?? addresses?.FirstOrDefault();
        return (first ?? config["Urls"]?.Split(';')[0] ?? "http://localhost:5000").Replace("://+", "://localhost", StringComparison.Ordinal)
            .Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://[::]", "://localhost", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal).TrimEnd('/');
    }

    /// <summary>Loads (or makes, on first use) the signing key. Called once at start.</summary>
    public async Task InitializeAsync(DateTime now, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        var stored = await SettingsStore.GetOrCreateAsync(db, SecretKey, () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), now, ct);
        _key = Convert.FromBase64String(stored);
    }

    private byte[] Key => _key ?? throw new InvalidOperationException("Mail links are not initialised yet.");

    public string OpenPixel(Guid message) => $"{BaseUrl}/t/o/{Token("o", message)}";

    public string Click(Guid message, string url) =>
        $"{BaseUrl}/t/c/{Token("c", message, url)}?u={Uri.EscapeDataString(url)}";

    /// <summary>A one-click answer to a survey in a message: the score is part of the signature, so it cannot be changed in the link.</summary>
    public string Answer(Guid message, Guid survey, int score) =>
        $"{BaseUrl}/s/{Token("s", message, $"{survey:N}-{score}")}?a={survey:N}-{score}";

    /// <summary>The contact's own link to the page where they write a review (<c>review.link</c> in templates).</summary>
    public string Review(Guid contact) => $"{BaseUrl}/review/{Token("r", contact)}";

    public string Unsubscribe(Guid message) => $"{BaseUrl}/u/{Token("u", message)}";

    public string Preferences(Guid contact) => $"{BaseUrl}/preferences/{Token("p", contact)}";

    /// <summary>The id in a token, when its signature holds for <paramref name="purpose"/> (and <paramref name="url"/>).</summary>
    public Guid? Verify(string purpose, string token, string? url = null)
    {
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot != 32 || !Guid.TryParseExact(token.AsSpan(0, 32), "N", out var id))
        {
            return null;
        }
        var expected = Token(purpose, id, url);
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(token)) ? id : null;
    }

    private string Token(string purpose, Guid id, string? url = null)
    {
        Span<byte> mac = stackalloc byte[32];
        var payload = Encoding.UTF8.GetBytes(url is null ? $"{purpose}:{id:N}" : $"{purpose}:{id:N}|{url}");
        HMACSHA256.HashData(Key, payload, mac);
        return $"{id:N}.{Base64Url.EncodeToString(mac[..12])}";
    }
}
