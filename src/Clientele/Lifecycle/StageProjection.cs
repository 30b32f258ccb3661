using System.Text.Json;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Lifecycle;

/// <summary>The facts that decide one contact's stage, kept between events.</summary>
internal sealed class ContactStageFacts
{
    public Guid ContactId { get; set; }

    /// <summary><see cref="StageFacts"/> as JSON.</summary>
    public string Facts { get; set; } = "{}";

    public DateTime UpdatedAt { get; set; }
}

/// <summary>
/// Moves contacts up and down the ladder as events arrive: it keeps each contact's stage facts, asks
/// <see cref="Ladder.Decide"/>, and when the stage changes sets it on the contact and records <c>stage.changed</c>
/// with the rule that decided it, caused by the event that changed the facts.
/// </summary>
internal sealed class StageProjection : IEventConsumer
{
    public const string SettingsKey = "stages.settings";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Name => "stages";

    public bool Wants(string eventType) => eventType is
        "consent.given" or "consent.withdrawn" or "email.unsubscribed" or "email.complained" or "form.submitted"
        or "contact.qualified" or "contact.disqualified" or "demo.requested" or "quote.requested" or "offer.accepted"
        or "trial.started" or "trial.ended" or "order.placed" or "order.refunded" or "order.cancelled" or "survey.answered" or "referral.signed_up" or "stage.overridden";

    public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct) =>
        ((IEventConsumer)this).HandleBatchAsync(context, [e], ct);

    /// <summary>
    /// Loads the batch's contacts and their facts in two queries, then applies each event in log order. What changed is
    /// written with the driver (facts upserted, stages set, <c>stage.changed</c> appended to the log): a batch touches
    /// thousands of rows, and change tracking them cost more than the writes.
    /// </summary>
    async Task IEventConsumer.HandleBatchAsync(ConsumerContext context, IReadOnlyList<Event> events, CancellationToken ct)
    {
        var db = context.Db;
        var ids = events.Select(e => e.ContactId).Distinct().ToList();
        var stages = await db.Contacts.AsNoTracking().Where(c => ids.Contains(c.Id))
            .Select(c => new { c.Id, c.Stage }).ToDictionaryAsync(c => c.Id, c => c.Stage, ct);
        var stored = await db.StageFacts.AsNoTracking().Where(f => ids.Contains(f.ContactId))
            .Select(f => new { f.ContactId, f.Facts }).ToDictionaryAsync(f => f.ContactId, f => f.Facts, ct);
        var settings = await LoadSettingsAsync(db, ct);
        var facts = new Dictionary<Guid, StageFacts>();
        var moved = new Dictionary<Guid, DateTime>();
        var changes = new List<Event>();
        foreach (var e in events)
        {
            if (!stages.TryGetValue(e.ContactId, out var stage))
            {
                continue;
            }
            if (!facts.TryGetValue(e.ContactId, out var current))
            {
                current = stored.TryGetValue(e.ContactId, out var json) ? JsonSerializer.Deserialize<StageFacts>(json, Json) ?? new() : new();
            }
            var changedAt = e.OccurredAt < context.Now ? e.OccurredAt : context.Now;
            current = Apply(current, e);
            var decision = Ladder.Decide(current, settings, context.Now, changedAt);
            current = current with { LoyalSince = decision.LoyalSince };
            facts[e.ContactId] = current;
            if (decision.Stage != stage)
            {
                var derived = context.Derive(e, "stage.changed", new { from = stage.ToApi(), to = decision.Stage.ToApi(), reason = decision.Reason });
                derived.OccurredAt = changedAt;
                changes.Add(derived);
                stages[e.ContactId] = decision.Stage;
                moved[e.ContactId] = changedAt;
            }
        }
        await EventWriter.InsertAsync(db, changes, ct);
        await BulkStatements.ExecuteAsync(db, SetStageSql, SetStageNames, [.. moved],
            (m, sqlite) => [(int)stages[m.Key], m.Value, context.Now, BulkStatements.Id(m.Key, sqlite)], ct);
        await BulkStatements.ExecuteAsync(db, db.Kind == DatabaseKind.Sqlite ? SaveFactsSql : SaveFactsSql.Replace("@facts", "CAST(@facts AS jsonb)"),
            SaveFactsNames, [.. facts], (f, sqlite) => [BulkStatements.Id(f.Key, sqlite), JsonSerializer.Serialize(f.Value, Json), context.Now], ct);
    }

    private static readonly string[] SetStageNames = ["stage", "since", "now", "id"];

    private const string SetStageSql = "UPDATE contacts SET \"Stage\" = @stage, \"StageSince\" = @since, \"UpdatedAt\" = @now WHERE \"Id\" = @id";

    private static readonly string[] SaveFactsNames = ["id", "facts", "now"];

    private const string SaveFactsSql = """
        INSERT INTO contact_stage_facts ("ContactId", "Facts", "UpdatedAt") VALUES (@id, @facts, @now)
        ON CONFLICT ("ContactId") DO UPDATE SET "Facts" = excluded."Facts", "UpdatedAt" = excluded."UpdatedAt"
        """;

    public static Task<LadderSettings> LoadSettingsAsync(ClienteleDb db, CancellationToken ct) =>
        SettingsStore.LoadAsync(db, SettingsKey, LadderSettings.Default, ct);

    /// <summary>The facts after one event: pure, so replaying the log rebuilds them exactly.</summary>
    internal static StageFacts Apply(StageFacts f, Event e)
    {
        using var doc = JsonDocument.Parse(e.Properties);
        var p = doc.RootElement;
        var at = e.OccurredAt;
        switch (e.Type)
        {
            case "consent.given":
                return f with { ConsentTopics = [.. f.ConsentTopics.Where(t => t != Topic(p)), Topic(p)] };
            case "consent.withdrawn" or "email.unsubscribed" or "email.complained":
                return f with { ConsentTopics = [.. f.ConsentTopics.Where(t => t != Topic(p))] };
            case "form.submitted":
                return f with { FormSubmittedAt = Later(f.FormSubmittedAt, at) };
            case "contact.qualified":
                return f with { QualifiedAt = at };
            case "contact.disqualified":
                return f with { QualifiedAt = null };
            case "demo.requested" or "quote.requested" or "offer.accepted":
                return f with { BuyingSignalAt = Later(f.BuyingSignalAt, at) };
            case "trial.started":
                {
                    var endsAt = Date(p, "endsAt") ?? (Number(p, "days") is { } days ? at.AddDays(days) : null);
                    return f with { Trials = [.. f.Trials, new TrialFact(at, endsAt, null, null)] };
                }
            case "trial.ended":
                {
                    var open = f.Trials.LastOrDefault(t => t.EndedAt is null);
                    var ended = open is null ? new TrialFact(at, at, at, Text(p, "outcome")) : open with { EndedAt = at, Outcome = Text(p, "outcome") };
                    return f with { Trials = [.. f.Trials.Where(t => !ReferenceEquals(t, open)), ended] };
                }
            case "order.placed":
                {
                    var order = CommerceProjection.ReadOrder(e);
                    var categories = order.Lines.Select(l => l.Category).OfType<string>().Where(c => c.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                    var known = f.Orders.FirstOrDefault(o => o.Id == order.OrderId);
                    var fact = new OrderFact(order.OrderId, known?.PlacedAt ?? at, categories, known?.Refunded ?? false);
                    return f with { Orders = [.. f.Orders.Where(o => o.Id != order.OrderId), fact] };
                }
            case "order.refunded" or "order.cancelled":
                {
                    var id = Text(p, "orderId");
                    return f with { Orders = [.. f.Orders.Select(o => o.Id == id ? o with { Refunded = true } : o)] };
                }
            case "survey.answered":
                {
                    // A promoter (NPS 9–10) or a good review or rating (4–5 of 5) speaks for the business.
                    var score = Number(p, "score");
                    var promoter = Text(p, "kind") switch
                    {
                        "nps" => score >= 9,
                        "rating" or "review" or "csat" => score >= 4,
                        _ => false,
                    };
                    return promoter ? f with { AdvocacyAt = Later(f.AdvocacyAt, at) } : f;
                }
            case "referral.signed_up":
                // The referrer's advocacy; the friend's copy of the event (role "friend") is no sign of it.
                return Text(p, "role") == "friend" ? f : f with { AdvocacyAt = Later(f.AdvocacyAt, at) };
            case "stage.overridden":
                // {"stage": "loyalty", "by": "journey VIP"}; "stage": "auto" (or none) hands the stage back to the rules.
                return Text(p, "stage") is { } name && StageNames.TryParse(name, out var pinned)
                    ? f with { Override = pinned, OverrideBy = Text(p, "by") }
                    : f with { Override = null, OverrideBy = null };
            default:
                return f;
        }
    }

    private static string Topic(JsonElement p) => Text(p, "topic") is { Length: > 0 } t ? t : ConsentProjection.DefaultTopic;

    private static DateTime Later(DateTime? a, DateTime b) => a is { } x && x > b ? x : b;

    private static string? Text(JsonElement p, string name) =>
        p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? Number(JsonElement p, string name) =>
        p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static DateTime? Date(JsonElement p, string name) =>
        Text(p, name) is { } s && DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var d)
            ? d.UtcDateTime
            : null;
}
