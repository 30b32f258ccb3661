using System.Threading.Channels;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Segments;

/// <summary>
/// Keeps dynamic segments current as events arrive: for each batch, only the segments whose conditions can be
/// changed by the batch's event types are re-evaluated, and only for the contacts those events touch.
/// Conditions that change with time or with edits made outside the log (tags, fields, predictions, windows that
/// expire) are caught by the daily rebuild.
/// </summary>
internal sealed class SegmentProjection : IEventConsumer
{
    private const int Unknown = 0, Some = 1, None = 2;

    // Whether any dynamic segment exists: unknown until a batch has looked; without segments no event is wanted.
    private volatile int _dynamic = Unknown;

    public string Name => "segments";

    /// <summary>Segments read orders, consent, stage and score, which these consumers derive from the same events.</summary>
    public IReadOnlyList<string> After { get; } = ["commerce", "consent", "qualification", "stages"];

    // Moves in and out of segments are wanted too: a segment may be defined by membership of another.
    public bool Wants(string eventType) => _dynamic != None;

    // Which segments an event can move depends on its type and contact only.
    public bool ReadsProperties => false;

    // Parsed definitions, by text: a batch parses none it has seen before.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SegmentNode?> _parsed = new(StringComparer.Ordinal);

    private SegmentNode? Parse(string query)
    {
        if (_parsed.Count > 1000)
        {
            _parsed.Clear();
        }
        return _parsed.GetOrAdd(query, q =>
        {
            try
            {
                return SegmentParser.Parse(q);
            }
            catch (SegmentQueryException)
            {
                return null;
            }
        });
    }

    /// <summary>Segments were created, changed or deleted: look again.</summary>
    public void Changed() => _dynamic = Unknown;

    public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct) =>
        ((IEventConsumer)this).HandleBatchAsync(context, [e], ct);

    async Task IEventConsumer.HandleBatchAsync(ConsumerContext context, IReadOnlyList<Event> events, CancellationToken ct)
    {
        var segments = await context.Db.Segments.Where(s => !s.Static).OrderBy(s => s.Id).ToListAsync(ct);
        _dynamic = segments.Count > 0 ? Some : None;
        var parsed = new List<(Segment, SegmentNode)>();
        var changed = new HashSet<Guid>();
        var touched = new HashSet<Guid>();
        var causes = new Dictionary<(Guid Segment, Guid Contact), long>();
        foreach (var segment in segments)
        {
            if (Parse(segment.Query) is not { } node)
            {
                continue; // saved queries are checked; one made invalid by a later change waits for its owner
            }
            parsed.Add((segment, node));
            var moving = events.Where(e => SegmentDependencies.CanChange(node, e.Type)).ToList();
            if (moving.Count > 0)
            {
                changed.Add(segment.Id);
                foreach (var e in moving)
                {
                    touched.Add(e.ContactId);
                    causes[(segment.Id, e.ContactId)] = e.Id; // the latest event that could move this contact
                }
            }
        }
        if (changed.Count > 0)
        {
            await Membership.UpdateManyAsync(context.Db, parsed, changed, [.. touched], context.Now,
                (segment, contact) => causes.TryGetValue((segment, contact), out var id) ? id : events[^1].Id, ct);
        }
    }
}

/// <summary>Which event types can change a condition's truth for a contact.</summary>
internal static class SegmentDependencies
{
    /// <summary>The shortest time window in a condition (<c>within: 12h</c>, <c>lastActivity within 3d</c>); null when it has none.</summary>
    public static TimeSpan? ShortestWindow(SegmentNode node) => node switch
    {
        SegmentNode.And a => Min(ShortestWindow(a.Left), ShortestWindow(a.Right)),
        SegmentNode.Or o => Min(ShortestWindow(o.Left), ShortestWindow(o.Right)),
        SegmentNode.Not n => ShortestWindow(n.Inner),
        SegmentNode.Within w => w.Span,
        SegmentNode.Call c => c.Args.Values.Select(v => v.Duration).Where(d => d is not null).Min(),
        _ => null,
    };

    private static TimeSpan? Min(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : a < b ? a : b;

    public static bool CanChange(SegmentNode node, string eventType) => node switch
    {
        SegmentNode.And a => CanChange(a.Left, eventType) || CanChange(a.Right, eventType),
        SegmentNode.Or o => CanChange(o.Left, eventType) || CanChange(o.Right, eventType),
        SegmentNode.Not n => CanChange(n.Inner, eventType),
        SegmentNode.Compare c => Field(c.Field, eventType),
        SegmentNode.Within w => w.Field.Equals("lastActivity", StringComparison.OrdinalIgnoreCase),
        SegmentNode.Call c => c.Name.ToLowerInvariant() switch
        {
            "orders.count" or "orders.revenue" or "orders.first" or "orders.last" or "bought" => eventType is "order.placed" or "order.refunded" or "order.cancelled",
            "events.count" or "events.first" or "events.last" => c.Args.TryGetValue("type", out var t) ? (t.Text ?? t.Word) == eventType : true,
            "segment" => eventType is "segment.entered" or "segment.exited",
            "survey.answered" or "survey.score" => eventType == "survey.answered",
            "tickets.count" => IsTicket(eventType),
            var email => eventType == "email." + email,
        },
        _ => true,
    };

    private static bool IsTicket(string eventType) => eventType.StartsWith("ticket.", StringComparison.Ordinal);

    /// <summary>
    /// Whether a condition changes with the clock alone, without an event: a ticket becomes breached when its
    /// first-response limit passes. Such segments are rebuilt every hour.
    /// </summary>
    public static bool FollowsTheClock(SegmentNode node) => node switch
    {
        SegmentNode.And a => FollowsTheClock(a.Left) || FollowsTheClock(a.Right),
        SegmentNode.Or o => FollowsTheClock(o.Left) || FollowsTheClock(o.Right),
        SegmentNode.Not n => FollowsTheClock(n.Inner),
        SegmentNode.Compare c => c.Field.Equals("tickets.breached", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    private static bool Field(string field, string eventType) => field.ToLowerInvariant() switch
    {
        "stage" => eventType == "stage.changed",
        "score" => eventType == "score.changed",
        var f when f.StartsWith("consent.", StringComparison.Ordinal) => eventType.StartsWith("consent.", StringComparison.Ordinal) || eventType is "email.unsubscribed" or "email.complained",
        "nps" or "nps.category" => eventType == "survey.answered",
        // Tickets are opened, answered, solved and reopened with an event each (ticket.opened, ticket.replied, ticket.solved, …).
        "tickets.open" or "tickets.breached" => IsTicket(eventType),
        // A form or an event may create the contact or fill its fields.
        _ => eventType == "form.submitted",
    };
}

/// <summary>Reports progress as it happens (not posted to another thread later, as <see cref="Progress{T}"/> does).</summary>
internal sealed class Reporter(Action<double> report) : IProgress<double>
{
    public void Report(double value) => report(value);
}

/// <summary>Rebuilds segments in the background, one at a time, and says how far each has got.</summary>
internal sealed class SegmentRebuilds(ClienteleDatabase database, TimeProvider time, SegmentProjection projection, ILogger<SegmentRebuilds> log) : BackgroundService
{
    private readonly Channel<Guid> _queue = Channel.CreateUnbounded<Guid>();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, double> _progress = new();

    /// <summary>Queues a rebuild; its progress reads 0 until it starts.</summary>
    public void Request(Guid segmentId)
    {
        projection.Changed();
        _progress[segmentId] = 0;
        _queue.Writer.TryWrite(segmentId);
    }

    /// <summary>0–1 while a rebuild is queued or running; null when none is.</summary>
    public double? Progress(Guid segmentId) => _progress.TryGetValue(segmentId, out var p) ? p : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var id in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await Membership.RebuildAsync(database, id, time, stoppingToken, new Reporter(p => _progress[id] = p));
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    log.LogError(ex, "Rebuilding segment {Segment} failed", id);
                }
                finally
                {
                    _progress.TryRemove(id, out _);
                    projection.Changed(); // a batch that looked while the segment was being created may have seen none
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

/// <summary>
/// Windows shorter than the daily rebuild's day expire between rebuilds: segments with one (<c>opened(within: 12h)</c>)
/// are rebuilt every hour, so a contact leaves within the hour its window closes.
/// </summary>
internal sealed class SegmentWindowService(ClienteleDatabase database, TimeProvider time, SegmentRebuilds rebuilds, IConfiguration config,
    ILogger<SegmentWindowService> log) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!config.GetValue("Clientele:Stages:Sweep", true))
        {
            return; // the time-driven sweeps are off (tests drive them by hand)
        }
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(Every, time, stoppingToken);
                try
                {
                    await using var db = database.CreateDbContext();
                    foreach (var s in await db.Segments.AsNoTracking().Where(s => !s.Static).Select(s => new { s.Id, s.Query }).ToListAsync(stoppingToken))
                    {
                        if (Due(s.Query))
                        {
                            rebuilds.Request(s.Id);
                        }
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    log.LogError(ex, "Hourly check of short segment windows failed");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Whether a segment needs the hourly rebuild: it has a window shorter than two days, or asks about breached tickets.</summary>
    public static bool Due(string query)
    {
        try
        {
            var node = SegmentParser.Parse(query);
            return SegmentDependencies.ShortestWindow(node) is { } w && w < TimeSpan.FromDays(2) || SegmentDependencies.FollowsTheClock(node);
        }
        catch (SegmentQueryException)
        {
            return false;
        }
    }
}
