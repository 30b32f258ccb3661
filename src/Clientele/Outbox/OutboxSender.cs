using System.Text.Json;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace Clientele.Outbox;

/// <summary>Wakes the senders when a message is queued for now.</summary>
internal sealed class OutboxSignal : WakeSignal;

/// <summary>
/// Delivers due outbox messages. Each worker claims a small batch (state <see cref="OutboxStatus.Sending"/> with a
/// lease, committed before anything goes out), checks consent, suppressions, caps and quiet hours again for each
/// message, renders and hands it to the transport, then commits the outcomes with an <c>email.sent</c> event per
/// delivered message. A crash between the transport's acceptance and that commit can leave only the claimed batch
/// in doubt; such messages are marked <see cref="OutboxMessage.Ambiguous"/> and never sent twice.
/// </summary>
internal sealed class OutboxSender(
    ClienteleDatabase database,
    IMailTransport transport,
    SmtpOptions smtp,
    OutboxContent content,
    MailLinks links,
    ConsentGuard guard,
    OutboxSignal signal,
    EventSignal events,
    TimeProvider time,
    IConfiguration config,
    ILogger<OutboxSender> log) : BackgroundService
{
    /// <summary>Retry delays after a temporary refusal; the last one repeats until <see cref="MaxAttempts"/>.</summary>
    internal static readonly TimeSpan[] Backoff =
    [
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromHours(1),
        TimeSpan.FromHours(3), TimeSpan.FromHours(6), TimeSpan.FromHours(12),
    ];

    public const int MaxAttempts = 10;

    private int BatchSize => config.GetValue("Clientele:Outbox:BatchSize", 20);
    private TimeSpan Lease => TimeSpan.FromSeconds(config.GetValue("Clientele:Outbox:LeaseSeconds", 600));

    /// <summary>One worker per SMTP connection, so each keeps its connection busy; the local outbox needs one.</summary>
    private int Workers => config.GetValue("Clientele:Outbox:Workers", transport.Name == "local" ? 1 : smtp.MaxConnections);

    public static TimeSpan RetryDelay(int attempts) => Backoff[Math.Clamp(attempts - 1, 0, Backoff.Length - 1)];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!config.GetValue("Clientele:Outbox:Enabled", true))
        {
            return;
        }
        try
        {
            await links.InitializeAsync(time.GetUtcNow().UtcDateTime, stoppingToken);
            await RecoverAsync(stoppingToken, atStart: true);
            log.LogInformation("Sending mail through the {Transport} transport with {Workers} workers", transport.Name, Workers);
            await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => WorkAsync(stoppingToken)));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        var lastRecovery = time.GetUtcNow();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var claimed = await SendBatchAsync(ct);
                if (claimed == BatchSize)
                {
                    signal.Notify(); // more waiting: wake a sibling too
                    continue;
                }
                if (time.GetUtcNow() - lastRecovery > TimeSpan.FromMinutes(1))
                {
                    lastRecovery = time.GetUtcNow();
                    await RecoverAsync(ct);
                }
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                log.LogError(ex, "Sending a batch of mail failed");
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
            await signal.WaitAsync(TimeSpan.FromSeconds(1), ct);
        }
    }

    /// <summary>
    /// Messages still claimed by a stopped sender: on SQLite (one process) every claim found at start; on PostgreSQL
    /// those whose lease ran out. They may have been delivered, so they are recorded as such and not sent again.
    /// </summary>
    internal async Task<int> RecoverAsync(CancellationToken ct, bool atStart = false)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var all = atStart && database.Kind == DatabaseKind.Sqlite;
        await using var db = database.CreateDbContext();
        using var gate = await database.EnterWriteAsync(ct);
        var stale = db.OutboxMessages.Where(m => m.Status == OutboxStatus.Sending && (all || m.LeaseUntil < now));
        var ids = await stale.Select(m => m.Id).ToListAsync(ct);
        if (ids.Count == 0)
        {
            return 0;
        }
        const string answer = "The app stopped while this message was being handed over; it may have been delivered. It is not sent again, so nobody receives it twice.";
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.OutboxMessages.Where(m => ids.Contains(m.Id)).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.Status, OutboxStatus.Failed)
            .SetProperty(m => m.Ambiguous, true)
            .SetProperty(m => m.LeaseUntil, (DateTime?)null)
            .SetProperty(m => m.LastAnswer, answer), ct);
        db.OutboxNotes.AddRange(ids.Select(id => new OutboxNote { MessageId = id, At = now, Text = answer }));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        log.LogWarning("{Count} messages were being sent when the app stopped; recorded as possibly delivered", ids.Count);
        return ids.Count;
    }

    /// <summary>Claims, sends and records one batch; returns how many messages it claimed.</summary>
    internal async Task<int> SendBatchAsync(CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        var now = time.GetUtcNow().UtcDateTime;
        var batch = await ClaimAsync(db, now, ct);
        if (batch.Count == 0)
        {
            return 0;
        }
        var rules = await content.RulesAsync(ct);
        var facts = await LoadFactsAsync(db, batch, now, ct);
        var sent = new List<Event>();
        var notes = new List<OutboxNote>();
        foreach (var m in batch)
        {
            now = time.GetUtcNow().UtcDateTime;
            var f = facts.For(m);
            var decision = SendPolicy.Decide(f, rules, now);
            if (decision.Verdict == SendVerdict.Send && guard.Blocks(m.ContactId, m.Class == MessageClass.Marketing ? m.Topic ?? ConsentProjection.DefaultTopic : null)
                && m.Class == MessageClass.Marketing)
            {
                decision = new SendDecision(SendVerdict.Suppress, "The contact unsubscribed while this message was waiting.");
            }
            switch (decision.Verdict)
            {
                case SendVerdict.Suppress:
                    Finish(m, OutboxStatus.Suppressed, decision.Reason!, notes, now);
                    continue;
                case SendVerdict.Delay:
                    m.Status = OutboxStatus.Queued;
                    m.DueAt = decision.Until;
                    m.Attempts--;
                    m.LeaseUntil = null;
                    m.LastAnswer = decision.Reason;
                    notes.Add(new OutboxNote { MessageId = m.Id, At = now, Text = decision.Reason! });
                    continue;
            }
            MimeMessage mime;
            try
            {
                mime = await content.ComposeAsync(m, facts.Contact(m.ContactId)!, now, ct);
            }
            catch (OutboxContentException ex)
            {
                Finish(m, OutboxStatus.Failed, "Could not render: " + ex.Message, notes, now);
                continue;
            }
            var result = await transport.SendAsync(mime, ct);
            now = time.GetUtcNow().UtcDateTime;
            switch (result.Outcome)
            {
                case DeliveryOutcome.Sent:
                    m.Status = OutboxStatus.Sent;
                    m.SentAt = now;
                    m.LeaseUntil = null;
                    m.LastAnswer = result.Answer;
                    m.Subject = mime.Subject ?? m.Subject;
                    facts.Sent(m, now);
                    sent.Add(SentEvent(m, now));
                    break;
                case DeliveryOutcome.Retry when m.Attempts < MaxAttempts:
                    m.Status = OutboxStatus.Deferred;
                    m.DueAt = now + RetryDelay(m.Attempts);
                    m.LeaseUntil = null;
                    m.LastAnswer = result.Answer;
                    notes.Add(new OutboxNote { MessageId = m.Id, At = now, Text = $"Attempt {m.Attempts} deferred: {result.Answer}. Next try at {m.DueAt:yyyy-MM-dd HH:mm} UTC." });
                    break;
                case DeliveryOutcome.Retry:
                    Finish(m, OutboxStatus.Failed, $"Gave up after {m.Attempts} attempts: {result.Answer}", notes, now);
                    break;
                default:
                    Finish(m, OutboxStatus.Failed, "Refused: " + result.Answer, notes, now);
                    break;
            }
        }
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            db.OutboxNotes.AddRange(notes);
            await db.SaveChangesAsync(ct);
            await EventWriter.InsertAsync(db, sent, ct);
            await tx.CommitAsync(ct);
        }
        if (sent.Count > 0)
        {
            events.Notify();
        }
        return batch.Count;
    }

    private static void Finish(OutboxMessage m, OutboxStatus status, string reason, List<OutboxNote> notes, DateTime now)
    {
        m.Status = status;
        m.LeaseUntil = null;
        m.LastAnswer = reason;
        notes.Add(new OutboxNote { MessageId = m.Id, At = now, Text = reason });
    }

    private static Event SentEvent(OutboxMessage m, DateTime now) => new()
    {
        ContactId = m.ContactId,
        Type = "email.sent",
        OccurredAt = now,
        ReceivedAt = now,
        Source = "outbox",
        IdempotencyKey = $"email.sent:{m.Id:N}",
        Properties = JsonSerializer.Serialize(new
        {
            messageId = m.Id,
            kind = m.Kind,
            subject = m.Subject,
            topic = m.Topic,
            broadcastId = m.BroadcastId,
            variant = m.Variant,
        }, EventJson.Options),
    };

    private async Task<List<OutboxMessage>> ClaimAsync(ClienteleDb db, DateTime now, CancellationToken ct)
    {
        var size = BatchSize;
        using var gate = await database.EnterWriteAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        List<OutboxMessage> batch;
        if (db.Kind == DatabaseKind.Postgres)
        {
            // Several app instances share the queue: each skips the rows another has locked.
            batch = await db.OutboxMessages.FromSqlInterpolated($"""
                SELECT * FROM outbox WHERE "Status" IN (0, 4) AND "DueAt" <= {now}
                ORDER BY "DueAt", "Id" LIMIT {size} FOR UPDATE SKIP LOCKED
                """).ToListAsync(ct);
        }
        else
        {
            batch = await db.OutboxMessages
                .Where(m => (m.Status == OutboxStatus.Queued || m.Status == OutboxStatus.Deferred) && m.DueAt <= now)
                .OrderBy(m => m.DueAt).ThenBy(m => m.Id).Take(size).ToListAsync(ct);
        }
        foreach (var m in batch)
        {
            m.Status = OutboxStatus.Sending;
            m.LeaseUntil = now + Lease;
            m.Attempts++;
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return batch;
    }

    private static async Task<BatchFacts> LoadFactsAsync(ClienteleDb db, List<OutboxMessage> batch, DateTime now, CancellationToken ct)
    {
        var contactIds = batch.Select(m => m.ContactId).Distinct().ToList();
        var contacts = await db.Contacts.AsNoTracking().Where(c => contactIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        var consents = await db.Consents.AsNoTracking().Where(c => contactIds.Contains(c.ContactId)).ToListAsync(ct);
        var emails = batch.Select(m => Contact.Normalize(m.To)!).Distinct().ToList();
        var suppressed = await db.Suppressions.AsNoTracking().Where(s => emails.Contains(s.Email)).ToDictionaryAsync(s => s.Email, s => s.Reason, ct);
        var weekAgo = now.AddDays(-7);
        var recent = await db.OutboxMessages.AsNoTracking()
            .Where(o => contactIds.Contains(o.ContactId) && o.Class == MessageClass.Marketing && o.SentAt >= weekAgo)
            .Select(o => new { o.ContactId, o.SentAt })
            .ToListAsync(ct);
        return new BatchFacts(contacts, consents.ToLookup(c => c.ContactId),
            suppressed, recent.GroupBy(r => r.ContactId).ToDictionary(g => g.Key, g => g.Select(r => r.SentAt!.Value).ToList()));
    }

    private sealed class BatchFacts(
        Dictionary<Guid, Contact> contacts,
        ILookup<Guid, ContactConsent> consents,
        Dictionary<string, SuppressionReason> suppressed,
        Dictionary<Guid, List<DateTime>> recent)
    {
        public Contact? Contact(Guid id) => contacts.GetValueOrDefault(id);

        public SendFacts For(OutboxMessage m)
        {
            var contact = contacts.GetValueOrDefault(m.ContactId);
            var topic = m.Topic ?? ConsentProjection.DefaultTopic;
            var mine = consents[m.ContactId];
            return new SendFacts
            {
                Class = m.Class,
                Topic = topic,
                ContactExists = contact is { DeletedAt: null },
                HasAddress = m.To.Length > 0,
                TopicConsent = mine.FirstOrDefault(c => c.Topic == topic)?.Status,
                MarketingConsent = mine.FirstOrDefault(c => c.Topic == ConsentProjection.DefaultTopic)?.Status,
                Suppression = suppressed.TryGetValue(Contacts.Contact.Normalize(m.To) ?? "", out var reason) ? reason : null,
                TimeZone = contact?.TimeZone,
                RecentMarketing = recent.GetValueOrDefault(m.ContactId) ?? [],
                QueuedAt = m.CreatedAt,
            };
        }

        /// <summary>Counts a message just sent toward the caps of the rest of the batch.</summary>
        public void Sent(OutboxMessage m, DateTime at)
        {
            if (m.Class != MessageClass.Marketing)
            {
                return;
            }
            if (!recent.TryGetValue(m.ContactId, out var list))
            {
                recent[m.ContactId] = list = [];
            }
            list.Add(at);
        }
    }
}
