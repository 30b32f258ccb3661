using System.Text.Json;
using Clientele.Api;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Contacts;

internal sealed record UpsertOutcome(Contact? Contact, bool Created, bool Changed, List<string> Notes, FieldError? Error);

/// <summary>Creates or updates contacts from <see cref="ContactChanges"/>, the same way for the API, the UI and imports.</summary>
internal static class ContactStore
{
    /// <summary>Source of consent events whose effect is already stored (the origin is in their properties).</summary>
    public const string DirectSource = "contacts";

    /// <summary>Finds the contact the changes are about (external id first, then e-mail) and applies them. Does not save.</summary>
    public static async Task<UpsertOutcome> UpsertAsync(ClienteleDb db, ContactChanges changes, string origin, DateTime now, CancellationToken ct)
    {
        var email = Contact.Normalize(changes.Email);
        var externalId = string.IsNullOrWhiteSpace(changes.ExternalId) ? null : changes.ExternalId;
        if (email is null && externalId is null)
        {
            return Fail(new FieldError("/email", "Give an \"email\" or an \"externalId\" to say who this is."));
        }
        Contact? byExternal = externalId is null ? null : await Find(db, c => c.ExternalId == externalId, ct);
        Contact? byEmail = email is null ? null : await Find(db, c => c.EmailNormalized == email, ct);
        if (byExternal is not null && byEmail is not null && byExternal.Id != byEmail.Id)
        {
            return Fail(new FieldError("/email", $"{changes.Email} belongs to another contact than external id {externalId}."));
        }
        var contact = byExternal ?? byEmail;
        if (contact is not null && externalId is not null && contact.ExternalId is not null && contact.ExternalId != externalId)
        {
            return Fail(new FieldError("/externalId", $"{changes.Email} already has the external id {contact.ExternalId}."));
        }
        return await ApplyAsync(db, contact, changes, origin, now, ct);
    }

    /// <summary>Applies changes to a known contact (or a new one when <paramref name="contact"/> is null). Does not save.</summary>
    public static async Task<UpsertOutcome> ApplyAsync(ClienteleDb db, Contact? contact, ContactChanges changes, string origin, DateTime now, CancellationToken ct)
    {
        var created = false;
        if (contact is null)
        {
            contact = new Contact { Id = Guid.CreateVersion7(), CreatedAt = now, UpdatedAt = now, Source = origin };
            db.Contacts.Add(contact);
            created = true;
        }
        else if (changes.Email is { Length: > 0 } && Contact.Normalize(changes.Email) != contact.EmailNormalized)
        {
            var email = Contact.Normalize(changes.Email);
            var other = await db.Contacts.AnyAsync(c => c.EmailNormalized == email && c.Id != contact.Id, ct);
            if (other)
            {
                return Fail(new FieldError("/email", $"{changes.Email} belongs to another contact."));
            }
        }
        if (contact.DeletedAt is not null)
        {
            contact.DeletedAt = null; // an upsert of an archived contact restores it
        }
        var changed = changes.ApplyTo(contact);
        var notes = new List<string>();
        if (changes.Consent.Count > 0)
        {
            if (!created)
            {
                await db.Entry(contact).Collection(c => c.Consents).LoadAsync(ct);
            }
            foreach (var (topic, status) in changes.Consent)
            {
                var current = contact.Consents.FirstOrDefault(x => string.Equals(x.Topic, topic, StringComparison.OrdinalIgnoreCase));
                var (apply, reason) = ConsentRules.Decide(current?.Status, status, origin == "import");
                if (reason is not null)
                {
                    notes.Add($"consent '{topic}': {reason}");
                }
                if (!apply)
                {
                    continue;
                }
                if (current is null)
                {
                    current = new ContactConsent { ContactId = contact.Id, Topic = topic };
                    contact.Consents.Add(current);
                }
                current.Status = status;
                current.At = now;
                current.Source = origin;
                current.Wording = changes.ConsentWording ?? current.Wording;
                db.Events.Add(ConsentEvent(contact.Id, topic, status, origin, changes.ConsentWording, now));
                changed = true;
            }
        }
        if (changed)
        {
            contact.UpdatedAt = now;
        }
        // For webhooks and the timeline: who was added or changed, and through what (api, import, form:…, support…).
        if (created)
        {
            db.Events.Add(Event.Recorded(contact.Id, "contact.created", "clientele", $"contact.created:{contact.Id}", new { source = origin }, now));
        }
        else if (changed)
        {
            db.Events.Add(Event.Recorded(contact.Id, "contact.updated", "clientele", $"contact.updated:{contact.Id}:{Guid.CreateVersion7():N}", new { source = origin }, now));
        }
        return new UpsertOutcome(contact, created, changed || created, notes, null);
    }

    public static Event ConsentEvent(Guid contactId, string topic, ConsentStatus status, string source, string? wording, DateTime now) => new()
    {
        ContactId = contactId,
        Type = status switch
        {
            ConsentStatus.Subscribed => "consent.given",
            ConsentStatus.Unsubscribed => "consent.withdrawn",
            _ => "consent.requested",
        },
        OccurredAt = now,
        ReceivedAt = now,
        // The consent row was written in the same transaction; the source tells the projection so.
        Source = DirectSource,
        Properties = JsonSerializer.Serialize(new { topic, source, wording }, EventJson.Options),
    };

    private static async Task<Contact?> Find(ClienteleDb db, System.Linq.Expressions.Expression<Func<Contact, bool>> predicate, CancellationToken ct) =>
        db.Contacts.Local.AsQueryable().FirstOrDefault(predicate) ?? await db.Contacts.FirstOrDefaultAsync(predicate, ct);

    private static UpsertOutcome Fail(FieldError error) => new(null, false, false, [], error);
}
