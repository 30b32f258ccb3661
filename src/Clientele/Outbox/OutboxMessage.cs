using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Outbox;

/// <summary>Where a message is on its way out. The numbers are stored; never renumber.</summary>
internal enum OutboxStatus
{
    /// <summary>Waiting for its due time.</summary>
    Queued = 0,

    /// <summary>The transport took it.</summary>
    Sent = 1,

    /// <summary>Refused for good (a 5xx answer, too many attempts, a template that cannot render).</summary>
    Failed = 2,

    /// <summary>Claimed by a sender. Left in this state by a crash, it is the ambiguous window: see <see cref="OutboxMessage.Ambiguous"/>.</summary>
    Sending = 3,

    /// <summary>A temporary refusal or a dropped connection: tried again at <see cref="OutboxMessage.DueAt"/>.</summary>
    Deferred = 4,

    /// <summary>Sent, then reported undeliverable by a bounce.</summary>
    Bounced = 5,

    /// <summary>Not sent on purpose: no consent, an unsubscribe, a bounce or complaint on file, a frequency cap.</summary>
    Suppressed = 6,
}

/// <summary>Marketing needs consent for its topic; transactional (service) mail goes to any deliverable address.</summary>
internal enum MessageClass
{
    Marketing = 0,
    Transactional = 1,
}

/// <summary>
/// A message the system means to send. Everything that sends mail writes here first, in the same transaction as
/// the change that causes it; <see cref="OutboxSender"/> delivers due messages through the configured transport.
/// </summary>
internal sealed class OutboxMessage
{
    public Guid Id { get; set; }
    public Guid ContactId { get; set; }
    public string To { get; set; } = "";

    /// <summary>The subject as sent (rendered at send time for messages made from a broadcast or template).</summary>
    public string Subject { get; set; } = "";

    /// <summary>Pre-rendered plain text, for system messages written whole (e.g. a confirmation).</summary>
    public string TextBody { get; set; } = "";

    /// <summary>Pre-rendered HTML body, when the message was written whole with one.</summary>
    public string? HtmlBody { get; set; }

    /// <summary>What it is for: confirmation, journey, broadcast, test, …</summary>
    public string Kind { get; set; } = "";

    public MessageClass Class { get; set; }

    /// <summary>The consent topic a marketing message needs (newsletter, offers, …).</summary>
    public string? Topic { get; set; }

    /// <summary>The same key is queued once: a retried request never sends twice.</summary>
    public string IdempotencyKey { get; set; } = "";

    public OutboxStatus Status { get; set; }

    /// <summary>When the next attempt may start; quiet hours and frequency caps move it.</summary>
    public DateTime DueAt { get; set; }

    /// <summary>While <see cref="OutboxStatus.Sending"/>: until when the claim holds.</summary>
    public DateTime? LeaseUntil { get; set; }

    public int Attempts { get; set; }

    /// <summary>The transport's last answer or the reason for the current state.</summary>
    public string? LastAnswer { get; set; }

    /// <summary>
    /// Found claimed after a restart: the transport may have taken it before the app stopped. It is not sent again,
    /// so nobody receives it twice.
    /// </summary>
    public bool Ambiguous { get; set; }

    /// <summary>Content source for messages rendered at send time.</summary>
    public Guid? BroadcastId { get; set; }

    /// <summary>A/B variant ("A" or "B") of a broadcast.</summary>
    public string? Variant { get; set; }

    /// <summary>Content source for messages rendered at send time from a saved template (journey e-mails).</summary>
    public Guid? TemplateId { get; set; }

    /// <summary>The journey and step that queued it, for the journey's report.</summary>
    public Guid? JourneyId { get; set; }

    public string? StepId { get; set; }

    /// <summary>The survey a feedback request asks, whose one-click answer links the message carries.</summary>
    public Guid? SurveyId { get; set; }

    /// <summary>The support ticket a reply, acknowledgement or satisfaction question belongs to: it goes out threaded, with the support address to answer.</summary>
    public Guid? TicketId { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime? SentAt { get; set; }
    public DateTime? OpenedAt { get; set; }
    public DateTime? ClickedAt { get; set; }
}

/// <summary>A line in a message's history: why it was delayed, skipped, retried or failed.</summary>
internal sealed class OutboxNote
{
    public long Id { get; set; }
    public Guid MessageId { get; set; }
    public DateTime At { get; set; }
    public string Text { get; set; } = "";
}

/// <summary>The raw message the local outbox transport keeps, viewable and downloadable as .eml.</summary>
internal sealed class LocalMail
{
    public Guid MessageId { get; set; }
    public string To { get; set; } = "";
    public string Subject { get; set; } = "";
    public byte[] Raw { get; set; } = [];
    public DateTime StoredAt { get; set; }
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
        if (message.DueAt == default)
        {
            message.DueAt = message.CreatedAt;
        }
        db.OutboxMessages.Add(message);
        return message;
    }

    public static bool IsFinal(OutboxStatus status) =>
        status is OutboxStatus.Sent or OutboxStatus.Failed or OutboxStatus.Bounced or OutboxStatus.Suppressed;
}
