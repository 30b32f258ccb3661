namespace Clientele.Data;

/// <summary>
/// A background job that runs a round, waits, and runs again until the app stops (on the injected clock). A failed
/// round is logged and the next one comes as usual.
/// </summary>
internal abstract class PeriodicService(TimeProvider time, ILogger log) : BackgroundService
{
    /// <summary>The clock the rounds run on, for subclasses.</summary>
    protected TimeProvider Clock => time;

    protected ILogger Log => log;

    /// <summary>Whether it runs at all (read once at start).</summary>
    protected virtual bool Enabled => true;

    /// <summary>The wait between rounds.</summary>
    protected abstract TimeSpan Every { get; }

    /// <summary>What a round does, in words for the log, e.g. "Journey date sweep".</summary>
    protected abstract string What { get; }

    protected abstract Task RunOnceAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }
        var every = Every;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogError(ex, "{What} failed", What);
            }
            await Task.Delay(every, time, stoppingToken);
        }
    }
}
