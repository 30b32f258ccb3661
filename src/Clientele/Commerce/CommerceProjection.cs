using System.Globalization;
using System.Text.Json;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Commerce;

/// <summary>Keeps orders and trials in step with <c>order.*</c> and <c>trial.*</c> events.</summary>
internal sealed class CommerceProjection : IEventConsumer
{
    public string Name => "commerce";

    public bool Wants(string eventType) => eventType is "order.placed" or "order.refunded" or "trial.started" or "trial.ended";

    public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct) => e.Type switch
    {
        "order.placed" => ApplyOrderPlacedAsync(context.Db, e, context.Now, ct),
        "order.refunded" => ApplyOrderRefundedAsync(context.Db, e, context.Now, ct),
        "trial.started" => ApplyTrialStartedAsync(context.Db, e, ct),
        "trial.ended" => ApplyTrialEndedAsync(context.Db, e, ct),
        _ => Task.CompletedTask,
    };

    /// <summary>The order an <c>order.placed</c> event describes; its id falls back to the event's key.</summary>
    public static OrderFacts ReadOrder(Event e)
    {
        using var doc = JsonDocument.Parse(e.Properties);
        var p = doc.RootElement;
        var lines = new List<OrderLineFacts>();
        if (p.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in items.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }
                lines.Add(new OrderLineFacts(
                    Str(item, "sku") ?? "",
                    Str(item, "category"),
                    Str(item, "name"),
                    (int)(Num(item, "quantity") ?? 1),
                    Num(item, "price") ?? 0));
            }
        }
        var total = Num(p, "total") ?? lines.Sum(l => l.Price * l.Quantity);
        var id = Str(p, "orderId") ?? e.IdempotencyKey ?? "event-" + e.Id.ToString(CultureInfo.InvariantCulture);
        return new OrderFacts(id, total, (Str(p, "currency") ?? "USD").ToUpperInvariant(), Str(p, "coupon"), lines);
    }

    internal static async Task ApplyOrderPlacedAsync(ClienteleDb db, Event e, DateTime now, CancellationToken ct)
    {
        var facts = ReadOrder(e);
        var order = db.Orders.Local.FirstOrDefault(o => o.ExternalId == facts.OrderId)
            ?? await db.Orders.Include(o => o.Lines).FirstOrDefaultAsync(o => o.ExternalId == facts.OrderId, ct);
        if (order is null)
        {
            order = new Order { Id = Guid.CreateVersion7(), ExternalId = facts.OrderId, CreatedAt = now };
            db.Orders.Add(order);
        }
        order.ContactId = e.ContactId;
        order.Total = facts.Total;
        order.Currency = facts.Currency;
        order.Coupon = facts.Coupon;
        order.PlacedAt = e.OccurredAt;
        order.UpdatedAt = now;
        order.Lines.Clear();
        foreach (var l in facts.Lines)
        {
            order.Lines.Add(new OrderLine { ContactId = e.ContactId, Sku = l.Sku, Category = l.Category, Quantity = l.Quantity, Price = l.Price });
        }
        await EnsureProductsAsync(db, facts, now, ct);
    }

    private static async Task EnsureProductsAsync(ClienteleDb db, OrderFacts facts, DateTime now, CancellationToken ct)
    {
        var skus = facts.Lines.Select(l => l.Sku).Where(s => s.Length > 0).Distinct().ToList();
        if (skus.Count == 0)
        {
            return;
        }
        var known = await db.Products.Where(p => skus.Contains(p.Sku)).Select(p => p.Sku).ToListAsync(ct);
        known.AddRange(db.Products.Local.Select(p => p.Sku));
        foreach (var line in facts.Lines.Where(l => l.Sku.Length > 0 && !known.Contains(l.Sku)).DistinctBy(l => l.Sku))
        {
            // A shop that sends orders before its catalogue still gets a product list to report on.
            db.Products.Add(new Product
            {
                Id = Guid.CreateVersion7(),
                Sku = line.Sku,
                Name = line.Name ?? line.Sku,
                Category = line.Category ?? "",
                Price = line.Price,
                Currency = facts.Currency,
                CreatedAt = now,
                UpdatedAt = now,
            });
        }
    }

    private static async Task ApplyOrderRefundedAsync(ClienteleDb db, Event e, DateTime now, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(e.Properties);
        var id = Str(doc.RootElement, "orderId");
        if (id is null)
        {
            return;
        }
        var order = db.Orders.Local.FirstOrDefault(o => o.ExternalId == id)
            ?? await db.Orders.FirstOrDefaultAsync(o => o.ExternalId == id, ct);
        if (order is null)
        {
            return;
        }
        order.Status = OrderStatus.Refunded;
        order.RefundedAt = e.OccurredAt;
        order.UpdatedAt = now;
    }

    private static async Task ApplyTrialStartedAsync(ClienteleDb db, Event e, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(e.Properties);
        var p = doc.RootElement;
        var product = Str(p, "product") ?? Str(p, "plan");
        var open = await db.Trials.AnyAsync(t => t.ContactId == e.ContactId && t.EndedAt == null && t.Product == product, ct);
        if (open)
        {
            return;
        }
        DateTime? endsAt = Str(p, "endsAt") is { } s && DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var d)
            ? d
            : Num(p, "days") is { } days ? e.OccurredAt.AddDays((double)days) : null;
        db.Trials.Add(new Trial { Id = Guid.CreateVersion7(), ContactId = e.ContactId, Product = product, StartedAt = e.OccurredAt, EndsAt = endsAt });
    }

    private static async Task ApplyTrialEndedAsync(ClienteleDb db, Event e, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(e.Properties);
        var p = doc.RootElement;
        var outcome = Str(p, "outcome")?.ToLowerInvariant() switch
        {
            "converted" => TrialOutcome.Converted,
            _ => TrialOutcome.Lapsed,
        };
        var trial = await db.Trials.Where(t => t.ContactId == e.ContactId && t.EndedAt == null)
            .OrderByDescending(t => t.StartedAt).FirstOrDefaultAsync(ct);
        if (trial is null)
        {
            trial = new Trial { Id = Guid.CreateVersion7(), ContactId = e.ContactId, StartedAt = e.OccurredAt, Product = Str(p, "product") };
            db.Trials.Add(trial);
        }
        trial.EndedAt = e.OccurredAt;
        trial.Outcome = outcome;
    }

    internal static string? Str(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v)
            ? v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Number => v.GetRawText(),
                _ => null,
            }
            : null;

    internal static decimal? Num(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v)
            ? v.ValueKind switch
            {
                JsonValueKind.Number when v.TryGetDecimal(out var d) => d,
                JsonValueKind.String when decimal.TryParse(v.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var d) => d,
                _ => null,
            }
            : null;
}

internal sealed record OrderFacts(string OrderId, decimal Total, string Currency, string? Coupon, List<OrderLineFacts> Lines);

internal sealed record OrderLineFacts(string Sku, string? Category, string? Name, int Quantity, decimal Price);
