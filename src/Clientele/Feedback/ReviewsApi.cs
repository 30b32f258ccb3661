using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Feedback;

/// <summary>
/// <c>/api/v1/reviews</c>: reviews and testimonials collected by the shop or by Clientele, their moderation, and the
/// approved list (also as CSV or JSON) that the business shows.
/// </summary>
internal static class ReviewsApi
{
    public static RouteGroupBuilder MapReviews(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/reviews").WithTags("Reviews");
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Reviews, newest first (?status=pending|approved|rejected|withdrawn, ?sku=, ?cursor=, ?limit=); status=approved is the published list");
        group.MapGet("/export", ExportAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("The published reviews as a file (?format=csv|json, ?sku=): approved and with consent in force");
        group.MapGet("/{id:guid}", GetAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("One review with its consent and moderation");
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<ReviewInput>("application/json")
            .WithSummary("Add a review the shop collected: {\"email\" or \"externalId\", \"rating\": 1–5, \"text\", \"sku\", \"displayName\" or \"nameStyle\", \"consent\": {\"wording\", \"givenAt\"}} → 201, pending");
        group.MapPost("/{id:guid}/approve", (Guid id, HttpRequest request, ClienteleDatabase database, EventSignal signal, TimeProvider time, CancellationToken ct) =>
                ModerateApiAsync(id, ReviewStatus.Approved, request, database, signal, time, ct))
            .RequireAuthorization(ApiKeys.WritePolicy).WithSummary("Publish it (409 without consent, or when consent was withdrawn)");
        group.MapPost("/{id:guid}/reject", (Guid id, HttpRequest request, ClienteleDatabase database, EventSignal signal, TimeProvider time, CancellationToken ct) =>
                ModerateApiAsync(id, ReviewStatus.Rejected, request, database, signal, time, ct))
            .RequireAuthorization(ApiKeys.WritePolicy).WithSummary("Do not publish it ({\"note\": why, for the team})");
        group.MapPost("/{id:guid}/withdraw", (Guid id, HttpRequest request, ClienteleDatabase database, EventSignal signal, TimeProvider time, CancellationToken ct) =>
                ModerateApiAsync(id, ReviewStatus.Withdrawn, request, database, signal, time, ct))
            .RequireAuthorization(ApiKeys.WritePolicy).WithSummary("The customer takes back their consent: removed from the published list for good");
        return api;
    }

    internal sealed record ConsentInput(string? Wording, DateTimeOffset? GivenAt);

    internal sealed record ReviewInput(string? Email, string? ExternalId, int? Rating, string? Text, string? Sku, string? DisplayName, string? NameStyle, ConsentInput? Consent);

    internal sealed record NoteInput(string? Note);

    internal sealed record ConsentDto(bool Given, string Wording, DateTime? At, DateTime? WithdrawnAt);

    internal sealed record ReviewDto(Guid Id, Guid ContactId, int Rating, string Text, string? Sku, string Source, string DisplayName, string NameStyle,
        ConsentDto Consent, string Status, bool Published, string? ModeratedBy, DateTime? ModeratedAt, string? Note, DateTime CreatedAt);

    /// <summary>A published review as the business shows it: no contact, no e-mail.</summary>
    internal sealed record PublishedDto(Guid Id, int Rating, string Text, string? Sku, string Name, DateTime CreatedAt, DateTime? ConsentAt);

    public static ReviewDto AsDto(this Review r) => new(r.Id, r.ContactId, r.Rating, r.Text, r.Sku, r.Source, r.DisplayName, r.NameStyle,
        new ConsentDto(r.ConsentAt is not null, r.ConsentWording, r.ConsentAt, r.WithdrawnAt), r.Status.ToApi(), ReviewRules.IsPublished(r),
        r.ModeratedBy, r.ModeratedAt, r.Note, r.CreatedAt);

    /// <summary>The reviews on public lists: approved, with consent given and not taken back.</summary>
    public static IQueryable<Review> Published(ClienteleDb db, string? sku) =>
        db.Reviews.AsNoTracking().Where(r => r.Status == ReviewStatus.Approved && r.ConsentAt != null && r.WithdrawnAt == null && (sku == null || r.Sku == sku));

    /// <summary>
    /// Adds a review and its <c>review.submitted</c> event for the caller to save; a review with the same idempotency key
    /// is given back instead. Checks nothing: callers have.
    /// </summary>
    internal static async Task<(Review Review, bool Created)> SubmitAsync(ClienteleDb db, Review review, DateTime now, CancellationToken ct)
    {
        if (review.IdempotencyKey is { } key && await db.Reviews.AsNoTracking().FirstOrDefaultAsync(r => r.IdempotencyKey == key, ct) is { } before)
        {
            return (before, false);
        }
        review.Id = Guid.CreateVersion7();
        review.Status = ReviewStatus.Pending;
        review.CreatedAt = now;
        review.UpdatedAt = now;
        db.Reviews.Add(review);
        db.Events.Add(Event.Recorded(review.ContactId, "review.submitted", "reviews", "review.submitted:" + review.Id.ToString("N"),
            new { reviewId = review.Id, rating = review.Rating, text = review.Text, sku = review.Sku, source = review.Source, consent = review.ConsentAt is not null }, now));
        return (review, true);
    }

    /// <summary>
    /// Approves, rejects or withdraws a review (with its event on the contact's timeline), inside the write gate; the
    /// problem says why not when it cannot be done.
    /// </summary>
    internal static async Task<(Review? Review, IResult? Problem)> ModerateAsync(ClienteleDatabase database, Guid id, ReviewStatus to, string by, string? note,
        DateTime now, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        using var gate = await database.EnterWriteAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await db.Reviews.FirstOrDefaultAsync(r => r.Id == id, ct) is not { } review)
        {
            return (null, ApiProblems.NotFound($"There is no review {id}."));
        }
        if (review.Status == to)
        {
            return (review, null); // already so: nothing to record
        }
        if (to == ReviewStatus.Approved && ReviewRules.WhyNotApprove(review) is { } why)
        {
            return (null, ApiProblems.Conflict(why));
        }
        if (to == ReviewStatus.Rejected && review.Status == ReviewStatus.Withdrawn)
        {
            return (null, ApiProblems.Conflict("The customer withdrew their consent: the review is not published and cannot be again."));
        }
        review.Status = to;
        review.ModeratedBy = by;
        review.ModeratedAt = now;
        review.Note = note is { Length: > 0 } ? note.Trim() : review.Note;
        review.UpdatedAt = now;
        if (to == ReviewStatus.Withdrawn)
        {
            review.WithdrawnAt = now;
        }
        var type = to switch
        {
            ReviewStatus.Approved => "review.approved",
            ReviewStatus.Rejected => "review.rejected",
            _ => "review.withdrawn",
        };
        db.Events.Add(Event.Recorded(review.ContactId, type, "reviews", $"{type}:{review.Id:N}:{now.Ticks}", new { reviewId = review.Id, by, note = review.Note }, now));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return (review, null);
    }

    private static string Who(ClaimsPrincipal user) => user.Identity?.Name is { Length: > 0 } name ? "api key " + name : "api";

    private static async Task<IResult> ModerateApiAsync(Guid id, ReviewStatus to, HttpRequest request, ClienteleDatabase database, EventSignal signal, TimeProvider time,
        CancellationToken ct)
    {
        string? note = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var (input, problem) = await JsonBody.ReadAsync<NoteInput>(request, ct);
            if (problem is not null)
            {
                return problem;
            }
            if (input!.Note is { Length: > 1000 })
            {
                return ApiProblems.Invalid("/note", "At most 1,000 characters.");
            }
            note = input.Note;
        }
        var (review, refused) = await ModerateAsync(database, id, to, Who(request.HttpContext.User), note, time.GetUtcNow().UtcDateTime, ct);
        if (refused is not null)
        {
            return refused;
        }
        signal.Notify();
        return TypedResults.Ok(review!.AsDto());
    }

    private static async Task<IResult> GetAsync(Guid id, ClienteleDb db, CancellationToken ct) =>
        await db.Reviews.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct) is { } r
            ? TypedResults.Ok(r.AsDto())
            : ApiProblems.NotFound($"There is no review {id}.");

    private static async Task<IResult> ListAsync(ClienteleDb db, string? status, string? sku, string? cursor, int? limit, CancellationToken ct)
    {
        var size = Math.Clamp(limit ?? 50, 1, 200);
        var query = db.Reviews.AsNoTracking();
        if (status is not null)
        {
            if (!ReviewRules.TryParseStatus(status, out var s))
            {
                return ApiProblems.BadRequest($"\"{status}\" is not a status: pending, approved, rejected or withdrawn.", "query:status");
            }
            query = s == ReviewStatus.Approved ? Published(db, null) : query.Where(r => r.Status == s);
        }
        if (!string.IsNullOrEmpty(sku))
        {
            query = query.Where(r => r.Sku == sku);
        }
        if (cursor is not null)
        {
            if (!Cursor.TryRead(cursor, out var at, out var after))
            {
                return ApiProblems.BadRequest("The cursor is not one this API returned. Start again without it.", "query:cursor");
            }
            query = query.Where(r => r.CreatedAt < at || (r.CreatedAt == at && r.Id.CompareTo(after) < 0));
        }
        var rows = await query.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Take(size + 1).ToListAsync(ct);
        var next = rows.Count > size ? Cursor.Write(rows[size - 1].CreatedAt, rows[size - 1].Id) : null;
        return TypedResults.Ok(new Page<ReviewDto>([.. rows.Take(size).Select(r => r.AsDto())], next));
    }

    /// <summary>The published list, newest first, at most 10,000 reviews.</summary>
    internal static async Task<List<PublishedDto>> PublishedAsync(ClienteleDb db, string? sku, int limit, CancellationToken ct) =>
        await Published(db, string.IsNullOrEmpty(sku) ? null : sku).OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Take(limit)
            .Select(r => new PublishedDto(r.Id, r.Rating, r.Text, r.Sku, r.DisplayName, r.CreatedAt, r.ConsentAt)).ToListAsync(ct);

    internal static async Task<IResult> ExportAsync(ClienteleDb db, string? format, string? sku, CancellationToken ct)
    {
        format ??= "csv";
        if (format is not ("csv" or "json"))
        {
            return ApiProblems.BadRequest($"\"{format}\" is not a format: csv or json.", "query:format");
        }
        var reviews = await PublishedAsync(db, sku, 10_000, ct);
        return format == "json"
            ? TypedResults.File(JsonSerializer.SerializeToUtf8Bytes(reviews, EventJson.Options), "application/json", "reviews.json")
            : TypedResults.File(Encoding.UTF8.GetBytes(Csv(reviews)), "text/csv", "reviews.csv");
    }

    /// <summary>RFC 4180 CSV; a cell that a spreadsheet would take for a formula is kept as text.</summary>
    internal static string Csv(IEnumerable<PublishedDto> reviews)
    {
        static string Cell(string? value)
        {
            value ??= "";
            if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            {
                value = "'" + value;
            }
            return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
        }
        var csv = new StringBuilder("id,rating,text,sku,name,created_at,consent_at\r\n");
        foreach (var r in reviews)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{r.Id},{r.Rating},{Cell(r.Text)},{Cell(r.Sku)},{Cell(r.Name)},{r.CreatedAt:yyyy-MM-ddTHH:mm:ssZ},{r.ConsentAt:yyyy-MM-ddTHH:mm:ssZ}\r\n");
        }
        return csv.ToString();
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, ClienteleDatabase database, EventSignal signal, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<ReviewInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var now = time.GetUtcNow().UtcDateTime;
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(input!.Email) && string.IsNullOrWhiteSpace(input.ExternalId))
        {
            errors.Add(new("/email", "Give an \"email\" or an \"externalId\" to say whose review this is."));
        }
        else if (input.Email is { Length: > 0 } email && !EventRules.IsValidEmail(email.Trim()))
        {
            errors.Add(new("/email", "Not an e-mail address."));
        }
        if (input.Rating is not (>= 1 and <= 5))
        {
            errors.Add(new("/rating", "A rating of 1 to 5."));
        }
        if (string.IsNullOrWhiteSpace(input.Text) || input.Text.Length > ReviewRules.MaxText)
        {
            errors.Add(new("/text", $"The review's words, 1 to {ReviewRules.MaxText:N0} characters."));
        }
        if (input.Sku is { Length: > 100 })
        {
            errors.Add(new("/sku", "At most 100 characters."));
        }
        if (input.NameStyle is { } style && !ReviewRules.NameStyles.Contains(style))
        {
            errors.Add(new("/nameStyle", $"One of {string.Join(", ", ReviewRules.NameStyles)}."));
        }
        if (input.DisplayName is { } shown && (shown.Trim().Length == 0 || shown.Length > 100))
        {
            errors.Add(new("/displayName", "The name to show, 1 to 100 characters."));
        }
        if (input.Consent is not { } consent || string.IsNullOrWhiteSpace(consent.Wording))
        {
            errors.Add(new("/consent", "Say what the customer agreed to: {\"wording\": the words they were shown, \"givenAt\": when}. Reviews are only added with consent to publish."));
        }
        else
        {
            if (consent.Wording!.Length > 1000)
            {
                errors.Add(new("/consent/wording", "At most 1,000 characters."));
            }
            if (consent.GivenAt is { } at && at.UtcDateTime > now.AddMinutes(5))
            {
                errors.Add(new("/consent/givenAt", "Consent cannot be given in the future."));
            }
        }
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        await using var db = database.CreateDbContext();
        Review review;
        bool created;
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var contact = await ContactStore.UpsertAsync(db, new ContactChanges { Email = input.Email?.Trim(), ExternalId = input.ExternalId }, "review", now, ct);
            if (contact.Error is { } wrong)
            {
                return ApiProblems.Invalid([wrong]);
            }
            var person = contact.Contact!;
            var nameStyle = input.NameStyle ?? ReviewRules.DefaultNameStyle;
            (review, created) = await SubmitAsync(db, new Review
            {
                ContactId = person.Id,
                Rating = input.Rating!.Value,
                Text = input.Text!.Trim(),
                Sku = string.IsNullOrWhiteSpace(input.Sku) ? null : input.Sku.Trim(),
                Source = "api",
                NameStyle = input.DisplayName is null ? nameStyle : "custom",
                DisplayName = input.DisplayName?.Trim() ?? ReviewRules.DisplayName(person.FirstName, person.LastName, nameStyle),
                ConsentWording = input.Consent!.Wording!.Trim(),
                ConsentAt = input.Consent.GivenAt?.UtcDateTime ?? now,
                IdempotencyKey = request.Headers["Idempotency-Key"].FirstOrDefault() is { Length: > 0 } given ? "api:" + given : null,
            }, now, ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        signal.Notify();
        return created ? TypedResults.Created($"/api/v1/reviews/{review.Id}", review.AsDto()) : TypedResults.Ok(review.AsDto());
    }
}
