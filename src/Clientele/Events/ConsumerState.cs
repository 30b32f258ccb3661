namespace Clientele.Events;

/// <summary>How far one consumer has read the event log.</summary>
internal sealed class ConsumerCheckpoint
{
    public string Consumer { get; set; } = "";
    public long Position { get; set; }
    public DateTime UpdatedAt { get; set; }
    public long Processed { get; set; }
    public int FailureCount { get; set; }
    public string? LastError { get; set; }
    public DateTime? LastErrorAt { get; set; }
}

/// <summary>An event a consumer could not handle after its retries; kept so nothing fails silently.</summary>
internal sealed class ConsumerFailure
{
    public long Id { get; set; }
    public string Consumer { get; set; } = "";
    public long EventId { get; set; }
    public Guid ContactId { get; set; }
    public string EventType { get; set; } = "";
    public string Error { get; set; } = "";
    public int Attempts { get; set; }
    public DateTime FailedAt { get; set; }
}
