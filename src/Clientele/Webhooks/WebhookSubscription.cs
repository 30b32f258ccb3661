using System.Collections.Concurrent;
using System.Text.Json;
using Clientele.Api;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Clientele.Lifecycle;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Webhooks;

/// <summary>
/// A receiver told about events of the types it names as they happen (<c>order.placed</c>, <c>stage.changed</c>, or a
/// family: <c>ticket.*</c>, or <c>*</c> for everything): each event becomes one signed call, delivered with retries.
/// </summary>
internal sealed class WebhookSubscription
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string Url { get; set; } = "";
    public List<string> Events { get; set; } = [];
    public bool Active { get; set; } = true;
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>Which events a subscription wants, and what a subscription must be, as pure functions.</summary>
internal static class WebhookTopics
{
    /// <summary>The event types offered in the UI, by family; any other type the log holds may be named too.</summary>
    public static readonly IReadOnlyList<(string Type, string Meaning)> Known =
    [
        ("form.submitted", "a hosted form was filled in (a new or known contact)"),
        ("consent.*", "consent given, requested or withdrawn"),
        ("contact.created", "a contact was added (API, import, form, support, review…)"),
        ("contact.updated", "a contact's details or consent changed"),
        ("contact.qualified", "a lead qualified"),
        ("stage.changed", "a contact moved to another lifecycle stage"),
        ("order.*", "an order placed, updated, cancelled or refunded"),
        ("email.*", "a message sent, opened, clicked, bounced, complained of, unsubscribed from"),
        ("ticket.*", "a support ticket opened, replied to, solved or reopened"),
        ("survey.*", "a survey answered or commented on"),
        ("offer.*", "a coupon issued or redeemed"),
        ("referral.*", "a referral signed up, converted or rewarded"),
    ];

    public static bool Matches(IReadOnlyList<string> patterns, string type)
    {
        foreach (var p in patterns)
        {
            if (p == "*" || p == type || (p.EndsWith(".*", StringComparison.Ordinal) && type.StartsWith(p[..^1], StringComparison.Ordinal)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Everything wrong with a subscription, by field.</summary>
    public static List<FieldError> Check(string? name, string? url, IReadOnlyList<string>? events, bool allowPrivate)
    {
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
        {
            errors.Add(new("/name", "A name of 1 to 200 characters."));
        }
        if (WebhookGuard.Check(url, allowPrivate) is { } wrong)
        {
            errors.Add(new("/url", wrong));
        }
        if (events is not { Count: > 0 })
        {
            errors.Add(new("/events", "Name at least one event type, e.g. \"order.placed\" or \"ticket.*\"."));
        }
        for (var i = 0; i < (events?.Count ?? 0); i++)
        {
            var e = events![i];
            var bare = e.EndsWith(".*", StringComparison.Ordinal) ? e[..^2] : e;
            if (e != "*" && (bare.Length is 0 or > 100 || !bare.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-')))
            {
                errors.Add(new($"/events/{i}", $"\"{e}\" is not an event type: lower-case letters, digits, dots, _ and -, optionally ending in .* (or * alone)."));
            }
        }
        return errors;
    }

    /// <summary>The contact as every webhook body shows it.</summary>
    public static object ContactOf(Contact contact) => new
    {
        id = contact.Id,
        email = contact.Email,
        externalId = contact.ExternalId,
        firstName = contact.FirstName,
        lastName = contact.LastName,
        stage = contact.Stage.ToApi(),
        score = contact.Score,
        tags = contact.Tags,
    };

    /// <summary>The body posted for an event: its type, id, times, the contact and the event's own properties.</summary>
    public static string Body(Event e, Contact? contact, Guid callId) => JsonSerializer.Serialize(new
    {
        type = e.Type,
        id = callId,
        eventId = e.Id,
        occurredAt = DateTime.SpecifyKind(e.OccurredAt, DateTimeKind.Utc),
        receivedAt = DateTime.SpecifyKind(e.ReceivedAt, DateTimeKind.Utc),
        contact = contact is null ? null : ContactOf(contact),
        data = JsonDocument.Parse(string.IsNullOrEmpty(e.Properties) ? "{}" : e.Properties).RootElement,
    }, EventJson.Options);
}

/// <summary>
/// Turns events into webhook calls for the subscriptions that want them, in the dispatcher's transaction (each call
/// keyed by subscription and event, so a batch handled again queues nothing twice). Only events received after the
/// subscription was made are sent. The active subscriptions are kept in memory, read again after every change made
/// here and every 30 seconds, so a type nobody subscribed to costs nothing.
/// </summary>
internal sealed class WebhookSubscriptions(ClienteleDatabase database, WebhookSignal signal, TimeProvider time) : IEventConsumer
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(30);
    private volatile List<WebhookSubscription>? _active;
    private DateTimeOffset _loadedAt;
    private readonly ConcurrentDictionary<string, bool> _wanted = new(StringComparer.Ordinal);
    private int _reloading;

    public string Name => "webhooks";

    public bool Wants(string eventType)
    {
        var active = Current();
        // Until the subscriptions are read, every event is looked at, so none made before the first read is missed.
        return active is null || _wanted.GetOrAdd(eventType, t => active.Any(s => WebhookTopics.Matches(s.Events, t)));
    }

    private List<WebhookSubscription>? Current()
    {
        if ((_active is null || time.GetUtcNow() - _loadedAt > Fresh) && Interlocked.Exchange(ref _reloading, 1) == 0)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await ReloadAsync();
                }
                finally
                {
                    Volatile.Write(ref _reloading, 0);
                }
            });
        }
        return _active;
    }

    /// <summary>Reads the active subscriptions again (after a change, and every 30 seconds).</summary>
    public async Task ReloadAsync()
    {
        _loadedAt = time.GetUtcNow();
        await using var db = database.CreateDbContext();
        var active = await db.WebhookSubscriptions.AsNoTracking().Where(s => s.Active).ToListAsync();
        _active = active;
        _wanted.Clear();
    }

    public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct) => HandleBatchAsync(context, [e], ct);

    public async Task HandleBatchAsync(ConsumerContext context, IReadOnlyList<Event> events, CancellationToken ct)
    {
        var db = context.Db;
        var subscriptions = await db.WebhookSubscriptions.AsNoTracking().Where(s => s.Active).ToListAsync(ct);
        var due = events.SelectMany(e => subscriptions.Where(s => e.ReceivedAt >= s.CreatedAt && WebhookTopics.Matches(s.Events, e.Type)).Select(s => (e, s))).ToList();
        if (due.Count == 0)
        {
            return;
        }
        var contactIds = due.Select(d => d.e.ContactId).Distinct().ToList();
        var contacts = await db.Contacts.AsNoTracking().Where(c => contactIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        var keys = due.Select(d => Key(d.s.Id, d.e.Id)).ToList();
        var queued = (await db.WebhookCalls.AsNoTracking().Where(c => keys.Contains(c.IdempotencyKey)).Select(c => c.IdempotencyKey).ToListAsync(ct)).ToHashSet();
        foreach (var (e, s) in due)
        {
            var key = Key(s.Id, e.Id);
            if (!queued.Add(key))
            {
                continue;
            }
            var id = Guid.CreateVersion7();
            db.WebhookCalls.Add(new WebhookCall
            {
                Id = id,
                Url = s.Url,
                Body = WebhookTopics.Body(e, contacts.GetValueOrDefault(e.ContactId), id),
                IdempotencyKey = key,
                Status = WebhookStatus.Pending,
                DueAt = context.Now,
                CreatedAt = context.Now,
                ContactId = e.ContactId,
                SubscriptionId = s.Id,
            });
        }
    }

    public void Committed() => signal.Notify();

    private static string Key(Guid subscription, long eventId) => $"sub:{subscription:N}:{eventId}";
}
