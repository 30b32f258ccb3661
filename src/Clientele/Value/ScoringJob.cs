using System.Text.Json;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Lifecycle;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Value;

/// <summary>
/// The scoring job: fits the customer-base models on the business's own orders and stores each customer's value and
/// health on the contact. Runs are queued (nightly, from the UI or API, after an import) and executed one at a time
/// by <see cref="ScoringService"/>.
/// </summary>
internal static class ScoringJob
{
    public const string SettingsKey = "scoring.settings";

    private const int WriteBatch = 500;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Task<ScoringSettings> LoadSettingsAsync(ClienteleDb db, CancellationToken ct) =>
        SettingsStore.LoadAsync(db, SettingsKey, ScoringSettings.Default, ct);

    public static Task SaveSettingsAsync(ClienteleDb db, ScoringSettings settings, DateTime now, CancellationToken ct) =>
        SettingsStore.SaveAsync(db, SettingsKey, settings, now, ct);

    /// <summary>
    /// Queues a run, unless one is already waiting: asking twice before it starts runs it once.
    /// Returns the waiting run and whether it was created now.
    /// </summary>
    /// <remarks>
    /// On PostgreSQL the look and the insert hold a lock shared by every instance, so instances asking at the same
    /// moment (the nightly run) queue one run between them.
    /// </remarks>
    public static async Task<(ScoringRun Run, bool Created)> RequestAsync(ClienteleDb db, string trigger, string? requestedBy, DateTime now, CancellationToken ct)
    {
        return await UnderLockAsync(db, async () =>
        {
            var waiting = await db.ScoringRuns.OrderBy(r => r.RequestedAt).FirstOrDefaultAsync(r => r.Status == ScoringStatus.Queued, ct);
            return waiting is not null ? (waiting, false) : (await QueueAsync(db, trigger, requestedBy, now, ct), true);
        }, ct);
    }

    /// <summary>Queues a run unless <paramref name="since"/> already saw one requested: the nightly run, once among all instances.</summary>
    public static Task QueueUnlessRequestedSinceAsync(ClienteleDb db, string trigger, DateTime since, DateTime now, CancellationToken ct) =>
        UnderLockAsync(db, async () =>
        {
            if (!await db.ScoringRuns.AnyAsync(r => r.RequestedAt >= since, ct))
            {
                await QueueAsync(db, trigger, null, now, ct);
            }
            return 0;
        }, ct);

    private static async Task<T> UnderLockAsync<T>(ClienteleDb db, Func<Task<T>> decide, CancellationToken ct)
    {
        if (db.Kind != DatabaseKind.Postgres || db.Database.CurrentTransaction is not null)
        {
            return await decide();
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(7283463)", ct);
        var result = await decide();
        await tx.CommitAsync(ct);
        return result;
    }

    private static async Task<ScoringRun> QueueAsync(ClienteleDb db, string trigger, string? requestedBy, DateTime now, CancellationToken ct)
    {
        var run = new ScoringRun { Id = Guid.CreateVersion7(), Trigger = trigger, RequestedBy = requestedBy, RequestedAt = now, Status = ScoringStatus.Queued };
        db.ScoringRuns.Add(run);
        await db.SaveChangesAsync(ct);
        return run;
    }

    /// <summary>How long a running run stays claimed without a sign of life; renewed every third of it while it runs.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Runs every queued run, oldest first. Each is claimed first (only one instance gets it) and held by a lease the
    /// run renews; stopping puts the run back in the queue. Returns how many ran.
    /// </summary>
    public static async Task<int> RunQueuedAsync(ClienteleDatabase database, TimeProvider time, ILogger log, CancellationToken ct)
    {
        var ran = 0;
        while (true)
        {
            await using var db = database.CreateDbContext();
            var run = await db.ScoringRuns.OrderBy(r => r.RequestedAt).FirstOrDefaultAsync(r => r.Status == ScoringStatus.Queued, ct);
            if (run is null)
            {
                return ran;
            }
            var now = time.GetUtcNow().UtcDateTime;
            int claimed;
            // The claim is not cancelled half-way: a stop that arrived while the update was on its way could leave it
            // committed with nobody to run or hand back the run, which would then wait for its lease to pass.
            using (await database.EnterWriteAsync(ct))
            {
                claimed = await db.ScoringRuns.Where(r => r.Id == run.Id && r.Status == ScoringStatus.Queued).ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Status, ScoringStatus.Running)
                    .SetProperty(r => r.StartedAt, now)
                    .SetProperty(r => r.LeaseUntil, now + Lease), CancellationToken.None);
            }
            if (claimed == 0)
            {
                continue; // another instance took it
            }
            log.LogInformation("Scoring run {Run} started (requested {Trigger})", run.Id, run.Trigger);
            run.Status = ScoringStatus.Running;
            run.StartedAt = now;
            run.LeaseUntil = now + Lease;
            using var renewing = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var renewal = RenewAsync(database, run.Id, time, renewing.Token);
            try
            {
                ct.ThrowIfCancellationRequested(); // a stop during the claim
                await ExecuteAsync(database, db, run, time, ct);
            }
            catch (Exception)
            {
                // A stop, or a database error the model's own checks do not cover (a deadlock with a consumer writing the
                // same contacts): the run goes back in the queue for the next cycle, not left running until its lease passes.
                await HandBackAsync(database, run.Id, log);
                throw;
            }
            finally
            {
                await renewing.CancelAsync();
                await renewal;
            }
            ran++;
            Web.InstanceCounters.ScoringRuns.Add(1);
        }
    }

    /// <summary>Keeps a run's lease while it runs, so no other instance takes it for abandoned.</summary>
    private static async Task RenewAsync(ClienteleDatabase database, Guid id, TimeProvider time, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Lease / 3, time, ct);
                var until = time.GetUtcNow().UtcDateTime + Lease;
                await using var db = database.CreateDbContext();
                using (await database.EnterWriteAsync(ct))
                {
                    await db.ScoringRuns.Where(r => r.Id == id && r.Status == ScoringStatus.Running)
                        .ExecuteUpdateAsync(s => s.SetProperty(r => r.LeaseUntil, until), ct);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stopping mid-run: back in the queue at once, for this or another instance to run from the start.</summary>
    private static async Task HandBackAsync(ClienteleDatabase database, Guid id, ILogger log)
    {
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await using var db = database.CreateDbContext();
            using (await database.EnterWriteAsync(limit.Token))
            {
                await db.ScoringRuns.Where(r => r.Id == id && r.Status == ScoringStatus.Running).ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Status, ScoringStatus.Queued)
                    .SetProperty(r => r.StartedAt, (DateTime?)null)
                    .SetProperty(r => r.LeaseUntil, (DateTime?)null), limit.Token);
            }
            log.LogInformation("Scoring run {Run} was put back in the queue", id);
        }
        catch (Exception ex)
        {
            // Not lost: once its lease has passed another instance (or this one at its next start) runs it again.
            log.LogError(ex, "Scoring run {Run} could not be put back in the queue; it is run again once its lease has passed", id);
            throw;
        }
    }

    private static async Task ExecuteAsync(ClienteleDatabase database, ClienteleDb db, ScoringRun run, TimeProvider time, CancellationToken ct)
    {
        var settings = await LoadSettingsAsync(db, ct);
        run.Settings = JsonSerializer.Serialize(settings, Json);
        try
        {
            var purchases = await db.Orders.AsNoTracking()
                .Where(o => o.Status == OrderStatus.Placed)
                .Select(o => new Purchase(o.ContactId, o.PlacedAt, o.Total, o.Currency))
                .ToListAsync(ct);
            var now = time.GetUtcNow().UtcDateTime;
            // The fit does not look at the token: a stop leaves it to finish alone and hands the run back at once.
            var outcome = await Task.Run(() => ValueScorer.Score(purchases, DateOnly.FromDateTime(now), settings), ct).WaitAsync(ct);
            await StoreAsync(database, outcome, now, ct);
            run.Status = ScoringStatus.Succeeded;
            run.Contacts = outcome.Contacts.Count;
            run.Diagnostics = JsonSerializer.Serialize(outcome.Diagnostics, Json);
        }
        catch (Exception ex) when (ex is ScoringException or ClvInputException or ArgumentException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            run.Status = ScoringStatus.Failed;
            run.Error = ex.Message;
        }
        run.FinishedAt = time.GetUtcNow().UtcDateTime;
        run.LeaseUntil = null;
        using (await database.EnterWriteAsync(ct))
        {
            await db.SaveChangesAsync(ct);
        }
    }

    /// <summary>
    /// Writes the scores in batches, and clears them from contacts that no longer have a scored purchase
    /// (every order refunded), so nobody keeps a stale value.
    /// </summary>
    private static async Task StoreAsync(ClienteleDatabase database, ScoringOutcome outcome, DateTime now, CancellationToken ct)
    {
        var byContact = outcome.Contacts.ToDictionary(c => c.ContactId);
        var currency = outcome.Diagnostics.Currency;
        foreach (var chunk in outcome.Contacts.Chunk(WriteBatch))
        {
            var ids = chunk.Select(c => c.ContactId).ToList();
            using var gate = await database.EnterWriteAsync(ct);
            await using var db = database.CreateDbContext();
            var contacts = await db.Contacts.Where(c => ids.Contains(c.Id)).ToListAsync(ct);
            foreach (var contact in contacts)
            {
                var v = byContact[contact.Id];
                contact.Value ??= new ContactValueScores();
                contact.Value.ProbabilityAlive = v.ProbabilityAlive;
                contact.Value.ExpectedPurchases90 = v.ExpectedPurchases90;
                contact.Value.ExpectedPurchases365 = v.ExpectedPurchases365;
                contact.Value.PredictedValue = v.PredictedValue;
                contact.Value.Currency = currency;
                contact.Value.RfmCell = v.RfmCell;
                contact.Value.ScoredAt = now;
                contact.Health = v.Health;
            }
            await db.SaveChangesAsync(ct);
        }
        while (true)
        {
            using var gate = await database.EnterWriteAsync(ct);
            await using var db = database.CreateDbContext();
            var stale = await db.Contacts.Where(c => c.Value != null && c.Value.ScoredAt < now).Take(WriteBatch).ToListAsync(ct);
            if (stale.Count == 0)
            {
                return;
            }
            foreach (var contact in stale)
            {
                contact.Value = null;
                contact.Health = Health.Unknown;
            }
            await db.SaveChangesAsync(ct);
        }
    }
}
