using System.Text;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Webhooks;

/// <summary><c>/api/v1/webhooks</c>: the delivery log of outgoing calls, a retry for a failed one, and the signing secret.</summary>
internal static class WebhooksApi
{
    public static RouteGroupBuilder MapWebhooks(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/webhooks").WithTags("Webhooks");
        group.MapGet("/calls", ListAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Outgoing calls, newest first (?status=pending|delivered|failed, ?journeyId=, ?limit= up to 500), with each one's last answer");
        group.MapPost("/calls/{id:guid}/retry", RetryAsync).RequireAuthorization(ApiKeys.WritePolicy)
            .WithSummary("Try a failed call again now (it keeps its idempotency key)");
        group.MapGet("/secret", SecretAsync).RequireAuthorization(ApiKeys.AdminPolicy)
            .WithSummary("The secret calls are signed with: Clientele-Signature is v1= HMAC-SHA256 of \"{Clientele-Timestamp}.{body}\"");
        return api;
    }

    internal sealed record CallDto(Guid Id, string Url, string Status, int Attempts, DateTime? DueAt, int? LastStatusCode, string? LastError,
        DateTime CreatedAt, DateTime? DeliveredAt, Guid? ContactId, Guid? JourneyId, string? StepId, string IdempotencyKey);

    public static string ToApi(this WebhookStatus status) => status.ToString().ToLowerInvariant();

    private static async Task<IResult> ListAsync(string? status, Guid? journeyId, int? limit, ClienteleDb db, CancellationToken ct)
    {
        WebhookStatus? wanted = null;
        if (status is not null)
        {
            if (!Enum.TryParse<WebhookStatus>(status, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(status, out _))
            {
                return ApiProblems.BadRequest($"\"{status}\" is not a status: pending, delivered or failed.", "/status");
            }
            wanted = parsed;
        }
        if (limit is < 1 or > 500)
        {
            return ApiProblems.BadRequest("Between 1 and 500 calls (limit).", "/limit");
        }
        var query = db.WebhookCalls.AsNoTracking();
        if (wanted is { } s)
        {
            query = query.Where(c => c.Status == s);
        }
        if (journeyId is { } j)
        {
            query = query.Where(c => c.JourneyId == j);
        }
        var calls = await query.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).Take(limit ?? 100).ToListAsync(ct);
        return TypedResults.Ok(calls.Select(c => new CallDto(c.Id, c.Url, c.Status.ToApi(), c.Attempts, c.DueAt, c.LastStatusCode, c.LastError,
            c.CreatedAt, c.DeliveredAt, c.ContactId, c.JourneyId, c.StepId, c.IdempotencyKey)).ToList());
    }

    private static async Task<IResult> RetryAsync(Guid id, ClienteleDatabase database, WebhookSignal signal, TimeProvider time, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        using var gate = await database.EnterWriteAsync(ct);
        var call = await db.WebhookCalls.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (call is null)
        {
            return ApiProblems.NotFound($"There is no webhook call {id}.");
        }
        if (call.Status != WebhookStatus.Failed)
        {
            return ApiProblems.Conflict($"Only a failed call is tried again by hand; this one is {call.Status.ToApi()}.");
        }
        call.Status = WebhookStatus.Pending;
        call.Attempts = 0;
        call.DueAt = time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        signal.Notify();
        return TypedResults.Ok(new { status = call.Status.ToApi() });
    }

    private static async Task<IResult> SecretAsync(WebhookSender sender, CancellationToken ct) =>
        TypedResults.Ok(new { secret = Encoding.UTF8.GetString(await sender.SecretAsync(ct)), header = "Clientele-Signature", scheme = "v1=hex(HMAC-SHA256(secret, timestamp + \".\" + body))" });
}
