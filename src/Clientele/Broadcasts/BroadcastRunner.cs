using System.Security.Cryptography;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Outbox;
using Clientele.Segments;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Broadcasts;

/// <summary>Wakes the broadcast worker when one is created or changed.</summary>
internal sealed class BroadcastSignal : WakeSignal;

/// <summary>
/// Moves broadcasts along: queues the audience when the send time comes (one outbox message per contact, keyed by
/// broadcast and contact, so a restart half-way queues nobody twice), runs the A/B sample and sends the winner to the
/// rest, and marks a broadcast finished once every message is sent, failed or suppressed.
/// </summary>
internal sealed class BroadcastRunner(ClienteleDatabase database, OutboxSignal outbox, TimeProvider time, ILogger<BroadcastRunner> log)
{
    private const int Slice = 1000;

    /// <summary>Does whatever is due now; returns how many broadcasts moved.</summary>
    public async Task<int> StepAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        var active = await db.Broadcasts.AsNoTracking()
            .Where(b => b.Status == BroadcastStatus.Scheduled || b.Status == BroadcastStatus.Testing || b.Status == BroadcastStatus.Sending)
            .ToListAsync(ct);
        var moved = 0;
        foreach (var b in active)
        {
            try
            {
                moved += await StepAsync(b, now, ct) ? 1 : 0;
            }
            catch (SegmentQueryException ex)
            {
                await SetAsync(b.Id, s => s.SetProperty(x => x.Status, BroadcastStatus.Cancelled), ct);
                log.LogWarning("Broadcast {Name} cancelled: its segment no longer reads ({Problem})", b.Name, ex.Message);
            }
        }
        return moved;
    }

    private async Task<bool> StepAsync(Broadcast b, DateTime now, CancellationToken ct)
    {
        switch (b.Status)
        {
            case BroadcastStatus.Scheduled when StartsAt(b) <= now:
                {
                    var test = b.TestPercent > 0 && b.SubjectB is not null;
                    await SetAsync(b.Id, s => s.SetProperty(x => x.Status, test ? BroadcastStatus.Testing : BroadcastStatus.Sending)
                        .SetProperty(x => x.StartedAt, now)
                        .SetProperty(x => x.TestEndsAt, test ? now.AddHours(b.TestHours) : null), ct);
                    b.Status = test ? BroadcastStatus.Testing : BroadcastStatus.Sending;
                    await QueueAsync(b, now, test ? Part.Sample : Part.All, null, ct);
                    return true;
                }
            case BroadcastStatus.Testing:
                {
                    var moved = false;
                    if (!b.Queued)
                    {
                        // A restart while the sample was being queued: finish it (the keys make that safe).
                        await QueueAsync(b, now, Part.Sample, null, ct);
                        moved = true;
                    }
                    if (b.TestEndsAt > now)
                    {
                        return moved;
                    }
                    var winner = await WinnerAsync(b, ct);
                    await SetAsync(b.Id, s => s.SetProperty(x => x.Winner, winner).SetProperty(x => x.Status, BroadcastStatus.Sending)
                        .SetProperty(x => x.Queued, false), ct);
                    b.Status = BroadcastStatus.Sending;
                    b.Winner = winner;
                    b.Queued = false;
                    await QueueAsync(b, now, Part.Rest, winner, ct);
                    return true;
                }
            case BroadcastStatus.Sending when !b.Queued:
                await QueueAsync(b, now, b.Winner is null ? Part.All : Part.Rest, b.Winner, ct);
                return true;
            case BroadcastStatus.Sending:
                {
                    await using var db = database.CreateDbContext();
                    var open = await db.OutboxMessages.AnyAsync(m => m.BroadcastId == b.Id
                        && (m.Status == OutboxStatus.Queued || m.Status == OutboxStatus.Sending || m.Status == OutboxStatus.Deferred), ct);
                    if (open)
                    {
                        return false;
                    }
                    await SetAsync(b.Id, s => s.SetProperty(x => x.Status, BroadcastStatus.Finished).SetProperty(x => x.FinishedAt, now), ct);
                    log.LogInformation("Broadcast {Name} finished", b.Name);
                    return true;
                }
            default:
                return false;
        }
    }

    /// <summary>When queuing starts: the send time, or for local-time sends the moment it is that time in the earliest zone.</summary>
    public static DateTime StartsAt(Broadcast b)
    {
        var at = b.SendAt ?? b.CreatedAt;
        return b.LocalTime ? at.AddHours(-14) : at;
    }

    /// <summary>When one contact's message is due: the send time, or that wall-clock time in the contact's zone.</summary>
    public static DateTime DueFor(Broadcast b, string? zoneId, SendingRules rules, DateTime now)
    {
        var at = b.SendAt ?? now;
        if (!b.LocalTime)
        {
            return at < now ? now : at;
        }
        var zone = SendPolicy.ZoneOf(zoneId, rules);
        var wall = DateTime.SpecifyKind(at, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(wall))
        {
            wall = wall.AddMinutes(30);
        }
        var due = TimeZoneInfo.ConvertTimeToUtc(wall, zone);
        return due < now ? now : due;
    }

    private enum Part
    {
        All,
        Sample,
        Rest,
    }

    /// <summary>Whether a contact is in the A/B sample, and which variant it gets: stable across restarts.</summary>
    public static (bool InSample, string Variant) Pick(Guid broadcast, Guid contact, int percent)
    {
        Span<byte> input = stackalloc byte[32];
        broadcast.TryWriteBytes(input);
        contact.TryWriteBytes(input[16..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        var h = BitConverter.ToUInt32(hash);
        return (h % 100 < percent, (h / 100) % 2 == 0 ? "A" : "B");
    }

    private async Task QueueAsync(Broadcast b, DateTime now, Part part, string? winner, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        var rules = await SettingsStore.LoadAsync(db, SendingRules.Key, SendingRules.Default, ct);
        var audience = await Audience(db, b, now).Select(c => new { c.Id, c.Email, c.TimeZone }).ToListAsync(ct);
        var already = (await db.OutboxMessages.AsNoTracking().Where(m => m.BroadcastId == b.Id).Select(m => m.ContactId).ToListAsync(ct)).ToHashSet();
        var todo = audience.Where(c => !already.Contains(c.Id)).ToList();
        if (part == Part.Sample)
        {
            todo = todo.Where(c => Pick(b.Id, c.Id, b.TestPercent).InSample).ToList();
        }
        var queued = already.Count;
        foreach (var slice in todo.Chunk(Slice))
        {
            var messages = slice.Select(c =>
            {
                var variant = part switch
                {
                    Part.Sample => Pick(b.Id, c.Id, b.TestPercent).Variant,
                    Part.Rest => winner ?? "A",
                    _ => null,
                };
                return new OutboxMessage
                {
                    Id = Guid.CreateVersion7(),
                    ContactId = c.Id,
                    To = c.Email!,
                    Subject = variant == "B" ? b.SubjectB! : b.Subject,
                    Kind = "broadcast",
                    Class = MessageClass.Marketing,
                    Topic = b.Topic,
                    IdempotencyKey = $"broadcast:{b.Id:N}:{c.Id:N}",
                    Status = OutboxStatus.Queued,
                    DueAt = DueFor(b, c.TimeZone, rules, now),
                    BroadcastId = b.Id,
                    Variant = variant,
                    CreatedAt = now,
                };
            }).ToList();
            await using var write = database.CreateDbContext();
            using (await database.EnterWriteAsync(ct))
            {
                await using var tx = await write.Database.BeginTransactionAsync(ct);
                queued += await OutboxWriter.InsertAsync(write, messages, ct);
                await write.Broadcasts.Where(x => x.Id == b.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.Audience, queued), ct);
                await tx.CommitAsync(ct);
            }
            outbox.Notify();
        }
        await SetAsync(b.Id, s => s.SetProperty(x => x.Queued, true).SetProperty(x => x.Audience, queued), ct);
        b.Queued = true;
        outbox.Notify();
    }

    /// <summary>Who a broadcast goes to: subscribers of its topic (in its segment, when it has one) with a deliverable address.</summary>
    public static IQueryable<Contact> Audience(ClienteleDb db, Broadcast b, DateTime now)
    {
        var topic = b.Topic;
        // Driven from the topic's subscribers (an IN list probed by contact id), not from every contact: in a shop of
        // a million contacts that is a tenth of the time on SQLite.
        var subscribers = db.Consents.Where(k => k.Topic == topic && k.Status == ConsentStatus.Subscribed).Select(k => k.ContactId);
        var q = db.Contacts.Where(c => c.DeletedAt == null && c.EmailNormalized != null
            && subscribers.Contains(c.Id)
            && !c.Consents.Any(k => k.Topic == ConsentProjection.DefaultTopic && k.Status == ConsentStatus.Unsubscribed)
            && !db.Suppressions.Any(s => s.Email == c.EmailNormalized));
        if (b.Segment is { Length: > 0 } segment)
        {
            q = q.Where(SegmentCompiler.Compile(SegmentParser.Parse(segment), db, now));
        }
        return q;
    }

    private async Task<string> WinnerAsync(Broadcast b, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        var byVariant = await db.OutboxMessages.AsNoTracking()
            .Where(m => m.BroadcastId == b.Id && m.Status == OutboxStatus.Sent)
            .GroupBy(m => m.Variant)
            .Select(g => new { Variant = g.Key, Sent = g.Count(), Opened = g.Count(m => m.OpenedAt != null), Clicked = g.Count(m => m.ClickedAt != null) })
            .ToListAsync(ct);
        double Rate(string v)
        {
            var row = byVariant.FirstOrDefault(r => r.Variant == v);
            return row is null || row.Sent == 0 ? 0 : (double)(b.TestMetric == "clicks" ? row.Clicked : row.Opened) / row.Sent;
        }
        return Rate("B") > Rate("A") ? "B" : "A";
    }

    private async Task SetAsync(Guid id, Action<Microsoft.EntityFrameworkCore.Query.UpdateSettersBuilder<Broadcast>> set, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            await db.Broadcasts.Where(x => x.Id == id).ExecuteUpdateAsync(set, ct);
        }
    }
}

/// <summary>Runs <see cref="BroadcastRunner"/> every few seconds and when woken.</summary>
internal sealed class BroadcastService(BroadcastRunner runner, BroadcastSignal signal, ILogger<BroadcastService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await runner.StepAsync(stoppingToken);
                await signal.WaitAsync(TimeSpan.FromSeconds(2), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogError(ex, "Broadcast step failed");
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }
}
