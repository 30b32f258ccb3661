using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Contacts;

/// <summary>
/// Keeps <see cref="Contact.LastActivityAt"/> current from what contacts do, off the ingest path
/// so storing a batch of events costs no contact updates.
/// </summary>
internal sealed class ActivityProjection : IEventConsumer
{
    public string Name => "activity";

    // Derived events (stage.changed, score.changed, …) are the system's doing, not the contact's.
    public bool Wants(string eventType) => !IsDerived(eventType);

    // The statement below reads the log itself; only the batch's first and last ids are needed.
    public bool ReadsProperties => false;

    internal static readonly string[] DerivedTypes =
        ["stage.changed", "score.changed", "segment.entered", "segment.exited", "contact.qualified", "contact.disqualified"];

    /// <summary>The statement below, with the derived types written in as constants.</summary>
    private static readonly string UpdateSql = $$"""
        UPDATE contacts SET "LastActivityAt" = latest.at
        FROM (SELECT "ContactId" AS id, max("OccurredAt") AS at FROM events
              WHERE "Id" >= {0} AND "Id" <= {1} AND "CauseEventId" IS NULL
                AND "Type" NOT IN ({{string.Join(", ", DerivedTypes.Select(t => "'" + t + "'"))}})
              GROUP BY "ContactId") AS latest
        WHERE contacts."Id" = latest.id AND (contacts."LastActivityAt" IS NULL OR contacts."LastActivityAt" < latest.at)
        """;

    internal static bool IsDerived(string type) => DerivedTypes.Contains(type);

    public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct) => HandleBatchAsync(context, [e], ct);

    /// <summary>One set-based statement for the whole batch: the latest own event per contact, applied where newer.</summary>
    public async Task HandleBatchAsync(ConsumerContext context, IReadOnlyList<Event> events, CancellationToken ct)
    {
        if (events.Count == 0)
        {
            return;
        }
        long from = events[0].Id, to = events[^1].Id;
        await context.Db.Database.ExecuteSqlRawAsync(UpdateSql, [from, to], ct);
    }
}
