using System.Text.Json;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Clientele.Forms;
using Microsoft.EntityFrameworkCore;
using Html = System.Net.WebUtility;

namespace Clientele.Outbox;

/// <summary>
/// Unsubscribe links and the preference centre. A marketing message's <c>List-Unsubscribe</c> link takes effect at
/// once on POST (RFC 8058 one-click, from the mail client's own button); a GET only shows a page that asks, so link
/// scanners that fetch every URL never unsubscribe anyone. The tokens are signed (<see cref="MailLinks"/>).
/// </summary>
internal static class Preferences
{
    public static void MapPreferences(WebApplication app)
    {
        // Reached from mail clients and e-mail links, never from a page of ours: the signed token is the proof.
        app.MapGet("/u/{token}", UnsubscribePageAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/u/{token}", UnsubscribeAsync).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        app.MapGet("/preferences/{token}", PreferencesPageAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/preferences/{token}", SavePreferencesAsync).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
    }

    private static IResult Invalid() => PublicForms.HtmlResult(StatusCodes.Status400BadRequest, PublicForms.Page("Link not valid",
        "<p>This link is damaged or was not made by us. Please use the link in the original e-mail.</p>", false));

    private static async Task<IResult> UnsubscribePageAsync(string token, MailLinks links, ClienteleDatabase database, OutboxContent content, CancellationToken ct)
    {
        if (links.Verify("u", token) is not { } id)
        {
            return Invalid();
        }
        await using var db = database.CreateDbContext();
        var message = await db.OutboxMessages.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, ct);
        if (message is null)
        {
            return Invalid();
        }
        var rules = await content.RulesAsync(ct);
        var topic = TopicName(rules, message.Topic);
        var body = $"""
            <p>Stop sending <strong>{Html.HtmlEncode(topic)}</strong> to {Html.HtmlEncode(message.To)}?</p>
            <form method="post">
            <div class="field"><label style="font-weight:normal"><input type="checkbox" name="all" value="on"> Stop all marketing e-mail, not only this kind</label></div>
            <button type="submit">Unsubscribe</button>
            </form>
            <p><a href="{Html.HtmlEncode(links.Preferences(message.ContactId))}">Choose what you receive instead</a></p>
            """;
        return PublicForms.HtmlResult(StatusCodes.Status200OK, PublicForms.Page("Unsubscribe", body, false));
    }

    private static async Task<IResult> UnsubscribeAsync(string token, HttpRequest request, MailLinks links, ClienteleDatabase database,
        OutboxContent content, ConsentGuard guard, EventSignal signal, TimeProvider time, CancellationToken ct)
    {
        if (links.Verify("u", token) is not { } id)
        {
            return Invalid();
        }
        var form = request.HasFormContentType ? await request.ReadFormAsync(ct) : null;
        var oneClick = form is not null && form["List-Unsubscribe"].ToString() == "One-Click";
        var all = form is not null && form["all"].ToString() == "on";
        await using var db = database.CreateDbContext();
        var message = await db.OutboxMessages.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, ct);
        if (message is null)
        {
            return Invalid();
        }
        var topic = message.Topic ?? ConsentProjection.DefaultTopic;
        var now = time.GetUtcNow().UtcDateTime;
        // Before the commit: a sender holding this contact's next message checks here right before it goes.
        guard.Withdrawn(message.ContactId, all ? ConsentGuard.AllTopics : topic);
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var source = oneClick ? "one-click unsubscribe" : "unsubscribe page";
            await SetConsentAsync(db, message.ContactId, all ? ConsentProjection.DefaultTopic : topic, ConsentStatus.Unsubscribed, source, now, ct);
            var email = Contact.Normalize(message.To) ?? "";
            if (all && email.Length > 0 && await db.Suppressions.FindAsync([email], ct) is null)
            {
                db.Suppressions.Add(new Suppression { Email = email, Reason = SuppressionReason.Unsubscribed, At = now, Detail = source });
            }
            db.Events.Add(new Event
            {
                ContactId = message.ContactId,
                Type = "email.unsubscribed",
                OccurredAt = now,
                ReceivedAt = now,
                Source = ContactStore.DirectSource, // consent is written here, in the same transaction
                Properties = JsonSerializer.Serialize(new { messageId = id, topic = all ? null : topic, all, source, broadcastId = message.BroadcastId }, EventJson.Options),
            });
            await db.SaveChangesAsync(ct);
            await SuppressWaitingAsync(db, message.ContactId, all ? null : topic, now, ct);
            await tx.CommitAsync(ct);
        }
        signal.Notify();
        if (oneClick)
        {
            return Results.Text("Unsubscribed.");
        }
        var rules = await content.RulesAsync(ct);
        var what = all ? "marketing e-mail" : TopicName(rules, message.Topic);
        return PublicForms.HtmlResult(StatusCodes.Status200OK, PublicForms.Page("You are unsubscribed",
            $"<p role=\"status\">We will not send you {Html.HtmlEncode(what)} any more.</p><p><a href=\"{Html.HtmlEncode(links.Preferences(message.ContactId))}\">Manage all your e-mail preferences</a></p>", false));
    }

    private static async Task<IResult> PreferencesPageAsync(string token, MailLinks links, ClienteleDatabase database, OutboxContent content, CancellationToken ct)
    {
        if (links.Verify("p", token) is not { } contactId)
        {
            return Invalid();
        }
        await using var db = database.CreateDbContext();
        var contact = await db.Contacts.AsNoTracking().Include(c => c.Consents).FirstOrDefaultAsync(c => c.Id == contactId && c.DeletedAt == null, ct);
        if (contact is null)
        {
            return Invalid();
        }
        var rules = await content.RulesAsync(ct);
        return PublicForms.HtmlResult(StatusCodes.Status200OK, PublicForms.Page("Your e-mail preferences", PreferencesForm(contact, rules, null), false));
    }

    private static string PreferencesForm(Contact contact, SendingRules rules, string? status)
    {
        var everything = contact.Consents.Any(c => c.Topic == ConsentProjection.DefaultTopic && c.Status == ConsentStatus.Unsubscribed);
        var rows = string.Concat(Topics(rules, contact).Select(t =>
        {
            var on = !everything && contact.Consents.Any(c => c.Topic == t.Key && c.Status == ConsentStatus.Subscribed);
            return $"""<div class="field"><label><input type="checkbox" name="topic" value="{Html.HtmlEncode(t.Key)}"{(on ? " checked" : "")}> {Html.HtmlEncode(t.Name)}</label><div>{Html.HtmlEncode(t.Description)}</div></div>""";
        }));
        var note = status is null ? "" : $"<p role=\"status\">{Html.HtmlEncode(status)}</p>";
        return $"""
            {note}<p>What should we send to {Html.HtmlEncode(contact.Email)}?</p>
            <form method="post">{rows}
            <div class="field"><label style="font-weight:normal"><input type="checkbox" name="none" value="on"{(everything ? " checked" : "")}> No marketing e-mail at all</label></div>
            <button type="submit">Save preferences</button>
            </form>
            <p>Messages about your orders and requests still reach you.</p>
            """;
    }

    private static async Task<IResult> SavePreferencesAsync(string token, HttpRequest request, MailLinks links, ClienteleDatabase database,
        OutboxContent content, ConsentGuard guard, EventSignal signal, TimeProvider time, CancellationToken ct)
    {
        if (links.Verify("p", token) is not { } contactId || !request.HasFormContentType)
        {
            return Invalid();
        }
        var form = await request.ReadFormAsync(ct);
        var chosen = form["topic"].Where(t => t is not null).Select(t => t!).ToHashSet(StringComparer.Ordinal);
        var none = form["none"].ToString() == "on";
        await using var db = database.CreateDbContext();
        var contact = await db.Contacts.Include(c => c.Consents).FirstOrDefaultAsync(c => c.Id == contactId && c.DeletedAt == null, ct);
        if (contact is null)
        {
            return Invalid();
        }
        var rules = await content.RulesAsync(ct);
        var now = time.GetUtcNow().UtcDateTime;
        const string source = "preference centre";
        var changes = new List<(string Topic, ConsentStatus Status)>();
        foreach (var t in Topics(rules, contact))
        {
            var current = contact.Consents.FirstOrDefault(c => c.Topic == t.Key)?.Status;
            var wanted = !none && chosen.Contains(t.Key);
            if (wanted && current != ConsentStatus.Subscribed)
            {
                changes.Add((t.Key, ConsentStatus.Subscribed));
            }
            else if (!wanted && current is ConsentStatus.Subscribed or ConsentStatus.Pending)
            {
                changes.Add((t.Key, ConsentStatus.Unsubscribed));
            }
        }
        var everything = contact.Consents.FirstOrDefault(c => c.Topic == ConsentProjection.DefaultTopic)?.Status;
        if (none && everything != ConsentStatus.Unsubscribed)
        {
            changes.Add((ConsentProjection.DefaultTopic, ConsentStatus.Unsubscribed));
        }
        else if (!none && everything == ConsentStatus.Unsubscribed)
        {
            changes.Add((ConsentProjection.DefaultTopic, ConsentStatus.Subscribed));
        }
        foreach (var (topic, status) in changes.Where(c => c.Status == ConsentStatus.Unsubscribed))
        {
            guard.Withdrawn(contactId, topic == ConsentProjection.DefaultTopic ? ConsentGuard.AllTopics : topic);
        }
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            foreach (var (topic, status) in changes)
            {
                await SetConsentAsync(db, contactId, topic, status, source, now, ct);
                if (status == ConsentStatus.Unsubscribed)
                {
                    await SuppressWaitingAsync(db, contactId, topic == ConsentProjection.DefaultTopic ? null : topic, now, ct);
                }
            }
            if (!none && contact.Email is { } address && Contact.Normalize(address) is { } email)
            {
                // Choosing topics again lifts an earlier "unsubscribe from everything".
                await db.Suppressions.Where(s => s.Email == email && s.Reason == SuppressionReason.Unsubscribed).ExecuteDeleteAsync(ct);
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        foreach (var (topic, status) in changes.Where(c => c.Status == ConsentStatus.Subscribed))
        {
            guard.Given(contactId, topic == ConsentProjection.DefaultTopic ? ConsentGuard.AllTopics : topic);
        }
        signal.Notify();
        await using var fresh = database.CreateDbContext();
        var reloaded = await fresh.Contacts.AsNoTracking().Include(c => c.Consents).FirstAsync(c => c.Id == contactId, ct);
        return PublicForms.HtmlResult(StatusCodes.Status200OK, PublicForms.Page("Your e-mail preferences",
            PreferencesForm(reloaded, rules, changes.Count == 0 ? "Nothing changed." : "Saved. Thank you!"), false));
    }

    /// <summary>The business's topics, plus any other the contact has a record for.</summary>
    private static IEnumerable<MailTopic> Topics(SendingRules rules, Contact contact) =>
        rules.Topics.Concat(contact.Consents
            .Where(c => c.Topic != ConsentProjection.DefaultTopic && rules.Topics.All(t => t.Key != c.Topic))
            .Select(c => new MailTopic(c.Topic, c.Topic, "")));

    private static string TopicName(SendingRules rules, string? topic) =>
        rules.Topics.FirstOrDefault(t => t.Key == topic)?.Name.ToLowerInvariant() ?? topic ?? "marketing e-mail";

    /// <summary>Records a consent decision and its event in the current transaction.</summary>
    internal static async Task SetConsentAsync(ClienteleDb db, Guid contactId, string topic, ConsentStatus status, string source, DateTime now, CancellationToken ct)
    {
        var current = db.Consents.Local.FirstOrDefault(c => c.ContactId == contactId && c.Topic == topic)
            ?? await db.Consents.FirstOrDefaultAsync(c => c.ContactId == contactId && c.Topic == topic, ct);
        if (current is null)
        {
            current = new ContactConsent { ContactId = contactId, Topic = topic };
            db.Consents.Add(current);
        }
        current.Status = status;
        current.At = now;
        current.Source = source;
        db.Events.Add(ContactStore.ConsentEvent(contactId, topic, status, source, null, now));
    }

    /// <summary>Marketing messages still waiting for this contact (of one topic, or all) will not go.</summary>
    internal static Task<int> SuppressWaitingAsync(ClienteleDb db, Guid contactId, string? topic, DateTime now, CancellationToken ct) =>
        db.OutboxMessages
            .Where(m => m.ContactId == contactId && m.Class == MessageClass.Marketing
                && (m.Status == OutboxStatus.Queued || m.Status == OutboxStatus.Deferred)
                && (topic == null || m.Topic == topic))
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, OutboxStatus.Suppressed)
                .SetProperty(m => m.LastAnswer, $"The contact unsubscribed at {now:yyyy-MM-dd HH:mm} UTC."), ct);
}
