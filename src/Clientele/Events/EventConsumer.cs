using System.Text.Json;
using Clientele.Data;

namespace Clientele.Events;

/// <summary>
/// A feature that derives state from the event log (commerce, stage, score, segments, journeys…).
/// The dispatcher hands it every committed event in log order; what it writes through
/// <see cref="ConsumerContext.Db"/> commits together with its checkpoint.
/// </summary>
internal interface IEventConsumer
{
    /// <summary>Stable name; it keys the checkpoint, so renaming replays the whole log.</summary>
    string Name { get; }

    /// <summary>Cheap filter so uninteresting events cost nothing.</summary>
    bool Wants(string eventType);

    /// <summary>Consumers whose results this one reads: it is handed an event only after they have handled it.</summary>
    IReadOnlyList<string> After => [];

    /// <summary>
    /// False for a consumer that needs only each event's id, type, contact and times: it is handed events without
    /// their properties (<c>"{}"</c>), which spares reading the log's rows in full.
    /// </summary>
    bool ReadsProperties => true;

    Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct);

    /// <summary>Called after the transaction with this consumer's work has committed: the moment to wake whoever reads it.</summary>
    void Committed()
    {
    }

    /// <summary>Handles the wanted events of one batch, in log order. Override to load what they need at once.</summary>
    async Task HandleBatchAsync(ConsumerContext context, IReadOnlyList<Event> events, CancellationToken ct)
    {
        foreach (var e in events)
        {
            await HandleAsync(context, e, ct);
        }
    }
}

internal sealed class ConsumerContext(ClienteleDb db, string consumer, DateTime now)
{
    public ClienteleDb Db { get; } = db;
    public DateTime Now { get; } = now;

    /// <summary>Appends a derived event (stage.changed, score.changed, …) caused by <paramref name="cause"/>.</summary>
    public Event Emit(Event cause, string type, object properties, Guid? contactId = null)
    {
        var derived = Derive(cause, type, properties, contactId);
        Db.Events.Add(derived);
        return derived;
    }

    /// <summary>
    /// A derived event as <see cref="Emit"/> makes it, left for the consumer to append itself (with
    /// <see cref="EventWriter.InsertAsync"/>, in this transaction) when it writes a batch's events at once.
    /// </summary>
    public Event Derive(Event cause, string type, object properties, Guid? contactId = null)
    {
        return new Event
        {
            ContactId = contactId ?? cause.ContactId,
            Type = type,
            OccurredAt = Now,
            ReceivedAt = Now,
            Properties = JsonSerializer.Serialize(properties, EventJson.Options),
            Source = consumer,
            CauseEventId = cause.Id,
        };
    }
}

internal static class EventJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
