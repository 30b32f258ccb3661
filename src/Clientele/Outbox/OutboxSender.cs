using System.Collections.Concurrent;
using System.Text.Json;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace Clientele.Outbox;

/// <summary>Wakes the senders when a message is queued for now.</summary>
internal sealed class OutboxSignal : WakeSignal;

/// <summary>
/// Delivers due outbox messages. One loop talks to the database: in one transaction it records what the senders
/// finished and claims what they can take next (state <see cref="OutboxStatus.Sending"/> with a lease, committed
/// before anything goes out), then checks consent, suppressions, caps and quiet hours for each claimed message.
/// Senders, one per transport connection, render each message and hand it over. A crash between the transport's
/// acceptance and the next commit can leave only the claimed messages in doubt (a few per sender); they are marked
/// <see cref="OutboxMessage.Ambiguous"/> and never sent twice.
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
    Clientele.Broadcasts.BroadcastSignal broadcasts,
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

    private TimeSpan Lease => TimeSpan.FromSeconds(config.GetValue("Clientele:Outbox:LeaseSeconds", 600));

    /// <summary>One sender per SMTP connection, so each keeps its connection busy; the local outbox needs one.</summary>
    private int Workers => config.GetValue("Clientele:Outbox:Workers", transport.Name == "local" ? 1 : smtp.MaxConnections);

    /// <summary>
    /// Messages claimed and not yet recorded: what a crash can leave in doubt. Several per sender keep them busy and let
    /// one transaction record and claim many.
    /// </summary>
    private int MaxClaimed => config.GetValue("Clientele:Outbox:MaxClaimed", Workers * 8);

    public static TimeSpan RetryDelay(int attempts) => Backoff[Math.Clamp(attempts - 1, 0, Backoff.Length - 1)];

    /// <summary>A claimed message, cleared to go, with what rendering needs.</summary>
    private sealed record Work(OutboxMessage Message, Contact Contact);

    /// <summary>What happened to a claimed message, applied to its row by the database loop.</summary>
    private sealed record Outcome(OutboxMessage Message, OutboxStatus Status, string? Answer, DateTime? DueAt = null, DateTime? SentAt = null,
        string? Subject = null, bool Attempted = true)
    {
        public List<OutboxNote> Notes { get; } = [];

        /// <summary>Already applied to <see cref="Message"/> by an earlier attempt to record it.</summary>
        public bool Applied { get; set; }
    }

    private readonly Channel<Work> _work = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Channel<(List<OutboxMessage> Batch, SendingRules Rules, DateTime Now)> _claims =
        Channel.CreateUnbounded<(List<OutboxMessage>, SendingRules, DateTime)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Channel<Outcome> _done = Channel.CreateUnbounded<Outcome>();

    /// <summary>Marketing messages claimed and not yet recorded, by contact: they count toward the caps already. Guarded by itself.</summary>
    private readonly Dictionary<Guid, List<(Guid Message, DateTime At)>> _pendingMarketing = [];

    private int _claimed;

    /// <summary>Messages claimed by this instance and not yet recorded, with the status they had before: what stopping hands back.</summary>
    private readonly ConcurrentDictionary<Guid, OutboxStatus> _held = new();

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
            log.LogInformation("Sending mail through the {Transport} transport with {Workers} senders", transport.Name, Workers);
            var senders = Enumerable.Range(0, Workers).Select(_ => SendLoopAsync(stoppingToken)).ToList();
            var decider = DecideLoopAsync(stoppingToken);
            await Quietly(DatabaseLoopAsync(stoppingToken));
            _claims.Writer.TryComplete();
            _work.Writer.TryComplete();
            await Quietly(decider);
            await Task.WhenAll(senders.Select(Quietly));
            await HandBackAsync();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Stopping: the senders have finished the messages they were handing over. Records those outcomes, and puts every
    /// other message this instance claimed back in the queue as it was, so another instance (or the next start) sends it
    /// at once and none is left in doubt.
    /// </summary>
    private async Task HandBackAsync()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            while (_done.Reader.Count > 0)
            {
                await CycleAsync(limit.Token, claim: false);
            }
            var held = _held.ToList();
            if (held.Count == 0)
            {
                return;
            }
            await using var db = database.CreateDbContext();
            using (await database.EnterWriteAsync(limit.Token))
            {
                await using var tx = await db.Database.BeginTransactionAsync(limit.Token);
                foreach (var group in held.GroupBy(h => h.Value))
                {
                    var ids = group.Select(h => h.Key).ToList();
                    await db.OutboxMessages.Where(m => ids.Contains(m.Id) && m.Status == OutboxStatus.Sending).ExecuteUpdateAsync(s => s
                        .SetProperty(m => m.Status, group.Key)
                        .SetProperty(m => m.LeaseUntil, (DateTime?)null)
                        .SetProperty(m => m.Attempts, m => m.Attempts - 1), limit.Token);
                }
                await tx.CommitAsync(limit.Token);
            }
            _held.Clear();
            log.LogInformation("Stopping: {Count} claimed messages were put back in the queue", held.Count);
        }
        catch (Exception ex)
        {
            // Their leases run out and they are recovered as after a crash.
            log.LogWarning(ex, "Stopping: could not put {Count} claimed messages back in the queue", _held.Count);
        }
    }

    /// <summary>Records outcomes and claims more, as the senders finish; sleeps when there is nothing to do.</summary>
    private async Task DatabaseLoopAsync(CancellationToken ct)
    {
        var lastRecovery = time.GetUtcNow();
        var idle = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (idle)
                {
                    // Nothing due: wait for a queued message, an outcome, or the next poll.
                    var wake = signal.WaitAsync(TimeSpan.FromSeconds(1), ct);
                    var outcome = _done.Reader.WaitToReadAsync(ct).AsTask();
                    await Task.WhenAny(wake, outcome);
                }
                else if (_claimed >= MaxClaimed)
                {
                    await GatherAsync(ct);
                }
                var (recorded, claimed) = await CycleAsync(ct);
                idle = recorded == 0 && claimed == 0;
                if (idle && time.GetUtcNow() - lastRecovery > TimeSpan.FromMinutes(1))
                {
                    lastRecovery = time.GetUtcNow();
                    await RecoverAsync(ct);
                }
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                log.LogError(ex, "Recording or claiming mail failed");
                idle = true;
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    /// <summary>
    /// The senders are busy: waits for an outcome, then a few milliseconds more until a sender's worth of outcomes are
    /// in, so one transaction records several and claims as many (a transaction per message would make the database
    /// the bottleneck). Wall-clock waiting: it paces work, it decides nothing.
    /// </summary>
    private async Task GatherAsync(CancellationToken ct)
    {
        await _done.Reader.WaitToReadAsync(ct);
        var enough = Math.Max(1, MaxClaimed / 4);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (_done.Reader.Count < enough && waited.ElapsedMilliseconds < 5)
        {
            await Task.Delay(1, ct);
        }
    }

    /// <summary>One transaction: the outcomes ready so far, then as many due messages as the senders have room for.</summary>
    internal async Task<(int Recorded, int Claimed)> CycleAsync(CancellationToken ct, bool claim = true)
    {
        var outcomes = new List<Outcome>();
        while (outcomes.Count < 1000 && _done.Reader.TryRead(out var o))
        {
            outcomes.Add(o);
        }
        var room = claim ? MaxClaimed - _claimed + outcomes.Count : 0;
        var now = time.GetUtcNow().UtcDateTime;
        if (outcomes.Count == 0)
        {
            // Idle most of the time: look without a transaction or the write gate first.
            await using var look = database.CreateDbContext();
            if (room <= 0 || !await look.OutboxMessages.AnyAsync(m => (m.Status == OutboxStatus.Queued || m.Status == OutboxStatus.Deferred) && m.DueAt <= now, ct))
            {
                return (0, 0);
            }
        }
        var rules = await content.RulesAsync(ct);
        List<OutboxMessage> batch;
        var sent = outcomes.Where(o => o.Status == OutboxStatus.Sent).Select(o => SentEvent(o.Message, o.SentAt!.Value)).ToList();
        try
        {
            await using var db = database.CreateDbContext();
            using (await database.EnterWriteAsync(ct))
            {
                // Once begun, the transaction is not cut short by stopping: half-way, nobody could tell whether it committed.
                var none = CancellationToken.None;
                await using var tx = await db.Database.BeginTransactionAsync(none);
                foreach (var o in outcomes)
                {
                    Apply(db, o);
                    db.OutboxNotes.AddRange(o.Notes);
                }
                await db.SaveChangesAsync(none);
                await EventWriter.InsertAsync(db, sent, none);
                batch = room > 0 ? await ClaimAsync(db, now, room, none) : [];
                await tx.CommitAsync(none);
            }
        }
        catch
        {
            // Not recorded (the database was away): the outcomes wait for the next cycle instead of being lost, so no
            // message that went out is put back in the queue, and the senders' room is not used up.
            foreach (var o in outcomes)
            {
                _done.Writer.TryWrite(o);
            }
            throw;
        }
        foreach (var o in outcomes)
        {
            Forget(o.Message);
            _held.TryRemove(o.Message.Id, out _);
        }
        _claimed += batch.Count - outcomes.Count;
        if (sent.Count > 0)
        {
            Web.InstanceCounters.MailSent.Add(sent.Count);
            events.Notify();
        }
        if (_claimed == 0 && outcomes.Any(o => o.Message.BroadcastId is not null))
        {
            broadcasts.Notify(); // nothing in flight: a broadcast may have just finished
        }
        if (batch.Count > 0)
        {
            // Checked on the side, so the next cycle can record and claim meanwhile.
            _claims.Writer.TryWrite((batch, rules, now));
        }
        return (outcomes.Count, batch.Count);
    }

    /// <summary>Attaches the claimed message with the outcome applied; only the columns the outcome sets are written.</summary>
    /// <remarks>Applied once, however often it is recorded: a cycle that could not commit records it again.</remarks>
    private static void Apply(ClienteleDb db, Outcome o)
    {
        var m = o.Message;
        db.OutboxMessages.Attach(m);
        if (!o.Applied)
        {
            o.Applied = true;
            m.Status = o.Status;
            m.LeaseUntil = null;
            m.LastAnswer = o.Answer;
            if (!o.Attempted)
            {
                m.Attempts--; // held back by a rule: not an attempt
            }
            m.DueAt = o.DueAt ?? m.DueAt;
            m.SentAt = o.SentAt ?? m.SentAt;
            m.Subject = o.Subject ?? m.Subject;
        }
        var entry = db.Entry(m);
        entry.Property(x => x.Status).IsModified = true;
        entry.Property(x => x.LeaseUntil).IsModified = true;
        entry.Property(x => x.LastAnswer).IsModified = true;
        entry.Property(x => x.Attempts).IsModified = !o.Attempted;
        entry.Property(x => x.DueAt).IsModified = o.DueAt is not null;
        entry.Property(x => x.SentAt).IsModified = o.SentAt is not null;
        entry.Property(x => x.Subject).IsModified = o.Subject is not null;
    }

    /// <summary>Checks claimed batches in the order they were claimed, so each sees the marketing mail claimed before it.</summary>
    private async Task DecideLoopAsync(CancellationToken ct)
    {
        await foreach (var (batch, rules, now) in _claims.Reader.ReadAllAsync(ct))
        {
            try
            {
                await DecideAsync(batch, rules, now, ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // Claimed but unchecked: back in the queue for a later cycle, so none is stuck as being sent.
                log.LogError(ex, "Checking {Count} claimed messages failed", batch.Count);
                foreach (var m in batch)
                {
                    Finish(new Outcome(m, OutboxStatus.Queued, "Could not be checked before sending: " + ex.Message,
                        DueAt: now + TimeSpan.FromMinutes(1), Attempted: false), now);
                }
            }
        }
    }

    /// <summary>Checks each claimed message against consent, suppressions, caps and quiet hours; hands the rest to the senders.</summary>
    private async Task DecideAsync(List<OutboxMessage> batch, SendingRules rules, DateTime now, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        var facts = await LoadFactsAsync(db, batch, now, ct);
        foreach (var m in batch)
        {
            var f = facts.For(m);
            if (m.Class == MessageClass.Marketing && PendingMarketing(m.ContactId) is { Count: > 0 } pending)
            {
                f = f with { RecentMarketing = [.. f.RecentMarketing, .. pending] };
            }
            var decision = SendPolicy.Decide(f, rules, now);
            switch (decision.Verdict)
            {
                case SendVerdict.Suppress:
                    Finish(new Outcome(m, OutboxStatus.Suppressed, decision.Reason), now);
                    break;
                case SendVerdict.Delay:
                    Finish(new Outcome(m, OutboxStatus.Queued, decision.Reason, DueAt: decision.Until, Attempted: false), now);
                    break;
                default:
                    if (m.Class == MessageClass.Marketing)
                    {
                        lock (_pendingMarketing)
                        {
                            if (!_pendingMarketing.TryGetValue(m.ContactId, out var list))
                            {
                                _pendingMarketing[m.ContactId] = list = [];
                            }
                            list.Add((m.Id, now));
                        }
                    }
                    _work.Writer.TryWrite(new Work(m, facts.Contact(m.ContactId)!));
                    break;
            }
        }
    }

    /// <summary>An outcome with a line in the message's history (a sent message's answer is shown with its sending time).</summary>
    private void Finish(Outcome o, DateTime now)
    {
        if (o.Answer is { } answer && o.Status != OutboxStatus.Sent)
        {
            o.Notes.Add(new OutboxNote { MessageId = o.Message.Id, At = now, Text = answer });
        }
        _done.Writer.TryWrite(o);
    }

    private List<DateTime>? PendingMarketing(Guid contactId)
    {
        lock (_pendingMarketing)
        {
            return _pendingMarketing.TryGetValue(contactId, out var list) ? list.Select(p => p.At).ToList() : null;
        }
    }

    private void Forget(OutboxMessage m)
    {
        if (m.Class != MessageClass.Marketing)
        {
            return;
        }
        lock (_pendingMarketing)
        {
            if (_pendingMarketing.TryGetValue(m.ContactId, out var list))
            {
                list.RemoveAll(p => p.Message == m.Id);
                if (list.Count == 0)
                {
                    _pendingMarketing.Remove(m.ContactId);
                }
            }
        }
    }

    /// <summary>One sender: renders and hands over one message at a time.</summary>
    /// <remarks>
    /// Once stopping, it takes no new message, but one already being handed over is finished (the transport's own
    /// timeouts bound it): cut off half-way, nobody could tell whether it arrived.
    /// </remarks>
    private async Task SendLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested && await _work.Reader.WaitToReadAsync(ct))
        {
            if (ct.IsCancellationRequested || !_work.Reader.TryRead(out var w))
            {
                continue;
            }
            try
            {
                Finish(await SendAsync(w, CancellationToken.None), time.GetUtcNow().UtcDateTime);
            }
            catch (Exception ex)
            {
                log.LogError(ex, "Sending message {Id} failed", w.Message.Id);
                var now = time.GetUtcNow().UtcDateTime;
                Finish(new Outcome(w.Message, OutboxStatus.Deferred, "Could not be sent: " + ex.Message, DueAt: now + RetryDelay(w.Message.Attempts)), now);
            }
        }
    }

    private async Task<Outcome> SendAsync(Work w, CancellationToken ct)
    {
        var m = w.Message;
        // A last look, right before it goes: an unsubscribe committed since the claim stops it.
        if (m.Class == MessageClass.Marketing && guard.Blocks(m.ContactId, m.Topic ?? ConsentProjection.DefaultTopic))
        {
            return new Outcome(m, OutboxStatus.Suppressed, "The contact unsubscribed while this message was waiting.");
        }
        MimeMessage mime;
        try
        {
            mime = await content.ComposeAsync(m, w.Contact, time.GetUtcNow().UtcDateTime, ct);
        }
        catch (OutboxContentException ex)
        {
            return new Outcome(m, OutboxStatus.Failed, "Could not render: " + ex.Message);
        }
        var result = await transport.SendAsync(mime, ct);
        var now = time.GetUtcNow().UtcDateTime;
        return result.Outcome switch
        {
            DeliveryOutcome.Sent => new Outcome(m, OutboxStatus.Sent, result.Answer, SentAt: now, Subject: mime.Subject ?? m.Subject),
            DeliveryOutcome.Retry when m.Attempts < MaxAttempts => new Outcome(m, OutboxStatus.Deferred,
                $"Attempt {m.Attempts} deferred: {result.Answer}. Next try at {now + RetryDelay(m.Attempts):yyyy-MM-dd HH:mm} UTC.",
                DueAt: now + RetryDelay(m.Attempts)),
            DeliveryOutcome.Retry => new Outcome(m, OutboxStatus.Failed, $"Gave up after {m.Attempts} attempts: {result.Answer}"),
            _ => new Outcome(m, OutboxStatus.Failed, "Refused: " + result.Answer),
        };
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

    private static Event SentEvent(OutboxMessage m, DateTime at) => new()
    {
        ContactId = m.ContactId,
        Type = "email.sent",
        OccurredAt = at,
        ReceivedAt = at,
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

    /// <summary>Claims up to <paramref name="size"/> due messages in the current transaction.</summary>
    private async Task<List<OutboxMessage>> ClaimAsync(ClienteleDb db, DateTime now, int size, CancellationToken ct)
    {
        // One status at a time, in due order: each reads the (Status, DueAt) index from its start and stops after
        // the batch, however long the queue. (Both statuses in one ORDER BY would sort every due message first.)
        var batch = await DueAsync(db, OutboxStatus.Queued, now, size, ct);
        if (batch.Count < size)
        {
            batch.AddRange(await DueAsync(db, OutboxStatus.Deferred, now, size - batch.Count, ct));
        }
        if (batch.Count == 0)
        {
            return batch;
        }
        var ids = batch.Select(m => m.Id).ToList();
        var lease = now + Lease;
        await db.OutboxMessages.Where(m => ids.Contains(m.Id)).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.Status, OutboxStatus.Sending)
            .SetProperty(m => m.LeaseUntil, lease)
            .SetProperty(m => m.Attempts, m => m.Attempts + 1), ct);
        foreach (var m in batch)
        {
            _held[m.Id] = m.Status;
            m.Status = OutboxStatus.Sending;
            m.LeaseUntil = lease;
            m.Attempts++;
        }
        return batch;
    }

    private static Task<List<OutboxMessage>> DueAsync(ClienteleDb db, OutboxStatus status, DateTime now, int size, CancellationToken ct) =>
        db.Kind == DatabaseKind.Postgres
            // Several app instances share the queue: each skips the rows another has locked.
            ? db.OutboxMessages.FromSqlInterpolated($"""
                SELECT * FROM outbox WHERE "Status" = {(int)status} AND "DueAt" <= {now}
                ORDER BY "DueAt" LIMIT {size} FOR UPDATE SKIP LOCKED
                """).AsNoTracking().ToListAsync(ct)
            : db.OutboxMessages.AsNoTracking().Where(m => m.Status == status && m.DueAt <= now).OrderBy(m => m.DueAt).Take(size).ToListAsync(ct);

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
        var marketed = batch.Where(m => m.Class == MessageClass.Marketing).Select(m => m.ContactId).Distinct().ToList();
        var ticketed = marketed.Count == 0 ? [] : await db.Tickets.AsNoTracking()
            .Where(t => marketed.Contains(t.ContactId) && t.Status != Support.TicketStatus.Solved && t.Channel != "journey")
            .Select(t => t.ContactId).Distinct().ToListAsync(ct);
        return new BatchFacts(contacts, consents.ToLookup(c => c.ContactId),
            suppressed, recent.GroupBy(r => r.ContactId).ToDictionary(g => g.Key, g => g.Select(r => r.SentAt!.Value).ToList()), ticketed.ToHashSet());
    }

    private sealed class BatchFacts(
        Dictionary<Guid, Contact> contacts,
        ILookup<Guid, ContactConsent> consents,
        Dictionary<string, SuppressionReason> suppressed,
        Dictionary<Guid, List<DateTime>> recent,
        HashSet<Guid> ticketed)
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
                OpenTicket = ticketed.Contains(m.ContactId),
                Suppression = suppressed.TryGetValue(Contacts.Contact.Normalize(m.To) ?? "", out var reason) ? reason : null,
                TimeZone = contact?.TimeZone,
                RecentMarketing = recent.GetValueOrDefault(m.ContactId) ?? [],
                QueuedAt = m.CreatedAt,
                DueAt = m.DueAt,
            };
        }
    }
}
