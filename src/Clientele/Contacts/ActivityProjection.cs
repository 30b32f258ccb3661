using System.Data;
using System.Data.Common;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

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

    internal static bool IsDerived(string type) =>
        type is "stage.changed" or "score.changed" or "segment.entered" or "segment.exited" or "contact.qualified";

    public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct) => HandleBatchAsync(context, [e], ct);

    public async Task HandleBatchAsync(ConsumerContext context, IReadOnlyList<Event> events, CancellationToken ct)
    {
        var latest = events.Where(e => e.CauseEventId is null)
            .GroupBy(e => e.ContactId)
            .Select(g => (ContactId: g.Key, At: g.Max(e => e.OccurredAt)))
            .ToList();
        if (latest.Count == 0)
        {
            return;
        }
        // One prepared statement per contact in the batch: far cheaper than loading and tracking each contact.
        var db = context.Db;
        var connection = db.Database.GetDbConnection();
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        var sqlite = db.Kind == DatabaseKind.Sqlite;
        cmd.CommandText = sqlite
            ? "UPDATE contacts SET \"LastActivityAt\" = $at WHERE \"Id\" = $id AND (\"LastActivityAt\" IS NULL OR \"LastActivityAt\" < $at)"
            : "UPDATE contacts SET \"LastActivityAt\" = @at WHERE \"Id\" = @id AND (\"LastActivityAt\" IS NULL OR \"LastActivityAt\" < @at)";
        var at = Parameter(cmd, sqlite ? "$at" : "at", DbType.DateTime);
        var id = Parameter(cmd, sqlite ? "$id" : "id", sqlite ? DbType.Binary : DbType.Guid);
        await cmd.PrepareAsync(ct);
        foreach (var (contactId, when) in latest)
        {
            at.Value = when;
            id.Value = sqlite ? contactId.ToByteArray() : contactId; // as each provider stores ids
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    private static DbParameter Parameter(DbCommand cmd, string name, DbType type)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.DbType = type;
        cmd.Parameters.Add(p);
        return p;
    }
}
