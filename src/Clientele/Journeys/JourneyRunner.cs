using System.Collections.Concurrent;
using System.Text.Json;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Clientele.Lifecycle;
using Clientele.Outbox;
using Clientele.Segments;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Journeys;

/// <summary>Wakes the journey worker when runs become due now (a contact entered, a journey was resumed).</summary>
internal sealed class JourneySignal : WakeSignal;

/// <summary>
/// Moves due runs along. In one transaction it takes a batch of due runs (on PostgreSQL skipping rows another
/// instance holds), walks each through its steps until it waits or ends, and writes every effect — queued e-mails
/// keyed by run and step count, tag changes, the runs' new positions, journey.ended events — before committing.
/// A crash before the commit leaves nothing behind, so the batch runs again from the same places with the same keys
/// and no e-mail is queued twice.
/// </summary>
internal sealed class JourneyRunner(ClienteleDatabase database, OutboxSignal outbox, Webhooks.WebhookSignal webhooks, MailLinks links, TimeProvider time,
    ILogger<JourneyRunner> log)
{
    public const int Batch = 500;

    /// <summary>Steps one run may take in one go before it is stopped as a runaway (validation forbids loops without waits).</summary>
    private const int MaxStepsAtOnce = 100;

    private readonly ConcurrentDictionary<(Guid, int), JourneyDefinition> _versions = new();

    /// <summary>Runs one batch of due runs; returns how many it moved.</summary>
    public async Task<int> StepAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        using var gate = await database.EnterWriteAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var runs = await DueAsync(db, now, ct);
        if (runs.Count == 0)
        {
            return 0;
        }
        var definitions = new Dictionary<(Guid, int), JourneyDefinition>();
        foreach (var key in runs.Select(r => (r.JourneyId, r.Version)).Distinct())
        {
            definitions[key] = await DefinitionAsync(db, key.JourneyId, key.Version, ct);
        }
        var contactIds = runs.Select(r => r.ContactId).Distinct().ToList();
        var contacts = await db.Contacts.AsNoTracking().Include(c => c.Consents).Where(c => contactIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        var rules = await SettingsStore.LoadAsync(db, SendingRules.Key, SendingRules.Default, ct);
        var templates = await db.Templates.AsNoTracking().Select(t => new { t.Name, t.Id }).ToDictionaryAsync(t => t.Name, t => t.Id, ct);
        // Winners of A/B tests, read only when a journey in the batch has a test.
        var testing = definitions.Where(d => d.Value.Steps.Any(s => s.Type == "abtest")).Select(d => d.Key.Item1).Distinct().ToList();
        var winners = testing.Count == 0 ? [] : await db.JourneyTests.AsNoTracking().Where(t => testing.Contains(t.JourneyId))
            .ToDictionaryAsync(t => (t.JourneyId, t.StepId), t => t.Winner, ct);
        // Journey names, for score and stage changes and notifications that say who made them; the users to notify.
        var naming = definitions.Where(d => d.Value.Steps.Any(s => s.Score is not null || s.Stage is not null || s.Type is "notify" or "webhook" or "task")).Select(d => d.Key.Item1).Distinct().ToList();
        var names = naming.Count == 0 ? [] : await db.Journeys.AsNoTracking().Where(j => naming.Contains(j.Id)).ToDictionaryAsync(j => j.Id, j => j.Name, ct);
        var users = definitions.Values.Any(d => d.Steps.Any(s => s.Type == "notify"))
            ? (await db.Users.AsNoTracking().Where(u => u.DisabledAt == null).Select(u => new { u.Email, u.Role }).ToListAsync(ct)).Select(u => (u.Email, u.Role)).ToList()
            : [];
        var work = new Work(db, now, rules, templates, contacts, winners, names) { Users = users };
        foreach (var group in runs.GroupBy(r => (r.JourneyId, r.Version)))
        {
            var definition = definitions[group.Key];
            var goal = definition.Goal is { } g ? await work.MeetingAsync(g, group.Select(r => r.ContactId), ct) : null;
            foreach (var run in group)
            {
                await AdvanceAsync(run, definition, goal, work, ct);
            }
        }
        await OutboxWriter.InsertAsync(db, work.Mail, ct);
        await BulkStatements.ExecuteAsync(db, UpdateSql, UpdateNames, runs, UpdateValues, ct);
        db.WebhookCalls.AddRange(work.Calls);
        await db.SaveChangesAsync(ct); // tag changes, webhook calls
        await EventWriter.InsertAsync(db, work.Events, ct);
        await tx.CommitAsync(ct);
        Web.InstanceCounters.JourneyRuns.Add(runs.Count);
        if (work.Mail.Count > 0)
        {
            outbox.Notify();
        }
        if (work.Calls.Count > 0)
        {
            webhooks.Notify();
        }
        return runs.Count;
    }

    /// <summary>What one batch shares: its context, clock, rules and what it has produced so far.</summary>
    private sealed class Work(ClienteleDb db, DateTime now, SendingRules rules, Dictionary<string, Guid> templates, Dictionary<Guid, Contact> contacts,
        Dictionary<(Guid, string), string> winners, Dictionary<Guid, string> names)
    {
        public Dictionary<Guid, string> Names { get; } = names;
        public List<(string Email, Accounts.Role Role)> Users { get; init; } = [];

        private readonly Dictionary<string, Offers.Offer?> _offers = [];
        private Offers.OfferFatigue? _fatigue;

        public async Task<Offers.Offer?> OfferAsync(string name, CancellationToken ct)
        {
            if (!_offers.TryGetValue(name, out var offer))
            {
                _offers[name] = offer = await Db.Offers.AsNoTracking().FirstOrDefaultAsync(o => o.Name == name, ct);
            }
            return offer;
        }

        private readonly Dictionary<string, Guid?> _surveys = [];

        public async Task<Guid?> SurveyAsync(string name, CancellationToken ct)
        {
            if (!_surveys.TryGetValue(name, out var id))
            {
                _surveys[name] = id = await Db.Surveys.AsNoTracking().Where(s => s.Name == name).Select(s => (Guid?)s.Id).FirstOrDefaultAsync(ct);
            }
            return id;
        }

        public async Task<Offers.OfferFatigue> FatigueAsync(CancellationToken ct) =>
            _fatigue ??= await SettingsStore.LoadAsync(Db, Offers.OfferFatigue.Key, Offers.OfferFatigue.Default, ct);
        public Dictionary<(Guid, string), string> Winners { get; } = winners;
        public ClienteleDb Db { get; } = db;
        public DateTime Now { get; } = now;
        public SendingRules Rules { get; } = rules;
        public Dictionary<string, Guid> Templates { get; } = templates;
        public Dictionary<Guid, Contact> Contacts { get; } = contacts;
        public List<OutboxMessage> Mail { get; } = [];
        public List<Webhooks.WebhookCall> Calls { get; } = [];
        public List<Event> Events { get; } = [];

        /// <summary>The contacts among <paramref name="ids"/> who meet a segment-language condition now.</summary>
        public async Task<HashSet<Guid>> MeetingAsync(string condition, IEnumerable<Guid> ids, CancellationToken ct)
        {
            var list = ids.Distinct().ToList();
            var test = SegmentCompiler.Compile(SegmentParser.Parse(condition), Db, Now, few: list.Count <= 4);
            return (await Db.Contacts.AsNoTracking().Where(c => list.Contains(c.Id)).Where(test).Select(c => c.Id).ToListAsync(ct)).ToHashSet();
        }
    }

    private async Task AdvanceAsync(JourneyRun run, JourneyDefinition definition, HashSet<Guid>? goal, Work work, CancellationToken ct)
    {
        if (!work.Contacts.TryGetValue(run.ContactId, out var contact) || contact.DeletedAt is not null)
        {
            End(run, RunStatus.Exited, "The contact was erased.", work);
            return;
        }
        if (goal?.Contains(run.ContactId) == true)
        {
            End(run, RunStatus.GoalReached, "Reached the goal.", work);
            return;
        }
        for (var taken = 0; taken < MaxStepsAtOnce; taken++)
        {
            if (definition.Step(run.StepId) is not { } step)
            {
                End(run, RunStatus.Completed, run.StepId is null ? "Went through every step." : $"Its step \"{run.StepId}\" no longer exists.", work);
                return;
            }
            run.Steps++;
            switch (step.Type)
            {
                case "email" or "abtest" or "feedback":
                    var survey = step.Type == "feedback" ? await work.SurveyAsync(step.Survey!, ct) : null;
                    if (step.Type == "feedback" && survey is null)
                    {
                        End(run, RunStatus.Exited, $"Its survey \"{step.Survey}\" was deleted.", work);
                        return;
                    }
                    if (!Email(run, step, step.Type == "abtest" ? Variant(run, step, work) : step.Template, contact, work, survey))
                    {
                        return;
                    }
                    run.StepId = definition.NextOf(step);
                    break;
                case "wait":
                    run.StepId = definition.NextOf(step);
                    run.DueAt = work.Now + step.Duration;
                    return;
                case "waitUntil" when step.Field is not null:
                    run.StepId = definition.NextOf(step);
                    // A date already past: straight on. No such date: the step's days / hours instead, if it has them.
                    var target = await DateOfAsync(contact, step, work, ct) ?? (step.Duration > TimeSpan.Zero ? work.Now + step.Duration : null);
                    if (target > work.Now)
                    {
                        run.DueAt = target;
                        return;
                    }
                    break;
                case "waitUntil":
                    JourneyDefinition.TryTimeOfDay(step.Time, out var at);
                    run.StepId = definition.NextOf(step);
                    run.DueAt = JourneyClock.NextLocal(work.Now, at, SendPolicy.ZoneOf(contact.TimeZone, work.Rules));
                    return;
                case "waitForEvent" when run.WaitingFor is null:
                    // Arriving: wait for the event, or until the timeout.
                    run.WaitingFor = step.Event;
                    run.Heard = false;
                    run.DueAt = work.Now + step.Duration;
                    return;
                case "waitForEvent":
                    var heard = run.Heard;
                    run.WaitingFor = null;
                    run.Heard = false;
                    run.StepId = heard ? step.Then : step.Timeout;
                    if (run.StepId is null)
                    {
                        End(run, RunStatus.Completed, heard ? $"The awaited {step.Event} came." : $"No {step.Event} came in time.", work);
                        return;
                    }
                    break;
                case "split":
                    run.StepId = Pick(run.Id, step);
                    break;
                case "branch":
                    var meets = (await work.MeetingAsync(step.Condition!, [contact.Id], ct)).Contains(contact.Id);
                    run.StepId = meets ? step.Then : step.Else;
                    if (run.StepId is null)
                    {
                        End(run, RunStatus.Completed, $"Branch \"{step.Id}\" had nowhere to go {(meets ? "when its condition held" : "otherwise")}.", work);
                        return;
                    }
                    break;
                case "update" or "tag":
                    if (!run.Holdout)
                    {
                        Update(contact, step, work);
                        Adjust(run, step, work);
                    }
                    run.StepId = definition.NextOf(step);
                    break;
                case "offer":
                    if (!run.Holdout)
                    {
                        await OfferAsync(run, step, contact, work, ct);
                    }
                    run.StepId = definition.NextOf(step);
                    break;
                case "webhook":
                    if (!run.Holdout)
                    {
                        Call(run, step, contact, work);
                    }
                    run.StepId = definition.NextOf(step);
                    break;
                case "task":
                    if (!run.Holdout)
                    {
                        await TaskAsync(run, step, contact, work, ct);
                    }
                    run.StepId = definition.NextOf(step);
                    break;
                case "notify":
                    if (!run.Holdout)
                    {
                        Notify(run, step, contact, work);
                    }
                    run.StepId = definition.NextOf(step);
                    break;
                case "exit":
                    End(run, RunStatus.Exited, $"Left at the exit step \"{step.Id}\".", work);
                    return;
                default:
                    End(run, RunStatus.Exited, $"Step \"{step.Id}\" has an unknown type \"{step.Type}\".", work);
                    return;
            }
        }
        log.LogWarning("Journey run {Run} took {Steps} steps without waiting; stopped", run.Id, MaxStepsAtOnce);
        End(run, RunStatus.Exited, $"Took {MaxStepsAtOnce} steps without waiting.", work);
    }

    /// <summary>When a date-field wait ends: the contact's date less the days before, at the time on its clock; null when it has none.</summary>
    private static async Task<DateTime?> DateOfAsync(Contact contact, JourneyStep step, Work work, CancellationToken ct)
    {
        var zone = SendPolicy.ZoneOf(contact.TimeZone, work.Rules);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(work.Now, DateTimeKind.Utc), zone));
        var before = step.DaysBefore ?? 0;
        DateOnly? date = null;
        if (step.Field == "birthday" && contact.Birthday is { } birthday)
        {
            // The next birthday whose reminder day has not passed yet.
            date = Enumerable.Range(0, 367).Select(k => today.AddDays(k + before)).FirstOrDefault(d => JourneyCalendar.IsAnniversary(birthday, d));
        }
        else if (step.Field == "nextPurchase" && contact.Value is { ExpectedPurchases365: > 0 } value)
        {
            var last = await work.Db.Orders.AsNoTracking().Where(o => o.ContactId == contact.Id).MaxAsync(o => (DateTime?)o.PlacedAt, ct);
            if (last is { } placed)
            {
                date = DateOnly.FromDateTime(placed.AddDays(365 / value.ExpectedPurchases365));
            }
        }
        else if (step.Field!.StartsWith("attributes.", StringComparison.Ordinal)
            && MessageAttributes(contact).TryGetValue(step.Field["attributes.".Length..], out var attribute)
            && attribute.ValueKind == JsonValueKind.String
            && DateTime.TryParse(attribute.GetString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var parsed))
        {
            date = DateOnly.FromDateTime(parsed);
        }
        if (date is not { } day || day == default)
        {
            return null;
        }
        var time = JourneyDefinition.TryTimeOfDay(step.Time, out var t) ? t : new TimeOnly(9, 0);
        return JourneyClock.ToUtc(day.AddDays(-before).ToDateTime(time), zone);
    }

    private static IReadOnlyDictionary<string, JsonElement> MessageAttributes(Contact contact) =>
        Clientele.Templates.MessageContact.ParseAttributes(contact.Attributes);

    /// <summary>A number for this run at this step: the same after a crash, independent between steps and runs.</summary>
    private static uint Roll(Guid runId, JourneyStep step)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{runId:N}:{step.Id}"), hash);
        return BitConverter.ToUInt32(hash);
    }

    /// <summary>The template an A/B test step sends this run: the winner once there is one, else a variant in equal shares.</summary>
    private static string Variant(JourneyRun run, JourneyStep step, Work work)
    {
        var variants = step.Variants ?? [];
        if (work.Winners.TryGetValue((run.JourneyId, step.Id), out var winner) && variants.Contains(winner))
        {
            return winner;
        }
        return variants.Count == 0 ? "" : variants[(int)(Roll(run.Id, step) % (uint)variants.Count)];
    }

    /// <summary>The path of a random split for this run: decided from the run's id, so a repeat takes the same path.</summary>
    internal static string? Pick(Guid runId, JourneyStep step)
    {
        var roll = (int)(Roll(runId, step) % 100);
        var paths = step.Paths ?? [];
        foreach (var path in paths)
        {
            if (roll < path.Percent)
            {
                return path.Next;
            }
            roll -= path.Percent;
        }
        return paths.LastOrDefault()?.Next;
    }

    /// <summary>Adds and removes tags and sets attributes on the contact, saved with the batch.</summary>
    private static void Update(Contact contact, JourneyStep step, Work work)
    {
        var tags = contact.Tags.Concat(step.Add ?? []).Except(step.Remove ?? [], StringComparer.OrdinalIgnoreCase)
            .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
        var changes = new ContactChanges
        {
            Attributes = step.Set?.ToDictionary(kv => kv.Key, kv => kv.Value.ValueKind == JsonValueKind.Null ? null : System.Text.Json.Nodes.JsonNode.Parse(kv.Value.GetRawText())),
        };
        var before = contact.Attributes;
        changes.ApplyTo(contact);
        if (tags.SequenceEqual(contact.Tags) && before == contact.Attributes)
        {
            return;
        }
        var entry = work.Db.Entry(contact).State == EntityState.Detached ? work.Db.Contacts.Attach(contact) : work.Db.Entry(contact);
        contact.Tags = tags;
        contact.UpdatedAt = work.Now;
        entry.Property(c => c.Tags).IsModified = true;
        entry.Property(c => c.Attributes).IsModified = true;
        entry.Property(c => c.UpdatedAt).IsModified = true;
    }

    /// <summary>Records a score change or stage override as events, which the scoring and stage rules apply with the run as their cause.</summary>
    private static void Adjust(JourneyRun run, JourneyStep step, Work work)
    {
        var by = work.Names.TryGetValue(run.JourneyId, out var name) ? $"journey {name}" : "a journey";
        void Record(string type, string part, object properties) =>
            work.Events.Add(Event.Recorded(run.ContactId, type, "journeys", $"journey.update:{run.Id:N}:{run.Steps}:{part}", properties, work.Now, run.CauseEventId));
        if (step.Score is { } points)
        {
            Record(Qualification.QualificationProjection.Adjusted, "score", new { points, by, journeyId = run.JourneyId, step = step.Id });
        }
        if (step.Stage is { } stage)
        {
            Record("stage.overridden", "stage", new { stage, by, journeyId = run.JourneyId, step = step.Id });
        }
    }

    /// <summary>
    /// Issues the step's offer to the contact in the batch's transaction, keyed by run and step count; an offer the rules
    /// or the fatigue guard refuse is skipped (the e-mail after it then has no <c>offer</c>) and the refusal logged.
    /// </summary>
    private async Task OfferAsync(JourneyRun run, JourneyStep step, Contact contact, Work work, CancellationToken ct)
    {
        var offer = await work.OfferAsync(step.Offer!, ct);
        if (offer is null)
        {
            log.LogWarning("Journey run {Run}: its offer \"{Offer}\" no longer exists", run.Id, step.Offer);
            return;
        }
        var outcome = await Offers.OfferIssuer.IssueAsync(work.Db, offer, contact, "journey", $"journey:{run.Id:N}:{run.Steps}", work.Now,
            await work.FatigueAsync(ct), run.CauseEventId, ct);
        if (outcome.Issued is { } issued)
        {
            work.Events.Add(issued);
            await work.Db.SaveChangesAsync(ct); // counted by the fatigue guard for the next run of the same contact in this batch
        }
        else if (outcome.Refusal is { } refusal)
        {
            log.LogInformation("Journey run {Run}: offer \"{Offer}\" not issued: {Refusal}", run.Id, offer.Name, refusal);
        }
    }

    /// <summary>Queues a signed POST about the contact, keyed by run and step count like an e-mail, delivered by the webhook sender.</summary>
    private static void Call(JourneyRun run, JourneyStep step, Contact contact, Work work)
    {
        var id = Guid.CreateVersion7();
        var body = JsonSerializer.Serialize(new
        {
            type = "journey.webhook",
            id,
            occurredAt = DateTime.SpecifyKind(work.Now, DateTimeKind.Utc),
            journey = new { id = run.JourneyId, name = work.Names.GetValueOrDefault(run.JourneyId) },
            step = step.Id,
            runId = run.Id,
            contact = Webhooks.WebhookTopics.ContactOf(contact),
            data = step.Data,
        }, EventJson.Options);
        work.Calls.Add(new Webhooks.WebhookCall
        {
            Id = id,
            Url = step.Url!,
            Body = body,
            IdempotencyKey = $"journey:{run.Id:N}:{run.Steps}",
            Status = Webhooks.WebhookStatus.Pending,
            DueAt = work.Now,
            CreatedAt = work.Now,
            ContactId = contact.Id,
            JourneyId = run.JourneyId,
            StepId = step.Id,
        });
    }

    /// <summary>Opens a ticket about the contact for the team (once per run and step), on the first-response clock like any inquiry.</summary>
    private static async Task TaskAsync(JourneyRun run, JourneyStep step, Contact contact, Work work, CancellationToken ct)
    {
        var journey = work.Names.GetValueOrDefault(run.JourneyId) ?? "a journey";
        var body = (step.Message is { Length: > 0 } message ? message + "\n\n" : "") + $"Opened by the journey \"{journey}\", step \"{step.Id}\".";
        var (_, opened) = await Support.TicketsApi.OpenAsync(work.Db, contact.Id, step.Subject!, body, "journey " + journey, "journey", step.Priority ?? "normal",
            step.Assignee, $"journey:{run.Id:N}:{run.Steps}", work.Now, run.CauseEventId, ct);
        if (opened is not null)
        {
            work.Events.Add(opened);
        }
    }

    /// <summary>Queues a plain-text note about the contact to each user or address the step names (transactional: it is the business's own mail).</summary>
    private void Notify(JourneyRun run, JourneyStep step, Contact contact, Work work)
    {
        var recipients = (step.Notify is { Count: > 0 } named ? named : ["owners"]).SelectMany(who => who switch
        {
            "owners" => work.Users.Where(u => u.Role == Accounts.Role.Owner).Select(u => u.Email),
            "marketers" => work.Users.Where(u => u.Role == Accounts.Role.Marketer).Select(u => u.Email),
            "agents" => work.Users.Where(u => u.Role == Accounts.Role.Agent).Select(u => u.Email),
            _ => [who],
        }).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var journey = work.Names.GetValueOrDefault(run.JourneyId) ?? "a journey";
        var who = Clientele.Web.Format.Name(contact.FirstName, contact.LastName) is { Length: > 0 } name ? $"{name} <{contact.Email}>" : contact.Email ?? contact.ExternalId ?? contact.Id.ToString();
        var text = $"{step.Message}\n\nContact: {who}\nStage: {contact.Stage.ToApi()} · score {contact.Score}\nOpen: {links.BaseUrl}/contacts/{contact.Id}\n\n"
            + $"Sent by the journey \"{journey}\", step \"{step.Id}\".";
        var subject = $"{journey}: {who}";
        foreach (var to in recipients)
        {
            work.Mail.Add(new OutboxMessage
            {
                Id = Guid.CreateVersion7(),
                ContactId = contact.Id,
                To = to,
                Subject = subject.Length > 200 ? subject[..200] : subject,
                TextBody = text,
                Kind = "notify",
                Class = MessageClass.Transactional,
                IdempotencyKey = $"journey:{run.Id:N}:{run.Steps}:{to.ToLowerInvariant()}",
                Status = OutboxStatus.Queued,
                DueAt = work.Now,
                CreatedAt = work.Now,
                JourneyId = run.JourneyId,
                StepId = step.Id,
            });
        }
        if (recipients.Count == 0)
        {
            log.LogWarning("Journey {Journey}, step {Step}: nobody to notify (no active user with that role)", journey, step.Id);
        }
    }

    /// <summary>Queues the step's e-mail (unless the run is in the control group); false when the run ended instead.</summary>
    private static bool Email(JourneyRun run, JourneyStep step, string? template, Contact contact, Work work, Guid? survey = null)
    {
        var marketing = step.Class != "transactional";
        var topic = step.Topic ?? ConsentProjection.DefaultTopic;
        // Consent is checked again when the message goes; a contact who left the topic leaves the journey now.
        if (marketing && contact.Consents.FirstOrDefault(c => c.Topic == topic)?.Status == ConsentStatus.Unsubscribed)
        {
            End(run, RunStatus.Exited, $"The contact unsubscribed from {topic}.", work);
            return false;
        }
        if (run.Holdout || contact.Email is not { Length: > 0 } email)
        {
            return true;
        }
        if (!work.Templates.TryGetValue(template ?? "", out var templateId))
        {
            End(run, RunStatus.Exited, $"Its template \"{template}\" was deleted.", work);
            return false;
        }
        work.Mail.Add(new OutboxMessage
        {
            Id = Guid.CreateVersion7(),
            ContactId = contact.Id,
            To = email,
            Kind = "journey",
            Class = marketing ? MessageClass.Marketing : MessageClass.Transactional,
            Topic = marketing ? topic : null,
            // The run's step count is part of its saved state: after a crash the same step makes the same key.
            IdempotencyKey = $"journey:{run.Id:N}:{run.Steps}",
            Status = OutboxStatus.Queued,
            DueAt = work.Now,
            CreatedAt = work.Now,
            TemplateId = templateId,
            JourneyId = run.JourneyId,
            StepId = step.Id,
            SurveyId = survey,
        });
        return true;
    }

    private static void End(JourneyRun run, RunStatus status, string reason, Work work)
    {
        run.Status = status;
        run.StepId = null;
        run.WaitingFor = null;
        run.Heard = false;
        run.DueAt = null;
        run.EndedAt = work.Now;
        run.Reason = reason;
        work.Events.Add(Event.Recorded(run.ContactId, "journey.ended", "journeys", $"journey.ended:{run.Id:N}",
            new { journeyId = run.JourneyId, runId = run.Id, outcome = Outcome(status), reason, holdout = run.Holdout }, work.Now, run.CauseEventId));
    }

    public static string Outcome(RunStatus status) => status switch
    {
        RunStatus.GoalReached => "goal",
        _ => status.ToString().ToLowerInvariant(),
    };

    private async Task<JourneyDefinition> DefinitionAsync(ClienteleDb db, Guid journeyId, int version, CancellationToken ct)
    {
        if (_versions.TryGetValue((journeyId, version), out var cached))
        {
            return cached;
        }
        var json = await db.JourneyVersions.AsNoTracking().Where(v => v.JourneyId == journeyId && v.Version == version).Select(v => v.Definition).FirstAsync(ct);
        var definition = JourneyDefinition.Parse(json).Definition ?? new JourneyDefinition();
        _versions[(journeyId, version)] = definition; // published versions never change
        return definition;
    }

    private const string UpdateSql = "UPDATE journey_runs SET \"Status\" = @status, \"StepId\" = @step, \"DueAt\" = @due, \"Steps\" = @steps, "
        + "\"EndedAt\" = @ended, \"Reason\" = @reason, \"WaitingFor\" = @waiting, \"Heard\" = @heard WHERE \"Id\" = @id";

    private static readonly string[] UpdateNames = ["status", "step", "due", "steps", "ended", "reason", "waiting", "heard", "id"];

    private static IEnumerable<object> UpdateValues(JourneyRun r, bool sqlite) =>
    [
        (int)r.Status, BulkStatements.OrNull(r.StepId), BulkStatements.OrNull(r.DueAt), r.Steps, BulkStatements.OrNull(r.EndedAt),
        BulkStatements.OrNull(r.Reason), BulkStatements.OrNull(r.WaitingFor), r.Heard, BulkStatements.Id(r.Id, sqlite),
    ];

    /// <summary>Due runs of active journeys, oldest first; on PostgreSQL locked for this transaction, skipping rows another instance holds.</summary>
    private static Task<List<JourneyRun>> DueAsync(ClienteleDb db, DateTime now, CancellationToken ct) =>
        db.Kind == DatabaseKind.Postgres
            ? db.JourneyRuns.FromSqlInterpolated($"""
                SELECT * FROM journey_runs
                WHERE "Status" = {(int)RunStatus.Active} AND "DueAt" <= {now}
                  AND "JourneyId" IN (SELECT "Id" FROM journeys WHERE "Status" = {(int)JourneyStatus.Active})
                ORDER BY "DueAt" LIMIT {Batch} FOR UPDATE SKIP LOCKED
                """).AsNoTracking().ToListAsync(ct)
            : db.JourneyRuns.AsNoTracking()
                .Where(r => r.Status == RunStatus.Active && r.DueAt <= now && db.Journeys.Any(j => j.Id == r.JourneyId && j.Status == JourneyStatus.Active))
                .OrderBy(r => r.DueAt).Take(Batch).ToListAsync(ct);
}

/// <summary>Runs the journey worker: as soon as runs are due, and at least every few seconds for waits that end.</summary>
internal sealed class JourneyService(JourneyRunner runner, JourneySignal signal, IConfiguration config, ILogger<JourneyService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!config.GetValue("Clientele:Journeys:Enabled", true))
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await runner.StepAsync(stoppingToken) < JourneyRunner.Batch)
                {
                    await signal.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogError(ex, "Journey step failed");
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }
}
