using System.Text.Json;
using Clientele.Api;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Journeys;

/// <summary>A run of the journey the contact has or had, as the entry rule reads it.</summary>
internal sealed record PastRun(Guid Id, string Key, RunStatus Status, DateTime EnteredAt);

/// <summary>What decides whether a contact may be put into a journey by hand.</summary>
/// <param name="Consents">The contact's consent by topic.</param>
/// <param name="Suppressed">The address is on the suppression list (no marketing mail goes to it).</param>
internal sealed record EnrollFacts(Guid ContactId, bool Deleted, bool HasAddress, bool Suppressed, IReadOnlyDictionary<string, ConsentStatus> Consents, IReadOnlyList<PastRun> Runs);

/// <summary>
/// The outcome for one contact: <c>enrolled</c> (with the run's key), <c>skipped</c> (already in the journey, or the
/// entry rule keeps them out for now: nothing to do) or <c>rejected</c> (the contact cannot receive it).
/// </summary>
internal sealed record EnrollDecision(string Status, string? Key, string? Reason, Guid? RunId = null)
{
    public static EnrollDecision Enrolled(string key) => new("enrolled", key, null);

    public static EnrollDecision Skipped(string reason, Guid? run = null) => new("skipped", null, reason, run);

    public static EnrollDecision Rejected(string reason) => new("rejected", null, reason);
}

/// <summary>One item of <c>POST /api/v1/journeys/{id}/enroll</c>'s answer.</summary>
internal sealed record EnrollResult(int Index, string Status, Guid? ContactId, Guid? RunId, bool? Holdout, string? Reason, FieldError? Error);

/// <summary>
/// Putting contacts into a journey by hand (the dashboard's "win back" button, <c>POST /api/v1/journeys/{id}/enroll</c>):
/// the same entry rule as the trigger (once, once per period, always; at most so many runs at once), the same consent
/// the journey's e-mails need, and the same control group. Asking twice enrolls once.
/// </summary>
internal static class JourneyEnrollment
{
    public const int MaxBatch = 1000;

    /// <summary>Pure: whether the contact enters, and under which run key.</summary>
    public static EnrollDecision Decide(JourneyDefinition definition, EnrollFacts f, Guid runId, DateTime now)
    {
        if (f.Deleted)
        {
            return EnrollDecision.Rejected("The contact was deleted.");
        }
        var active = f.Runs.Where(r => r.Status == RunStatus.Active).OrderBy(r => r.EnteredAt).ToList();
        if (active.Count >= Math.Max(1, definition.Entry.MaxActive))
        {
            return EnrollDecision.Skipped($"Already in the journey since {active[0].EnteredAt:yyyy-MM-dd HH:mm} UTC.", active[0].Id);
        }
        var topics = definition.Steps.Where(s => s.Sends && s.Class != "transactional").Select(s => s.Topic ?? ConsentProjection.DefaultTopic).Distinct().ToList();
        if (definition.Steps.Any(s => s.Sends) && !f.HasAddress)
        {
            return EnrollDecision.Rejected("The contact has no e-mail address, and the journey sends e-mail.");
        }
        if (topics.Count > 0)
        {
            if (f.Suppressed)
            {
                return EnrollDecision.Rejected("The address is on the suppression list: the journey's e-mails cannot go to it.");
            }
            if (f.Consents.GetValueOrDefault(ConsentProjection.DefaultTopic) == ConsentStatus.Unsubscribed)
            {
                return EnrollDecision.Rejected("The contact unsubscribed from all marketing e-mail.");
            }
            if (topics.All(t => f.Consents.GetValueOrDefault(t) == ConsentStatus.Unsubscribed))
            {
                return EnrollDecision.Rejected($"The contact unsubscribed from {string.Join(" and ", topics.Select(t => $"\"{t}\""))}, which the journey's e-mails are about.");
            }
        }
        var scope = f.ContactId.ToString("N");
        var rule = definition.Entry;
        switch (rule.Repeat)
        {
            case "always":
                return EnrollDecision.Enrolled($"manual:{runId:N}");
            case "period":
                var days = rule.PeriodDays ?? 365;
                if (f.Runs.Where(r => r.Key.StartsWith($"period:{scope}:", StringComparison.Ordinal) && r.EnteredAt > now.AddDays(-days)).MaxBy(r => r.EnteredAt) is { } last)
                {
                    return EnrollDecision.Skipped($"Entered on {last.EnteredAt:yyyy-MM-dd}; the journey lets a contact in once every {days} days.", last.Id);
                }
                return EnrollDecision.Enrolled($"period:{scope}:manual-{runId:N}");
            default:
                var once = $"once:{scope}";
                return f.Runs.FirstOrDefault(r => r.Key == once) is { } before
                    ? EnrollDecision.Skipped($"Was in the journey before (entered {before.EnteredAt:yyyy-MM-dd}); it lets a contact in once.", before.Id)
                    : EnrollDecision.Enrolled(once);
        }
    }

    /// <summary>
    /// Enrolls the listed contacts (ids as text; each judged on its own) into a running journey, due at once: the result
    /// per item, or the problem with the request as a whole (no such journey, not running, too many ids).
    /// </summary>
    public static async Task<(List<EnrollResult>? Results, IResult? Problem)> EnrollAsync(Guid journeyId, IReadOnlyList<JsonElement> items, string by,
        ClienteleDatabase database, JourneySignal signal, DateTime now, CancellationToken ct)
    {
        if (items.Count == 0)
        {
            return (null, ApiProblems.Invalid("/contactIds", "List at least one contact id."));
        }
        if (items.Count > MaxBatch)
        {
            return (null, ApiProblems.Invalid("/contactIds", $"At most {MaxBatch} contacts at once."));
        }
        await using var db = database.CreateDbContext();
        var journey = await db.Journeys.AsNoTracking().FirstOrDefaultAsync(j => j.Id == journeyId, ct);
        if (journey is null)
        {
            return (null, ApiProblems.NotFound($"There is no journey {journeyId}."));
        }
        if (journey.Status != JourneyStatus.Active || journey.Version == 0)
        {
            return (null, ApiProblems.Conflict($"\"{journey.Name}\" is not running ({journey.Status.ToApi()}): publish or resume it first."));
        }
        var definitionJson = await db.JourneyVersions.AsNoTracking().Where(v => v.JourneyId == journeyId && v.Version == journey.Version).Select(v => v.Definition).FirstAsync(ct);
        var definition = JourneyDefinition.Parse(definitionJson).Definition ?? new JourneyDefinition();

        var results = new EnrollResult?[items.Count];
        var wanted = new List<(int Index, Guid Id)>();
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].ValueKind == JsonValueKind.String && Guid.TryParse(items[i].GetString(), out var id))
            {
                wanted.Add((i, id));
            }
            else
            {
                results[i] = new EnrollResult(i, "rejected", null, null, null, null, new FieldError($"/contactIds/{i}", "Not a contact id (a UUID in quotes)."));
            }
        }
        var ids = wanted.Select(w => w.Id).Distinct().ToList();
        var contacts = await db.Contacts.AsNoTracking().Include(c => c.Consents).Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        var emails = contacts.Values.Select(c => c.EmailNormalized).OfType<string>().ToList();
        var suppressed = (await db.Suppressions.AsNoTracking().Where(s => emails.Contains(s.Email)).Select(s => s.Email).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        var enrolled = 0;
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var runs = (await db.JourneyRuns.AsNoTracking().Where(r => r.JourneyId == journeyId && ids.Contains(r.ContactId))
                    .Select(r => new { r.ContactId, Run = new PastRun(r.Id, r.EnrollKey, r.Status, r.EnteredAt) }).ToListAsync(ct))
                .GroupBy(r => r.ContactId).ToDictionary(g => g.Key, g => g.Select(r => r.Run).ToList());
            var events = new List<Event>();
            var done = new HashSet<Guid>();
            foreach (var (index, id) in wanted)
            {
                if (!contacts.TryGetValue(id, out var contact))
                {
                    results[index] = new EnrollResult(index, "rejected", id, null, null, null, new FieldError($"/contactIds/{index}", $"There is no contact {id}."));
                    continue;
                }
                if (!done.Add(id))
                {
                    results[index] = new EnrollResult(index, "skipped", id, null, null, "Listed earlier in this request.", null);
                    continue;
                }
                var mine = runs.GetValueOrDefault(id) ?? [];
                var facts = new EnrollFacts(id, contact.DeletedAt is not null, contact.Email is { Length: > 0 },
                    contact.EmailNormalized is { } e && suppressed.Contains(e),
                    contact.Consents.ToDictionary(c => c.Topic, c => c.Status, StringComparer.Ordinal), mine);
                var runId = Guid.CreateVersion7();
                var decision = Decide(definition, facts, runId, now);
                if (decision.Status == "rejected")
                {
                    results[index] = new EnrollResult(index, "rejected", id, null, null, null, new FieldError($"/contactIds/{index}", decision.Reason!));
                    continue;
                }
                if (decision.Status == "skipped")
                {
                    results[index] = new EnrollResult(index, "skipped", id, decision.RunId, null, decision.Reason, null);
                    continue;
                }
                var run = new JourneyRun
                {
                    Id = runId,
                    JourneyId = journeyId,
                    Version = journey.Version,
                    ContactId = id,
                    EnrollKey = decision.Key!,
                    Status = RunStatus.Active,
                    StepId = definition.Steps.FirstOrDefault()?.Id,
                    DueAt = now,
                    EnteredAt = now,
                };
                run.Holdout = JourneyEntry.InControlGroup(run.Id, definition.Holdout);
                db.JourneyRuns.Add(run);
                mine.Add(new PastRun(run.Id, run.EnrollKey, RunStatus.Active, now));
                runs[id] = mine;
                events.Add(Event.Recorded(id, "journey.entered", "journeys", $"journey.entered:{run.Id:N}",
                    new { journeyId, runId = run.Id, version = journey.Version, holdout = run.Holdout, manual = true, by }, now));
                results[index] = new EnrollResult(index, "enrolled", id, run.Id, run.Holdout,
                    run.Holdout ? "In the journey's control group: walks its steps but receives nothing, so its effect can be measured." : null, null);
                enrolled++;
            }
            await db.SaveChangesAsync(ct);
            await EventWriter.InsertAsync(db, events, ct);
            await tx.CommitAsync(ct);
        }
        if (enrolled > 0)
        {
            signal.Notify();
        }
        return ([.. results.Select(r => r!)], null);
    }

    internal sealed record EnrollResponse(int Enrolled, List<EnrollResult> Results);

    /// <summary><c>POST /api/v1/journeys/{id}/enroll</c> with <c>{"contactIds": ["…", …]}</c>.</summary>
    internal static async Task<IResult> EnrollEndpointAsync(Guid id, HttpRequest request, ClienteleDatabase database, JourneySignal signal, TimeProvider time, CancellationToken ct)
    {
        var (doc, problem) = await JsonBody.ReadAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        using (doc)
        {
            var root = doc!.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return ApiProblems.Invalid("/", "Expected a JSON object: {\"contactIds\": [\"…\"]}.");
            }
            if (!root.TryGetProperty("contactIds", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                return ApiProblems.Invalid("/contactIds", "List the contacts to enroll: \"contactIds\": [\"…\"].");
            }
            var by = request.HttpContext.User.Identity?.Name ?? "api";
            var (results, refused) = await EnrollAsync(id, [.. list.EnumerateArray().Select(e => e.Clone())], by, database, signal, time.GetUtcNow().UtcDateTime, ct);
            return refused ?? TypedResults.Ok(new EnrollResponse(results!.Count(r => r.Status == "enrolled"), results!));
        }
    }
}
