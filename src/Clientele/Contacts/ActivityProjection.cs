using Clientele.Events;

namespace Clientele.Contacts;

/// <summary>
/// Keeps <see cref="Contact.LastActivityAt"/> current from what contacts do, off the ingest path
/// so a batch of events costs no contact updates while it is being stored.
/// </summary>
internal sealed class ActivityProjection : IEventConsumer
{
    public string Name => "activity";

    // Derived events (stage.changed, score.changed, …) are the system's doing, not the contact's.
    public bool Wants(string eventType) => !IsDerived(eventType);

    internal static bool IsDerived(string type) =>
        type is "stage.changed" or "score.changed" or "segment.entered" or "segment.exited" or "contact.qualified";

    public async Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct)
    {
        if (e.CauseEventId is not null)
        {
            return;
        }
        var contact = await context.Db.Contacts.FindAsync([e.ContactId], ct);
        if (contact is not null && (contact.LastActivityAt is null || contact.LastActivityAt < e.OccurredAt))
        {
            contact.LastActivityAt = e.OccurredAt;
        }
    }
}
