namespace Clientele.Data;

/// <summary>Brings the schema up to date before anything else starts (workers, the web server).</summary>
internal sealed class DatabaseStartup(ClienteleDatabase database, IEnumerable<IStartupTask> tasks, ILogger<DatabaseStartup> log)
    : IHostedLifecycleService
{
    /// <summary>
    /// The last migration of the previous release: a database at this schema must upgrade on start and keep its data
    /// (tests/Clientele.Tests/Data/UpgradeTests.cs). Named without its timestamp, which differs between the providers.
    /// When a release ships, set it to that release's last migration, so the next one is tested from there.
    /// </summary>
    public const string PreviousRelease = "BroadcastOffer";

    public async Task StartingAsync(CancellationToken ct)
    {
        log.LogInformation("Database: {Database}", database.Describe());
        var applied = await database.MigrateAsync(ct);
        if (applied.Count > 0)
        {
            log.LogInformation("Applied {Count} migration(s): {Migrations}", applied.Count, string.Join(", ", applied));
        }
        foreach (var task in tasks)
        {
            await task.RunAsync(ct);
        }
    }

    public Task StartAsync(CancellationToken ct) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken ct)
    {
        // Start-up (migrations, model building) leaves garbage behind; give it back before idling.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return Task.CompletedTask;
    }
    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken ct) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>Work that needs the migrated database before the app serves requests (demo seeding, first-run notes).</summary>
internal interface IStartupTask
{
    Task RunAsync(CancellationToken ct);
}
