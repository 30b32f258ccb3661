using System.Text.Json;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Journeys;

/// <summary><c>/api/v1/journeys</c>: definitions, publishing, pause / resume / archive, and each journey's report.</summary>
internal static class JourneysApi
{
    public static RouteGroupBuilder MapJourneys(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/journeys").WithTags("Journeys");
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("Journeys with their status and how many contacts are in them");
        group.MapGet("/{id:guid}", GetAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("One journey: its draft, what stops it from being published, and its report (orders counted within ?days=, default 30)");
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<JourneyInput>("application/json")
            .WithSummary("Save a journey as a draft: {\"name\", \"description\", \"definition\": {\"trigger\", \"entry\", \"holdout\", \"goal\", \"steps\"}}");
        group.MapPut("/{id:guid}", UpdateAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<JourneyInput>("application/json")
            .WithSummary("Change the draft; running contacts stay on the version they entered with");
        group.MapPost("/{id:guid}/publish", PublishAsync).RequireAuthorization(ApiKeys.WritePolicy)
            .WithSummary("Check the draft and publish it as the next version: contacts enter from now on");
        group.MapPost("/{id:guid}/pause", (Guid id, ClienteleDatabase database, JourneyEntry entry, JourneySignal signal, TimeProvider time, CancellationToken ct) =>
            SetStatusAsync(id, JourneyStatus.Paused, database, entry, signal, time, ct)).RequireAuthorization(ApiKeys.WritePolicy)
            .WithSummary("Nobody enters or moves until it is resumed");
        group.MapPost("/{id:guid}/resume", (Guid id, ClienteleDatabase database, JourneyEntry entry, JourneySignal signal, TimeProvider time, CancellationToken ct) =>
            SetStatusAsync(id, JourneyStatus.Active, database, entry, signal, time, ct)).RequireAuthorization(ApiKeys.WritePolicy)
            .WithSummary("Contacts enter and move again; steps that fell due meanwhile run now");
        group.MapPost("/{id:guid}/archive", (Guid id, ClienteleDatabase database, JourneyEntry entry, JourneySignal signal, TimeProvider time, CancellationToken ct) =>
            SetStatusAsync(id, JourneyStatus.Archived, database, entry, signal, time, ct)).RequireAuthorization(ApiKeys.WritePolicy)
            .WithSummary("Ends the journey: nobody enters, running contacts leave");
        group.MapPost("/{id:guid}/enroll", JourneyEnrollment.EnrollEndpointAsync).RequireAuthorization(ApiKeys.WritePolicy)
            .Accepts<EnrollInput>("application/json")
            .WithSummary("Put contacts into a running journey by hand: {\"contactIds\": [\"…\"]}; within its entry rule and consent, each reported by index (enrolled, skipped or rejected)");
        return api;
    }

    internal sealed record JourneyInput(string? Name, string? Description, JsonElement? Definition);

    internal sealed record EnrollInput(List<Guid> ContactIds);

    internal sealed record Counts(int Entered, int Active, int Completed, int Goal, int Exited, int Holdout);

    /// <summary>One step's e-mails; an A/B test step also has each variant's numbers and, once called, its winner.</summary>
    internal sealed record StepReport(string Id, string Type, int Sent, int Opened, int Clicked, int Converted,
        List<VariantReport>? Variants = null, TestReport? Test = null);

    internal sealed record VariantReport(string Template, int Sent, int Opened, int Clicked, int Converted);

    /// <summary>An A/B test's winner, why it won and when.</summary>
    internal sealed record TestReport(string Winner, string Reason, DateTime DecidedAt);

    /// <summary>Orders within <c>Days</c> of a journey e-mail, per currency; each order counted once.</summary>
    internal sealed record Attribution(int Days, List<Clientele.Broadcasts.BroadcastsApi.Revenue> Revenue, Lift? Lift);

    internal sealed record JourneyDto(Guid Id, string Name, string? Description, string Status, int Version, JsonElement Definition,
        List<FieldError> Problems, Counts Counts, List<StepReport> Steps, Attribution Attribution, DateTime CreatedAt, DateTime UpdatedAt);

    /// <summary>Days after an e-mail (or after entering, for the lift) in which an order counts for the journey, unless asked otherwise.</summary>
    public const int AttributionDays = 30;

    internal sealed record JourneySummary(Guid Id, string Name, string Status, int Version, string? Trigger, Counts Counts, DateTime UpdatedAt);

    public static string ToApi(this JourneyStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>What stops a definition from being published, with the names of the templates and segments that exist now.</summary>
    internal static async Task<List<FieldError>> ProblemsAsync(ClienteleDb db, JourneyDefinition definition, DateTime now, CancellationToken ct, bool privateWebhooks = false)
    {
        var templates = (await db.Templates.AsNoTracking().Select(t => t.Name).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        var segments = (await db.Segments.AsNoTracking().Select(s => s.Name).ToListAsync(ct)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var offers = definition.Steps.Any(s => s.Type == "offer")
            ? (await db.Offers.AsNoTracking().Where(o => !o.Archived).Select(o => o.Name).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal)
            : null;
        var surveys = definition.Steps.Any(s => s.Type == "feedback")
            ? (await db.Surveys.AsNoTracking().Select(o => o.Name).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal)
            : null;
        return definition.Validate(templates, segments, node => Clientele.Segments.SegmentCompiler.Compile(node, db, now), privateWebhooks, offers, surveys);
    }

    private static (Journey? Journey, JourneyDefinition? Definition, IResult? Problem) Read(JourneyInput input, Journey? into, DateTime now)
    {
        var errors = new List<FieldError>();
        if (into is null && string.IsNullOrWhiteSpace(input.Name))
        {
            errors.Add(new("/name", "Give the journey a name."));
        }
        JourneyDefinition? definition = null;
        if (input.Definition is { } json)
        {
            var (parsed, error) = json.ValueKind == JsonValueKind.Object
                ? JourneyDefinition.Parse(json.GetRawText())
                : (null, new FieldError("/definition", "The definition is a JSON object with trigger, entry, holdout, goal and steps."));
            if (error is not null)
            {
                errors.Add(error);
            }
            definition = parsed;
        }
        else if (into is null)
        {
            definition = new JourneyDefinition();
        }
        if (errors.Count > 0)
        {
            return (null, null, ApiProblems.Invalid(errors));
        }
        var journey = into ?? new Journey { Id = Guid.CreateVersion7(), CreatedAt = now, Status = JourneyStatus.Draft };
        if (!string.IsNullOrWhiteSpace(input.Name))
        {
            journey.Name = input.Name.Trim();
        }
        if (input.Description is not null)
        {
            journey.Description = input.Description.Trim() is { Length: > 0 } d ? d : null;
        }
        if (definition is not null)
        {
            journey.Draft = definition.ToJson();
        }
        journey.UpdatedAt = now;
        return (journey, definition ?? JourneyDefinition.Parse(journey.Draft).Definition, null);
    }

    /// <summary>
    /// Saves a new draft (<paramref name="id"/> null) or changes an existing one, for the API and the Journeys page alike:
    /// the journey as saved, or the problem that stopped it (invalid fields, no such journey, a name taken).
    /// </summary>
    internal static async Task<(Journey? Journey, IResult? Problem)> SaveDraftAsync(Guid? id, JourneyInput input, ClienteleDatabase database, DateTime now,
        CancellationToken ct)
    {
        Journey? journey;
        if (id is null)
        {
            (journey, _, var invalid) = Read(input, null, now);
            if (invalid is not null)
            {
                return (null, invalid);
            }
        }
        else
        {
            journey = null;
        }
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            if (id is { } existingId)
            {
                if (await db.Journeys.FirstOrDefaultAsync(j => j.Id == existingId, ct) is not { } existing)
                {
                    return (null, ApiProblems.NotFound($"There is no journey {existingId}."));
                }
                (journey, _, var invalid) = Read(input, existing, now);
                if (invalid is not null)
                {
                    return (null, invalid);
                }
            }
            if (await db.Journeys.AnyAsync(j => j.Name == journey!.Name && j.Id != journey.Id, ct))
            {
                return (null, ApiProblems.Conflict($"A journey named \"{journey!.Name}\" exists already.", "/name"));
            }
            if (id is null)
            {
                db.Journeys.Add(journey!);
            }
            await db.SaveChangesAsync(ct);
        }
        return (journey, null);
    }

    internal static async Task<IResult> CreateAsync(HttpRequest request, ClienteleDatabase database, TimeProvider time, IConfiguration config, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<JourneyInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (journey, refused) = await SaveDraftAsync(null, input!, database, time.GetUtcNow().UtcDateTime, ct);
        if (refused is not null)
        {
            return refused;
        }
        await using var db = database.CreateDbContext();
        return TypedResults.Created($"/api/v1/journeys/{journey!.Id}", await DtoAsync(db, journey, ct, privateWebhooks: Webhooks.WebhookGuard.AllowsPrivate(config)));
    }

    internal static async Task<IResult> UpdateAsync(Guid id, HttpRequest request, ClienteleDatabase database, TimeProvider time, IConfiguration config, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<JourneyInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (journey, refused) = await SaveDraftAsync(id, input!, database, time.GetUtcNow().UtcDateTime, ct);
        if (refused is not null)
        {
            return refused;
        }
        await using var db = database.CreateDbContext();
        return TypedResults.Ok(await DtoAsync(db, journey!, ct, privateWebhooks: Webhooks.WebhookGuard.AllowsPrivate(config)));
    }

    /// <summary>
    /// Checks the draft and publishes it as the next version, for the API and the Journeys page alike: the new version,
    /// or the problem that stopped it. Contacts enter from now on (the entry consumer forgets its cached journeys).
    /// </summary>
    internal static async Task<(int Version, IResult? Problem)> PublishDraftAsync(Guid id, ClienteleDatabase database, JourneyEntry entry, DateTime now,
        CancellationToken ct, bool privateWebhooks = false)
    {
        await using var db = database.CreateDbContext();
        int version;
        using (await database.EnterWriteAsync(ct))
        {
            if (await db.Journeys.FirstOrDefaultAsync(j => j.Id == id, ct) is not { } journey)
            {
                return (0, ApiProblems.NotFound($"There is no journey {id}."));
            }
            if (journey.Status == JourneyStatus.Archived)
            {
                return (0, ApiProblems.Conflict($"\"{journey.Name}\" is archived; copy it into a new journey to use it again."));
            }
            (version, var refused) = await PublishInAsync(db, journey, now, ct, privateWebhooks);
            if (refused is not null)
            {
                return (0, refused);
            }
        }
        entry.Invalidate();
        return (version, null);
    }

    /// <summary>Checks a tracked journey's draft and, when it passes, saves it as the next version and starts (or keeps paused) the journey.</summary>
    internal static async Task<(int Version, IResult? Problem)> PublishInAsync(ClienteleDb db, Journey journey, DateTime now, CancellationToken ct, bool privateWebhooks = false)
    {
        var definition = JourneyDefinition.Parse(journey.Draft).Definition ?? new JourneyDefinition();
        var problems = await ProblemsAsync(db, definition, now, ct, privateWebhooks);
        if (problems.Count > 0)
        {
            return (0, ApiProblems.Invalid(problems.Select(p => new FieldError("/definition" + p.Field, p.Message))));
        }
        var version = journey.Version + 1;
        db.JourneyVersions.Add(new JourneyVersion { JourneyId = journey.Id, Version = version, Definition = definition.ToJson(), PublishedAt = now });
        journey.Version = version;
        journey.TriggerEvent = definition.Trigger.EventType;
        journey.Status = journey.Status == JourneyStatus.Paused ? JourneyStatus.Paused : JourneyStatus.Active;
        journey.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return (version, null);
    }

    internal static async Task<IResult> PublishAsync(Guid id, ClienteleDatabase database, JourneyEntry entry, TimeProvider time, IConfiguration config, CancellationToken ct)
    {
        var (version, refused) = await PublishDraftAsync(id, database, entry, time.GetUtcNow().UtcDateTime, ct, Webhooks.WebhookGuard.AllowsPrivate(config));
        return refused ?? TypedResults.Ok(new { version });
    }

    /// <summary>
    /// Pauses, resumes or archives a journey, for the API and the Journeys page alike: null when done, else the problem
    /// that stopped it. Archiving ends every active run. The entry consumer forgets its cached journeys and the worker is
    /// woken, so runs that fell due while paused move at once.
    /// </summary>
    internal static async Task<IResult?> ChangeStatusAsync(Guid id, JourneyStatus status, ClienteleDatabase database, JourneyEntry entry,
        JourneySignal signal, DateTime now, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            if (await db.Journeys.FirstOrDefaultAsync(j => j.Id == id, ct) is not { } journey)
            {
                return ApiProblems.NotFound($"There is no journey {id}.");
            }
            if (journey.Version == 0 && status != JourneyStatus.Archived)
            {
                return ApiProblems.Conflict($"\"{journey.Name}\" has not been published yet.");
            }
            if (journey.Status == JourneyStatus.Archived)
            {
                return ApiProblems.Conflict($"\"{journey.Name}\" is archived.");
            }
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            journey.Status = status;
            journey.UpdatedAt = now;
            await db.SaveChangesAsync(ct);
            if (status == JourneyStatus.Archived)
            {
                await db.JourneyRuns.Where(r => r.JourneyId == id && r.Status == RunStatus.Active).ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Status, RunStatus.Exited)
                    .SetProperty(r => r.StepId, (string?)null)
                    .SetProperty(r => r.DueAt, (DateTime?)null)
                    .SetProperty(r => r.EndedAt, now)
                    .SetProperty(r => r.Reason, "The journey was archived."), ct);
            }
            await tx.CommitAsync(ct);
        }
        entry.Invalidate();
        signal.Notify();
        return null;
    }

    private static async Task<IResult> SetStatusAsync(Guid id, JourneyStatus status, ClienteleDatabase database, JourneyEntry entry, JourneySignal signal,
        TimeProvider time, CancellationToken ct) =>
        await ChangeStatusAsync(id, status, database, entry, signal, time.GetUtcNow().UtcDateTime, ct) ?? TypedResults.Ok(new { status = status.ToApi() });

    internal static async Task<Counts> CountsAsync(ClienteleDb db, Guid id, CancellationToken ct)
    {
        var rows = await db.JourneyRuns.AsNoTracking().Where(r => r.JourneyId == id)
            .GroupBy(r => new { r.Status, r.Holdout }).Select(g => new { g.Key.Status, g.Key.Holdout, Count = g.Count() }).ToListAsync(ct);
        return Tally(rows.Select(r => (r.Status, r.Holdout, r.Count)));
    }

    /// <summary>Counts from runs grouped by status and control group.</summary>
    private static Counts Tally(IEnumerable<(RunStatus Status, bool Holdout, int Count)> groups)
    {
        var rows = groups.ToList();
        int Of(RunStatus s) => rows.Where(r => r.Status == s).Sum(r => r.Count);
        return new Counts(rows.Sum(r => r.Count), Of(RunStatus.Active), Of(RunStatus.Completed), Of(RunStatus.GoalReached), Of(RunStatus.Exited),
            rows.Where(r => r.Holdout).Sum(r => r.Count));
    }

    /// <summary>One journey with its draft, what stops it from being published, its counts and per-step mail report.</summary>
    internal static async Task<JourneyDto> DtoAsync(ClienteleDb db, Journey j, CancellationToken ct, int days = AttributionDays, bool privateWebhooks = false)
    {
        var definition = JourneyDefinition.Parse(j.Draft).Definition ?? new JourneyDefinition();
        var mail = await db.OutboxMessages.AsNoTracking().Where(m => m.JourneyId == j.Id && m.StepId != null)
            .GroupBy(m => new { m.StepId, m.TemplateId }).Select(g => new
            {
                Step = g.Key.StepId!,
                Template = g.Key.TemplateId,
                Sent = g.Count(m => m.SentAt != null),
                Opened = g.Count(m => m.OpenedAt != null),
                Clicked = g.Count(m => m.ClickedAt != null),
            }).ToListAsync(ct);
        var sent = db.OutboxMessages.AsNoTracking().Where(m => m.JourneyId == j.Id && m.StepId != null && m.SentAt != null);
        var orders = db.Orders.AsNoTracking().Where(o => o.Status != Commerce.OrderStatus.Refunded && o.Status != Commerce.OrderStatus.Cancelled);
        // A step converted a contact who ordered within the window after its e-mail.
        var converted = await sent
            .Where(m => orders.Any(o => o.ContactId == m.ContactId && o.PlacedAt >= m.SentAt && o.PlacedAt <= m.SentAt!.Value.AddDays(days)))
            .GroupBy(m => new { m.StepId, m.TemplateId }).Select(g => new { Step = g.Key.StepId!, Template = g.Key.TemplateId, Count = g.Count() }).ToListAsync(ct);
        var names = definition.Steps.Any(s => s.Type == "abtest")
            ? await db.Templates.AsNoTracking().Select(t => new { t.Id, t.Name }).ToDictionaryAsync(t => t.Id, t => t.Name, ct)
            : [];
        var tests = await db.JourneyTests.AsNoTracking().Where(t => t.JourneyId == j.Id).ToListAsync(ct);
        StepReport Report(JourneyStep s)
        {
            var rows = mail.Where(m => m.Step == s.Id).ToList();
            var hits = converted.Where(c => c.Step == s.Id).ToList();
            var variants = s.Type != "abtest" ? null : (s.Variants ?? []).Select(v =>
            {
                bool Mine(Guid? id) => id is { } t && names.GetValueOrDefault(t) == v;
                var own = rows.Where(r => Mine(r.Template)).ToList();
                return new VariantReport(v, own.Sum(r => r.Sent), own.Sum(r => r.Opened), own.Sum(r => r.Clicked), hits.Where(h => Mine(h.Template)).Sum(h => h.Count));
            }).ToList();
            var test = tests.FirstOrDefault(t => t.StepId == s.Id) is { } called && s.Variants?.Contains(called.Winner) == true
                ? new TestReport(called.Winner, called.Reason, called.DecidedAt)
                : null;
            return new StepReport(s.Id, s.Type, rows.Sum(r => r.Sent), rows.Sum(r => r.Opened), rows.Sum(r => r.Clicked), hits.Sum(h => h.Count), variants, test);
        }
        var steps = definition.Steps.Select(Report).ToList();
        var revenue = await orders
            .Where(o => sent.Any(m => m.ContactId == o.ContactId && o.PlacedAt >= m.SentAt && o.PlacedAt <= m.SentAt!.Value.AddDays(days)))
            .GroupBy(o => o.Currency).Select(g => new { Currency = g.Key, Amount = g.Sum(o => o.Total), Orders = g.Count() })
            .ToListAsync(ct);
        // Lift: did those who got the journey order more often, in the window after entering, than the control group?
        var outcomes = await db.JourneyRuns.AsNoTracking().Where(r => r.JourneyId == j.Id)
            .Select(r => new { r.Holdout, Converted = orders.Any(o => o.ContactId == r.ContactId && o.PlacedAt >= r.EnteredAt && o.PlacedAt <= r.EnteredAt.AddDays(days)) })
            .GroupBy(x => new { x.Holdout, x.Converted }).Select(g => new { g.Key.Holdout, g.Key.Converted, Count = g.Count() })
            .ToListAsync(ct);
        int Of(bool holdout, bool? hit = null) => outcomes.Where(o => o.Holdout == holdout && (hit is null || o.Converted == hit)).Sum(o => o.Count);
        var attribution = new Attribution(days,
            [.. revenue.OrderBy(r => r.Currency).Select(r => new Clientele.Broadcasts.BroadcastsApi.Revenue(r.Currency, r.Amount, r.Orders))],
            Lift.Compute(Of(false), Of(false, true), Of(true), Of(true, true)));
        using var doc = JsonDocument.Parse(j.Draft);
        return new JourneyDto(j.Id, j.Name, j.Description, j.Status.ToApi(), j.Version, doc.RootElement.Clone(),
            await ProblemsAsync(db, definition, j.UpdatedAt, ct, privateWebhooks), await CountsAsync(db, j.Id, ct), steps, attribution, j.CreatedAt, j.UpdatedAt);
    }

    internal static async Task<IResult> GetAsync(Guid id, int? days, ClienteleDb db, IConfiguration config, CancellationToken ct)
    {
        if (days is < 1 or > 90)
        {
            return ApiProblems.BadRequest("Orders are counted for 1 to 90 days after an e-mail (days).", "/days");
        }
        return await db.Journeys.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id, ct) is { } j
            ? TypedResults.Ok(await DtoAsync(db, j, ct, days ?? AttributionDays, Webhooks.WebhookGuard.AllowsPrivate(config)))
            : ApiProblems.NotFound($"There is no journey {id}.");
    }

    /// <summary>Every journey by name, with its status, version, trigger event and counts.</summary>
    internal static async Task<List<JourneySummary>> SummariesAsync(ClienteleDb db, CancellationToken ct)
    {
        var journeys = await db.Journeys.AsNoTracking().OrderBy(j => j.Name).ToListAsync(ct);
        // Every journey's counts in one query.
        var rows = await db.JourneyRuns.AsNoTracking()
            .GroupBy(r => new { r.JourneyId, r.Status, r.Holdout }).Select(g => new { g.Key.JourneyId, g.Key.Status, g.Key.Holdout, Count = g.Count() })
            .ToListAsync(ct);
        var byJourney = rows.ToLookup(r => r.JourneyId);
        return journeys.Select(j => new JourneySummary(j.Id, j.Name, j.Status.ToApi(), j.Version, j.TriggerEvent,
            Tally(byJourney[j.Id].Select(r => (r.Status, r.Holdout, r.Count))), j.UpdatedAt)).ToList();
    }

    internal static async Task<IResult> ListAsync(ClienteleDb db, CancellationToken ct) => TypedResults.Ok(await SummariesAsync(db, ct));
}
