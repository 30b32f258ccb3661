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
    public bool Wants(string eventType) => !IsNotActivity(eventType);

    // The statement below reads the log itself; only the batch's first and last ids are needed.
    public bool ReadsProperties => false;

    internal static readonly string[] DerivedTypes =
        ["stage.changed", "score.changed", "segment.entered", "segment.exited", "contact.qualified", "contact.disqualified", "journey.entered", "journey.ended",
            "score.adjusted", "stage.overridden", "contact.created", "contact.updated"];

    /// <summary>What the business did to the contact, not what the contact did: a message sent is no sign of life.</summary>
    internal static readonly string[] OutboundTypes = ["email.sent", "email.bounced"];

    private static readonly string[] NotActivity = [.. DerivedTypes, .. OutboundTypes];

    /// <summary>The statement below, with the types that are not the contact's activity written in as constants.</summary>
    private static readonly string UpdateSql = $$"""
        UPDATE contacts SET "LastActivityAt" = latest.at
        FROM (SELECT "ContactId" AS id, max("OccurredAt") AS at FROM events
              WHERE "Id" >= {0} AND "Id" <= {1} AND "CauseEventId" IS NULL
                AND "Type" NOT IN ({{string.Join(", ", NotActivity.Select(t => "'" + t + "'"))}})
              GROUP BY "ContactId") AS latest
        WHERE contacts."Id" = latest.id AND (contacts."LastActivityAt" IS NULL OR contacts."LastActivityAt" < latest.at)
        """;

    internal static bool IsDerived(string type) => DerivedTypes.Contains(type);

    internal static bool IsNotActivity(string type) => NotActivity.Contains(type);

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
