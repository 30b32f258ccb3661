using System.Security.Cryptography;
using System.Text.Json;
using Clientele.Data;
using Clientele.Events;
using Clientele.Lifecycle;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Journeys;

/// <summary>
/// Starts runs: each event on the log that matches an active journey's trigger enrolls its contact, within the
/// entry rules, in the same transaction as the consumer's checkpoint (so a crash enrolls nobody twice), due at once.
/// Runs after the segment and stage consumers, whose segment.entered and stage.changed events it also reads.
/// </summary>
internal sealed class JourneyEntry(ClienteleDatabase database, JourneySignal signal, TimeProvider time) : IEventConsumer
{
    public string Name => "journeys";

    public IReadOnlyList<string> After => ["commerce", "consent", "segments", "stages"];

    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(2);
    private (List<Active> Journeys, HashSet<string> Awaited, DateTimeOffset At)? _active;

    /// <summary>A published, active journey: what its trigger listens for.</summary>
    /// <param name="LiveSince">When its first version was published: events received before it start nothing.</param>
    private sealed record Active(Guid Id, int Version, JourneyDefinition Definition, DateTime LiveSince);

    public bool Wants(string eventType) => Journeys().Any(j => j.Definition.Trigger.EventType == eventType) || Awaited().Contains(eventType);

    /// <summary>Bumped by <see cref="Invalidate"/>: a load that began before it is used once but never cached.</summary>
    private int _generation;

    /// <summary>Forgets the cached journeys (one was published, paused, resumed or archived).</summary>
    public void Invalidate()
    {
        lock (_cacheGate)
        {
            _generation++;
            _active = null;
        }
    }

    private readonly Lock _cacheGate = new();

    private List<Active> Journeys() => Load().Journeys;

    /// <summary>The event types that running contacts wait for (a <c>waitForEvent</c> step).</summary>
    private HashSet<string> Awaited() => Load().Awaited;

    private (List<Active> Journeys, HashSet<string> Awaited, DateTimeOffset At) Load()
    {
        var now = time.GetUtcNow();
        if (_active is { } cached && now - cached.At < Fresh)
        {
            return cached;
        }
        int generation;
        lock (_cacheGate)
        {
            generation = _generation;
        }
        using var db = database.CreateDbContext();
        var list = LiveJourney.Query(db).ToList()
            .Select(x => new Active(x.Id, x.Version, JourneyDefinition.Parse(x.Definition).Definition ?? new JourneyDefinition(), x.LiveSince))
            .ToList();
        // Steps that wait for an event, in any version a contact may still be on.
        var awaited = list.SelectMany(j => j.Definition.Steps).Where(s => s.Type == "waitForEvent" && s.Event is not null).Select(s => s.Event!)
            .Concat(db.JourneyRuns.AsNoTracking().Where(r => r.Status == RunStatus.Active && r.WaitingFor != null).Select(r => r.WaitingFor!).Distinct().ToList())
            .ToHashSet(StringComparer.Ordinal);
        var fresh = (list, awaited, now);
        // A journey published while this was being read must not be hidden behind a cache made just before it.
        lock (_cacheGate)
        {
            if (generation == _generation)
            {
                _active = fresh;
            }
        }
        return fresh;
    }

    public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct) => HandleBatchAsync(context, [e], ct);

    public async Task HandleBatchAsync(ConsumerContext context, IReadOnlyList<Event> events, CancellationToken ct)
    {
        var journeys = Journeys();
        await HearAsync(context, events, ct);
        var matches = new List<(Active Journey, Event Event)>();
        foreach (var e in events)
        {
            foreach (var j in journeys)
            {
                if (Matches(j.Definition.Trigger, e) && Recent(j.Definition.Trigger, e, j.LiveSince, context.Now))
                {
                    matches.Add((j, e));
                }
            }
        }
        if (matches.Count == 0)
        {
            return;
        }
        var db = context.Db;
        var journeyIds = matches.Select(m => m.Journey.Id).Distinct().ToList();
        var contactIds = matches.Select(m => m.Event.ContactId).Distinct().ToList();
        // What each contact already has in these journeys: the entry rules are checked against it.
        var existing = await db.JourneyRuns.AsNoTracking()
            .Where(r => journeyIds.Contains(r.JourneyId) && contactIds.Contains(r.ContactId))
            .Select(r => new { r.JourneyId, r.ContactId, r.EnrollKey, r.Status, r.EnteredAt })
            .ToListAsync(ct);
        var runs = existing.Select(r => new Seen(r.JourneyId, r.ContactId, r.EnrollKey, r.Status, r.EnteredAt)).ToList();
        var added = 0;
        foreach (var (journey, e) in matches)
        {
            if (EnrollKey(journey.Definition.Entry, e, runs.Where(r => r.Journey == journey.Id && r.Contact == e.ContactId).ToList(), context.Now) is not { } key)
            {
                continue;
            }
            var run = new JourneyRun
            {
                Id = Guid.CreateVersion7(),
                JourneyId = journey.Id,
                Version = journey.Version,
                ContactId = e.ContactId,
                EnrollKey = key,
                Status = RunStatus.Active,
                StepId = journey.Definition.Steps.FirstOrDefault()?.Id,
                DueAt = context.Now,
                EnteredAt = context.Now,
                CauseEventId = e.Id,
            };
            run.Holdout = InControlGroup(run.Id, journey.Definition.Holdout);
            db.JourneyRuns.Add(run);
            runs.Add(new Seen(journey.Id, e.ContactId, key, RunStatus.Active, context.Now));
            context.Emit(e, "journey.entered", new { journeyId = journey.Id, runId = run.Id, version = journey.Version, holdout = run.Holdout });
            added++;
        }
        _enrolled |= added > 0;
    }

    private bool _enrolled;

    /// <summary>The new runs are due now: the worker is woken once they are committed, so it finds them.</summary>
    public void Committed()
    {
        if (_enrolled)
        {
            _enrolled = false;
            signal.Notify();
        }
    }

    /// <summary>Ends the waits of running contacts for whom an awaited event arrived: due now, on the <c>then</c> path.</summary>
    private async Task HearAsync(ConsumerContext context, IReadOnlyList<Event> events, CancellationToken ct)
    {
        var awaited = Awaited();
        foreach (var (contact, type) in events.Where(e => awaited.Contains(e.Type)).Select(e => (e.ContactId, e.Type)).Distinct())
        {
            var now = context.Now;
            var heard = await context.Db.JourneyRuns
                .Where(r => r.ContactId == contact && r.WaitingFor == type && r.Status == RunStatus.Active && !r.Heard)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Heard, true).SetProperty(r => r.DueAt, now), ct);
            _enrolled |= heard > 0;
        }
    }

    private sealed record Seen(Guid Journey, Guid Contact, string Key, RunStatus Status, DateTime EnteredAt);

    /// <summary>The run's unique key under the entry rule, or null when the rule keeps the contact out.</summary>
    private static string? EnrollKey(EntryRule rule, Event e, List<Seen> mine, DateTime now)
    {
        if (mine.Count(r => r.Status == RunStatus.Active) >= rule.MaxActive)
        {
            return null;
        }
        var keyValue = rule.Key is { } property ? PropertyText(e, property) : null;
        var scope = keyValue is null ? $"{e.ContactId:N}" : $"{e.ContactId:N}:{keyValue}";
        switch (rule.Repeat)
        {
            case "always":
                return $"event:{e.Id}";
            case "period":
                var since = now - TimeSpan.FromDays(rule.PeriodDays ?? 365);
                if (mine.Any(r => r.Key.StartsWith($"period:{scope}:", StringComparison.Ordinal) && r.EnteredAt > since))
                {
                    return null;
                }
                return $"period:{scope}:{e.Id}";
            default:
                var once = $"once:{scope}";
                return mine.Any(r => r.Key == once) ? null : once;
        }
    }

    /// <summary>Whether the trigger fires for the event.</summary>
    /// <summary>
    /// Whether an event is news enough to start a run: received once the journey was live, and happened within the trigger's
    /// <see cref="JourneyTrigger.MaxAgeHours"/> — so importing two years of orders does not thank every customer again.
    /// </summary>
    internal static bool Recent(JourneyTrigger trigger, Event e, DateTime liveSince, DateTime now) =>
        e.ReceivedAt >= liveSince && now - e.OccurredAt <= TimeSpan.FromHours(trigger.MaxAgeHours ?? JourneyTrigger.DefaultMaxAgeHours);

    internal static bool Matches(JourneyTrigger trigger, Event e)
    {
        if (trigger.EventType != e.Type)
        {
            return false;
        }
        if (trigger.Segment is { } segment)
        {
            return string.Equals(PropertyText(e, "segment"), segment, StringComparison.OrdinalIgnoreCase);
        }
        if (trigger.Stage is { } stage)
        {
            return StageNames.TryParse(stage, out var wanted) && StageNames.TryParse(PropertyText(e, "to"), out var reached) && wanted == reached;
        }
        if (trigger.Where is not { Count: > 0 } filters)
        {
            return true;
        }
        try
        {
            using var doc = JsonDocument.Parse(e.Properties);
            return filters.All(f => Holds(doc.RootElement, f.Key.Split('.'), 0, f.Value));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether the property at a dotted path equals the value (as text, ignoring case). A list on the way matches when any
    /// of its items does, so <c>items.category</c> holds for an order with at least one line in that category.
    /// </summary>
    internal static bool Holds(JsonElement at, string[] path, int depth, string value)
    {
        if (at.ValueKind == JsonValueKind.Array)
        {
            return at.EnumerateArray().Any(item => Holds(item, path, depth, value));
        }
        if (depth == path.Length)
        {
            var text = at.ValueKind switch
            {
                JsonValueKind.String => at.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined or JsonValueKind.Object => null,
                _ => at.GetRawText(),
            };
            return string.Equals(text, value, StringComparison.OrdinalIgnoreCase);
        }
        return at.ValueKind == JsonValueKind.Object && at.TryGetProperty(path[depth], out var next) && Holds(next, path, depth + 1, value);
    }

    private static string? PropertyText(Event e, string name)
    {
        try
        {
            using var doc = JsonDocument.Parse(e.Properties);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(name, out var value)
                ? value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString(),
                    JsonValueKind.Null or JsonValueKind.Undefined => null,
                    _ => value.GetRawText(),
                }
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The control group, decided from the run's id: the same run always lands on the same side.</summary>
    internal static bool InControlGroup(Guid runId, int percent)
    {
        if (percent <= 0)
        {
            return false;
        }
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(runId.ToByteArray(), hash);
        return BitConverter.ToUInt32(hash) % 100 < percent;
    }
}
