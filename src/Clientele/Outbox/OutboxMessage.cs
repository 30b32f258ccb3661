using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Outbox;

internal enum OutboxStatus
{
    Queued = 0,
    Sent = 1,
    Failed = 2,
}

/// <summary>
/// A message the system means to send. Everything that sends mail writes here first; a sender delivers queued
/// messages once SMTP is set up, and until then they wait here, readable in the back office.
/// </summary>
internal sealed class OutboxMessage
{
    public Guid Id { get; set; }
    public Guid ContactId { get; set; }
    public string To { get; set; } = "";
    public string Subject { get; set; } = "";
    public string TextBody { get; set; } = "";

    /// <summary>What it is for: confirmation, journey, broadcast, …</summary>
    public string Kind { get; set; } = "";

    /// <summary>The same key is queued once: a retried request never sends twice.</summary>
    public string IdempotencyKey { get; set; } = "";

    public OutboxStatus Status { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? SentAt { get; set; }
}

internal static class Outbox
{
    /// <summary>Queues <paramref name="message"/> unless one with its key exists; returns the queued one. Does not save.</summary>
    public static async Task<OutboxMessage> EnqueueAsync(ClienteleDb db, OutboxMessage message, CancellationToken ct)
    {
        var existing = db.OutboxMessages.Local.FirstOrDefault(m => m.IdempotencyKey == message.IdempotencyKey)
            ?? await db.OutboxMessages.FirstOrDefaultAsync(m => m.IdempotencyKey == message.IdempotencyKey, ct);
        if (existing is not null)
        {
            return existing;
        }
        message.Id = Guid.CreateVersion7();
        message.Status = OutboxStatus.Queued;
        db.OutboxMessages.Add(message);
        return message;
    }
}
