using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Events;

/// <summary>Wakes the dispatcher as soon as new events are committed.</summary>
internal sealed class EventSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled: one wake-up is enough.
            }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

    public void Dispose() => _signal.Dispose();
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
    ILogger<EventDispatcher> log) : IDisposable
{
    public const int BatchSize = 500;
    public const int MaxAttempts = 3;

    /// <summary>
    /// On PostgreSQL, ids are handed out before commit, so a later id can become visible first.
    /// A gap younger than this is waited for; an older one is a rolled-back insert and is skipped.
    /// </summary>
    public static readonly TimeSpan GapTolerance = TimeSpan.FromSeconds(10);

    private readonly IEventConsumer[] _consumers = consumers.ToArray();

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
        var total = 0;
        foreach (var consumer in _consumers)
        {
            try
            {
                while (true)
                {
                    var n = await RunOnceAsync(consumer, ct);
                    total += n;
                    if (n == 0)
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogError(ex, "Consumer {Consumer} could not advance", consumer.Name);
            }
        }
        return total;
    }

    /// <summary>Processes one batch for one consumer. Returns the number of events read.</summary>
    internal async Task<int> RunOnceAsync(IEventConsumer consumer, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var checkpoint = await LockCheckpointAsync(db, consumer.Name, ct);
        if (checkpoint is null)
        {
            return 0; // another instance holds it
        }
        var batch = await ReadBatchAsync(db, checkpoint.Position, ct);
        if (batch.Count == 0)
        {
            return 0;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var context = new ConsumerContext(db, consumer.Name, now);
        var failedAt = -1;
        Exception? failure = null;
        for (var i = 0; i < batch.Count; i++)
        {
            if (!consumer.Wants(batch[i].Type))
            {
                continue;
            }
            try
            {
                await consumer.HandleAsync(context, batch[i], ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failedAt = i;
                failure = ex;
                break;
            }
        }

        if (failure is null)
        {
            Advance(checkpoint, batch[^1].Id, batch.Count, now);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return batch.Count;
        }

        await tx.RollbackAsync(ct);
        // Keep the work before the failing event, then retry that event on its own.
        if (failedAt > 0)
        {
            await CommitRangeAsync(consumer, batch[..failedAt], ct);
        }
        await RetryOrParkAsync(consumer, batch[failedAt], failure, ct);
        return failedAt + 1;
    }

    private async Task CommitRangeAsync(IEventConsumer consumer, List<Event> events, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var checkpoint = await LockCheckpointAsync(db, consumer.Name, ct);
        if (checkpoint is null)
        {
            return;
        }
        var now = time.GetUtcNow().UtcDateTime;
        var context = new ConsumerContext(db, consumer.Name, now);
        foreach (var e in events.Where(e => e.Id > checkpoint.Position && consumer.Wants(e.Type)))
        {
            await consumer.HandleAsync(context, e, ct);
        }
        Advance(checkpoint, events[^1].Id, events.Count, now);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    private async Task RetryOrParkAsync(IEventConsumer consumer, Event e, Exception firstError, CancellationToken ct)
    {
        var error = firstError;
        for (var attempt = 2; attempt <= MaxAttempts; attempt++)
        {
            try
            {
                await CommitRangeAsync(consumer, [e], ct);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                error = ex;
            }
        }

        log.LogError(error, "Consumer {Consumer} failed on event {EventId} ({Type}) {Attempts} times; parked", consumer.Name, e.Id, e.Type, MaxAttempts);
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

    private async Task<List<Event>> ReadBatchAsync(ClienteleDb db, long position, CancellationToken ct)
    {
        var batch = await db.Events.AsNoTracking()
            .Where(e => e.Id > position)
            .OrderBy(e => e.Id)
            .Take(BatchSize)
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
internal sealed class EventDispatcherService(EventDispatcher dispatcher, EventSignal signal, ILogger<EventDispatcherService> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await dispatcher.DrainAsync(stoppingToken);
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
