using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Events;

/// <summary>Wakes the dispatcher as soon as new events are committed, and tells it when requests are being ingested.</summary>
internal sealed class EventSignal : WakeSignal
{
    /// <summary>How long after the last request arrived ingestion still counts as busy: the gap between a client's requests.</summary>
    public static readonly TimeSpan BusyFor = TimeSpan.FromMilliseconds(50);

    private long _lastIngest = long.MinValue;

    /// <summary>Called as a request's events are queued for storing.</summary>
    public void Ingesting() => Volatile.Write(ref _lastIngest, Environment.TickCount64);

    /// <summary>True while requests keep arriving: derivation then leaves most of the writer's time to them.</summary>
    public bool IngestBusy => Environment.TickCount64 - Volatile.Read(ref _lastIngest) < BusyFor.TotalMilliseconds;
}

/// <summary>
/// Hands every committed event to every consumer, in log order, at least once and — because a
/// consumer's writes commit in the same transaction as its checkpoint — with its effects exactly once.
/// A consumer that throws is retried; if it keeps failing on one event, the event is parked in
/// <c>consumer_failures</c> and the consumer goes on, so one bad event or consumer stops nothing else.
/// </summary>
internal sealed class EventDispatcher(
    IEnumerable<IEventConsumer> consumers,
    ClienteleDatabase database,
    TimeProvider time,
    EventSignal signal,
    IConfiguration config,
    ILogger<EventDispatcher> log) : IDisposable
{
    public const int BatchSize = 2000;
    public const int MaxAttempts = 3;

    /// <summary>
    /// While requests are being ingested, a consumer that took <c>t</c> for a batch waits <c>t × this</c> before the next,
    /// so derivation takes at most a quarter of the time (and of the single SQLite writer) and catches up when the
    /// requests pause. <c>Clientele:Dispatcher:YieldUnderLoad</c>; 0 runs the consumers flat out beside ingestion.
    /// </summary>
    private readonly double _yieldUnderLoad = Math.Max(0, config.GetValue("Clientele:Dispatcher:YieldUnderLoad", 3.0));

    /// <summary>The longest pause between two batches under load: derivation never stops for long.</summary>
    public static readonly TimeSpan MaxYield = TimeSpan.FromSeconds(1);

    /// <summary>
    /// On PostgreSQL, ids are handed out before commit, so a later id can become visible first.
    /// A gap younger than this is waited for; an older one is a rolled-back insert and is skipped.
    /// </summary>
    public static readonly TimeSpan GapTolerance = TimeSpan.FromSeconds(10);

    private readonly IEventConsumer[] _consumers = consumers.ToArray();
    private string[] Names => field ??= [.. _consumers.Select(c => c.Name)];

    // The background loop and an explicit drain (CLI, tests) never run the same consumer side by side.
    private readonly SemaphoreSlim _gate = new(1, 1);

    public IReadOnlyList<IEventConsumer> Consumers => _consumers;

    public void Dispose() => _gate.Dispose();

    /// <summary>Runs every consumer until it has caught up. Returns how many events were handed out.</summary>
    public async Task<int> DrainAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return await DrainCoreAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<int> DrainCoreAsync(CancellationToken ct)
    {
        if (await CaughtUpAsync(ct))
        {
            return 0;
        }
        // Round robin, one batch per consumer per round: under a steady stream no consumer starves the others.
        var total = 0;
        while (true)
        {
            var round = 0;
            var shared = new RoundReads(); // consumers at the same position read the log once per round
            foreach (var consumer in _consumers)
            {
                var handed = 0;
                try
                {
                    handed = await RunOnceAsync(consumer, ct, shared);
                    round += handed;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    log.LogError(ex, "Consumer {Consumer} could not advance", consumer.Name);
                }
                if (handed > 0 && _yieldUnderLoad > 0 && signal.IngestBusy)
                {
                    var pause = TimeSpan.FromMilliseconds(Math.Min((Environment.TickCount64 - shared.Entered) * _yieldUnderLoad, MaxYield.TotalMilliseconds));
                    await Task.Delay(pause, ct);
                }
            }
            total += round;
            if (round == 0)
            {
                return total;
            }
        }
    }

    /// <summary>
    /// True when the log is empty or every consumer's checkpoint is at its end: two small reads, where a round would open
    /// a transaction per consumer. An idle server asks this every second.
    /// </summary>
    private async Task<bool> CaughtUpAsync(CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        var head = await db.Events.MaxAsync(e => (long?)e.Id, ct);
        if (head is null)
        {
            return true;
        }
        var names = Names;
        var positions = await db.ConsumerCheckpoints.AsNoTracking().Where(c => names.Contains(c.Consumer)).Select(c => c.Position).ToListAsync(ct);
        return positions.Count == names.Length && positions.Min() >= head;
    }

    /// <summary>
    /// What one round has read of the log: the window after a position and the events read in full. The log is
    /// append-only, so a later consumer at the same position can be handed the same rows.
    /// </summary>
    internal sealed class RoundReads
    {
        public long? From { get; set; }
        public List<Entry> Window { get; set; } = [];
        public Dictionary<long, Event> Full { get; } = [];

        /// <summary>When the last batch got the writer (<see cref="Environment.TickCount64"/>): what it took is measured from there.</summary>
        public long Entered { get; set; }
    }

    /// <summary>Processes one batch for one consumer. Returns the number of events read.</summary>
    internal async Task<int> RunOnceAsync(IEventConsumer consumer, CancellationToken ct, RoundReads? shared = null)
    {
        shared ??= new RoundReads();
        List<Event> wanted;
        long end;
        int read;
        using (await database.EnterWriteAsync(ct))
        await using (var db = database.CreateDbContext())
        {
            shared.Entered = Environment.TickCount64;
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var checkpoint = await LockCheckpointAsync(db, consumer.Name, ct);
            if (checkpoint is null)
            {
                return 0; // another instance holds it
            }
            if (shared.From != checkpoint.Position)
            {
                (shared.From, shared.Window) = (checkpoint.Position, await ReadWindowAsync(db, checkpoint.Position, ct));
            }
            var window = shared.Window;
            if (consumer.After.Count > 0 && window.Count > 0)
            {
                // A consumer that reads what others derive waits until they have handled the same events.
                var after = consumer.After;
                var ahead = await db.ConsumerCheckpoints.AsNoTracking().Where(c => after.Contains(c.Consumer)).Select(c => c.Position).ToListAsync(ct);
                var cap = ahead.Count < after.Count ? 0 : ahead.Min();
                window = window.Where(w => w.Id <= cap).ToList();
            }
            if (window.Count == 0)
            {
                return 0;
            }
            end = window[^1].Id;
            read = window.Count;
            // Only the events this consumer wants are read in full; the rest only move its checkpoint.
            var entries = window.Where(w => consumer.Wants(w.Type)).ToList();
            wanted = consumer.ReadsProperties
                ? await ReadFullAsync(db, entries, shared, ct)
                : [.. entries.Select(w => new Event
                {
                    Id = w.Id, ContactId = w.ContactId, Type = w.Type, OccurredAt = w.OccurredAt, ReceivedAt = w.ReceivedAt, Properties = "{}", Source = "",
                })];
            var now = time.GetUtcNow().UtcDateTime;
            try
            {
                if (wanted.Count > 0)
                {
                    await consumer.HandleBatchAsync(new ConsumerContext(db, consumer.Name, now), wanted, ct);
                }
                Advance(checkpoint, end, read, now);
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
                if (wanted.Count > 0)
                {
                    consumer.Committed();
                }
                return read;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Consumer {Consumer} failed on a batch of {Count}; retrying event by event", consumer.Name, wanted.Count);
                await tx.RollbackAsync(ct);
            }
        }

        // Event by event, each with its own commit, so only an event that keeps failing is parked.
        foreach (var e in wanted)
        {
            try
            {
                await CommitOneAsync(consumer, e, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await RetryOrParkAsync(consumer, e, ex, ct);
            }
        }
        await AdvanceToAsync(consumer.Name, end, ct);
        return read;
    }

    private async Task AdvanceToAsync(string consumer, long position, CancellationToken ct)
    {
        using var gate = await database.EnterWriteAsync(ct);
        await using var db = database.CreateDbContext();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var checkpoint = await LockCheckpointAsync(db, consumer, ct);
        if (checkpoint is null || checkpoint.Position >= position)
        {
            return;
        }
        Advance(checkpoint, position, 0, time.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Handles one event in its own transaction, with the checkpoint moved past it.</summary>
    private async Task CommitOneAsync(IEventConsumer consumer, Event e, CancellationToken ct)
    {
        using var gate = await database.EnterWriteAsync(ct);
        await using var db = database.CreateDbContext();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var checkpoint = await LockCheckpointAsync(db, consumer.Name, ct);
        if (checkpoint is null || checkpoint.Position >= e.Id)
        {
            return;
        }
        var now = time.GetUtcNow().UtcDateTime;
        await consumer.HandleBatchAsync(new ConsumerContext(db, consumer.Name, now), [e], ct);
        Advance(checkpoint, e.Id, 0, now);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        consumer.Committed();
    }

    private async Task RetryOrParkAsync(IEventConsumer consumer, Event e, Exception firstError, CancellationToken ct)
    {
        var error = firstError;
        for (var attempt = 2; attempt <= MaxAttempts; attempt++)
        {
            try
            {
                await CommitOneAsync(consumer, e, ct);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                error = ex;
            }
        }

        log.LogError(error, "Consumer {Consumer} failed on event {EventId} ({Type}) {Attempts} times; parked", consumer.Name, e.Id, e.Type, MaxAttempts);
        using var gate = await database.EnterWriteAsync(ct);
        await using var db = database.CreateDbContext();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var checkpoint = await LockCheckpointAsync(db, consumer.Name, ct);
        if (checkpoint is null || checkpoint.Position >= e.Id)
        {
            return;
        }
        var now = time.GetUtcNow().UtcDateTime;
        var message = Describe(error);
        db.ConsumerFailures.Add(new ConsumerFailure
        {
            Consumer = consumer.Name,
            EventId = e.Id,
            ContactId = e.ContactId,
            EventType = e.Type,
            Error = message,
            Attempts = MaxAttempts,
            FailedAt = now,
        });
        checkpoint.FailureCount++;
        checkpoint.LastError = message;
        checkpoint.LastErrorAt = now;
        Advance(checkpoint, e.Id, 1, now);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    private static string Describe(Exception ex)
    {
        var text = $"{ex.GetType().Name}: {ex.Message}";
        return text.Length > 2000 ? text[..2000] : text;
    }

    private static void Advance(ConsumerCheckpoint checkpoint, long position, int count, DateTime now)
    {
        checkpoint.Position = position;
        checkpoint.Processed += count;
        checkpoint.UpdatedAt = now;
    }

    private async Task<ConsumerCheckpoint?> LockCheckpointAsync(ClienteleDb db, string name, CancellationToken ct)
    {
        ConsumerCheckpoint? checkpoint;
        if (db.Kind == DatabaseKind.Postgres)
        {
            // Several app instances may run dispatchers; the row lock makes one of them own a consumer at a time.
            checkpoint = (await db.ConsumerCheckpoints
                .FromSqlInterpolated($"SELECT * FROM consumer_checkpoints WHERE \"Consumer\" = {name} FOR UPDATE SKIP LOCKED")
                .ToListAsync(ct)).SingleOrDefault();
            if (checkpoint is null && await db.ConsumerCheckpoints.AnyAsync(c => c.Consumer == name, ct))
            {
                return null;
            }
        }
        else
        {
            checkpoint = await db.ConsumerCheckpoints.SingleOrDefaultAsync(c => c.Consumer == name, ct);
        }
        if (checkpoint is null)
        {
            checkpoint = new ConsumerCheckpoint { Consumer = name, UpdatedAt = time.GetUtcNow().UtcDateTime };
            db.ConsumerCheckpoints.Add(checkpoint);
        }
        return checkpoint;
    }

    internal sealed record Entry(long Id, string Type, Guid ContactId, DateTime OccurredAt, DateTime ReceivedAt);

    /// <summary>The events with these ids (in id order), read from the log only where this round has not read them yet.</summary>
    private static async Task<List<Event>> ReadFullAsync(ClienteleDb db, List<Entry> entries, RoundReads shared, CancellationToken ct)
    {
        var missing = entries.Select(w => w.Id).Where(id => !shared.Full.ContainsKey(id)).ToList();
        if (missing.Count > 0)
        {
            foreach (var e in await db.Events.AsNoTracking().Where(e => missing.Contains(e.Id)).ToListAsync(ct))
            {
                shared.Full[e.Id] = e;
            }
        }
        return [.. entries.Select(w => shared.Full[w.Id])];
    }

    private async Task<List<Entry>> ReadWindowAsync(ClienteleDb db, long position, CancellationToken ct)
    {
        var batch = await db.Events.AsNoTracking()
            .Where(e => e.Id > position)
            .OrderBy(e => e.Id)
            .Take(BatchSize)
            .Select(e => new Entry(e.Id, e.Type, e.ContactId, e.OccurredAt, e.ReceivedAt))
            .ToListAsync(ct);
        if (db.Kind == DatabaseKind.Sqlite || batch.Count == 0)
        {
            return batch; // one writer: commit order is id order
        }
        var now = time.GetUtcNow().UtcDateTime;
        var expected = position + 1;
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i].Id != expected && now - batch[i].ReceivedAt < GapTolerance)
            {
                return batch[..i]; // an earlier id may still be committing
            }
            expected = batch[i].Id + 1;
        }
        return batch;
    }
}

/// <summary>Runs the dispatcher in the background: on every signal, and every second for other instances' events.</summary>
internal sealed class EventDispatcherService(EventDispatcher dispatcher, EventSignal signal, IConfiguration config, ILogger<EventDispatcherService> log)
    : BackgroundService
{
    /// <summary>How long derivation may trail a trickle of events, to handle them together.</summary>
    public static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // An instance that only takes API traffic can leave derivation to the others (PostgreSQL).
        if (!config.GetValue("Clientele:Dispatcher:Enabled", true))
        {
            log.LogInformation("Event dispatcher disabled on this instance");
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var handed = await dispatcher.DrainAsync(stoppingToken);
                if (handed > 0 && handed < EventDispatcher.BatchSize)
                {
                    // Caught up with a trickle: let events gather for a moment, so a busy shop's
                    // single-event requests are derived in batches instead of one transaction each.
                    await Task.Delay(Coalesce, stoppingToken);
                }
                await signal.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogError(ex, "Event dispatcher cycle failed");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }
}
