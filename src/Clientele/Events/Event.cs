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
}
