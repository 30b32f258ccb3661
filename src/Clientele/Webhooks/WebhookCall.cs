namespace Clientele.Webhooks;

/// <summary>Where a call is on its way out. The numbers are stored; never renumber.</summary>
internal enum WebhookStatus
{
    /// <summary>Waiting for its due time (first try, a retry, or a lease that ran out).</summary>
    Pending = 0,

    /// <summary>The receiver answered 2xx.</summary>
    Delivered = 1,

    /// <summary>Given up: a 4xx answer, a refused address, or too many failed tries.</summary>
    Failed = 2,
}

/// <summary>
/// One HTTP POST to a receiver outside, written in the transaction that caused it (a journey step) and delivered by
/// the webhook sender with retries. Its idempotency key is unique, and it travels as a header so a receiver can drop
/// a repeat.
/// </summary>
internal sealed class WebhookCall
{
    public Guid Id { get; set; }
    public string Url { get; set; } = "";

    /// <summary>The JSON body, exactly as signed and sent.</summary>
    public string Body { get; set; } = "{}";

    public string IdempotencyKey { get; set; } = "";
    public WebhookStatus Status { get; set; }
    public int Attempts { get; set; }

    /// <summary>When to try next; while a sender holds the call, when its hold runs out.</summary>
    public DateTime? DueAt { get; set; }

    /// <summary>The last answer: an HTTP status, or why there was none.</summary>
    public int? LastStatusCode { get; set; }

    public string? LastError { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? DeliveredAt { get; set; }

    public Guid? ContactId { get; set; }
    public Guid? JourneyId { get; set; }

    /// <summary>The subscription an event call was made for.</summary>
    public Guid? SubscriptionId { get; set; }
    public string? StepId { get; set; }
}
