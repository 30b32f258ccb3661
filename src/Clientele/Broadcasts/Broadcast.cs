namespace Clientele.Broadcasts;

/// <summary>The numbers are stored; never renumber.</summary>
internal enum BroadcastStatus
{
    Draft = 0,

    /// <summary>Waiting for its send time.</summary>
    Scheduled = 1,

    /// <summary>A/B test sample sent; the rest waits for the winner.</summary>
    Testing = 2,

    Sending = 3,

    /// <summary>Every message is sent, failed or suppressed.</summary>
    Finished = 4,

    Cancelled = 5,
}

/// <summary>A one-off send to a segment or to every subscriber of a topic: a newsletter, a special offer.</summary>
internal sealed class Broadcast
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";

    /// <summary>The consent topic the recipients must be subscribed to (newsletter, offers, …).</summary>
    public string Topic { get; set; } = "newsletter";

    /// <summary>Segment query text; null sends to every subscriber of <see cref="Topic"/>.</summary>
    public string? Segment { get; set; }

    public string Subject { get; set; } = "";

    /// <summary>Markdown or HTML with Liquid.</summary>
    public string Body { get; set; } = "";

    /// <summary>"markdown" or "html".</summary>
    public string Format { get; set; } = "markdown";

    public string? Preheader { get; set; }

    /// <summary>The saved template the content was taken from, for its report.</summary>
    public Guid? TemplateId { get; set; }

    /// <summary>An offer each recipient is given as they are sent the message (the body shows it as <c>offer</c>), within the offer's rules and the fatigue guard.</summary>
    public Guid? OfferId { get; set; }

    /// <summary>Variant B for an A/B test; null when there is no test.</summary>
    public string? SubjectB { get; set; }

    public string? BodyB { get; set; }

    /// <summary>Share of the audience (percent) that gets the test; half A, half B. Zero: no test.</summary>
    public int TestPercent { get; set; }

    /// <summary>"opens" or "clicks": what makes a variant the winner.</summary>
    public string TestMetric { get; set; } = "opens";

    /// <summary>How long the sample runs before the winner goes to the rest.</summary>
    public int TestHours { get; set; } = 4;

    public string? Winner { get; set; }

    /// <summary>When to send; with <see cref="LocalTime"/>, the time of day in each contact's own zone.</summary>
    public DateTime? SendAt { get; set; }

    public bool LocalTime { get; set; }

    public BroadcastStatus Status { get; set; }

    /// <summary>Messages queued so far (the audience once queuing is done).</summary>
    public int Audience { get; set; }

    /// <summary>Every recipient has a message in the outbox (the rest of an A/B test included).</summary>
    public bool Queued { get; set; }

    /// <summary>Orders placed within this many days of a message count as its revenue.</summary>
    public int RevenueDays { get; set; } = 5;

    public DateTime CreatedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? TestEndsAt { get; set; }
    public DateTime? FinishedAt { get; set; }
}
