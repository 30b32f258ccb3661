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

    public bool Wants(string eventType) => eventType is "order.placed" or "order.refunded" or "order.cancelled" or "trial.started" or "trial.ended";

    /// <summary>Loads the batch's orders and products in two queries, then applies each event in order.</summary>
    public async Task HandleBatchAsync(ConsumerContext context, IReadOnlyList<Event> events, CancellationToken ct)
    {
        var db = context.Db;
        var orders = events.Where(e => e.Type.StartsWith("order.", StringComparison.Ordinal)).Select(e => ReadOrder(e)).ToList();
        var ids = orders.Select(o => o.OrderId).Distinct().ToList();
        var skus = orders.SelectMany(o => o.Lines).Select(l => l.Sku).Where(s => s.Length > 0).Distinct().ToList();
        var book = new OrderBook(db, preloaded: true);
        if (ids.Count > 0)
        {
            foreach (var o in await db.Orders.Include(o => o.Lines).Where(o => ids.Contains(o.ExternalId)).ToListAsync(ct))
            {
                book.Orders[o.ExternalId] = o;
            }
        }
        if (skus.Count > 0)
        {
            book.Skus.UnionWith(await db.Products.Where(p => skus.Contains(p.Sku)).Select(p => p.Sku).ToListAsync(ct));
        }
        var trialContacts = events.Where(e => e.Type.StartsWith("trial.", StringComparison.Ordinal)).Select(e => e.ContactId).Distinct().ToList();
        if (trialContacts.Count > 0)
        {
            var known = await db.Trials.Where(t => trialContacts.Contains(t.ContactId)).ToListAsync(ct);
            foreach (var id in trialContacts)
            {
                book.Trials[id] = known.Where(t => t.ContactId == id).ToList();
            }
        }
        foreach (var e in events)
        {
            await ApplyAsync(book, e, context.Now, ct);
        }
    }

    public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct) =>
        ApplyAsync(new OrderBook(context.Db, preloaded: false), e, context.Now, ct);

    /// <summary>
    /// The orders and products a batch touches, by id. Looking them up here instead of in the change
    /// tracker's local view keeps a batch linear: every local-view access rescans all tracked entities.
    /// </summary>
    private sealed class OrderBook(ClienteleDb db, bool preloaded)
    {
        public ClienteleDb Db { get; } = db;
        public Dictionary<string, Order> Orders { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Skus { get; } = new(StringComparer.Ordinal);

        public async Task<Order?> FindAsync(string id, bool withLines, CancellationToken ct)
        {
            if (Orders.TryGetValue(id, out var order) || preloaded)
            {
                return order;
            }
            IQueryable<Order> query = withLines ? Db.Orders.Include(o => o.Lines) : Db.Orders;
            order = Db.Orders.Local.FirstOrDefault(o => o.ExternalId == id) ?? await query.FirstOrDefaultAsync(o => o.ExternalId == id, ct);
            if (order is not null)
            {
                Orders[id] = order;
            }
            return order;
        }

        public Dictionary<Guid, List<Trial>> Trials { get; } = [];

        /// <summary>All trials of one contact, including those added in this batch.</summary>
        public async Task<List<Trial>> TrialsAsync(Guid contactId, CancellationToken ct)
        {
            if (!Trials.TryGetValue(contactId, out var trials))
            {
                trials = preloaded ? [] : await Db.Trials.Where(t => t.ContactId == contactId).ToListAsync(ct);
                Trials[contactId] = trials;
            }
            return trials;
        }

        public async Task<List<string>> UnknownSkusAsync(List<string> skus, CancellationToken ct)
        {
            if (!preloaded && skus.Any(s => !Skus.Contains(s)))
            {
                Skus.UnionWith(Db.Products.Local.Select(p => p.Sku));
                Skus.UnionWith(await Db.Products.Where(p => skus.Contains(p.Sku)).Select(p => p.Sku).ToListAsync(ct));
            }
            return skus.Where(s => !Skus.Contains(s)).ToList();
        }
    }

    private static Task ApplyAsync(OrderBook book, Event e, DateTime now, CancellationToken ct) => e.Type switch
    {
        "order.placed" => ApplyOrderPlacedAsync(book, e, now, ct),
        "order.refunded" => ApplyOrderRefundedAsync(book, e, now, ct),
        "order.cancelled" => ApplyOrderCancelledAsync(book, e, now, ct),
        "trial.started" => ApplyTrialStartedAsync(book, e, ct),
        "trial.ended" => ApplyTrialEndedAsync(book, e, ct),
        _ => Task.CompletedTask,
    };

    internal static string RefundKey(string orderId) => "order-refund:" + orderId;

    private static async Task ApplyOrderCancelledAsync(OrderBook book, Event e, DateTime now, CancellationToken ct)
    {
        var order = await book.FindAsync(ReadOrder(e).OrderId, withLines: false, ct);
        if (order is not null && order.Status == OrderStatus.Placed)
        {
            order.Status = OrderStatus.Cancelled;
            order.UpdatedAt = now;
        }
    }

    /// <summary>
    /// Marks an order refunded and records it as an <c>order.refunded</c> event, once per order
    /// (the API and imports both refund this way).
    /// </summary>
    internal static void Refund(ClienteleDb db, Order? order, Guid contactId, string orderId, DateTime at, DateTime now, string source)
    {
        if (order is not null)
        {
            order.Status = OrderStatus.Refunded;
            order.RefundedAt = at;
            order.UpdatedAt = now;
        }
        db.Events.Add(new Event
        {
            ContactId = contactId,
            Type = "order.refunded",
            OccurredAt = at,
            ReceivedAt = now,
            Properties = JsonSerializer.Serialize(new { orderId }, EventJson.Options),
            IdempotencyKey = RefundKey(orderId),
            Source = source,
        });
    }

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
                    Num(item, "price") ?? 0,
                    WebAddress(Str(item, "url")),
                    WebAddress(Str(item, "imageUrl"))));
            }
        }
        var total = Num(p, "total") ?? lines.Sum(l => l.Price * l.Quantity);
        var id = Str(p, "orderId") ?? e.IdempotencyKey ?? "event-" + e.Id.ToString(CultureInfo.InvariantCulture);
        return new OrderFacts(id, total, (Str(p, "currency") ?? "USD").ToUpperInvariant(), Str(p, "coupon"), lines);
    }

    /// <summary>Creates or updates the order an <c>order.placed</c> event describes (used by the API and imports too).</summary>
    internal static Task ApplyOrderPlacedAsync(ClienteleDb db, Event e, DateTime now, CancellationToken ct)
        => ApplyOrderPlacedAsync(new OrderBook(db, preloaded: false), e, now, ct);

    private static async Task ApplyOrderPlacedAsync(OrderBook book, Event e, DateTime now, CancellationToken ct)
    {
        var db = book.Db;
        var facts = ReadOrder(e);
        var order = await book.FindAsync(facts.OrderId, withLines: true, ct);
        if (order is null)
        {
            order = new Order { Id = Guid.CreateVersion7(), ExternalId = facts.OrderId, CreatedAt = now };
            db.Orders.Add(order);
            book.Orders[order.ExternalId] = order;
        }
        var sameLines = order.Lines.Count == facts.Lines.Count && order.Lines.Zip(facts.Lines).All(p =>
            p.First.Sku == p.Second.Sku && p.First.Category == p.Second.Category && p.First.Quantity == p.Second.Quantity && p.First.Price == p.Second.Price);
        var changed = !sameLines || order.ContactId != e.ContactId || order.Total != facts.Total || order.Currency != facts.Currency
            || order.Coupon != facts.Coupon || order.PlacedAt != e.OccurredAt;
        if (!changed)
        {
            return; // a replay, or the API already stored it: write nothing, so nothing can collide
        }
        order.ContactId = e.ContactId;
        order.Total = facts.Total;
        order.Currency = facts.Currency;
        order.Coupon = facts.Coupon;
        order.PlacedAt = e.OccurredAt;
        order.UpdatedAt = now;
        if (!sameLines)
        {
            order.Lines.Clear();
            foreach (var l in facts.Lines)
            {
                order.Lines.Add(new OrderLine { ContactId = e.ContactId, Sku = l.Sku, Category = l.Category, Quantity = l.Quantity, Price = l.Price });
            }
        }
        var unknown = await book.UnknownSkusAsync(facts.Lines.Select(l => l.Sku).Where(s => s.Length > 0).Distinct().ToList(), ct);
        foreach (var line in facts.Lines.Where(l => unknown.Contains(l.Sku)).DistinctBy(l => l.Sku))
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
                Url = line.Url,
                ImageUrl = line.ImageUrl,
                CreatedAt = now,
                UpdatedAt = now,
            });
            book.Skus.Add(line.Sku);
        }
    }

    private static async Task ApplyOrderRefundedAsync(OrderBook book, Event e, DateTime now, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(e.Properties);
        var id = Str(doc.RootElement, "orderId");
        if (id is null)
        {
            return;
        }
        var order = await book.FindAsync(id, withLines: false, ct);
        if (order is null)
        {
            return;
        }
        order.Status = OrderStatus.Refunded;
        order.RefundedAt = e.OccurredAt;
        order.UpdatedAt = now;
    }

    private static async Task ApplyTrialStartedAsync(OrderBook book, Event e, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(e.Properties);
        var p = doc.RootElement;
        var product = Str(p, "product") ?? Str(p, "plan");
        var trials = await book.TrialsAsync(e.ContactId, ct);
        // Already known (a replay), or one of this product still running: nothing new.
        if (trials.Any(t => t.Product == product && (t.StartedAt == e.OccurredAt || t.EndedAt == null)))
        {
            return;
        }
        DateTime? endsAt = Str(p, "endsAt") is { } s && DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var d)
            ? d
            : Num(p, "days") is { } days ? e.OccurredAt.AddDays((double)days) : null;
        var trial = new Trial { Id = Guid.CreateVersion7(), ContactId = e.ContactId, Product = product, StartedAt = e.OccurredAt, EndsAt = endsAt };
        book.Db.Trials.Add(trial);
        trials.Add(trial);
    }

    private static async Task ApplyTrialEndedAsync(OrderBook book, Event e, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(e.Properties);
        var p = doc.RootElement;
        var outcome = Str(p, "outcome")?.ToLowerInvariant() switch
        {
            "converted" => TrialOutcome.Converted,
            _ => TrialOutcome.Lapsed,
        };
        var product = Str(p, "product") ?? Str(p, "plan");
        var trials = await book.TrialsAsync(e.ContactId, ct);
        var trial = trials
            .Where(t => t.StartedAt <= e.OccurredAt && (t.EndedAt == null || t.EndedAt == e.OccurredAt) && (product is null || t.Product == product))
            .OrderByDescending(t => t.StartedAt)
            .FirstOrDefault();
        if (trial is null)
        {
            // An end without a known start still records that there was a trial.
            trial = new Trial { Id = Guid.CreateVersion7(), ContactId = e.ContactId, StartedAt = e.OccurredAt, Product = product };
            book.Db.Trials.Add(trial);
            trials.Add(trial);
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

    /// <summary>An http(s) address that fits a product, or null: a link in an e-mail must lead to a web page.</summary>
    private static string? WebAddress(string? value) =>
        value?.Trim() is { Length: > 0 and <= Product.MaxUrlLength } url && Clientele.Templates.Brand.IsWebUrl(url) ? url : null;

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

internal sealed record OrderLineFacts(string Sku, string? Category, string? Name, int Quantity, decimal Price, string? Url = null, string? ImageUrl = null);
