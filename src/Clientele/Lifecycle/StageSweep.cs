using System.Text.Json;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Lifecycle;

/// <summary>
/// Stages that change with time alone: a buying signal goes stale, a trial runs out, loyalty lapses when buying stops
/// or turns into retention after a year. Once a day every contact with stage facts is decided again at the current
/// time; a move is recorded as <c>stage.changed</c> with the rule and no causing event.
/// </summary>
internal static class StageSweep
{
    private const int Batch = 500;

    /// <summary>Returns how many contacts moved.</summary>
    public static async Task<int> RunAsync(ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        var moved = 0;
        Guid? after = null;
        while (true)
        {
            var now = time.GetUtcNow().UtcDateTime;
            using var gate = await database.EnterWriteAsync(ct);
            await using var db = database.CreateDbContext();
            var settings = await StageProjection.LoadSettingsAsync(db, ct);
            // Paged by key, not by position: each page is found through the index, so a million contacts take
            // a million rows read, not half a million times two thousand pages.
            var page = after is { } last ? db.StageFacts.Where(f => f.ContactId > last) : db.StageFacts;
            var rows = await page.OrderBy(f => f.ContactId).Take(Batch).ToListAsync(ct);
            if (rows.Count == 0)
            {
                return moved;
            }
            after = rows[^1].ContactId;
            var ids = rows.Select(r => r.ContactId).ToList();
            var contacts = await db.Contacts.Where(c => ids.Contains(c.Id) && c.DeletedAt == null).ToDictionaryAsync(c => c.Id, ct);
            foreach (var row in rows)
            {
                if (!contacts.TryGetValue(row.ContactId, out var contact))
                {
                    continue;
                }
                var facts = JsonSerializer.Deserialize<StageFacts>(row.Facts, StageProjection.Json) ?? new();
                var decision = Ladder.Decide(facts, settings, now);
                if (decision.LoyalSince != facts.LoyalSince)
                {
                    row.Facts = JsonSerializer.Serialize(facts with { LoyalSince = decision.LoyalSince }, StageProjection.Json);
                    row.UpdatedAt = now;
                }
                if (decision.Stage == contact.Stage)
                {
                    continue;
                }
                db.Events.Add(new Event
                {
                    ContactId = contact.Id,
                    Type = "stage.changed",
                    OccurredAt = now,
                    ReceivedAt = now,
                    Properties = JsonSerializer.Serialize(new { from = contact.Stage.ToApi(), to = decision.Stage.ToApi(), reason = decision.Reason + " (as time passed)" }, EventJson.Options),
                    Source = "stages",
                });
                contact.Stage = decision.Stage;
                contact.StageSince = now;
                contact.UpdatedAt = now;
                moved++;
            }
            await db.SaveChangesAsync(ct);
        }
    }
}

/// <summary>Wakes the sweep at once, e.g. after the stage rules changed.</summary>
internal sealed class StageSweepSignal : WakeSignal;

/// <summary>
/// Runs <see cref="StageSweep"/> (and queues a rebuild of every dynamic segment) once a day and when the stage rules
/// change. A start sweeps at once unless a whole sweep finished less than a day before (kept in the settings as
/// <see cref="LastKey"/>): on a shop of a million contacts a sweep is a minute's work, not to be repeated at every restart
/// or by every instance.
/// </summary>
internal sealed class StageSweepService(ClienteleDatabase database, TimeProvider time, StageSweepSignal signal, Clientele.Segments.SegmentRebuilds segments,
    IConfiguration config, ILogger<StageSweepService> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!config.GetValue("Clientele:Stages:Sweep", true))
        {
            return;
        }
        try
        {
            await using (var db = database.CreateDbContext())
            {
                var last = await SettingsStore.LoadAsync<SweepRecord?>(db, LastKey, null, stoppingToken);
                if (FirstWait(last, time.GetUtcNow().UtcDateTime) is var wait && wait > TimeSpan.Zero)
                {
                    await signal.WaitAsync(wait, stoppingToken);
                }
            }
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    // Fading engagement can disqualify; the stage ladder reads that from the log.
                    await Clientele.Qualification.QualificationProjection.DecayAsync(database, time, stoppingToken);
                    var moved = await StageSweep.RunAsync(database, time, stoppingToken);
                    if (moved > 0)
                    {
                        log.LogInformation("Stage sweep moved {Contacts} contacts", moved);
                    }
                    // Time windows expire and fields change outside the log: segments are rebuilt once a day too.
                    await using (var db = database.CreateDbContext())
                    {
                        if (database.Kind == DatabaseKind.Sqlite)
                        {
                            // Keeps SQLite's planner statistics fresh, so segment queries keep choosing the right index.
                            await db.Database.ExecuteSqlRawAsync("PRAGMA optimize;", stoppingToken);
                        }
                        foreach (var id in await db.Segments.Where(x => !x.Static).Select(x => x.Id).ToListAsync(stoppingToken))
                        {
                            segments.Request(id);
                        }
                        var finished = time.GetUtcNow().UtcDateTime;
                        using (await database.EnterWriteAsync(stoppingToken))
                        {
                            await SettingsStore.SaveAsync(db, LastKey, new SweepRecord(finished), finished, stoppingToken);
                        }
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    log.LogError(ex, "Stage sweep failed");
                }
                await signal.WaitAsync(TimeSpan.FromDays(1), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public const string LastKey = "stages.sweep";

    /// <summary>
    /// How long a start waits before its first sweep: until a day after the last whole sweep, or not at all when there
    /// was none, it was a day or more ago, or it lies ahead of the clock (the clock was set back).
    /// </summary>
    internal static TimeSpan FirstWait(SweepRecord? last, DateTime now)
    {
        if (last is null)
        {
            return TimeSpan.Zero;
        }
        var since = now - last.At;
        return since >= TimeSpan.Zero && since < TimeSpan.FromDays(1) ? TimeSpan.FromDays(1) - since : TimeSpan.Zero;
    }

    /// <summary>When the last whole sweep finished.</summary>
    internal sealed record SweepRecord(DateTime At);
}
