using System.Text;
using System.Text.Json;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Commerce;
using Clientele.Data;
using Clientele.Events;
using Clientele.Lifecycle;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Contacts;

internal static class ContactsApi
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public static RouteGroupBuilder MapContacts(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/contacts").WithTags("Contacts");
        group.MapGet("/", List).RequireAuthorization(ApiKeys.ReadPolicy);
        group.MapGet("/{id:guid}", Get).RequireAuthorization(ApiKeys.ReadPolicy);
        group.MapGet("/{id:guid}/timeline", Timeline).RequireAuthorization(ApiKeys.ReadPolicy);
        group.MapPost("/", Upsert).RequireAuthorization(ApiKeys.WritePolicy).Accepts<JsonElement>("application/json");
        group.MapPatch("/{id:guid}", Update).RequireAuthorization(ApiKeys.WritePolicy).Accepts<JsonElement>("application/json");
        group.MapDelete("/{id:guid}", Delete).RequireAuthorization(ApiKeys.WritePolicy);
        return api;
    }

    internal static async Task<Results<Ok<Page<ContactDto>>, ProblemHttpResult>> List(
        ClienteleDb db, string? email, string? q, string? stage, string? tag, string? cursor, int? limit, CancellationToken ct)
    {
        var size = Math.Clamp(limit ?? DefaultPageSize, 1, MaxPageSize);
        var query = string.IsNullOrWhiteSpace(q) ? db.Contacts.AsQueryable() : ContactSearch.Matching(db, q);
        query = query.AsNoTracking().Where(c => c.DeletedAt == null);
        if (!string.IsNullOrWhiteSpace(email))
        {
            var normalized = Contact.Normalize(email);
            query = query.Where(c => c.EmailNormalized == normalized);
        }
        if (!string.IsNullOrWhiteSpace(stage))
        {
            if (!StageNames.TryParse(stage, out var s))
            {
                return ApiProblems.BadRequest($"Unknown stage '{stage}'. Use one of: {string.Join(", ", Enum.GetValues<Stage>().Select(x => x.ToApi()))}.", "query:stage");
            }
            query = query.Where(c => c.Stage == s);
        }
        if (!string.IsNullOrWhiteSpace(tag))
        {
            query = query.Where(c => c.Tags.Contains(tag));
        }
        if (cursor is not null)
        {
            if (!Cursor.TryRead(cursor, out var at, out var id))
            {
                return ApiProblems.BadRequest("The cursor is not one this API returned. Start again without it.", "query:cursor");
            }
            query = query.Where(c => c.CreatedAt < at || (c.CreatedAt == at && c.Id.CompareTo(id) < 0));
        }
        var rows = await query.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id)
            .Take(size + 1).Include(c => c.Consents).AsSplitQuery().ToListAsync(ct);
        var next = rows.Count > size ? Cursor.Write(rows[size - 1].CreatedAt, rows[size - 1].Id) : null;
        return TypedResults.Ok(new Page<ContactDto>(rows.Take(size).Select(c => c.AsDto()).ToList(), next));
    }

    internal static async Task<Results<Ok<ContactDto>, ProblemHttpResult>> Get(ClienteleDb db, Guid id, CancellationToken ct)
    {
        var contact = await db.Contacts.AsNoTracking().Include(c => c.Consents).FirstOrDefaultAsync(c => c.Id == id && c.DeletedAt == null, ct);
        return contact is null ? ApiProblems.NotFound($"No contact has the id {id}.") : TypedResults.Ok(contact.AsDto());
    }

    internal static async Task<IResult> Upsert(HttpRequest request, ClienteleDb db, TimeProvider time, EventSignal signal, CancellationToken ct)
    {
        var (doc, problem) = await JsonBody.ReadAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        using (doc)
        {
            var (changes, errors) = ContactChanges.Parse(doc!.RootElement);
            var (referralCode, referralError) = Clientele.Referrals.ReferralClaims.Read(doc.RootElement);
            if (referralError is not null)
            {
                errors.Add(referralError);
            }
            if (errors.Count > 0)
            {
                return ApiProblems.Invalid(errors);
            }
            var now = time.GetUtcNow().UtcDateTime;
            var outcome = await ContactStore.UpsertAsync(db, changes, "api", now, ct);
            if (outcome.Error is { } error)
            {
                return error.Message.Contains("belongs to another", StringComparison.Ordinal) || error.Message.Contains("already has", StringComparison.Ordinal)
                    ? ApiProblems.Conflict(error.Message, error.Field)
                    : ApiProblems.Invalid([error]);
            }
            await Clientele.Referrals.ReferralClaims.AddAsync(db, outcome.Contact!.Id, referralCode, now, ct);
            await db.SaveChangesAsync(ct);
            signal.Notify();
            await db.Entry(outcome.Contact!).Collection(c => c.Consents).LoadAsync(ct);
            var dto = outcome.Contact!.AsDto() with { Warnings = outcome.Notes.Count > 0 ? outcome.Notes : null };
            return outcome.Created
                ? TypedResults.Created($"/api/v1/contacts/{dto.Id}", dto)
                : TypedResults.Ok(dto);
        }
    }

    internal static async Task<IResult> Update(Guid id, HttpRequest request, ClienteleDb db, TimeProvider time, EventSignal signal, CancellationToken ct)
    {
        var contact = await db.Contacts.FirstOrDefaultAsync(c => c.Id == id && c.DeletedAt == null, ct);
        if (contact is null)
        {
            return ApiProblems.NotFound($"No contact has the id {id}.");
        }
        var (doc, problem) = await JsonBody.ReadAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        using (doc)
        {
            var (changes, errors) = ContactChanges.Parse(doc!.RootElement);
            if (changes.ExternalId is not null && contact.ExternalId is not null && changes.ExternalId != contact.ExternalId
                && await db.Contacts.AnyAsync(c => c.ExternalId == changes.ExternalId && c.Id != id, ct))
            {
                errors.Add(new FieldError("/externalId", $"Another contact has the external id {changes.ExternalId}."));
            }
            if (errors.Count > 0)
            {
                return ApiProblems.Invalid(errors);
            }
            var outcome = await ContactStore.ApplyAsync(db, contact, changes, "api", time.GetUtcNow().UtcDateTime, ct);
            if (outcome.Error is { } error)
            {
                return ApiProblems.Conflict(error.Message, error.Field);
            }
            await db.SaveChangesAsync(ct);
            signal.Notify();
            await db.Entry(contact).Collection(c => c.Consents).LoadAsync(ct);
            return TypedResults.Ok(contact.AsDto() with { Warnings = outcome.Notes.Count > 0 ? outcome.Notes : null });
        }
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> Delete(Guid id, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var n = await db.Contacts.Where(c => c.Id == id && c.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.DeletedAt, now).SetProperty(c => c.UpdatedAt, now), ct);
        return n == 0 ? ApiProblems.NotFound($"No contact has the id {id}.") : TypedResults.NoContent();
    }

    internal static async Task<Results<Ok<Page<TimelineItem>>, ProblemHttpResult>> Timeline(
        Guid id, ClienteleDb db, string? cursor, int? limit, CancellationToken ct)
    {
        if (!await db.Contacts.AnyAsync(c => c.Id == id, ct))
        {
            return ApiProblems.NotFound($"No contact has the id {id}.");
        }
        var size = Math.Clamp(limit ?? 100, 1, MaxPageSize);
        var query = db.Events.AsNoTracking().Where(e => e.ContactId == id);
        if (cursor is not null)
        {
            if (!Cursor.TryRead(cursor, out var at, out var eventId))
            {
                return ApiProblems.BadRequest("The cursor is not one this API returned. Start again without it.", "query:cursor");
            }
            var before = BitConverter.ToInt64(eventId.ToByteArray(), 0);
            query = query.Where(e => e.OccurredAt < at || (e.OccurredAt == at && e.Id < before));
        }
        var events = await query.OrderByDescending(e => e.OccurredAt).ThenByDescending(e => e.Id).Take(size + 1).ToListAsync(ct);
        var page = events.Take(size).ToList();
        var orderIds = page.Where(e => e.Type.StartsWith("order.", StringComparison.Ordinal))
            .Select(e => CommerceProjection.ReadOrder(e).OrderId).Distinct().ToList();
        var orders = orderIds.Count == 0
            ? []
            : await db.Orders.AsNoTracking().Where(o => o.ContactId == id && orderIds.Contains(o.ExternalId))
                .Select(o => new OrderSummary(o.Id, o.ExternalId, o.Total, o.Currency, o.Status.ToString().ToLowerInvariant(), o.PlacedAt))
                .ToDictionaryAsync(o => o.ExternalId, ct);
        var items = page.Select(e => new TimelineItem(
            e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Type, e.OccurredAt, e.ReceivedAt, e.Source,
            JsonDocument.Parse(e.Properties).RootElement.Clone(),
            e.CauseEventId?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            e.Type.StartsWith("order.", StringComparison.Ordinal) && orders.TryGetValue(CommerceProjection.ReadOrder(e).OrderId, out var o) ? o : null)).ToList();
        string? next = null;
        if (events.Count > size)
        {
            var last = page[^1];
            var bytes = new byte[16];
            BitConverter.GetBytes(last.Id).CopyTo(bytes, 0);
            next = Cursor.Write(last.OccurredAt, new Guid(bytes));
        }
        return TypedResults.Ok(new Page<TimelineItem>(items, next));
    }
}

internal sealed record Page<T>(List<T> Items, string? Next);

internal sealed record ConsentDto(string Status, DateTime At, string Source);

internal sealed record UtmDto(string? Source, string? Medium, string? Campaign, string? Term, string? Content);

internal sealed record ContactDto(
    Guid Id, string? Email, string? ExternalId, string? FirstName, string? LastName, string? Phone, DateOnly? Birthday,
    string? TimeZone, string? Locale, string Stage, int Score, string Health, List<string> Tags, JsonElement Attributes,
    Dictionary<string, ConsentDto> Consent, string? Source, UtmDto Utm, string? Referrer,
    DateTime CreatedAt, DateTime UpdatedAt, DateTime? LastActivityAt, ValueDto? Value)
{
    /// <summary>What the request asked for but was not applied, and why (e.g. consent rules).</summary>
    public List<string>? Warnings { get; init; }
}

/// <summary>What the scoring job says the customer is worth; null until they have an order and a run has scored them.</summary>
internal sealed record ValueDto(
    double ProbabilityAlive, double ExpectedPurchases90, double ExpectedPurchases365, decimal PredictedValue, string Currency, string RfmCell, DateTime ScoredAt);

internal sealed record OrderSummary(Guid Id, string ExternalId, decimal Total, string Currency, string Status, DateTime PlacedAt);

internal sealed record TimelineItem(
    string Id, string Type, DateTime OccurredAt, DateTime ReceivedAt, string Source, JsonElement Properties, string? CauseEventId, OrderSummary? Order);

internal static class ContactMapping
{
    public static ContactDto AsDto(this Contact c) => new(
        c.Id, c.Email, c.ExternalId, c.FirstName, c.LastName, c.Phone, c.Birthday, c.TimeZone, c.Locale,
        c.Stage.ToApi(), c.Score, c.Health.ToApi(), c.Tags, JsonDocument.Parse(c.Attributes).RootElement.Clone(),
        c.Consents.ToDictionary(x => x.Topic, x => new ConsentDto(x.Status.ToApi(), x.At, x.Source)),
        c.Source, new UtmDto(c.UtmSource, c.UtmMedium, c.UtmCampaign, c.UtmTerm, c.UtmContent), c.Referrer,
        c.CreatedAt, c.UpdatedAt, c.LastActivityAt,
        c.Value is { } v ? new ValueDto(v.ProbabilityAlive, v.ExpectedPurchases90, v.ExpectedPurchases365, v.PredictedValue, v.Currency, v.RfmCell, v.ScoredAt) : null);
}

/// <summary>Opaque keyset cursors: (time, id) of the last row, base64url-encoded.</summary>
internal static class Cursor
{
    public static string Write(DateTime at, Guid id)
    {
        var bytes = new byte[24];
        BitConverter.GetBytes(at.Ticks).CopyTo(bytes, 0);
        id.ToByteArray().CopyTo(bytes, 8);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static bool TryRead(string text, out DateTime at, out Guid id)
    {
        at = default;
        id = default;
        try
        {
            var padded = text.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var bytes = Convert.FromBase64String(padded);
            if (bytes.Length != 24)
            {
                return false;
            }
            var ticks = BitConverter.ToInt64(bytes, 0);
            if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
            {
                return false;
            }
            at = new DateTime(ticks, DateTimeKind.Utc);
            id = new Guid(bytes.AsSpan(8, 16));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
