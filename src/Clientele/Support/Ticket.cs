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

    /// <summary><c>api</c>, <c>form</c>, <c>email</c>, <c>journey</c> (a task a journey created) or <c>survey</c>.</summary>
    public string Channel { get; set; } = "api";

    public List<string> Tags { get; set; } = [];

    /// <summary>Makes creating idempotent (an API key or a journey run's step).</summary>
    public string? IdempotencyKey { get; set; }

    public DateTime CreatedAt { get; set; }
    /// <summary>The first-response target (24 hours by default, counted in business hours when the policy says so).</summary>
    public DateTime FirstResponseDue { get; set; }

    /// <summary>When the wait stops being acceptable (48 hours by default) and the ticket is breached; null on tickets older than it.</summary>
    public DateTime? BreachAt { get; set; }

    public DateTime? FirstRespondedAt { get; set; }

    /// <summary>The user whose reply was the first response.</summary>
    public string? FirstResponder { get; set; }

    /// <summary>The SLA alerts the team was sent: 0 none, 1 "past the target", 2 "breached".</summary>
    public int AlertLevel { get; set; }

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

    /// <summary>The e-mail's Message-ID (without angle brackets): of the customer's mail, or of the reply as sent.</summary>
    public string? MessageId { get; set; }

    /// <summary>For a reply: the outbox message that carries it.</summary>
    public Guid? OutboxMessageId { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>
/// The first-response policy: a target (24 hours) and the acceptable limit (48 hours), after which a ticket is breached;
/// optionally counted in business hours only (opening hours on working days, in the business's time zone).
/// </summary>
internal sealed record SlaPolicy
{
    public const string Key = "support.sla";

    public int TargetHours { get; init; } = 24;
    public int LimitHours { get; init; } = 48;

    /// <summary>Count only the hours the business is open.</summary>
    public bool BusinessHoursOnly { get; init; }

    public string TimeZone { get; init; } = "UTC";
    public TimeOnly Opens { get; init; } = new(9, 0);
    public TimeOnly Closes { get; init; } = new(17, 0);

    /// <summary>Working days, 1 = Monday … 7 = Sunday.</summary>
    public IReadOnlyList<int> Days { get; init; } = [1, 2, 3, 4, 5];

    public static SlaPolicy Default { get; } = new();

    /// <summary>What is wrong with the policy, each with its JSON pointer; empty when it can be used.</summary>
    public List<Api.FieldError> Problems()
    {
        var errors = new List<Api.FieldError>();
        if (TargetHours is < 1 or > 720)
        {
            errors.Add(new("/targetHours", "The target is 1 to 720 hours."));
        }
        if (LimitHours < TargetHours || LimitHours > 2160)
        {
            errors.Add(new("/limitHours", "The limit is at least the target and at most 2,160 hours."));
        }
        if (BusinessHoursOnly)
        {
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _))
            {
                errors.Add(new("/timeZone", $"\"{TimeZone}\" is not a time zone (an IANA name such as Europe/Berlin)."));
            }
            if (Closes <= Opens)
            {
                errors.Add(new("/closes", "The closing time comes after the opening time."));
            }
            if (Days.Count == 0 || Days.Any(d => d is < 1 or > 7))
            {
                errors.Add(new("/days", "Working days are numbers 1 (Monday) to 7 (Sunday), at least one."));
            }
        }
        return errors;
    }
}

/// <summary>The first-response clock as pure functions.</summary>
internal static class Sla
{
    /// <summary><c>answered</c>, <c>answered-late</c>, <c>on-time</c>, <c>late</c> (past the target, within the limit) or <c>breached</c>.</summary>
    public static string State(Ticket t, SlaPolicy policy, DateTime now)
    {
        var breachAt = t.BreachAt ?? t.CreatedAt.AddHours(policy.LimitHours);
        var at = t.FirstRespondedAt ?? (t.Status == TicketStatus.Solved ? t.SolvedAt : null);
        if (at is { } answered)
        {
            return answered <= breachAt ? "answered" : "answered-late";
        }
        return now <= t.FirstResponseDue ? "on-time" : now <= breachAt ? "late" : "breached";
    }

    public static DateTime FirstResponseDue(DateTime createdAt, SlaPolicy policy) => Add(createdAt, policy.TargetHours, policy);

    public static DateTime BreachAt(DateTime createdAt, SlaPolicy policy) => Add(createdAt, policy.LimitHours, policy);

    /// <summary>
    /// <paramref name="hours"/> after <paramref name="start"/> (UTC): on the wall clock, or counting only opening hours on
    /// working days in the policy's zone when it says so. Local times a clock change skips are passed over.
    /// </summary>
    public static DateTime Add(DateTime start, double hours, SlaPolicy policy)
    {
        if (!policy.BusinessHoursOnly || policy.Closes <= policy.Opens || policy.Days.Count == 0
            || !TimeZoneInfo.TryFindSystemTimeZoneById(policy.TimeZone, out var zone))
        {
            return start.AddHours(hours);
        }
        var left = TimeSpan.FromHours(hours);
        var local = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(start, DateTimeKind.Utc), zone);
        // At most a few years of days: a policy with working days always ends the loop well before.
        for (var i = 0; i < 3_000; i++)
        {
            var day = local.Date;
            var iso = day.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)day.DayOfWeek;
            if (policy.Days.Contains(iso))
            {
                var opens = day + policy.Opens.ToTimeSpan();
                var closes = day + policy.Closes.ToTimeSpan();
                var from = local < opens ? opens : local;
                if (from < closes)
                {
                    var open = closes - from;
                    if (left <= open)
                    {
                        return ToUtc(from + left, zone);
                    }
                    left -= open;
                }
            }
            local = day.AddDays(1);
        }
        return start.AddHours(hours);
    }

    private static DateTime ToUtc(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(30);
        }
        return TimeZoneInfo.ConvertTimeToUtc(local, zone);
    }
}

/// <summary>How the support desk answers (Settings → Support), stored under <see cref="Key"/>.</summary>
internal sealed record SupportSettings
{
    public const string Key = "support";

    /// <summary>The support mailbox's address: replies to customers name it as Reply-To, so their answers come back to the inbox.</summary>
    public string? Address { get; init; }

    /// <summary>The business's phone number, in every acknowledgement.</summary>
    public string? Phone { get; init; }

    /// <summary>Acknowledge each new inquiry at once, with articles from the knowledge base that may answer it.</summary>
    public bool AutoAcknowledge { get; init; } = true;

    /// <summary>The acknowledgement's opening lines (plain text).</summary>
    public string AckText { get; init; } = "Thank you for writing to us. We have your message and a person will answer it soon.";

    /// <summary>How many articles an acknowledgement suggests (0: none).</summary>
    public int Articles { get; init; } = 3;

    /// <summary>A customer's answer to a ticket solved within this many days opens it again; later, it starts a new one.</summary>
    public int ReopenDays { get; init; } = 14;

    /// <summary>Ask how satisfied the customer was (CSAT, one click) when a ticket is solved.</summary>
    public bool CsatOnSolve { get; init; } = true;

    /// <summary>Tell the assignee (else every agent and owner) by e-mail when a ticket passes its target and when it is breached.</summary>
    public bool Alerts { get; init; } = true;

    public static SupportSettings Default { get; } = new();
}
