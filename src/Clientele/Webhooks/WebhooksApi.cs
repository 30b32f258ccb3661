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
            .WithSummary("Outgoing calls, newest first (?status=pending|delivered|failed, ?journeyId=, ?subscriptionId=, ?limit= up to 500), with each one's last answer");
        group.MapPost("/calls/{id:guid}/retry", RetryAsync).RequireAuthorization(ApiKeys.WritePolicy)
            .WithSummary("Try a failed call again now (it keeps its idempotency key)");
        group.MapGet("/subscriptions", ListSubscriptionsAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Receivers told about events as they happen, each with its calls delivered and failed in the last 7 days");
        group.MapPost("/subscriptions", CreateSubscriptionAsync).RequireAuthorization(ApiKeys.AdminPolicy).Accepts<SubscriptionInput>("application/json")
            .WithSummary("Subscribe a receiver: {\"name\", \"url\", \"events\": [\"order.placed\", \"ticket.*\"], \"active\": true}; events from now on are posted, signed");
        group.MapPut("/subscriptions/{id:guid}", UpdateSubscriptionAsync).RequireAuthorization(ApiKeys.AdminPolicy).Accepts<SubscriptionInput>("application/json")
            .WithSummary("Change a subscription (pause it with \"active\": false)");
        group.MapDelete("/subscriptions/{id:guid}", RemoveSubscriptionAsync).RequireAuthorization(ApiKeys.AdminPolicy)
            .WithSummary("Remove a subscription (its delivery log stays)");
        group.MapGet("/secret", SecretAsync).RequireAuthorization(ApiKeys.AdminPolicy)
            .WithSummary("The secret calls are signed with: Clientele-Signature is v1= HMAC-SHA256 of \"{Clientele-Timestamp}.{body}\"");
        return api;
    }

    internal sealed record CallDto(Guid Id, string Url, string Status, int Attempts, DateTime? DueAt, int? LastStatusCode, string? LastError,
        DateTime CreatedAt, DateTime? DeliveredAt, Guid? ContactId, Guid? JourneyId, string? StepId, string IdempotencyKey, Guid? SubscriptionId);

    internal sealed record SubscriptionInput(string? Name, string? Url, List<string>? Events, bool? Active);

    internal sealed record SubscriptionDto(Guid Id, string Name, string Url, List<string> Events, bool Active, DateTime CreatedAt, int Delivered, int Failed, int Pending);

    /// <summary>Subscriptions with their calls of the last 7 days by status, in two queries.</summary>
    internal static async Task<List<SubscriptionDto>> SubscriptionsAsync(ClienteleDb db, DateTime now, CancellationToken ct)
    {
        var since = now.AddDays(-7);
        var counts = await db.WebhookCalls.AsNoTracking().Where(c => c.SubscriptionId != null && c.CreatedAt >= since)
            .GroupBy(c => new { c.SubscriptionId, c.Status }).Select(g => new { g.Key.SubscriptionId, g.Key.Status, Count = g.Count() }).ToListAsync(ct);
        int Of(Guid id, WebhookStatus s) => counts.Where(c => c.SubscriptionId == id && c.Status == s).Sum(c => c.Count);
        return (await db.WebhookSubscriptions.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct))
            .Select(s => new SubscriptionDto(s.Id, s.Name, s.Url, s.Events, s.Active, s.CreatedAt, Of(s.Id, WebhookStatus.Delivered), Of(s.Id, WebhookStatus.Failed),
                Of(s.Id, WebhookStatus.Pending))).ToList();
    }

    private static async Task<IResult> ListSubscriptionsAsync(ClienteleDb db, TimeProvider time, CancellationToken ct) =>
        TypedResults.Ok(await SubscriptionsAsync(db, time.GetUtcNow().UtcDateTime, ct));

    /// <summary>Adds or changes a subscription (the API and the Webhooks page): what is wrong by field, or the saved one.</summary>
    internal static async Task<(WebhookSubscription? Saved, List<FieldError> Errors)> SaveSubscriptionAsync(ClienteleDatabase database, WebhookSubscriptions live,
        Guid? id, SubscriptionInput input, bool allowPrivate, DateTime now, CancellationToken ct)
    {
        var events = input.Events?.Select(e => (e ?? "").Trim()).Where(e => e.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var errors = WebhookTopics.Check(input.Name, input.Url, input.Events is null ? null : events, allowPrivate);
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        await using var db = database.CreateDbContext();
        WebhookSubscription? s;
        using (await database.EnterWriteAsync(ct))
        {
            s = id is { } existing ? await db.WebhookSubscriptions.FirstOrDefaultAsync(x => x.Id == existing, ct) : new WebhookSubscription { Id = Guid.CreateVersion7(), CreatedAt = now };
            if (s is null)
            {
                return (null, []);
            }
            if (id is null)
            {
                db.WebhookSubscriptions.Add(s);
            }
            s.Name = input.Name!.Trim();
            s.Url = input.Url!.Trim();
            s.Events = events!;
            s.Active = input.Active ?? true;
            s.UpdatedAt = now;
            await db.SaveChangesAsync(ct);
        }
        await live.ReloadAsync();
        return (s, []);
    }

    private static SubscriptionDto Dto(WebhookSubscription s) => new(s.Id, s.Name, s.Url, s.Events, s.Active, s.CreatedAt, 0, 0, 0);

    private static async Task<IResult> CreateSubscriptionAsync(HttpRequest request, ClienteleDatabase database, WebhookSubscriptions live, IConfiguration config,
        TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<SubscriptionInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (saved, errors) = await SaveSubscriptionAsync(database, live, null, input!, WebhookGuard.AllowsPrivate(config), time.GetUtcNow().UtcDateTime, ct);
        return errors.Count > 0 ? ApiProblems.Invalid(errors) : TypedResults.Created($"/api/v1/webhooks/subscriptions/{saved!.Id}", Dto(saved));
    }

    private static async Task<IResult> UpdateSubscriptionAsync(Guid id, HttpRequest request, ClienteleDatabase database, WebhookSubscriptions live, IConfiguration config,
        TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<SubscriptionInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (saved, errors) = await SaveSubscriptionAsync(database, live, id, input!, WebhookGuard.AllowsPrivate(config), time.GetUtcNow().UtcDateTime, ct);
        return errors.Count > 0 ? ApiProblems.Invalid(errors)
            : saved is null ? ApiProblems.NotFound($"There is no webhook subscription {id}.")
            : TypedResults.Ok(Dto(saved));
    }

    internal static async Task<bool> DeleteSubscriptionAsync(ClienteleDatabase database, WebhookSubscriptions live, Guid id, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        int deleted;
        using (await database.EnterWriteAsync(ct))
        {
            deleted = await db.WebhookSubscriptions.Where(s => s.Id == id).ExecuteDeleteAsync(ct);
        }
        await live.ReloadAsync();
        return deleted > 0;
    }

    private static async Task<IResult> RemoveSubscriptionAsync(Guid id, ClienteleDatabase database, WebhookSubscriptions live, CancellationToken ct) =>
        await DeleteSubscriptionAsync(database, live, id, ct) ? TypedResults.NoContent() : ApiProblems.NotFound($"There is no webhook subscription {id}.");

    public static string ToApi(this WebhookStatus status) => status.ToString().ToLowerInvariant();

    private static async Task<IResult> ListAsync(string? status, Guid? journeyId, Guid? subscriptionId, int? limit, ClienteleDb db, CancellationToken ct)
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
        if (subscriptionId is { } sub)
        {
            query = query.Where(c => c.SubscriptionId == sub);
        }
        var calls = await query.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).Take(limit ?? 100).ToListAsync(ct);
        return TypedResults.Ok(calls.Select(c => new CallDto(c.Id, c.Url, c.Status.ToApi(), c.Attempts, c.DueAt, c.LastStatusCode, c.LastError,
            c.CreatedAt, c.DeliveredAt, c.ContactId, c.JourneyId, c.StepId, c.IdempotencyKey, c.SubscriptionId)).ToList());
    }

    private static async Task<IResult> RetryAsync(Guid id, ClienteleDatabase database, WebhookSignal signal, TimeProvider time, CancellationToken ct)
    {
        var (found, problem) = await RetryCallAsync(database, id, time.GetUtcNow().UtcDateTime, ct);
        if (!found)
        {
            return ApiProblems.NotFound($"There is no webhook call {id}.");
        }
        if (problem is not null)
        {
            return ApiProblems.Conflict(problem);
        }
        signal.Notify();
        return TypedResults.Ok(new { status = WebhookStatus.Pending.ToApi() });
    }

    /// <summary>Makes a failed call due again now, its tries counted afresh (it keeps its idempotency key); says why not otherwise.</summary>
    internal static async Task<(bool Found, string? Problem)> RetryCallAsync(ClienteleDatabase database, Guid id, DateTime now, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        using var gate = await database.EnterWriteAsync(ct);
        var call = await db.WebhookCalls.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (call is null)
        {
            return (false, null);
        }
        if (call.Status != WebhookStatus.Failed)
        {
            return (true, $"Only a failed call is tried again by hand; this one is {call.Status.ToApi()}.");
        }
        call.Status = WebhookStatus.Pending;
        call.Attempts = 0;
        call.DueAt = now;
        await db.SaveChangesAsync(ct);
        return (true, null);
    }

    private static async Task<IResult> SecretAsync(WebhookSender sender, CancellationToken ct) =>
        TypedResults.Ok(new { secret = Encoding.UTF8.GetString(await sender.SecretAsync(ct)), header = "Clientele-Signature", scheme = "v1=hex(HMAC-SHA256(secret, timestamp + \".\" + body))" });
}
