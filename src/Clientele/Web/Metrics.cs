using System.Diagnostics.Metrics;
using Clientele.Data;
using Clientele.Outbox;
using Clientele.Support;
using Microsoft.EntityFrameworkCore;
using OpenTelemetry.Metrics;

namespace Clientele.Web;

/// <summary>
/// <c>/metrics</c> for Prometheus through OpenTelemetry: HTTP requests (ASP.NET Core), the .NET runtime (GC, threads),
/// and the business's own gauges — events in the log, how far each consumer is behind, messages waiting, sent and
/// failed, open and breached tickets. The gauges are read from a snapshot taken every 15 seconds, never on a request's
/// path. The endpoint answers requests from this machine or a private network, or anyone with
/// <c>Clientele__Metrics__Token</c> as a bearer token.
/// </summary>
internal static class Metrics
{
    public const string MeterName = "Clientele";

    public static void AddMetrics(IServiceCollection services, IConfiguration config)
    {
        if (!config.GetValue("Clientele:Metrics:Enabled", true))
        {
            return;
        }
        services.AddSingleton<MetricsSnapshot>();
        services.AddHostedService(sp => sp.GetRequiredService<MetricsSnapshot>());
        services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(MeterName)
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddView(KeepSmall)
            .AddPrometheusExporter());
    }

    /// <summary>
    /// Each metric keeps room for as many tag combinations as its limit allows, allocated up front: 2,000 by default,
    /// 47 metrics, 8 MB of an idle server's memory. Only the request metrics, tagged by route, get near that; the others
    /// (runtime, gauges per consumer, authentication results) have a few dozen at most.
    /// </summary>
    private static MetricStreamConfiguration? KeepSmall(System.Diagnostics.Metrics.Instrument instrument) =>
        instrument.Meter.Name is "Microsoft.AspNetCore.Hosting" or "Microsoft.AspNetCore.Routing"
            ? null
            : new MetricStreamConfiguration { CardinalityLimit = 200 };

    public static void MapMetrics(WebApplication app)
    {
        if (!app.Configuration.GetValue("Clientele:Metrics:Enabled", true))
        {
            return;
        }
        var token = app.Configuration["Clientele:Metrics:Token"];
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/metrics"), b => b.Use(async (context, next) =>
        {
            if (!Allowed(context, token))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsync("Metrics are served to this machine, a private network, or with the metrics token.");
                return;
            }
            await next(context);
        }));
        // Guarded above by address or token rather than by a login.
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
    }

    internal static bool Allowed(HttpContext context, string? token)
    {
        if (!string.IsNullOrEmpty(token))
        {
            var given = context.Request.Headers.Authorization.ToString();
            return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(given), System.Text.Encoding.UTF8.GetBytes("Bearer " + token));
        }
        // The same ranges webhooks may not reach (loopback, private, link-local) are the ones allowed to scrape.
        var remote = context.Connection.RemoteIpAddress;
        return remote is null || Clientele.Webhooks.WebhookGuard.IsRefused(remote);
    }
}

/// <summary>The figures behind the business gauges, refreshed in the background.</summary>
internal sealed class MetricsSnapshot(ClienteleDatabase database, TimeProvider time, ILogger<MetricsSnapshot> log)
    : PeriodicService(time, log), IDisposable
{
    private readonly Meter _meter = new(Metrics.MeterName);
    private volatile Figures _figures = new(0, [], 0, 0, 0, 0, 0, 0);

    private sealed record Figures(long Events, IReadOnlyList<(string Consumer, long Behind)> Lag, long Queued, long Sent, long Failed, long Suppressed, long OpenTickets, long BreachedTickets);

    protected override TimeSpan Every => TimeSpan.FromSeconds(15);

    protected override string What => "Metrics snapshot";

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _meter.CreateObservableGauge("clientele.events", () => _figures.Events, "{event}", "Events in the log (the highest event id)");
        _meter.CreateObservableGauge("clientele.consumer.lag", () => _figures.Lag.Select(l => new Measurement<long>(l.Behind, new KeyValuePair<string, object?>("consumer", l.Consumer))),
            "{event}", "Events each consumer has still to read");
        _meter.CreateObservableGauge("clientele.outbox.messages", () => new[]
        {
            new Measurement<long>(_figures.Queued, new KeyValuePair<string, object?>("status", "queued")),
            new Measurement<long>(_figures.Sent, new KeyValuePair<string, object?>("status", "sent")),
            new Measurement<long>(_figures.Failed, new KeyValuePair<string, object?>("status", "failed")),
            new Measurement<long>(_figures.Suppressed, new KeyValuePair<string, object?>("status", "suppressed")),
        }, "{message}", "Messages in the outbox by status");
        _meter.CreateObservableGauge("clientele.tickets.open", () => _figures.OpenTickets, "{ticket}", "Support tickets waiting for the business");
        _meter.CreateObservableGauge("clientele.tickets.breached", () => _figures.BreachedTickets, "{ticket}", "Open tickets past their breach time");
        return base.StartAsync(cancellationToken);
    }

    /// <summary>Takes the snapshot now rather than at the next round.</summary>
    internal Task RefreshAsync(CancellationToken ct) => RunOnceAsync(ct);

    protected override async Task RunOnceAsync(CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        var now = Clock.GetUtcNow().UtcDateTime;
        var last = await db.Events.MaxAsync(e => (long?)e.Id, ct) ?? 0;
        var lag = await db.ConsumerCheckpoints.AsNoTracking().Select(c => new { c.Consumer, c.Position }).ToListAsync(ct);
        var outbox = await db.OutboxMessages.GroupBy(m => m.Status).Select(g => new { g.Key, Count = g.LongCount() }).ToListAsync(ct);
        long Count(OutboxStatus status) => outbox.Where(o => o.Key == status).Sum(o => o.Count);
        var open = await db.Tickets.LongCountAsync(t => t.Status == TicketStatus.Open, ct);
        var breached = await db.Tickets.LongCountAsync(t => t.Status == TicketStatus.Open && t.FirstRespondedAt == null && t.BreachAt != null && t.BreachAt < now, ct);
        _figures = new Figures(last, lag.Select(l => (l.Consumer, Math.Max(0, last - l.Position))).ToList(),
            Count(OutboxStatus.Queued) + Count(OutboxStatus.Sending), Count(OutboxStatus.Sent), Count(OutboxStatus.Failed), Count(OutboxStatus.Suppressed), open, breached);
    }

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }
}
