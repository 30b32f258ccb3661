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
    public static async Task<(ScoringRun Run, bool Created)> RequestAsync(ClienteleDb db, string trigger, string? requestedBy, DateTime now, CancellationToken ct)
    {
        var waiting = await db.ScoringRuns.OrderBy(r => r.RequestedAt).FirstOrDefaultAsync(r => r.Status == ScoringStatus.Queued, ct);
        if (waiting is not null)
        {
            return (waiting, false);
        }
        var run = new ScoringRun { Id = Guid.CreateVersion7(), Trigger = trigger, RequestedBy = requestedBy, RequestedAt = now, Status = ScoringStatus.Queued };
        db.ScoringRuns.Add(run);
        await db.SaveChangesAsync(ct);
        return (run, true);
    }

    /// <summary>Runs every queued run, oldest first. Returns how many ran.</summary>
    public static async Task<int> RunQueuedAsync(ClienteleDatabase database, TimeProvider time, CancellationToken ct)
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
            await ExecuteAsync(database, db, run, time, ct);
            ran++;
        }
    }

    private static async Task ExecuteAsync(ClienteleDatabase database, ClienteleDb db, ScoringRun run, TimeProvider time, CancellationToken ct)
    {
        var settings = await LoadSettingsAsync(db, ct);
        run.Status = ScoringStatus.Running;
        run.StartedAt = time.GetUtcNow().UtcDateTime;
        run.Settings = JsonSerializer.Serialize(settings, Json);
        await db.SaveChangesAsync(ct);
        try
        {
            var purchases = await db.Orders.AsNoTracking()
                .Where(o => o.Status == OrderStatus.Placed)
                .Select(o => new Purchase(o.ContactId, o.PlacedAt, o.Total, o.Currency))
                .ToListAsync(ct);
            var now = time.GetUtcNow().UtcDateTime;
            var outcome = ValueScorer.Score(purchases, DateOnly.FromDateTime(now), settings);
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
        await db.SaveChangesAsync(ct);
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
