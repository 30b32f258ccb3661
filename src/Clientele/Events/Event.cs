using System.Text.Json;

namespace Clientele.Events;

/// <summary>One fact about a contact. Append-only: never updated, never deleted.</summary>
internal sealed class Event
{
    /// <summary>Position in the log; consumers read the log in this order.</summary>
    public long Id { get; set; }

    public Guid ContactId { get; set; }

    /// <summary>A <c>noun.verb</c> type such as <c>order.placed</c>.</summary>
    public string Type { get; set; } = "";

    public DateTime OccurredAt { get; set; }
    public DateTime ReceivedAt { get; set; }

    /// <summary>The event's properties as a JSON object.</summary>
    public string Properties { get; set; } = "{}";

    public string? IdempotencyKey { get; set; }

    /// <summary>Where it came from: api, import, form, ui, system, or a consumer's name.</summary>
    public string Source { get; set; } = "api";

    /// <summary>For derived events: the event that caused this one.</summary>
    public long? CauseEventId { get; set; }

    /// <summary>An event the system records now (a journey's step, an issued offer, a survey answer), its properties serialised as the log writes them.</summary>
    public static Event Recorded(Guid contactId, string type, string source, string key, object properties, DateTime now, long? cause = null) => new()
    {
        ContactId = contactId,
        Type = type,
        OccurredAt = now,
        ReceivedAt = now,
        Source = source,
        CauseEventId = cause,
        IdempotencyKey = key,
        Properties = JsonSerializer.Serialize(properties, EventJson.Options),
    };
}
