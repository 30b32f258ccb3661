using System.Text.Json;
using System.Text.Json.Serialization;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Commerce;

internal static class CommerceApi
{
    public static RouteGroupBuilder MapCommerce(this RouteGroupBuilder api)
    {
        var products = api.MapGroup("/products").WithTags("Products");
        products.MapGet("/", ListProducts).RequireAuthorization(ApiKeys.ReadPolicy);
        products.MapPost("/", UpsertProduct).RequireAuthorization(ApiKeys.WritePolicy).Accepts<ProductInput>("application/json");

        var orders = api.MapGroup("/orders").WithTags("Orders");
        orders.MapGet("/", ListOrders).RequireAuthorization(ApiKeys.ReadPolicy);
        orders.MapGet("/{externalId}", GetOrder).RequireAuthorization(ApiKeys.ReadPolicy);
        orders.MapPost("/", UpsertOrder).RequireAuthorization(ApiKeys.WritePolicy).Accepts<OrderInput>("application/json");
        return api;
    }

    internal static async Task<Ok<List<ProductDto>>> ListProducts(ClienteleDb db, CancellationToken ct) =>
        TypedResults.Ok(await db.Products.AsNoTracking().OrderBy(p => p.Category).ThenBy(p => p.Name)
            .Select(p => new ProductDto(p.Id, p.Sku, p.Name, p.Category, p.Price, p.Currency, p.Url, p.ImageUrl)).ToListAsync(ct));

    internal static async Task<IResult> UpsertProduct(HttpRequest request, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        var (doc, problem) = await JsonBody.ReadAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        using (doc)
        {
            var (input, bindProblem) = JsonBody.Bind<ProductInput>(doc!.RootElement);
            if (bindProblem is not null)
            {
                return bindProblem;
            }
            var errors = new List<FieldError>();
            if (string.IsNullOrWhiteSpace(input!.Sku))
            {
                errors.Add(new FieldError("/sku", "Required."));
            }
            if (input.Price is < 0)
            {
                errors.Add(new FieldError("/price", "Must not be negative."));
            }
            if (input.Currency is { Length: not 3 })
            {
                errors.Add(new FieldError("/currency", "A three-letter ISO 4217 code such as \"USD\"."));
            }
            CheckUrl(input.Url, "/url", errors);
            CheckUrl(input.ImageUrl, "/imageUrl", errors);
            if (errors.Count > 0)
            {
                return ApiProblems.Invalid(errors);
            }
            var now = time.GetUtcNow().UtcDateTime;
            var sku = input.Sku!.Trim();
            var product = await db.Products.FirstOrDefaultAsync(p => p.Sku == sku, ct);
            var created = product is null;
            if (product is null)
            {
                product = new Product { Id = Guid.CreateVersion7(), Sku = sku, CreatedAt = now };
                db.Products.Add(product);
            }
            product.Name = input.Name ?? (created ? sku : product.Name);
            product.Category = input.Category ?? product.Category;
            product.Price = input.Price ?? product.Price;
            product.Currency = input.Currency?.ToUpperInvariant() ?? product.Currency;
            // Left out: kept; an empty string: removed.
            product.Url = input.Url is null ? product.Url : NullIfBlank(input.Url);
            product.ImageUrl = input.ImageUrl is null ? product.ImageUrl : NullIfBlank(input.ImageUrl);
            product.UpdatedAt = now;
            await db.SaveChangesAsync(ct);
            var dto = product.AsDto();
            return created ? TypedResults.Created($"/api/v1/products/{dto.Sku}", dto) : TypedResults.Ok(dto);
        }
    }

    private static string? NullIfBlank(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>A product's link or picture: an absolute http(s) address, or empty to remove it.</summary>
    internal static void CheckUrl(string? value, string field, List<FieldError> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return;
        }
        if (value.Trim().Length > Product.MaxUrlLength)
        {
            errors.Add(new FieldError(field, $"At most {Product.MaxUrlLength} characters."));
        }
        else if (!Clientele.Templates.Brand.IsWebUrl(value.Trim()))
        {
            errors.Add(new FieldError(field, "An http or https address such as \"https://shop.example/beans\"."));
        }
    }

    internal static async Task<Results<Ok<Page<OrderDto>>, ProblemHttpResult>> ListOrders(
        ClienteleDb db, Guid? contactId, string? cursor, int? limit, CancellationToken ct)
    {
        var size = Math.Clamp(limit ?? 50, 1, 500);
        var query = db.Orders.AsNoTracking();
        if (contactId is { } id)
        {
            query = query.Where(o => o.ContactId == id);
        }
        if (cursor is not null)
        {
            if (!Cursor.TryRead(cursor, out var at, out var after))
            {
                return ApiProblems.BadRequest("The cursor is not one this API returned. Start again without it.", "query:cursor");
            }
            query = query.Where(o => o.PlacedAt < at || (o.PlacedAt == at && o.Id.CompareTo(after) < 0));
        }
        var rows = await query.OrderByDescending(o => o.PlacedAt).ThenByDescending(o => o.Id).Take(size + 1)
            .Include(o => o.Lines).AsSplitQuery().ToListAsync(ct);
        var next = rows.Count > size ? Cursor.Write(rows[size - 1].PlacedAt, rows[size - 1].Id) : null;
        return TypedResults.Ok(new Page<OrderDto>(rows.Take(size).Select(o => o.AsDto()).ToList(), next));
    }

    internal static async Task<Results<Ok<OrderDto>, ProblemHttpResult>> GetOrder(string externalId, ClienteleDb db, CancellationToken ct)
    {
        var order = await db.Orders.AsNoTracking().Include(o => o.Lines).FirstOrDefaultAsync(o => o.ExternalId == externalId, ct);
        return order is null ? ApiProblems.NotFound($"No order has the id '{externalId}'.") : TypedResults.Ok(order.AsDto());
    }

    /// <summary>
    /// Creates or updates an order. A new order is an <c>order.placed</c> event on the contact's timeline;
    /// a change of status to refunded is an <c>order.refunded</c> event.
    /// </summary>
    internal static async Task<IResult> UpsertOrder(HttpRequest request, ClienteleDb db, TimeProvider time, EventSignal signal, CancellationToken ct)
    {
        var (doc, problem) = await JsonBody.ReadAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        using (doc)
        {
            var (input, bindProblem) = JsonBody.Bind<OrderInput>(doc!.RootElement);
            if (bindProblem is not null)
            {
                return bindProblem;
            }
            var errors = Validate(input!);
            if (errors.Count > 0)
            {
                return ApiProblems.Invalid(errors);
            }
            // The commerce projection may touch the same order in the background; on a collision, look again.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await StoreOrderAsync(input!, db, time, signal, ct);
                }
                catch (DbUpdateConcurrencyException) when (attempt < 3)
                {
                    db.ChangeTracker.Clear();
                }
            }
        }
    }

    private static async Task<IResult> StoreOrderAsync(OrderInput input, ClienteleDb db, TimeProvider time, EventSignal signal, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var orderId = input.OrderId!.Trim();
        var existing = await db.Orders.Include(o => o.Lines).FirstOrDefaultAsync(o => o.ExternalId == orderId, ct);

        Guid contactId;
        if (input.ContactId is { } cid)
        {
            if (!await db.Contacts.AnyAsync(c => c.Id == cid, ct))
            {
                return ApiProblems.Invalid("/contactId", $"No contact has the id {cid}.");
            }
            contactId = cid;
        }
        else
        {
            var changes = new ContactChanges { Email = input.Email, ExternalId = input.ExternalId };
            var outcome = await ContactStore.UpsertAsync(db, changes, "api", now, ct);
            if (outcome.Error is { } error)
            {
                return ApiProblems.Conflict(error.Message, error.Field);
            }
            contactId = outcome.Contact!.Id;
        }

        var placedAt = input.PlacedAt?.UtcDateTime ?? existing?.PlacedAt ?? now;
        // An update names only what changes; everything it leaves out keeps its stored value.
        var items = input.Items?.Select(i => new ItemProperties(i.Sku, i.Category, i.Name, i.Quantity ?? 1, i.Price, NullIfBlank(i.Url ?? ""), NullIfBlank(i.ImageUrl ?? ""))).ToList()
            ?? existing?.Lines.Select(l => new ItemProperties(l.Sku, l.Category, null, l.Quantity, l.Price, null, null)).ToList()
            ?? [];
        var properties = JsonSerializer.Serialize(new
        {
            orderId,
            total = input.Total ?? (input.Items is null ? existing?.Total : null) ?? items.Sum(i => i.Price * i.Quantity),
            currency = (input.Currency ?? existing?.Currency ?? "USD").ToUpperInvariant(),
            coupon = input.Coupon ?? existing?.Coupon,
            items,
        }, EventJson.Options);

        var placed = new Event
        {
            ContactId = contactId,
            Type = existing is null ? "order.placed" : "order.updated",
            OccurredAt = existing is null ? placedAt : now,
            ReceivedAt = now,
            Properties = properties,
            IdempotencyKey = existing is null ? "order:" + orderId : null,
            Source = "api",
        };
        db.Events.Add(placed);
        // Apply now, not only in the background, so the response shows the stored order.
        var asPlaced = new Event { ContactId = contactId, Type = "order.placed", OccurredAt = placedAt, Properties = properties, IdempotencyKey = placed.IdempotencyKey };
        await CommerceProjection.ApplyOrderPlacedAsync(db, asPlaced, now, ct);
        var order = db.Orders.Local.First(o => o.ExternalId == orderId);
        if (input.Status is "refunded" && order.Status != OrderStatus.Refunded)
        {
            CommerceProjection.Refund(db, order, contactId, orderId, now, now, "api");
        }
        else if (input.Status is "cancelled" && order.Status != OrderStatus.Cancelled)
        {
            order.Status = OrderStatus.Cancelled;
            // On the log too, so that what the order caused (its stage) is undone.
            db.Events.Add(new Event
            {
                ContactId = contactId,
                Type = "order.cancelled",
                OccurredAt = now,
                ReceivedAt = now,
                Properties = JsonSerializer.Serialize(new { orderId }, EventJson.Options),
                IdempotencyKey = "order-cancel:" + orderId,
                Source = "api",
            });
        }
        await db.SaveChangesAsync(ct);
        signal.Notify();
        var dto = order.AsDto();
        return existing is null ? TypedResults.Created($"/api/v1/orders/{Uri.EscapeDataString(orderId)}", dto) : TypedResults.Ok(dto);
    }

    private static List<FieldError> Validate(OrderInput input)
    {
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(input.OrderId))
        {
            errors.Add(new FieldError("/orderId", "Required: the shop's order id."));
        }
        if (input.ContactId is null && string.IsNullOrWhiteSpace(input.Email) && string.IsNullOrWhiteSpace(input.ExternalId))
        {
            errors.Add(new FieldError("/email", "Say who ordered: \"email\", \"externalId\" or \"contactId\"."));
        }
        if (input.Email is { Length: > 0 } e && !EventRules.IsValidEmail(e.Trim()))
        {
            errors.Add(new FieldError("/email", $"\"{e}\" is not a valid e-mail address."));
        }
        if (input.Total is < 0)
        {
            errors.Add(new FieldError("/total", "Must not be negative."));
        }
        if (input.Currency is { Length: not 3 })
        {
            errors.Add(new FieldError("/currency", "A three-letter ISO 4217 code such as \"USD\"."));
        }
        if (input.Status is not (null or "placed" or "refunded" or "cancelled"))
        {
            errors.Add(new FieldError("/status", "One of \"placed\", \"refunded\", \"cancelled\"."));
        }
        for (var i = 0; i < (input.Items?.Count ?? 0); i++)
        {
            var item = input.Items![i];
            if (item is null)
            {
                errors.Add(new FieldError($"/items/{i}", "Must be an object with a sku."));
                continue;
            }
            if (string.IsNullOrWhiteSpace(item.Sku))
            {
                errors.Add(new FieldError($"/items/{i}/sku", "Required."));
            }
            if (item.Quantity is <= 0)
            {
                errors.Add(new FieldError($"/items/{i}/quantity", "Must be at least 1."));
            }
            if (item.Price < 0)
            {
                errors.Add(new FieldError($"/items/{i}/price", "Must not be negative."));
            }
            CheckUrl(item.Url, $"/items/{i}/url", errors);
            CheckUrl(item.ImageUrl, $"/items/{i}/imageUrl", errors);
        }
        return errors;
    }

    public static ProductDto AsDto(this Product p) => new(p.Id, p.Sku, p.Name, p.Category, p.Price, p.Currency, p.Url, p.ImageUrl);

    public static OrderDto AsDto(this Order o) => new(
        o.Id, o.ExternalId, o.ContactId, o.Total, o.Currency, o.PlacedAt, o.Status.ToString().ToLowerInvariant(), o.RefundedAt, o.Coupon,
        o.Lines.Select(l => new OrderLineDto(l.Sku, l.Category, l.Quantity, l.Price)).ToList());
}

internal sealed record ProductInput(string? Sku, string? Name, string? Category, decimal? Price, string? Currency, string? Url = null, string? ImageUrl = null);

internal sealed record ProductDto(Guid Id, string Sku, string Name, string Category, decimal Price, string Currency, string? Url, string? ImageUrl);

/// <summary>An item as an <c>order.placed</c> event carries it; the product's link and picture only when known.</summary>
internal sealed record ItemProperties(
    string? Sku, string? Category, string? Name, int Quantity, decimal Price,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Url,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ImageUrl);

internal sealed record OrderItemInput(string? Sku, string? Category, string? Name, int? Quantity, decimal Price, string? Url = null, string? ImageUrl = null);

internal sealed record OrderInput(
    string? OrderId, string? Email, string? ExternalId, Guid? ContactId, DateTimeOffset? PlacedAt, decimal? Total,
    string? Currency, string? Coupon, string? Status, List<OrderItemInput>? Items);

internal sealed record OrderLineDto(string Sku, string? Category, int Quantity, decimal Price);

internal sealed record OrderDto(
    Guid Id, string OrderId, Guid ContactId, decimal Total, string Currency, DateTime PlacedAt, string Status, DateTime? RefundedAt,
    string? Coupon, List<OrderLineDto> Lines);
