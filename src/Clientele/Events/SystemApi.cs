using Clientele.Accounts;
using Clientele.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Events;

internal static class SystemApi
{
    public static RouteGroupBuilder MapSystem(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/system").WithTags("System").RequireAuthorization(ApiKeys.ReadPolicy);
        group.MapGet("/consumers", Consumers).WithSummary("How far each consumer has read the event log, and its failures");
        return api;
    }

    internal static async Task<Ok<List<ConsumerStatus>>> Consumers(ClienteleDb db, EventDispatcher dispatcher, CancellationToken ct) =>
        TypedResults.Ok(await ConsumerStatus.ReadAsync(db, dispatcher, ct));
}

internal sealed record ConsumerFailureDto(string EventId, string EventType, Guid ContactId, string Error, DateTime FailedAt);

internal sealed record ConsumerStatus(string Name, long Position, long Head, long Lag, long Processed, int Failures, string? LastError, DateTime? LastErrorAt,
    List<ConsumerFailureDto> RecentFailures)
{
    public static async Task<List<ConsumerStatus>> ReadAsync(ClienteleDb db, EventDispatcher dispatcher, CancellationToken ct)
    {
        var head = await db.Events.MaxAsync(e => (long?)e.Id, ct) ?? 0;
        var checkpoints = await db.ConsumerCheckpoints.AsNoTracking().ToDictionaryAsync(c => c.Consumer, ct);
        var list = new List<ConsumerStatus>();
        foreach (var consumer in dispatcher.Consumers)
        {
            checkpoints.TryGetValue(consumer.Name, out var c);
            var failures = await db.ConsumerFailures.AsNoTracking().Where(f => f.Consumer == consumer.Name)
                .OrderByDescending(f => f.Id).Take(20)
                .Select(f => new ConsumerFailureDto(f.EventId.ToString(), f.EventType, f.ContactId, f.Error, f.FailedAt))
                .ToListAsync(ct);
            var position = c?.Position ?? 0;
            list.Add(new ConsumerStatus(consumer.Name, position, head, Math.Max(0, head - position), c?.Processed ?? 0,
                c?.FailureCount ?? 0, c?.LastError, c?.LastErrorAt, failures));
        }
        return list;
    }
}
