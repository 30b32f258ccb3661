using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Webhooks;

/// <summary>Wakes the webhook sender when calls were queued.</summary>
internal sealed class WebhookSignal : WakeSignal;

/// <summary>What became of one try.</summary>
/// <param name="StatusCode">The HTTP status, when the receiver answered.</param>
/// <param name="Error">Why there was no answer or why it counts as a failure.</param>
/// <param name="Retry">Whether another try may succeed (5xx, 408, 429, timeouts, dropped connections).</param>
internal sealed record WebhookOutcome(int? StatusCode, string? Error, bool Retry)
{
    public bool Delivered => StatusCode is >= 200 and < 300;
}

/// <summary>
/// Delivers queued webhook calls. It takes due calls in one transaction (on PostgreSQL skipping calls another instance
/// holds) and holds them for a few minutes while it posts them; then records each outcome: delivered, due again after a
/// backoff (1 minute doubling up to 12 hours, ten tries), or failed. Each call is signed — <c>Clientele-Signature:
/// v1=</c> HMAC-SHA256 of <c>{timestamp}.{body}</c> with the business's webhook secret — and carries its
/// <c>Idempotency-Key</c>, since a crash between the post and the record makes a repeat possible.
/// </summary>
internal sealed class WebhookSender(ClienteleDatabase database, TimeProvider time, IConfiguration config, ILogger<WebhookSender> log) : IDisposable
{
    public const string SecretKey = "webhooks.secret";
    public const int MaxAttempts = 10;
    private const int Batch = 20;
    private static readonly TimeSpan Hold = TimeSpan.FromMinutes(5);

    private readonly Lazy<HttpClient> _http = new(() => CreateClient(WebhookGuard.AllowsPrivate(config),
        TimeSpan.FromSeconds(config.GetValue("Clientele:Webhooks:TimeoutSeconds", 10.0))));

    private byte[]? _secret;

    /// <summary>
    /// The HTTP client webhooks go through: no proxy, no redirects followed, every connection made by
    /// <see cref="WebhookGuard.ConnectAsync"/>. <paramref name="allowPrivate"/> is for receivers on the business's own network.
    /// </summary>
    internal static HttpClient CreateClient(bool allowPrivate, TimeSpan timeout) =>
        new(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = timeout,
            ConnectCallback = (context, ct) => WebhookGuard.ConnectAsync(context, allowPrivate, ct),
        })
        {
            Timeout = timeout,
            MaxResponseContentBufferSize = 64 * 1024,
        };

    /// <summary>The secret calls are signed with, made on first use.</summary>
    public async Task<byte[]> SecretAsync(CancellationToken ct)
    {
        if (_secret is { } known)
        {
            return known;
        }
        await using var db = database.CreateDbContext();
        string stored;
        using (await database.EnterWriteAsync(ct))
        {
            stored = await SettingsStore.GetOrCreateAsync(db, SecretKey, () => "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
                time.GetUtcNow().UtcDateTime, ct);
        }
        return _secret = Encoding.UTF8.GetBytes(stored);
    }

    /// <summary>The signature header's value for a body sent at a Unix time.</summary>
    public static string Sign(byte[] secret, long timestamp, string body) =>
        "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + "." + body)));

    /// <summary>Posts every due call once; returns how many it tried.</summary>
    /// <remarks>
    /// Claimed calls are posted and recorded even when the app starts stopping meanwhile (each post is bounded by the
    /// timeout): a graceful stop leaves no call held, so none waits out its hold before another instance sends it.
    /// </remarks>
    public async Task<int> SendDueAsync(CancellationToken ct)
    {
        var calls = await ClaimAsync(ct);
        if (calls.Count == 0)
        {
            return 0;
        }
        ct = CancellationToken.None;
        var secret = await SecretAsync(ct);
        var outcomes = await Task.WhenAll(calls.Select(c => PostAsync(c, secret, ct)));
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        using var gate = await database.EnterWriteAsync(ct);
        for (var i = 0; i < calls.Count; i++)
        {
            var (call, outcome) = (calls[i], outcomes[i]);
            var status = outcome.Delivered ? WebhookStatus.Delivered
                : outcome.Retry && call.Attempts < MaxAttempts ? WebhookStatus.Pending
                : WebhookStatus.Failed;
            DateTime? due = status == WebhookStatus.Pending ? now + Backoff(call.Attempts) : null;
            DateTime? delivered = outcome.Delivered ? now : null;
            var error = outcome.Error is { Length: > 1000 } long_ ? long_[..1000] : outcome.Error;
            await db.WebhookCalls.Where(c => c.Id == call.Id).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Status, status)
                .SetProperty(c => c.DueAt, due)
                .SetProperty(c => c.LastStatusCode, outcome.StatusCode)
                .SetProperty(c => c.LastError, error)
                .SetProperty(c => c.DeliveredAt, delivered), ct);
            if (status == WebhookStatus.Pending)
            {
                log.LogInformation("Webhook call {Call} to {Url} will be tried again at {Due:O} (try {Attempts} of {Max}): {Error}",
                    call.Id, call.Url, due, call.Attempts, MaxAttempts, outcome.Error ?? $"HTTP {outcome.StatusCode}");
            }
            if (status == WebhookStatus.Failed)
            {
                log.LogWarning("Webhook call {Call} to {Url} failed after {Attempts} tries: {Error}", call.Id, call.Url, call.Attempts, outcome.Error ?? $"HTTP {outcome.StatusCode}");
            }
        }
        Web.InstanceCounters.WebhookCalls.Add(calls.Count);
        return calls.Count;
    }

    /// <summary>The wait before try number <paramref name="attempts"/> + 1: one minute, doubling, at most twelve hours.</summary>
    public static TimeSpan Backoff(int attempts) => TimeSpan.FromMinutes(Math.Min(Math.Pow(2, Math.Max(0, attempts - 1)), 12 * 60));

    /// <summary>Takes due calls and holds them for a while, counting the try; another sender skips them meanwhile.</summary>
    private async Task<List<WebhookCall>> ClaimAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        using var gate = await database.EnterWriteAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var due = db.Kind == DatabaseKind.Postgres
            ? await db.WebhookCalls.FromSqlInterpolated($"""
                SELECT * FROM webhook_calls WHERE "Status" = {(int)WebhookStatus.Pending} AND "DueAt" <= {now}
                ORDER BY "DueAt" LIMIT {Batch} FOR UPDATE SKIP LOCKED
                """).ToListAsync(ct)
            : await db.WebhookCalls.Where(c => c.Status == WebhookStatus.Pending && c.DueAt <= now).OrderBy(c => c.DueAt).Take(Batch).ToListAsync(ct);
        foreach (var call in due)
        {
            call.Attempts++;
            call.DueAt = now + Hold;
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return due;
    }

    private async Task<WebhookOutcome> PostAsync(WebhookCall call, byte[] secret, CancellationToken ct)
    {
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, call.Url)
        {
            Content = new StringContent(call.Body, Encoding.UTF8, "application/json"),
        };
        request.Headers.UserAgent.ParseAdd("Clientele-Webhooks/1.0");
        request.Headers.Add("Idempotency-Key", call.IdempotencyKey);
        request.Headers.Add("Clientele-Call", call.Id.ToString());
        request.Headers.Add("Clientele-Timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("Clientele-Signature", Sign(secret, timestamp, call.Body));
        try
        {
            using var response = await _http.Value.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var code = (int)response.StatusCode;
            return code switch
            {
                >= 200 and < 300 => new(code, null, false),
                >= 300 and < 400 => new(code, $"The receiver redirected to {response.Headers.Location}; redirects are not followed, so give the final address.", false),
                408 or 429 or >= 500 => new(code, $"HTTP {code} {response.ReasonPhrase}", true),
                _ => new(code, $"HTTP {code} {response.ReasonPhrase}", false),
            };
        }
        catch (HttpRequestException ex) when (ex.InnerException is WebhookRefusedException refused)
        {
            return new(null, refused.Message, false);
        }
        catch (WebhookRefusedException refused)
        {
            return new(null, refused.Message, false);
        }
        catch (HttpRequestException ex)
        {
            return new(null, ex.Message, true);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new(null, "The receiver did not answer in time.", true);
        }
    }

    public void Dispose()
    {
        if (_http.IsValueCreated)
        {
            _http.Value.Dispose();
        }
    }
}

/// <summary>Runs the webhook sender: when calls are queued, and every few seconds for retries that fall due.</summary>
internal sealed class WebhookService(WebhookSender sender, WebhookSignal signal, ILogger<WebhookService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await sender.SendDueAsync(stoppingToken) == 0)
                {
                    await signal.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogError(ex, "Sending webhooks failed");
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
        }
    }
}
