using Clientele.Data;

namespace Clientele.Outbox;

/// <summary>
/// Queues many messages at once (a broadcast's audience, a batch of journey steps) with the driver directly, in the current transaction: change
/// tracking would cost more than the insert. A message whose idempotency key is queued already is left as it is.
/// </summary>
internal static class OutboxWriter
{
    private const string Columns = "\"Id\", \"ContactId\", \"To\", \"Subject\", \"TextBody\", \"Kind\", \"Class\", \"Topic\", \"IdempotencyKey\", "
        + "\"Status\", \"DueAt\", \"Attempts\", \"Ambiguous\", \"BroadcastId\", \"Variant\", \"CreatedAt\", \"TemplateId\", \"JourneyId\", \"StepId\", \"SurveyId\"";

    private static readonly string[] Names = ["id", "contact", "to", "subject", "text", "kind", "class", "topic", "key", "status", "due", "attempts", "ambiguous", "broadcast", "variant", "created", "template", "journey", "step", "survey"];

    private static readonly string Sql = $"INSERT INTO outbox ({Columns}) VALUES ({string.Join(", ", Names.Select(n => "@" + n))}) ON CONFLICT (\"IdempotencyKey\") DO NOTHING";

    /// <summary>Inserts <paramref name="messages"/>; returns how many were new.</summary>
    public static Task<int> InsertAsync(ClienteleDb db, IReadOnlyList<OutboxMessage> messages, CancellationToken ct) =>
        BulkStatements.ExecuteAsync(db, Sql, Names, messages, (m, sqlite) => Values(m, sqlite).Select(v => v.Value), ct);

    private static IEnumerable<(string Name, object Value)> Values(OutboxMessage m, bool sqlite)
    {
        object Id(Guid g) => BulkStatements.Id(g, sqlite);
        yield return ("id", Id(m.Id));
        yield return ("contact", Id(m.ContactId));
        yield return ("to", m.To);
        yield return ("subject", m.Subject);
        yield return ("text", m.TextBody);
        yield return ("kind", m.Kind);
        yield return ("class", (int)m.Class);
        yield return ("topic", (object?)m.Topic ?? DBNull.Value);
        yield return ("key", m.IdempotencyKey);
        yield return ("status", (int)m.Status);
        yield return ("due", m.DueAt);
        yield return ("attempts", m.Attempts);
        yield return ("ambiguous", m.Ambiguous);
        yield return ("broadcast", m.BroadcastId is { } b ? Id(b) : DBNull.Value);
        yield return ("variant", (object?)m.Variant ?? DBNull.Value);
        yield return ("created", m.CreatedAt);
        yield return ("template", m.TemplateId is { } t ? Id(t) : DBNull.Value);
        yield return ("journey", m.JourneyId is { } j ? Id(j) : DBNull.Value);
        yield return ("step", (object?)m.StepId ?? DBNull.Value);
        yield return ("survey", m.SurveyId is { } q ? Id(q) : DBNull.Value);
    }
}
