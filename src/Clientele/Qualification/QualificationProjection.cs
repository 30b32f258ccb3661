using System.Text.Json;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Qualification;

/// <summary>
/// Scores leads as events arrive: each matching rule adds its points (engagement fades with the half-life, fit
/// stays), the attribute rules give fit, and the total is the contact's score. A change is recorded as
/// <c>score.changed</c> with the rules that caused it; reaching the threshold with interest and authority known records
/// <c>contact.qualified</c> (and falling below it later, <c>contact.disqualified</c>), which the stage ladder reads.
/// </summary>
internal sealed class QualificationProjection : IEventConsumer
{
    public const string SettingsKey = "qualification.settings";

    /// <summary>Engagement worth less than this today (after fading) is not recorded.</summary>
    private const double NegligiblePoints = 0.01;

    public string Name => "qualification";

    public bool Wants(string eventType) => (!ActivityProjection.IsNotActivity(eventType) && eventType != "contact.disqualified") || eventType == Adjusted;

    /// <summary>Points given by hand or by a journey: <c>{"points": 10, "by": "journey VIP"}</c>, kept as fit (they do not fade).</summary>
    public const string Adjusted = "score.adjusted";

    public static Task<QualificationSettings> LoadSettingsAsync(ClienteleDb db, CancellationToken ct) =>
        SettingsStore.LoadAsync(db, SettingsKey, QualificationSettings.Default, ct);

    public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct) =>
        ((IEventConsumer)this).HandleBatchAsync(context, [e], ct);

    async Task IEventConsumer.HandleBatchAsync(ConsumerContext context, IReadOnlyList<Event> events, CancellationToken ct)
    {
        var settings = await LoadSettingsAsync(context.Db, ct);
        // Rules first, without the contacts: most events of a busy log earn nothing worth recording, and then
        // their contacts are not even read. A form may change attributes, so its contact is always looked at.
        var earned = events.Select(e => (Event: e, Rules: Earned(settings, e, context.Now))).ToList();
        var ids = earned.Where(x => x.Rules.Count > 0 || x.Event.Type == "form.submitted").Select(x => x.Event.ContactId).Distinct().ToList();
        if (ids.Count == 0)
        {
            return;
        }
        var contacts = await context.Db.Contacts.Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        // A burst of events (thirty page views) is one score change on the timeline, caused by the last of them.
        foreach (var burst in earned.GroupBy(x => x.Event.ContactId))
        {
            if (contacts.TryGetValue(burst.Key, out var contact))
            {
                Apply(context, settings, contact, [.. burst]);
            }
        }
    }

    /// <summary>The rules an event earns points from, with the time they count from; engagement faded to nothing is left out.</summary>
    private static List<(EventRule Rule, DateTime At)> Earned(QualificationSettings settings, Event e, DateTime now)
    {
        var at = e.OccurredAt < now ? e.OccurredAt : now;
        if (e.Type == Adjusted)
        {
            using var adjusted = JsonDocument.Parse(e.Properties);
            var p = adjusted.RootElement;
            return p.ValueKind == JsonValueKind.Object && p.TryGetProperty("points", out var points) && points.TryGetInt32(out var n) && n != 0
                ? [(new EventRule(p.TryGetProperty("by", out var by) && by.ValueKind == JsonValueKind.String ? $"adjusted by {by.GetString()}" : "adjusted", Adjusted, n, ScoreKind.Fit), at)]
                : [];
        }
        // Engagement long past has faded away: a visit from a year ago adds no point worth a write.
        var weight = Math.Pow(0.5, (now - at).TotalDays / settings.HalfLifeDays);
        var candidates = settings.EventRules.Where(r => r.EventType == e.Type && (r.Kind == ScoreKind.Fit || Math.Abs(r.Points * weight) >= NegligiblePoints)).ToList();
        if (candidates.Count == 0)
        {
            return [];
        }
        using var properties = JsonDocument.Parse(e.Properties);
        return candidates.Where(r => (r.When ?? []).All(c => ScoreConditions.Matches(c, properties.RootElement))).Select(r => (r, at)).ToList();
    }

    private static void Apply(ConsumerContext context, QualificationSettings settings, Contact contact, IReadOnlyList<(Event Event, List<(EventRule Rule, DateTime At)> Rules)> burst)
    {
        using var attributes = JsonDocument.Parse(contact.Attributes);
        var now = context.Now;
        var score = Current(contact);
        var rules = new List<string>();
        var e = burst[^1].Event;

        // Attribute fit is recomputed whole, so a changed attribute replaces what it gave before.
        var (attributeFit, attributeRules) = Qualifier.AttributeFit(settings, attributes.RootElement);
        if (attributeFit != contact.ScoreAttributeFit)
        {
            score = score with { Fit = score.Fit - contact.ScoreAttributeFit + attributeFit };
            rules.AddRange(attributeRules);
            contact.ScoreAttributeFit = attributeFit;
        }
        foreach (var (rule, at) in burst.SelectMany(x => x.Rules))
        {
            score = score.Add(rule.Points, rule.Kind, at, settings.HalfLifeDays);
            rules.Add(rule.Name);
        }
        if (rules.Count == 0)
        {
            return;
        }
        contact.ScoreFit = score.Fit;
        contact.ScoreEngagement = score.Engagement;
        contact.ScoreEngagementAsOf = score.AsOf;
        var from = contact.Score;
        var to = score.TotalAt(now, settings.HalfLifeDays);
        if (to != from)
        {
            contact.Score = to;
            contact.UpdatedAt = now;
            var counted = rules.GroupBy(r => r).Select(g => g.Count() == 1 ? g.Key : $"{g.Key} ×{g.Count()}").ToList();
            context.Emit(e, "score.changed", new { from, to, rules = counted, fit = Math.Round(score.Fit, 1), engagement = Math.Round(score.EngagementAt(now, settings.HalfLifeDays), 1) });
        }
        Requalify(settings, contact, attributes.RootElement, now, qualified => context.Emit(e, qualified ? "contact.qualified" : "contact.disqualified", new { score = contact.Score, threshold = settings.Threshold }));
    }

    private static LeadScore Current(Contact c) => new(c.ScoreFit, c.ScoreEngagement, c.ScoreEngagementAsOf ?? DateTime.MinValue);

    /// <summary>Records a change of qualification through <paramref name="record"/>; nothing when it holds as before.</summary>
    internal static void Requalify(QualificationSettings settings, Contact contact, JsonElement attributes, DateTime now, Action<bool> record)
    {
        var qualifies = Qualifier.Qualifies(settings, contact.Score, attributes);
        if (qualifies != contact.Qualified)
        {
            contact.Qualified = qualifies;
            contact.UpdatedAt = now;
            record(qualifies);
        }
    }

    /// <summary>
    /// Once a day: engagement fades, so scores are brought to today (without a timeline entry: nothing happened) and a
    /// contact whose score fell below the threshold is disqualified. Returns how many contacts changed.
    /// </summary>
    public static async Task<int> DecayAsync(ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        const int batch = 500;
        var changed = 0;
        Guid? after = null;
        while (true)
        {
            var now = time.GetUtcNow().UtcDateTime;
            using var gate = await database.EnterWriteAsync(ct);
            await using var db = database.CreateDbContext();
            var settings = await LoadSettingsAsync(db, ct);
            // Paged by key: a contact disqualified on one page leaves the filter, which must not shift the next page.
            var scored = db.Contacts.Where(c => c.ScoreEngagement != 0 || c.Qualified);
            var page = after is { } last ? scored.Where(c => c.Id > last) : scored;
            var contacts = await page.OrderBy(c => c.Id).Take(batch).ToListAsync(ct);
            if (contacts.Count == 0)
            {
                return changed;
            }
            after = contacts[^1].Id;
            foreach (var contact in contacts)
            {
                var total = Current(contact).TotalAt(now, settings.HalfLifeDays);
                if (total != contact.Score)
                {
                    contact.Score = total;
                    changed++;
                }
                using var attributes = JsonDocument.Parse(contact.Attributes);
                Requalify(settings, contact, attributes.RootElement, now, qualified => db.Events.Add(new Event
                {
                    ContactId = contact.Id,
                    Type = qualified ? "contact.qualified" : "contact.disqualified",
                    OccurredAt = now,
                    ReceivedAt = now,
                    Properties = JsonSerializer.Serialize(new { score = contact.Score, threshold = settings.Threshold, reason = "engagement faded" }, EventJson.Options),
                    Source = "qualification",
                }));
            }
            await db.SaveChangesAsync(ct);
        }
    }
}
