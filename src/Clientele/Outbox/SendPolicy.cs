using Clientele.Contacts;

namespace Clientele.Outbox;

/// <summary>A consent topic contacts can subscribe to, shown in the preference centre.</summary>
internal sealed record MailTopic(string Key, string Name, string Description);

/// <summary>The owner's sending rules (Settings → Sending), stored under <see cref="Key"/>.</summary>
internal sealed record SendingRules
{
    public const string Key = "sending";

    public static readonly SendingRules Default = new();

    /// <summary>At most one marketing e-mail per contact within this many hours (0: no limit).</summary>
    public int MinHoursBetweenMarketing { get; init; } = 16;

    /// <summary>At most this many marketing e-mails per contact in any 7 days (0: no limit).</summary>
    public int MaxMarketingPerWeek { get; init; } = 3;

    /// <summary>A message a cap would hold back longer than this after it was queued is skipped instead.</summary>
    public int MaxCapDelayHours { get; init; } = 48;

    /// <summary>
    /// A marketing message more than this many hours past its due time when the sender gets to it (the app was stopped,
    /// behind, or the clock jumped) is not sent (0: no limit). Transactional messages go however late.
    /// </summary>
    public int MaxLateHours { get; init; } = 24;

    /// <summary>No marketing e-mail is sent between these local times of the contact; it waits for the end.</summary>
    public TimeOnly? QuietFrom { get; init; } = new(21, 0);

    public TimeOnly? QuietUntil { get; init; } = new(8, 0);

    /// <summary>The zone of contacts without one of their own.</summary>
    public string DefaultTimeZone { get; init; } = "UTC";

    /// <summary>
    /// Hold marketing e-mail to a contact while they have an open support ticket (re-checked hourly; skipped if the ticket
    /// is still open when the frequency cap's maximum delay has passed).
    /// </summary>
    public bool PauseMarketingDuringTickets { get; init; } = true;

    /// <summary>Soft bounces in a row (30 days) after which an address is suppressed.</summary>
    public int SoftBounceLimit { get; init; } = 3;

    public IReadOnlyList<MailTopic> Topics { get; init; } =
    [
        new("newsletter", "Newsletter", "News, tips and stories, about once a month."),
        new("offers", "Special offers", "Discounts, coupons and early access."),
        new("service", "Service and reminders", "Reminders, plan reviews and how we are doing."),
    ];
}

/// <summary>What is known about a message's recipient when it is about to be sent.</summary>
internal sealed record SendFacts
{
    public required MessageClass Class { get; init; }
    public string? Topic { get; init; }
    public bool ContactExists { get; init; } = true;
    public bool HasAddress { get; init; } = true;

    /// <summary>Consent for the message's topic; null when never asked.</summary>
    public ConsentStatus? TopicConsent { get; init; }

    /// <summary>Consent for the catch-all "marketing" topic; unsubscribed there means from everything.</summary>
    public ConsentStatus? MarketingConsent { get; init; }

    public SuppressionReason? Suppression { get; init; }
    public string? TimeZone { get; init; }

    /// <summary>Marketing e-mails sent to the contact in the last 7 days, any order.</summary>
    public IReadOnlyList<DateTime> RecentMarketing { get; init; } = [];

    /// <summary>The contact has an inquiry open with support (not a task the team made).</summary>
    public bool OpenTicket { get; init; }

    /// <summary>When the message was queued: caps never hold it more than the rules' maximum after this.</summary>
    public DateTime QueuedAt { get; init; }

    /// <summary>When the message was due to go (queued for, or held until); null when unknown.</summary>
    public DateTime? DueAt { get; init; }
}

internal enum SendVerdict
{
    Send,
    Suppress,
    Delay,
}

/// <param name="Until">For <see cref="SendVerdict.Delay"/>: the next allowed time.</param>
/// <param name="Reason">Shown in the message's history.</param>
internal readonly record struct SendDecision(SendVerdict Verdict, string? Reason = null, DateTime Until = default)
{
    public static readonly SendDecision Go = new(SendVerdict.Send);
}

/// <summary>
/// Whether a message may go now: consent and suppressions first (checked again at send time, whatever was true when
/// it was queued), then, for marketing only, frequency caps and quiet hours in the contact's own time zone.
/// </summary>
internal static class SendPolicy
{
    public static SendDecision Decide(SendFacts f, SendingRules rules, DateTime now)
    {
        if (!f.ContactExists)
        {
            return new(SendVerdict.Suppress, "The contact was deleted.");
        }
        if (!f.HasAddress)
        {
            return new(SendVerdict.Suppress, "The contact has no e-mail address.");
        }
        if (f.Suppression is { } reason && (f.Class == MessageClass.Marketing || Suppression.BlocksTransactional(reason)))
        {
            return new(SendVerdict.Suppress, "The address is on the suppression list: " + Describe(reason) + ".");
        }
        if (f.Class == MessageClass.Transactional)
        {
            return SendDecision.Go;
        }
        if (f.MarketingConsent == ConsentStatus.Unsubscribed)
        {
            return new(SendVerdict.Suppress, "The contact unsubscribed from all marketing e-mail.");
        }
        var topic = f.Topic ?? ConsentProjection.DefaultTopic;
        if (f.TopicConsent != ConsentStatus.Subscribed)
        {
            return new(SendVerdict.Suppress, f.TopicConsent switch
            {
                ConsentStatus.Unsubscribed => $"The contact unsubscribed from \"{topic}\".",
                ConsentStatus.Pending => $"The contact has not confirmed \"{topic}\" yet.",
                _ => $"The contact has not subscribed to \"{topic}\".",
            });
        }
        if (TooLate(f.DueAt, rules, now) is { } late)
        {
            return new(SendVerdict.Suppress, late);
        }
        if (f.OpenTicket && rules.PauseMarketingDuringTickets)
        {
            var giveUp = f.QueuedAt.AddHours(rules.MaxCapDelayHours > 0 ? rules.MaxCapDelayHours : 48);
            return now >= giveUp
                ? new(SendVerdict.Suppress, "Skipped: the contact's support ticket stayed open.")
                : new(SendVerdict.Delay, "Paused while the contact has an open support ticket; checked again in an hour.", now.AddHours(1) < giveUp ? now.AddHours(1) : giveUp);
        }

        var capped = CapUntil(f.RecentMarketing, rules, now, out var capReason);
        var earliest = capped ?? now;
        var quiet = QuietEnd(earliest, ZoneOf(f.TimeZone, rules), rules);
        if (capped is null && quiet is null)
        {
            return SendDecision.Go;
        }
        var until = quiet ?? earliest;
        if (capped is not null && rules.MaxCapDelayHours > 0 && until > f.QueuedAt.AddHours(rules.MaxCapDelayHours))
        {
            return new(SendVerdict.Suppress, $"Skipped by the frequency cap: {capReason}.");
        }
        var why = capped is not null ? $"Delayed by the frequency cap ({capReason})" : "Delayed by quiet hours";
        if (capped is not null && quiet is not null)
        {
            why += " and quiet hours";
        }
        return new(SendVerdict.Delay, $"{why} until {until:yyyy-MM-dd HH:mm} UTC.", until);
    }

    /// <summary>
    /// Why a marketing message due at <paramref name="due"/> is too late to send at <paramref name="now"/>, or null when
    /// it is not: lateness up to <see cref="SendingRules.MaxLateHours"/> is allowed, exactly the limit included.
    /// </summary>
    internal static string? TooLate(DateTime? due, SendingRules rules, DateTime now)
    {
        if (due is not { } at || rules.MaxLateHours <= 0)
        {
            return null;
        }
        var late = now - at;
        if (late <= TimeSpan.FromHours(rules.MaxLateHours))
        {
            return null;
        }
        return $"Due at {at:yyyy-MM-dd HH:mm} UTC, {Duration(late)} ago: more than the {Duration(TimeSpan.FromHours(rules.MaxLateHours))} allowed for a marketing message to be late; not sent.";
    }

    /// <summary>"6 hours", "1 hour 30 minutes", "45 minutes": whole minutes, rounded down.</summary>
    internal static string Duration(TimeSpan span)
    {
        var minutes = (long)span.TotalMinutes;
        var (h, m) = (minutes / 60, minutes % 60);
        var hours = h == 1 ? "1 hour" : $"{h} hours";
        var mins = m == 1 ? "1 minute" : $"{m} minutes";
        return h == 0 ? mins : m == 0 ? hours : $"{hours} {mins}";
    }

    /// <summary>The first time the caps allow another marketing e-mail, or null when they allow one now.</summary>
    internal static DateTime? CapUntil(IReadOnlyList<DateTime> recent, SendingRules rules, DateTime now, out string reason)
    {
        reason = "";
        DateTime? until = null;
        if (rules.MinHoursBetweenMarketing > 0 && recent.Count > 0)
        {
            var next = recent.Max().AddHours(rules.MinHoursBetweenMarketing);
            if (next > now)
            {
                until = next;
                reason = $"at most one marketing e-mail per {rules.MinHoursBetweenMarketing} hours";
            }
        }
        if (rules.MaxMarketingPerWeek > 0)
        {
            var window = recent.Where(t => t > now.AddDays(-7)).OrderByDescending(t => t).ToList();
            if (window.Count >= rules.MaxMarketingPerWeek)
            {
                // The week frees a slot when the oldest of the newest N sends leaves it.
                var next = window[rules.MaxMarketingPerWeek - 1].AddDays(7);
                if (next > now && (until is null || next > until))
                {
                    until = next;
                    reason = $"at most {rules.MaxMarketingPerWeek} marketing e-mails per 7 days";
                }
            }
        }
        return until;
    }

    /// <summary>The end of the quiet hours <paramref name="at"/> falls in, in UTC; null when it falls outside them.</summary>
    internal static DateTime? QuietEnd(DateTime at, TimeZoneInfo zone, SendingRules rules)
    {
        if (rules.QuietFrom is not { } from || rules.QuietUntil is not { } until || from == until)
        {
            return null;
        }
        var local = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(at, DateTimeKind.Utc), zone);
        var time = TimeOnly.FromDateTime(local);
        var overnight = from > until; // 21:00–08:00
        var inside = overnight ? time >= from || time < until : time >= from && time < until;
        if (!inside)
        {
            return null;
        }
        var endDay = DateOnly.FromDateTime(local);
        if (overnight && time >= from)
        {
            endDay = endDay.AddDays(1);
        }
        var endLocal = endDay.ToDateTime(until, DateTimeKind.Unspecified);
        // A local time skipped by a clock change does not exist; move past the gap.
        while (zone.IsInvalidTime(endLocal))
        {
            endLocal = endLocal.AddMinutes(30);
        }
        return TimeZoneInfo.ConvertTimeToUtc(endLocal, zone);
    }

    public static TimeZoneInfo ZoneOf(string? id, SendingRules rules)
    {
        foreach (var candidate in new[] { id, rules.DefaultTimeZone })
        {
            if (candidate is { Length: > 0 } && TimeZoneInfo.TryFindSystemTimeZoneById(candidate, out var zone))
            {
                return zone;
            }
        }
        return TimeZoneInfo.Utc;
    }

    public static string Describe(SuppressionReason reason) => reason switch
    {
        SuppressionReason.Unsubscribed => "unsubscribed from everything",
        SuppressionReason.HardBounce => "hard bounce",
        SuppressionReason.Complaint => "spam complaint",
        SuppressionReason.SoftBounces => "repeated soft bounces",
        _ => "added by hand",
    };
}
