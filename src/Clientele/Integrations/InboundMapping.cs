using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Clientele.Integrations;

/// <summary>
/// A shop or system that posts its own webhooks to <c>/hooks/{name}</c>: a Shopify store, a WooCommerce store, or any
/// other system whose JSON is mapped to an event by <see cref="Mapping"/>. Calls are signed with <see cref="Secret"/>.
/// </summary>
internal sealed record InboundSource
{
    public string Name { get; init; } = "";

    /// <summary><c>shopify</c>, <c>woocommerce</c> or <c>generic</c>.</summary>
    public string Platform { get; init; } = "generic";

    public string Secret { get; init; } = "";

    /// <summary>For <c>generic</c>: where each field of the event is found in the posted JSON.</summary>
    public GenericMapping? Mapping { get; init; }
}

/// <summary>
/// Dotted paths into a generic system's JSON (<c>customer.email</c>, <c>lines</c>, <c>lines.sku</c> within each line):
/// each posted document becomes one event of <see cref="Type"/>.
/// </summary>
internal sealed record GenericMapping
{
    /// <summary>The event type, e.g. <c>order.placed</c>, or a path to it (<c>$event</c>) when the system says.</summary>
    public string Type { get; init; } = "order.placed";

    public string? TypePath { get; init; }
    public string Email { get; init; } = "email";
    public string? ExternalId { get; init; }
    public string? OccurredAt { get; init; }

    /// <summary>The system's own id of what happened: makes the event idempotent.</summary>
    public string? Id { get; init; }

    /// <summary>Event properties by name and path, e.g. <c>{"orderId": "number", "total": "amount.gross"}</c>.</summary>
    public Dictionary<string, string> Properties { get; init; } = [];

    /// <summary>For orders: the list of lines and, within a line, its sku, name, category, quantity and price.</summary>
    public string? Items { get; init; }

    public Dictionary<string, string> ItemProperties { get; init; } = [];
}

/// <summary>
/// What a shop's webhook means in events, as pure functions: each maps one posted document (and the platform's topic
/// header) to the events of <c>POST /api/v1/events</c>, with idempotency keys made of the platform's ids, so a webhook
/// the platform sends again is stored once.
/// </summary>
internal static class InboundMapping
{
    public static readonly string[] Platforms = ["shopify", "woocommerce", "generic"];

    /// <summary>The events a document means; empty for a topic that means nothing here; the reason when it cannot be read.</summary>
    public static (List<JsonObject> Events, string? Problem) Map(InboundSource source, string? topic, JsonElement doc) => source.Platform switch
    {
        "shopify" => Shopify(topic, doc),
        "woocommerce" => WooCommerce(topic, doc),
        _ => Generic(source.Mapping ?? new GenericMapping(), doc),
    };

    private static (List<JsonObject>, string?) Shopify(string? topic, JsonElement o)
    {
        switch (topic)
        {
            case "orders/create":
                {
                    var id = Text(o, "id");
                    var email = Text(o, "email") ?? Text(o, "customer.email") ?? Text(o, "contact_email");
                    if (id is null || email is null)
                    {
                        return ([], "An order needs its id and the customer's email.");
                    }
                    var items = new JsonArray();
                    foreach (var line in Each(o, "line_items"))
                    {
                        items.Add(new JsonObject
                        {
                            ["sku"] = Text(line, "sku") ?? Text(line, "variant_id") ?? Text(line, "product_id"),
                            ["name"] = Text(line, "title") ?? Text(line, "name"),
                            ["category"] = Text(line, "product_type") ?? Text(line, "vendor"),
                            ["quantity"] = Number(line, "quantity") ?? 1,
                            ["price"] = Number(line, "price"),
                        });
                    }
                    return ([Event("order.placed", email, Text(o, "created_at"), $"shopify:order:{id}:placed", new JsonObject
                {
                    ["orderId"] = Text(o, "name") is { } name ? $"{name}" : id,
                    ["shopifyId"] = id,
                    ["total"] = Number(o, "total_price"),
                    ["currency"] = Text(o, "currency"),
                    ["items"] = items,
                    ["coupon"] = Each(o, "discount_codes").Select(d => Text(d, "code")).FirstOrDefault(c => c is not null),
                })], null);
                }
            case "orders/cancelled":
                return Simple(o, "order.cancelled", "shopify", Text(o, "email") ?? Text(o, "customer.email"), Text(o, "name") ?? Text(o, "id"), Text(o, "cancelled_at"));
            case "refunds/create":
                {
                    var amount = Each(o, "transactions").Where(t => Text(t, "kind") == "refund").Sum(t => Number(t, "amount") ?? 0);
                    var email = Text(o, "email") ?? Text(o, "order.email");
                    var order = Text(o, "order_id");
                    if (email is null || order is null)
                    {
                        // Shopify's refund carries no e-mail: the order, whose number we stored, says whom it concerns.
                        return ([], "A refund without the customer's email: subscribe to orders/updated as well, or send order.refunded from the shop.");
                    }
                    return ([Event("order.refunded", email, Text(o, "created_at"), $"shopify:refund:{Text(o, "id")}", new JsonObject { ["orderId"] = order, ["amount"] = amount })], null);
                }
            case "customers/create":
                {
                    var email = Text(o, "email");
                    return email is null ? ([], "A customer without an email.")
                        : ([Event("account.created", email, Text(o, "created_at"), $"shopify:customer:{Text(o, "id")}", new JsonObject
                    {
                        ["firstName"] = Text(o, "first_name"), ["lastName"] = Text(o, "last_name"), ["shop"] = "shopify",
                    })], null);
                }
            default:
                return ([], null);
        }
    }

    private static (List<JsonObject>, string?) WooCommerce(string? topic, JsonElement o)
    {
        var email = Text(o, "billing.email") ?? Text(o, "email");
        var id = Text(o, "id");
        var status = Text(o, "status");
        switch (topic)
        {
            case "order.created":
                {
                    if (id is null || email is null)
                    {
                        return ([], "An order needs its id and the billing email.");
                    }
                    var items = new JsonArray();
                    foreach (var line in Each(o, "line_items"))
                    {
                        items.Add(new JsonObject
                        {
                            ["sku"] = Text(line, "sku") is { Length: > 0 } sku ? sku : Text(line, "product_id"),
                            ["name"] = Text(line, "name"),
                            ["quantity"] = Number(line, "quantity") ?? 1,
                            ["price"] = Number(line, "price"),
                        });
                    }
                    return ([Event("order.placed", email, Utc(Text(o, "date_created_gmt")), $"woocommerce:order:{id}:placed", new JsonObject
                {
                    ["orderId"] = Text(o, "number") ?? id,
                    ["total"] = Number(o, "total"),
                    ["currency"] = Text(o, "currency"),
                    ["items"] = items,
                    ["coupon"] = Each(o, "coupon_lines").Select(c => Text(c, "code")).FirstOrDefault(c => c is not null),
                })], null);
                }
            case "order.updated" when status is "refunded":
                return email is null ? ([], "An order without the billing email.")
                    : ([Event("order.refunded", email, Utc(Text(o, "date_modified_gmt")), $"woocommerce:order:{id}:refunded",
                        new JsonObject { ["orderId"] = Text(o, "number") ?? id, ["amount"] = Number(o, "total") })], null);
            case "order.updated" when status is "cancelled":
                return Simple(o, "order.cancelled", "woocommerce", email, Text(o, "number") ?? id, Utc(Text(o, "date_modified_gmt")));
            case "customer.created":
                return email is null ? ([], "A customer without an email.")
                    : ([Event("account.created", email, Utc(Text(o, "date_created_gmt")), $"woocommerce:customer:{id}", new JsonObject
                    {
                        ["firstName"] = Text(o, "first_name"), ["lastName"] = Text(o, "last_name"), ["shop"] = "woocommerce",
                    })], null);
            default:
                return ([], null);
        }
    }

    private static (List<JsonObject>, string?) Simple(JsonElement o, string type, string platform, string? email, string? orderId, string? at) =>
        email is null || orderId is null
            ? ([], "An order change needs the order and the customer's email.")
            : ([Event(type, email, at, $"{platform}:order:{orderId}:{type}", new JsonObject { ["orderId"] = orderId })], null);

    private static (List<JsonObject>, string?) Generic(GenericMapping m, JsonElement o)
    {
        var type = m.TypePath is { } typePath ? Text(o, typePath) : m.Type;
        var email = Text(o, m.Email);
        var external = m.ExternalId is { } e ? Text(o, e) : null;
        if (type is null || (email is null && external is null))
        {
            return ([], $"Not found in the document: {(type is null ? m.TypePath : m.Email)}.");
        }
        var properties = new JsonObject();
        foreach (var (name, path) in m.Properties)
        {
            properties[name] = Node(o, path);
        }
        if (m.Items is { } itemsPath)
        {
            var items = new JsonArray();
            foreach (var line in Each(o, itemsPath))
            {
                var item = new JsonObject();
                foreach (var (name, path) in m.ItemProperties)
                {
                    item[name] = Node(line, path);
                }
                items.Add(item);
            }
            properties["items"] = items;
        }
        var id = m.Id is { } idPath ? Text(o, idPath) : null;
        var ev = Event(type, email, m.OccurredAt is { } at ? Text(o, at) : null, id is null ? null : $"hook:{type}:{id}", properties);
        if (external is not null)
        {
            ev["externalId"] = external;
        }
        return ([ev], null);
    }

    private static JsonObject Event(string type, string? email, string? occurredAt, string? key, JsonObject properties) => new()
    {
        ["type"] = type,
        ["email"] = email,
        ["occurredAt"] = occurredAt,
        ["idempotencyKey"] = key is { Length: > 200 } ? key[..200] : key,
        ["properties"] = properties,
    };

    /// <summary>WooCommerce's GMT times come without a zone.</summary>
    private static string? Utc(string? gmt) => gmt is null ? null : gmt.EndsWith('Z') ? gmt : gmt + "Z";

    /// <summary>The element at a dotted path, or null.</summary>
    internal static JsonElement? At(JsonElement o, string path)
    {
        var current = o;
        foreach (var part in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current))
            {
                return null;
            }
        }
        return current.ValueKind == JsonValueKind.Null ? null : current;
    }

    internal static string? Text(JsonElement o, string path) => At(o, path) switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString() is { Length: > 0 } v ? v : null,
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        _ => null,
    };

    /// <summary>A number, also when the platform sends it as text ("42.50").</summary>
    internal static decimal? Number(JsonElement o, string path) => At(o, path) switch
    {
        { ValueKind: JsonValueKind.Number } n => n.GetDecimal(),
        { ValueKind: JsonValueKind.String } s when decimal.TryParse(s.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    private static JsonNode? Node(JsonElement o, string path) => At(o, path) is { } e ? JsonNode.Parse(e.GetRawText()) : null;

    private static IEnumerable<JsonElement> Each(JsonElement o, string path) =>
        At(o, path) is { ValueKind: JsonValueKind.Array } list ? list.EnumerateArray() : [];
}
