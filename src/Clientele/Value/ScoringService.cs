using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Value;

/// <summary>Wakes the scoring worker when a run is requested in this process.</summary>
internal sealed class ScoringSignal : WakeSignal;

/// <summary>
/// Runs queued scoring runs one at a time, and queues the nightly run once a day at <c>Clientele:Scoring:NightlyAtUtc</c>
/// (default 02:00; a server that missed the last one scores at once). Runs queued by another process (an import on the
/// command line) are picked up within a minute. <c>Clientele:Scoring:Nightly=false</c> turns the nightly run off.
/// </summary>
internal sealed class ScoringService(ClienteleDatabase database, ScoringSignal signal, TimeProvider time, IConfiguration config, ILogger<ScoringService> log)
    : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nightly = config.GetValue("Clientele:Scoring:Nightly", true);
        var at = config.GetValue("Clientele:Scoring:NightlyAtUtc", TimeSpan.FromHours(2));
        try
        {
            await RecoverInterruptedAsync(atStart: true, stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (database.Kind == DatabaseKind.Postgres)
                    {
                        await RecoverInterruptedAsync(atStart: false, stoppingToken);
                    }
                    if (nightly)
                    {
                        await QueueNightlyIfDueAsync(at, stoppingToken);
                    }
                    var ran = await ScoringJob.RunQueuedAsync(database, time, log, stoppingToken);
                    if (ran > 0)
                    {
                        log.LogInformation("Scored customer value ({Runs} runs)", ran);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    log.LogError(ex, "Scoring cycle failed");
                }
                await signal.WaitAsync(Poll, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// A run left "running" by a server that stopped without handing it back is marked failed and queued again: on
    /// SQLite (one process) every such run at start; on PostgreSQL, where other instances may be running one, only
    /// runs whose lease has passed.
    /// </summary>
    private async Task RecoverInterruptedAsync(bool atStart, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var all = atStart && database.Kind == DatabaseKind.Sqlite;
        await using var db = database.CreateDbContext();
        using var gate = await database.EnterWriteAsync(ct);
        var interrupted = await db.ScoringRuns.Where(r => r.Status == ScoringStatus.Running && (all || r.LeaseUntil == null || r.LeaseUntil < now)).ToListAsync(ct);
        if (interrupted.Count == 0)
        {
            return;
        }
        foreach (var run in interrupted)
        {
            run.Status = ScoringStatus.Failed;
            run.Error = "Interrupted: the server stopped during the run. It was queued again.";
            run.FinishedAt = now;
            run.LeaseUntil = null;
        }
        await db.SaveChangesAsync(ct);
        await ScoringJob.RequestAsync(db, "restart", null, now, ct);
    }

    /// <summary>Due once the day's scoring time has passed and nothing was requested since; at once on a database never scored.</summary>
    private async Task QueueNightlyIfDueAsync(TimeSpan at, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var due = now.Date + at;
        if (now < due)
        {
            due = due.AddDays(-1);
        }
        await using var db = database.CreateDbContext();
        using var gate = await database.EnterWriteAsync(ct);
        await ScoringJob.QueueUnlessRequestedSinceAsync(db, "nightly", due, now, ct);
    }
}
