using System.Security.Cryptography;
using System.Text;

namespace Clientele.Accounts;

/// <summary>
/// Asks a Pwned Passwords range service (Have I Been Pwned's k-anonymity API, or a copy run in-house) whether a new
/// password has appeared in a breach, when <c>Clientele:Passwords:BreachApi</c> names one. Only the first five hex
/// characters of the password's SHA-1 leave the machine; the answer lists every suffix with that prefix and the match is
/// made here. A service that does not answer never blocks adding a user: a warning is logged and the built-in list of
/// <see cref="PasswordPolicy"/> stands alone.
/// </summary>
internal sealed class BreachedPasswords(string? url, ILogger log) : IDisposable
{
    public const string Setting = "Clientele:Passwords:BreachApi";

    public const string Refusal = "This password has appeared in a data breach, so attackers try it early. Choose another.";

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public static BreachedPasswords FromConfiguration(IConfiguration config, ILogger<BreachedPasswords> log) =>
        new(config[Setting], log);

    public bool Enabled => !string.IsNullOrWhiteSpace(url);

    /// <summary>True when the service lists the password; false when it does not, is not set, or did not answer.</summary>
    public async Task<bool> IsBreachedAsync(string password, CancellationToken ct)
    {
        if (!Enabled)
        {
            return false;
        }
        var (prefix, suffix) = PasswordPolicy.RangeKey(password);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url!.TrimEnd('/') + "/" + prefix);
            request.Headers.Add("Add-Padding", "true"); // every answer the same size, so its length tells an observer nothing
            using var response = await _http.SendAsync(request, ct);
            response.EnsureSuccessStatusCode();
            return PasswordPolicy.FoundInRange(await response.Content.ReadAsStringAsync(ct), suffix);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException or UriFormatException && !ct.IsCancellationRequested)
        {
            log.LogWarning("The breached-password service at {Url} did not answer ({Reason}); the password was checked against the built-in list only.",
                url, ex.Message);
            return false;
        }
    }

    public void Dispose() => _http.Dispose();
}
