namespace Clientele.Commerce;

internal sealed class Product
{
    public Guid Id { get; set; }
    public string Sku { get; set; } = "";
    public string Name { get; set; } = "";
    public string Category { get; set; } = "";
    public decimal Price { get; set; }
    public string Currency { get; set; } = "USD";

    /// <summary>The product's page in the shop, linked from e-mails that show it.</summary>
    public string? Url { get; set; }

    /// <summary>A picture of the product, shown in e-mails.</summary>
    public string? ImageUrl { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    public const int MaxUrlLength = 2000;
}

internal enum OrderStatus
{
    Placed = 0,
    Refunded = 1,
    Cancelled = 2,
}

internal sealed class Order
{
    public Guid Id { get; set; }
    public Guid ContactId { get; set; }
    public string ExternalId { get; set; } = "";
    public decimal Total { get; set; }
    public string Currency { get; set; } = "USD";
    public DateTime PlacedAt { get; set; }
    public OrderStatus Status { get; set; }
    public DateTime? RefundedAt { get; set; }
    public string? Coupon { get; set; }
    public List<OrderLine> Lines { get; set; } = [];
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

internal sealed class OrderLine
{
    public long Id { get; set; }
    public Guid OrderId { get; set; }
    public Guid ContactId { get; set; }
    public string Sku { get; set; } = "";
    public string? Category { get; set; }
    public int Quantity { get; set; }
    public decimal Price { get; set; }
}

internal enum TrialOutcome
{
    Converted = 1,
    Lapsed = 2,
}

internal sealed class Trial
{
    public Guid Id { get; set; }
    public Guid ContactId { get; set; }
    public string? Product { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime? EndsAt { get; set; }
    public DateTime? EndedAt { get; set; }
    public TrialOutcome? Outcome { get; set; }
}
