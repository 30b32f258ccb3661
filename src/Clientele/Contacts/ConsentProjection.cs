using System.Text.Json;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Contacts;

/// <summary>
/// Keeps each contact's consent per topic in step with <c>consent.*</c> and unsubscribe/complaint events
/// sent through the API. A newer record is never replaced by an older event.
/// </summary>
internal sealed class ConsentProjection : IEventConsumer
{
    public const string DefaultTopic = "marketing";

    public string Name => "consent";

    public bool Wants(string eventType) =>
        eventType is "consent.given" or "consent.withdrawn" or "email.unsubscribed" or "email.complained";

    public async Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct)
    {
        if (e.Source == ContactStore.DirectSource)
        {
            return; // already applied when it was recorded
        }
        using var doc = JsonDocument.Parse(e.Properties);
        var p = doc.RootElement;
        var topic = p.TryGetProperty("topic", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } name
            ? name
            : DefaultTopic;
        var status = e.Type == "consent.given" ? ConsentStatus.Subscribed : ConsentStatus.Unsubscribed;
        var source = p.TryGetProperty("source", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : e.Source;
        var wording = p.TryGetProperty("wording", out var w) && w.ValueKind == JsonValueKind.String ? w.GetString() : null;

        var db = context.Db;
        var current = db.Consents.Local.FirstOrDefault(c => c.ContactId == e.ContactId && c.Topic == topic)
            ?? await db.Consents.FirstOrDefaultAsync(c => c.ContactId == e.ContactId && c.Topic == topic, ct);
        if (current is not null && current.At > e.OccurredAt)
        {
            return; // a later decision is already recorded
        }
        if (current is null)
        {
            current = new ContactConsent { ContactId = e.ContactId, Topic = topic };
            db.Consents.Add(current);
        }
        current.Status = status;
        current.At = e.OccurredAt;
        current.Source = source;
        current.Wording = wording ?? current.Wording;
    }
}
