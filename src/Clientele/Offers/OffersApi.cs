using System.Text.RegularExpressions;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Offers;

/// <summary><c>/api/v1/offers</c> and <c>/api/v1/coupons</c>: offers with their report, issuing one to a contact, and checking a code at checkout.</summary>
internal static partial class OffersApi
{
    public static RouteGroupBuilder MapOffers(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/offers").WithTags("Offers");
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("Offers with how many were issued and redeemed, and the revenue of the orders that used them");
        group.MapGet("/{id:guid}", GetAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("One offer and its report");
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<OfferInput>("application/json")
            .WithSummary("Create an offer: {\"name\", \"title\", \"kind\": \"percent\"|\"amount\"|\"freeItem\", \"value\", \"currency\", \"freeSku\", \"sharedCode\" or \"prefix\", \"validDays\", \"endsAt\", \"maxRedemptions\", \"segment\"}");
        group.MapPost("/{id:guid}/archive", ArchiveAsync).RequireAuthorization(ApiKeys.WritePolicy).WithSummary("Issue no more of it (codes issued stay valid until they expire)");
        group.MapPost("/{id:guid}/issue", IssueAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<IssueInput>("application/json")
            .WithSummary("Give the offer to a contact ({\"email\"} or {\"contactId\"}): 201 with the coupon; 409 when its end, limit, segment or the offer-fatigue guard stops it");
        group.MapGet("/fatigue", FatigueAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("The offer-fatigue guard: at most maxOffers per contact in periodDays");
        group.MapPut("/fatigue", SaveFatigueAsync).RequireAuthorization(ApiKeys.AdminPolicy).Accepts<OfferFatigue>("application/json").WithSummary("Change the offer-fatigue guard");
        api.MapGet("/coupons/{code}", CheckAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithTags("Offers")
            .WithSummary("Whether an order may use a code now (?email= of the customer): for a shop's checkout");
        return api;
    }

    internal sealed record OfferInput(string? Name, string? Title, string? Description, string? Kind, decimal? Value, string? Currency, string? FreeSku,
        string? SharedCode, string? Prefix, int? ValidDays, DateTime? EndsAt, int? MaxRedemptions, string? Segment);

    internal sealed record IssueInput(string? Email, Guid? ContactId, string? IdempotencyKey);

    internal sealed record Revenue(string Currency, decimal Amount, int Orders);

    internal sealed record OfferDto(Guid Id, string Name, string Title, string? Description, string Kind, decimal Value, string? Currency, string? FreeSku,
        string? SharedCode, string Prefix, int? ValidDays, DateTime? EndsAt, int? MaxRedemptions, string? Segment, bool Archived, string Discount,
        int Issued, int Redeemed, List<Revenue> Revenue, DateTime CreatedAt);

    internal sealed record CouponDto(Guid Id, Guid OfferId, string Offer, Guid ContactId, string Code, DateTime IssuedAt, DateTime? ExpiresAt, string Source,
        DateTime? RedeemedAt, string? OrderId);

    internal sealed record CheckDto(string Code, string? Offer, bool Valid, string? Reason, string? Discount, DateTime? ExpiresAt);

    public static string ToApi(this OfferKind kind) => kind switch
    {
        OfferKind.FreeItem => "freeItem",
        _ => kind.ToString().ToLowerInvariant(),
    };

    [GeneratedRegex("^[A-Z0-9-]{3,40}$")]
    private static partial Regex CodePattern();

    [GeneratedRegex("^[A-Z0-9-]{0,12}$")]
    private static partial Regex PrefixPattern();

    private static async Task<OfferDto> DtoAsync(ClienteleDb db, Offer o, CancellationToken ct)
    {
        var issued = await db.Coupons.CountAsync(c => c.OfferId == o.Id && c.Source != "order", ct);
        var redeemed = await db.Coupons.AsNoTracking().Where(c => c.OfferId == o.Id && c.RedeemedAt != null)
            .Select(c => new { c.OrderCurrency, c.OrderTotal }).ToListAsync(ct);
        var revenue = redeemed.GroupBy(r => r.OrderCurrency ?? "").OrderBy(g => g.Key)
            .Select(g => new Revenue(g.Key, g.Sum(r => r.OrderTotal ?? 0), g.Count())).ToList();
        return Dto(o, issued, redeemed.Count, revenue);
    }

    private static async Task<IResult> ListAsync(ClienteleDb db, CancellationToken ct) => TypedResults.Ok(await ListDtosAsync(db, ct));

    /// <summary>Every offer with its report, in three queries whatever their number.</summary>
    internal static async Task<List<OfferDto>> ListDtosAsync(ClienteleDb db, CancellationToken ct)
    {
        var offers = await db.Offers.AsNoTracking().OrderBy(o => o.Name).ToListAsync(ct);
        var issued = await db.Coupons.AsNoTracking().Where(c => c.Source != "order").GroupBy(c => c.OfferId)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var redeemed = (await db.Coupons.AsNoTracking().Where(c => c.RedeemedAt != null).GroupBy(c => new { c.OfferId, c.OrderCurrency })
            .Select(g => new { g.Key.OfferId, g.Key.OrderCurrency, Amount = g.Sum(c => c.OrderTotal ?? 0), Count = g.Count() }).ToListAsync(ct))
            .ToLookup(r => r.OfferId);
        return offers.Select(o => Dto(o, issued.GetValueOrDefault(o.Id), redeemed[o.Id].Sum(r => r.Count),
            redeemed[o.Id].OrderBy(r => r.OrderCurrency ?? "").Select(r => new Revenue(r.OrderCurrency ?? "", r.Amount, r.Count)).ToList())).ToList();
    }

    private static OfferDto Dto(Offer o, int issued, int redeemed, List<Revenue> revenue) =>
        new(o.Id, o.Name, o.Title, o.Description, o.Kind.ToApi(), o.Value, o.Currency, o.FreeSku, o.SharedCode, o.Prefix, o.ValidDays,
            o.EndsAt, o.MaxRedemptions, o.Segment, o.Archived, OfferRules.Discount(o), issued, redeemed, revenue, o.CreatedAt);

    private static async Task<IResult> GetAsync(Guid id, ClienteleDb db, CancellationToken ct) =>
        await db.Offers.AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, ct) is { } o
            ? TypedResults.Ok(await DtoAsync(db, o, ct))
            : ApiProblems.NotFound($"There is no offer {id}.");

    /// <summary>Everything wrong with a new offer, by field.</summary>
    internal static List<FieldError> Check(OfferInput input, OfferKind? kind, IReadOnlySet<string> segments)
    {
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > 200)
        {
            errors.Add(new("/name", "A name of 1 to 200 characters."));
        }
        if (string.IsNullOrWhiteSpace(input.Title) || input.Title.Length > 300)
        {
            errors.Add(new("/title", "A title the customer reads, 1 to 300 characters (e.g. \"10 % off your next bag\")."));
        }
        switch (kind)
        {
            case null:
                errors.Add(new("/kind", "The kind is percent, amount or freeItem."));
                break;
            case OfferKind.Percent when input.Value is not (> 0 and <= 100):
                errors.Add(new("/value", "A percentage above 0 and at most 100."));
                break;
            case OfferKind.Amount when input.Value is not > 0:
                errors.Add(new("/value", "An amount above 0."));
                break;
            case OfferKind.Amount when input.Currency is not { Length: 3 }:
                errors.Add(new("/currency", "An amount needs its currency (three letters, e.g. EUR)."));
                break;
            case OfferKind.FreeItem when string.IsNullOrWhiteSpace(input.FreeSku):
                errors.Add(new("/freeSku", "Name the product given for free (its sku)."));
                break;
        }
        if (input.SharedCode is { } shared && !CodePattern().IsMatch(OfferRules.Normalize(shared)))
        {
            errors.Add(new("/sharedCode", "A shared code is 3 to 40 letters, digits or dashes."));
        }
        if (input.Prefix is { } prefix && !PrefixPattern().IsMatch(OfferRules.Normalize(prefix)))
        {
            errors.Add(new("/prefix", "A prefix is up to 12 letters, digits or dashes."));
        }
        if (input.SharedCode is not null && input.Prefix is not null)
        {
            errors.Add(new("/prefix", "A prefix is for codes of their own; a shared code is the same for everyone."));
        }
        if (input.ValidDays is < 1 or > 3650)
        {
            errors.Add(new("/validDays", "Between 1 and 3,650 days."));
        }
        if (input.MaxRedemptions is < 1)
        {
            errors.Add(new("/maxRedemptions", "At least one redemption (or leave it out for no limit)."));
        }
        if (input.Segment is { } segment && !segments.Contains(segment))
        {
            errors.Add(new("/segment", $"There is no segment \"{segment}\"."));
        }
        return errors;
    }

    private static OfferKind? KindOf(string? kind) => kind switch
    {
        "percent" => OfferKind.Percent,
        "amount" => OfferKind.Amount,
        "freeItem" => OfferKind.FreeItem,
        _ => null,
    };

    private static async Task<IResult> CreateAsync(HttpRequest request, ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<OfferInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (offer, errors, conflict) = await AddAsync(database, input!, time.GetUtcNow().UtcDateTime, ct);
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        if (conflict is not null)
        {
            return ApiProblems.Conflict(conflict.Message, conflict.Field);
        }
        await using var db = database.CreateDbContext();
        return TypedResults.Created($"/api/v1/offers/{offer!.Id}", await DtoAsync(db, offer, ct));
    }

    /// <summary>Adds an offer (the API and the Offers page): what is wrong by field, or a name or code in use, or the new offer.</summary>
    internal static async Task<(Offer? Offer, List<FieldError> Errors, FieldError? Conflict)> AddAsync(ClienteleDatabase database, OfferInput input, DateTime now,
        CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        var segments = (await db.Segments.AsNoTracking().Select(s => s.Name).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        var kind = KindOf(input.Kind);
        var errors = Check(input, kind, segments);
        if (errors.Count > 0)
        {
            return (null, errors, null);
        }
        var offer = new Offer
        {
            Id = Guid.CreateVersion7(),
            Name = input.Name!.Trim(),
            Title = input.Title!.Trim(),
            Description = input.Description,
            Kind = kind!.Value,
            Value = input.Value ?? 0,
            Currency = input.Currency?.ToUpperInvariant(),
            FreeSku = input.FreeSku,
            SharedCode = input.SharedCode is { } shared ? OfferRules.Normalize(shared) : null,
            Prefix = OfferRules.Normalize(input.Prefix ?? ""),
            ValidDays = input.ValidDays,
            EndsAt = input.EndsAt?.ToUniversalTime(),
            MaxRedemptions = input.MaxRedemptions,
            Segment = input.Segment,
            CreatedAt = now,
            UpdatedAt = now,
        };
        using (await database.EnterWriteAsync(ct))
        {
            if (await db.Offers.AnyAsync(o => o.Name == offer.Name, ct))
            {
                return (null, [], new("/name", $"There is an offer called \"{offer.Name}\" already."));
            }
            if (offer.SharedCode is { } code && (await db.Offers.AnyAsync(o => o.SharedCode == code, ct) || await db.Coupons.AnyAsync(c => c.Code == code, ct)))
            {
                return (null, [], new("/sharedCode", $"The code {code} is in use already."));
            }
            db.Offers.Add(offer);
            await db.SaveChangesAsync(ct);
        }
        return (offer, [], null);
    }

    private static async Task<IResult> ArchiveAsync(Guid id, ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        using var gate = await database.EnterWriteAsync(ct);
        if (await db.Offers.FirstOrDefaultAsync(o => o.Id == id, ct) is not { } offer)
        {
            return ApiProblems.NotFound($"There is no offer {id}.");
        }
        offer.Archived = true;
        offer.UpdatedAt = time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new { archived = true });
    }

    private static async Task<IResult> IssueAsync(Guid id, HttpRequest request, ClienteleDatabase database, EventSignal signal, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<IssueInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (input!.Email is null && input.ContactId is null)
        {
            return ApiProblems.Invalid("/email", "Say who gets it: \"email\" or \"contactId\".");
        }
        var key = input.IdempotencyKey is { Length: > 0 } given ? "api:" + given : $"api:{Guid.CreateVersion7():N}";
        var (dto, repeat, missing, refusal) = await GiveAsync(database, id, input.Email, input.ContactId, "api", key, time.GetUtcNow().UtcDateTime, ct);
        if (missing is not null)
        {
            return ApiProblems.NotFound(missing);
        }
        if (refusal is not null)
        {
            return ApiProblems.Conflict(refusal);
        }
        signal.Notify();
        return repeat ? TypedResults.Ok(dto) : TypedResults.Created($"/api/v1/offers/{id}", dto);
    }

    /// <summary>
    /// Gives the offer to a contact (by e-mail or id) in its own transaction, within its rules and the fatigue guard: the
    /// coupon (and whether the key had issued it before), or what is missing, or why not.
    /// </summary>
    internal static async Task<(CouponDto? Coupon, bool Repeat, string? Missing, string? Refusal)> GiveAsync(ClienteleDatabase database, Guid offerId,
        string? email, Guid? contactId, string source, string key, DateTime now, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        using var gate = await database.EnterWriteAsync(ct);
        if (await db.Offers.AsNoTracking().FirstOrDefaultAsync(o => o.Id == offerId, ct) is not { } offer)
        {
            return (null, false, $"There is no offer {offerId}.", null);
        }
        var normalized = Contact.Normalize(email);
        var contact = await db.Contacts.AsNoTracking()
            .FirstOrDefaultAsync(c => c.DeletedAt == null && (contactId != null ? c.Id == contactId : c.EmailNormalized == normalized), ct);
        if (contact is null)
        {
            return (null, false, $"There is no contact {email ?? contactId?.ToString()}.", null);
        }
        var fatigue = await SettingsStore.LoadAsync(db, OfferFatigue.Key, OfferFatigue.Default, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var outcome = await OfferIssuer.IssueAsync(db, offer, contact, source, key, now, fatigue, null, ct);
        if (outcome.Refusal is { } refusal)
        {
            return (null, false, null, refusal);
        }
        if (outcome.Issued is { } issued)
        {
            db.Events.Add(issued);
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        var c = outcome.Coupon!;
        return (new CouponDto(c.Id, offer.Id, offer.Name, c.ContactId, c.Code, c.IssuedAt, c.ExpiresAt, c.Source, c.RedeemedAt, c.OrderId), outcome.Repeat, null, null);
    }

    private static async Task<IResult> CheckAsync(string code, string? email, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var normalized = OfferRules.Normalize(code);
        var contactId = email is null ? (Guid?)null
            : await db.Contacts.AsNoTracking().Where(c => c.EmailNormalized == Contact.Normalize(email)).Select(c => (Guid?)c.Id).FirstOrDefaultAsync(ct);
        var offer = await db.Offers.AsNoTracking().FirstOrDefaultAsync(o => o.SharedCode == normalized, ct);
        Coupon? coupon;
        if (offer is not null)
        {
            // A shared code: anyone may use it once, issued or not.
            coupon = contactId is { } who ? await db.Coupons.AsNoTracking().FirstOrDefaultAsync(c => c.OfferId == offer.Id && c.ContactId == who, ct) : null;
            coupon ??= new Coupon { Code = normalized, ContactId = contactId ?? Guid.Empty, ExpiresAt = offer.EndsAt };
        }
        else
        {
            coupon = await db.Coupons.AsNoTracking().FirstOrDefaultAsync(c => c.Code == normalized, ct);
            offer = coupon is null ? null : await db.Offers.AsNoTracking().FirstOrDefaultAsync(o => o.Id == coupon.OfferId, ct);
        }
        if (offer is null)
        {
            return TypedResults.Ok(new CheckDto(normalized, null, false, "No offer has this code.", null, null));
        }
        var redeemed = await db.Coupons.CountAsync(c => c.OfferId == offer.Id && c.RedeemedAt != null, ct);
        // Without an e-mail the code is checked for its owner.
        var reason = OfferRules.WhyNotRedeem(offer, coupon, contactId ?? coupon!.ContactId, now, redeemed);
        return TypedResults.Ok(new CheckDto(normalized, offer.Name, reason is null, reason, OfferRules.Discount(offer), coupon?.ExpiresAt));
    }

    private static async Task<IResult> FatigueAsync(ClienteleDb db, CancellationToken ct) =>
        TypedResults.Ok(await SettingsStore.LoadAsync(db, OfferFatigue.Key, OfferFatigue.Default, ct));

    private static async Task<IResult> SaveFatigueAsync(HttpRequest request, ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<OfferFatigue>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new List<FieldError>();
        if (input!.MaxOffers is < 1 or > 100)
        {
            errors.Add(new("/maxOffers", "Between 1 and 100 offers."));
        }
        if (input.PeriodDays is < 1 or > 365)
        {
            errors.Add(new("/periodDays", "Between 1 and 365 days."));
        }
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            await SettingsStore.SaveAsync(db, OfferFatigue.Key, input, time.GetUtcNow().UtcDateTime, ct);
        }
        return TypedResults.Ok(input);
    }
}
