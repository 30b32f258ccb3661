using System.Globalization;
using System.Net.Mail;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Clientele.Contacts;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Events;

/// <summary>A validated event, ready to be stored.</summary>
internal sealed record EventDraft(
    string Type,
    string? Email,
    string? ExternalId,
    Guid? ContactId,
    DateTime? OccurredAt,
    string Properties,
    string? IdempotencyKey);

internal sealed record IngestResult(int Index, string Status, long? EventId, Guid? ContactId, FieldErrorDto? Error)
{
    public const string Stored = "stored";
    public const string Duplicate = "duplicate";
    public const string Rejected = "rejected";
}

internal sealed record FieldErrorDto(string Field, string Message);

/// <summary>Validation of incoming events: pure, so every rule is tested without a database.</summary>
internal static partial class EventRules
{
    public const int MaxBatch = 1000;
    public const int MaxKeyLength = 200;
    public const int MaxPropertiesBytes = 64 * 1024;
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromDays(1);

    [GeneratedRegex(@"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")]
    private static partial Regex TypePattern();

    public static bool IsValidType(string type) => type.Length <= 100 && TypePattern().IsMatch(type);

    /// <summary>True for a plain address such as <c>ann@example.com</c> (no display name, a dotted domain).</summary>
    public static bool IsValidEmail(string email)
    {
        if (email.Length > 320 || email.Any(char.IsWhiteSpace) || !MailAddress.TryCreate(email, out var parsed))
        {
            return false;
        }
        return parsed.Address == email && parsed.Host.Contains('.') && !parsed.Host.StartsWith('.') && !parsed.Host.EndsWith('.');
    }

    public static (EventDraft? Draft, FieldErrorDto? Error) Validate(JsonElement item, DateTime now)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return Fail("", "Each event must be a JSON object.");
        }
        if (!TryString(item, "type", out var type, out var err) || type is null)
        {
            return Fail("type", err ?? "Required: a noun.verb type such as \"order.placed\".");
        }
        if (!IsValidType(type))
        {
            return Fail("type", $"\"{type}\" is not a noun.verb type (lower case, dot-separated, e.g. \"order.placed\").");
        }
        if (!TryString(item, "email", out var email, out err))
        {
            return Fail("email", err!);
        }
        email = email?.Trim();
        if (email is { Length: > 0 } && !IsValidEmail(email))
        {
            return Fail("email", $"\"{email}\" is not a valid e-mail address.");
        }
        if (!TryString(item, "externalId", out var externalId, out err))
        {
            return Fail("externalId", err!);
        }
        if (externalId is { Length: > 200 })
        {
            return Fail("externalId", "At most 200 characters.");
        }
        if (!TryString(item, "contactId", out var contactIdText, out err))
        {
            return Fail("contactId", err!);
        }
        Guid? contactId = null;
        if (contactIdText is not null)
        {
            if (!Guid.TryParse(contactIdText, out var g))
            {
                return Fail("contactId", $"\"{contactIdText}\" is not a contact id.");
            }
            contactId = g;
        }
        if (string.IsNullOrEmpty(email) && string.IsNullOrEmpty(externalId) && contactId is null)
        {
            return Fail("email", "Say who this is about: \"email\", \"externalId\" or \"contactId\".");
        }
        if (!TryString(item, "occurredAt", out var occurredText, out err))
        {
            return Fail("occurredAt", err!);
        }
        DateTime? occurredAt = null;
        if (occurredText is not null)
        {
            if (!DateTimeOffset.TryParse(occurredText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                return Fail("occurredAt", $"\"{occurredText}\" is not an ISO 8601 time such as \"2026-05-01T10:00:00Z\".");
            }
            if (at.UtcDateTime > now + MaxFutureSkew)
            {
                return Fail("occurredAt", $"{at:O} is in the future.");
            }
            occurredAt = at.UtcDateTime;
        }
        var properties = "{}";
        if (item.TryGetProperty("properties", out var props) && props.ValueKind != JsonValueKind.Null)
        {
            if (props.ValueKind != JsonValueKind.Object)
            {
                return Fail("properties", "Must be a JSON object.");
            }
            properties = props.GetRawText();
            if (properties.Length > MaxPropertiesBytes)
            {
                return Fail("properties", $"At most {MaxPropertiesBytes / 1024} KiB of properties per event.");
            }
        }
        if (!TryString(item, "idempotencyKey", out var key, out err))
        {
            return Fail("idempotencyKey", err!);
        }
        if (key is { Length: > MaxKeyLength })
        {
            return Fail("idempotencyKey", $"At most {MaxKeyLength} characters.");
        }
        if (key is { Length: 0 })
        {
            key = null;
        }
        return (new EventDraft(type, email is { Length: > 0 } ? email : null, externalId is { Length: > 0 } ? externalId : null,
            contactId, occurredAt, properties, key), null);
    }

    private static (EventDraft?, FieldErrorDto?) Fail(string field, string message) => (null, new FieldErrorDto(field, message));

    private static bool TryString(JsonElement obj, string name, out string? value, out string? error)
    {
        value = null;
        error = null;
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return true;
        }
        if (v.ValueKind == JsonValueKind.String)
        {
            value = v.GetString();
            return true;
        }
        if (v.ValueKind == JsonValueKind.Number && name is "externalId" or "idempotencyKey")
        {
            value = v.GetRawText();
            return true;
        }
        error = $"Expected a string, got {v.ValueKind.ToString().ToLowerInvariant()}.";
        return false;
    }
}

/// <summary>One item on its way into the log: its validation outcome, where it came from, when it arrived.</summary>
internal readonly record struct PendingEvent(EventDraft? Draft, FieldErrorDto? Error, string Source, DateTime ReceivedAt);

/// <summary>
/// Stores events: finds or creates each contact, drops replays, commits. Concurrent requests are
/// grouped into one transaction (group commit): the database is written by a few writer loops, so
/// a thousand single-event POSTs cost a handful of commits, not a thousand.
/// </summary>
internal sealed class EventIngest : IDisposable
{
    /// <summary>Events per transaction at most; a group is cut there.</summary>
    public const int MaxGroup = 4000;

    private readonly ClienteleDatabase _database;
    private readonly EventSignal _signal;
    private readonly TimeProvider _time;
    private readonly ILogger<EventIngest> _log;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _writers;

    public EventIngest(ClienteleDatabase database, EventSignal signal, TimeProvider time, ILogger<EventIngest> log)
    {
        _database = database;
        _signal = signal;
        _time = time;
        _log = log;
        // SQLite has one writer at a time anyway; PostgreSQL takes a few in parallel.
        var writers = database.Kind == DatabaseKind.Sqlite ? 1 : 3;
        _writers = Enumerable.Range(0, writers).Select(_ => Task.Run(WriteLoopAsync)).ToArray();
    }

    private sealed record Pending(PendingEvent[] Items, TaskCompletionSource<List<IngestResult>> Done);

    /// <summary>Validates and stores one request's events; returns a result per item, in order.</summary>
    public async Task<List<IngestResult>> IngestAsync(IReadOnlyList<JsonElement> events, string source, CancellationToken ct)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var items = new PendingEvent[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var (draft, error) = EventRules.Validate(events[i], now);
            items[i] = new PendingEvent(draft, error, source, now);
        }
        if (items.All(i => i.Draft is null))
        {
            return items.Select((item, i) => new IngestResult(i, IngestResult.Rejected, null, null, item.Error)).ToList();
        }
        _signal.Ingesting();
        var pending = new Pending(items, new TaskCompletionSource<List<IngestResult>>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("Ingestion is shutting down.");
        }
        // The write goes on if the caller gives up: what was accepted is stored, and a retry is a duplicate.
        return await pending.Done.Task.WaitAsync(ct);
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token))
            {
                var group = new List<Pending>();
                var count = 0;
                while (count < MaxGroup && reader.TryRead(out var next))
                {
                    group.Add(next);
                    count += next.Items.Length;
                }
                if (group.Count > 0)
                {
                    await WriteGroupAsync(group);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task WriteGroupAsync(List<Pending> group)
    {
        try
        {
            var all = group.SelectMany(p => p.Items).ToArray();
            var results = await StoreWithRetryAsync(all, CancellationToken.None);
            var offset = 0;
            foreach (var p in group)
            {
                var slice = results.Skip(offset).Take(p.Items.Length).Select(r => r with { Index = r.Index - offset }).ToList();
                offset += p.Items.Length;
                p.Done.TrySetResult(slice);
            }
            if (results.Any(r => r.Status == IngestResult.Stored))
            {
                _signal.Notify();
            }
        }
        catch (Exception ex) when (group.Count > 1)
        {
            // Something in the group cannot be stored: write each request on its own so only it fails.
            _log.LogWarning(ex, "A group of {Count} requests failed together; writing them one by one", group.Count);
            foreach (var p in group)
            {
                await WriteGroupAsync([p]);
            }
        }
        catch (Exception ex)
        {
            group[0].Done.TrySetException(ex);
        }
    }

    /// <summary>Stores one group; a key used concurrently by another instance is a retry, then a duplicate.</summary>
    private async Task<List<IngestResult>> StoreWithRetryAsync(PendingEvent[] items, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StoreAsync(items, ct);
            }
            catch (DbUpdateException) when (attempt < 8)
            {
                // Another instance used the same idempotency key first; the next try sees it as a duplicate.
                await Task.Delay(Random.Shared.Next(1, 5 * attempt), ct);
            }
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _stop.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            Task.WaitAll(_writers, TimeSpan.FromSeconds(15));
        }
        catch (AggregateException)
        {
            // writers ended with the host
        }
        _stop.Dispose();
    }

    private async Task<List<IngestResult>> StoreAsync(PendingEvent[] items, CancellationToken ct)
    {
        var drafts = items.Select(i => (i.Draft, i.Error)).ToArray();
        using var gate = await _database.EnterWriteAsync(ct);
        await using var db = _database.CreateDbContext();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        // On SQLite this takes the write lock up front (BEGIN IMMEDIATE), so look-ups and inserts of
        // concurrent writers cannot interleave; on PostgreSQL contact creation is serialised below.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var results = new IngestResult?[drafts.Length];
        for (var i = 0; i < drafts.Length; i++)
        {
            if (drafts[i].Error is { } error)
            {
                results[i] = new IngestResult(i, IngestResult.Rejected, null, null, error);
            }
        }

        // Replays: keys already in the log, and keys repeated inside this group.
        var keys = drafts.Where(d => d.Draft?.IdempotencyKey != null).Select(d => d.Draft!.IdempotencyKey!).Distinct().ToList();
        var seen = keys.Count == 0
            ? new Dictionary<string, (long Id, Guid ContactId)>()
            : await db.Events.AsNoTracking().Where(e => e.IdempotencyKey != null && keys.Contains(e.IdempotencyKey))
                .Select(e => new { e.IdempotencyKey, e.Id, e.ContactId })
                .ToDictionaryAsync(e => e.IdempotencyKey!, e => (e.Id, e.ContactId), ct);

        var contacts = await ResolveContactsAsync(db, drafts, results, items[0].ReceivedAt, ct);
        if (db.Kind == DatabaseKind.Postgres && db.ChangeTracker.Entries<Contact>().Any(e => e.State == EntityState.Added))
        {
            // New people are created first, in a short transaction of their own under the contact-creation lock, so two
            // writers naming the same new person cannot both create them, and the other writers wait for that alone, not
            // for this group's events as well. What that transaction decided is what this one writes the events against.
            foreach (var entry in db.ChangeTracker.Entries<Contact>().ToList())
            {
                entry.State = EntityState.Detached;
            }
            for (var i = 0; i < results.Length; i++)
            {
                if (results[i]?.Status == IngestResult.Rejected && drafts[i].Error is null)
                {
                    results[i] = null; // an unknown contact id: the second look decides afresh
                }
            }
            contacts = await CreateContactsAsync(items, drafts, results, ct);
        }

        var stored = new List<(int Index, Event Event)>();
        var inBatch = new Dictionary<string, int>();
        for (var i = 0; i < drafts.Length; i++)
        {
            if (results[i] is not null || drafts[i].Draft is not { } d)
            {
                continue;
            }
            if (d.IdempotencyKey is { } key)
            {
                if (seen.TryGetValue(key, out var prior))
                {
                    results[i] = new IngestResult(i, IngestResult.Duplicate, prior.Id, prior.ContactId, null);
                    continue;
                }
                if (inBatch.ContainsKey(key))
                {
                    results[i] = new IngestResult(i, IngestResult.Duplicate, null, null, null);
                    continue;
                }
                inBatch[key] = i;
            }
            var contact = contacts[i]!;
            var occurred = d.OccurredAt ?? items[i].ReceivedAt;
            stored.Add((i, new Event
            {
                ContactId = contact.Id,
                Type = d.Type,
                OccurredAt = occurred,
                ReceivedAt = items[i].ReceivedAt,
                Properties = d.Properties,
                IdempotencyKey = d.IdempotencyKey,
                Source = items[i].Source,
            }));
            NoteNewContactActivity(db, contact, occurred);
        }

        await db.SaveChangesAsync(ct);
        await EventWriter.InsertAsync(db, stored.Select(s => s.Event).ToList(), ct);
        await tx.CommitAsync(ct);
        foreach (var (i, e) in stored)
        {
            results[i] = new IngestResult(i, IngestResult.Stored, e.Id, e.ContactId, null);
        }
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i] is { Status: IngestResult.Duplicate, EventId: null } && drafts[i].Draft?.IdempotencyKey is { } key)
            {
                var first = results[inBatch[key]]!;
                results[i] = results[i]! with { EventId = first.EventId, ContactId = first.ContactId };
            }
        }
        return results.Select(r => r!).ToList();
    }

    /// <summary>
    /// PostgreSQL: under the contact-creation lock, looks again at who each item names, creates the new people (and records
    /// what it learns of known ones) and commits; returns each item's contact, and rejects items naming an unknown id.
    /// </summary>
    private async Task<Contact?[]> CreateContactsAsync(PendingEvent[] items, (EventDraft? Draft, FieldErrorDto? Error)[] drafts,
        IngestResult?[] results, CancellationToken ct)
    {
        await using var db = _database.CreateDbContext();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(7283461)", ct);
        var contacts = await ResolveContactsAsync(db, drafts, results, items[0].ReceivedAt, ct);
        for (var i = 0; i < drafts.Length; i++)
        {
            if (contacts[i] is { } contact)
            {
                NoteNewContactActivity(db, contact, drafts[i].Draft!.OccurredAt ?? items[i].ReceivedAt);
            }
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return contacts;
    }

    /// <summary>A new contact's last activity is their latest event; existing contacts are kept current by ActivityProjection.</summary>
    private static void NoteNewContactActivity(ClienteleDb db, Contact contact, DateTime occurred)
    {
        if (db.Entry(contact).State == EntityState.Added && (contact.LastActivityAt is null || contact.LastActivityAt < occurred))
        {
            contact.LastActivityAt = occurred;
        }
    }

    /// <summary>Finds each item's contact by id, external id or e-mail; creates unknown people as Leads.</summary>
    private static async Task<Contact?[]> ResolveContactsAsync(ClienteleDb db, (EventDraft? Draft, FieldErrorDto? Error)[] drafts,
        IngestResult?[] results, DateTime now, CancellationToken ct)
    {
        var valid = drafts.Where(d => d.Draft != null).Select(d => d.Draft!).ToList();
        var emails = valid.Where(d => d.Email != null).Select(d => Contact.Normalize(d.Email)!).Distinct().ToList();
        var externals = valid.Where(d => d.ExternalId != null).Select(d => d.ExternalId!).Distinct().ToList();
        var ids = valid.Where(d => d.ContactId != null).Select(d => d.ContactId!.Value).Distinct().ToList();

        var found = new List<Contact>();
        if (emails.Count > 0)
        {
            found.AddRange(await db.Contacts.AsNoTracking().Where(c => c.EmailNormalized != null && emails.Contains(c.EmailNormalized)).Select(Identity).ToListAsync(ct));
        }
        if (externals.Count > 0)
        {
            found.AddRange(await db.Contacts.AsNoTracking().Where(c => c.ExternalId != null && externals.Contains(c.ExternalId)).Select(Identity).ToListAsync(ct));
        }
        if (ids.Count > 0)
        {
            found.AddRange(await db.Contacts.AsNoTracking().Where(c => ids.Contains(c.Id)).Select(Identity).ToListAsync(ct));
        }
        var byId = found.DistinctBy(c => c.Id).ToDictionary(c => c.Id);
        var byEmail = byId.Values.Where(c => c.EmailNormalized != null).ToDictionary(c => c.EmailNormalized!);
        var byExternal = byId.Values.Where(c => c.ExternalId != null).ToDictionary(c => c.ExternalId!);

        var resolved = new Contact?[drafts.Length];
        for (var i = 0; i < drafts.Length; i++)
        {
            if (drafts[i].Draft is not { } d)
            {
                continue;
            }
            Contact? contact = null;
            if (d.ContactId is { } id)
            {
                if (!byId.TryGetValue(id, out contact))
                {
                    results[i] = new IngestResult(i, IngestResult.Rejected, null, null, new FieldErrorDto("contactId", $"No contact has the id {id}."));
                    continue;
                }
            }
            var email = Contact.Normalize(d.Email);
            if (contact is null && d.ExternalId != null)
            {
                byExternal.TryGetValue(d.ExternalId, out contact);
            }
            if (contact is null && email != null)
            {
                byEmail.TryGetValue(email, out contact);
            }
            if (contact is null)
            {
                contact = new Contact
                {
                    Id = Guid.CreateVersion7(),
                    Email = d.Email,
                    EmailNormalized = email,
                    ExternalId = d.ExternalId,
                    Source = "api",
                    CreatedAt = d.OccurredAt is { } at && at < now ? at : now,
                    UpdatedAt = now,
                };
                db.Contacts.Add(contact);
                byId[contact.Id] = contact;
            }
            else if (contact.DeletedAt is not null)
            {
                // New activity from an archived contact brings them back rather than losing the event.
                contact.DeletedAt = null;
                contact.UpdatedAt = now;
                Changed(db, contact, nameof(Contact.DeletedAt), nameof(Contact.UpdatedAt));
            }
            // Learn the missing identifier, unless another contact already holds it.
            if (contact.EmailNormalized is null && email != null && !byEmail.ContainsKey(email))
            {
                contact.Email = d.Email;
                contact.EmailNormalized = email;
                Changed(db, contact, nameof(Contact.Email), nameof(Contact.EmailNormalized));
            }
            if (contact.ExternalId is null && d.ExternalId != null && !byExternal.ContainsKey(d.ExternalId))
            {
                contact.ExternalId = d.ExternalId;
                Changed(db, contact, nameof(Contact.ExternalId));
            }
            if (contact.EmailNormalized != null)
            {
                byEmail[contact.EmailNormalized] = contact;
            }
            if (contact.ExternalId != null)
            {
                byExternal[contact.ExternalId] = contact;
            }
            resolved[i] = contact;
        }
        return resolved;
    }

    /// <summary>
    /// Only what resolution needs: contacts are read as untracked stubs, because a batch names hundreds
    /// of them and almost none change. The few that do are attached and only the changed columns written.
    /// </summary>
    private static readonly System.Linq.Expressions.Expression<Func<Contact, Contact>> Identity = c => new Contact
    {
        Id = c.Id,
        Email = c.Email,
        EmailNormalized = c.EmailNormalized,
        ExternalId = c.ExternalId,
        DeletedAt = c.DeletedAt,
    };

    private static void Changed(ClienteleDb db, Contact contact, params string[] properties)
    {
        var entry = db.Entry(contact);
        if (entry.State == EntityState.Added)
        {
            return;
        }
        if (entry.State == EntityState.Detached)
        {
            db.Contacts.Attach(contact);
        }
        foreach (var property in properties)
        {
            entry.Property(property).IsModified = true;
        }
    }
}
