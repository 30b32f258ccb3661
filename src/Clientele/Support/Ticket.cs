namespace Clientele.Support;

/// <summary>Where a ticket is. The numbers are stored; never renumber.</summary>
internal enum TicketStatus
{
    /// <summary>Waiting for the business.</summary>
    Open = 0,

    /// <summary>Waiting for the customer.</summary>
    Pending = 1,

    Solved = 2,
}

/// <summary>
/// An inquiry or a task about a contact: who asked (or who it is about), what, through which channel, who handles it,
/// and the clock of its first response.
/// </summary>
internal sealed class Ticket
{
    public Guid Id { get; set; }
    public Guid ContactId { get; set; }
    public string Subject { get; set; } = "";
    public TicketStatus Status { get; set; }

    /// <summary><c>low</c>, <c>normal</c>, <c>high</c> or <c>urgent</c>.</summary>
    public string Priority { get; set; } = "normal";

    /// <summary>The user handling it (their e-mail); null while nobody is.</summary>
    public string? Assignee { get; set; }

    /// <summary><c>api</c>, <c>form</c>, <c>email</c> or <c>journey</c> (a task a journey created).</summary>
    public string Channel { get; set; } = "api";

    /// <summary>Makes creating idempotent (an API key or a journey run's step).</summary>
    public string? IdempotencyKey { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime FirstResponseDue { get; set; }
    public DateTime? FirstRespondedAt { get; set; }
    public DateTime? SolvedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>One message on a ticket: the customer's, the business's reply, or an internal note.</summary>
internal sealed class TicketMessage
{
    public Guid Id { get; set; }
    public Guid TicketId { get; set; }

    /// <summary><c>in</c> (from the customer), <c>out</c> (a reply) or <c>note</c>.</summary>
    public string Direction { get; set; } = "in";

    public string From { get; set; } = "";
    public string Body { get; set; } = "";
    public DateTime CreatedAt { get; set; }
}

/// <summary>The first-response policy: a target (24 hours) and the acceptable limit (48 hours), after which it is breached.</summary>
internal sealed record SlaPolicy
{
    public const string Key = "support.sla";

    public int TargetHours { get; init; } = 24;
    public int LimitHours { get; init; } = 48;

    public static SlaPolicy Default { get; } = new();
}

/// <summary>The first-response clock as pure functions.</summary>
internal static class Sla
{
    /// <summary><c>answered</c>, <c>on-time</c>, <c>late</c> (past the target, within the limit) or <c>breached</c>.</summary>
    public static string State(Ticket t, SlaPolicy policy, DateTime now)
    {
        var at = t.FirstRespondedAt ?? (t.Status == TicketStatus.Solved ? t.SolvedAt : null);
        if (at is { } answered)
        {
            return answered - t.CreatedAt <= TimeSpan.FromHours(policy.LimitHours) ? "answered" : "answered-late";
        }
        var waited = now - t.CreatedAt;
        return waited <= TimeSpan.FromHours(policy.TargetHours) ? "on-time"
            : waited <= TimeSpan.FromHours(policy.LimitHours) ? "late"
            : "breached";
    }

    public static DateTime FirstResponseDue(DateTime createdAt, SlaPolicy policy) => createdAt.AddHours(policy.TargetHours);
}
