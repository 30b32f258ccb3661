using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Support;

/// <summary>The inbox's lists of tickets, shared by the API and the Support page.</summary>
internal static class TicketQuery
{
    public static readonly string[] SlaFilters = ["on-time", "late", "breached"];

    internal sealed record Problem(string Message, string Field);

    /// <summary>
    /// Tickets by status, by where their first-response clock stands (only those still waiting for it: on-time, late,
    /// breached) and by assignee (<c>none</c>: nobody's), the most urgent first: the earliest due.
    /// </summary>
    public static async Task<(List<Ticket>? Tickets, Problem? Problem)> ListAsync(ClienteleDb db, string? status, string? sla, string? assignee,
        SlaPolicy policy, DateTime now, int take, CancellationToken ct)
    {
        var query = db.Tickets.AsNoTracking();
        if (status is { Length: > 0 })
        {
            if (status == "active")
            {
                query = query.Where(t => t.Status != TicketStatus.Solved);
            }
            else if (Enum.TryParse<TicketStatus>(status, ignoreCase: true, out var s) && !int.TryParse(status, out _))
            {
                query = query.Where(t => t.Status == s);
            }
            else
            {
                return (null, new Problem($"\"{status}\" is not a status: open, pending, solved or active.", "/status"));
            }
        }
        if (sla is { Length: > 0 })
        {
            if (!SlaFilters.Contains(sla))
            {
                return (null, new Problem($"\"{sla}\" is not an SLA state: on-time, late or breached.", "/sla"));
            }
            var oldest = now.AddHours(-policy.LimitHours);
            var waiting = query.Where(t => t.FirstRespondedAt == null && t.Status != TicketStatus.Solved);
            query = sla switch
            {
                "on-time" => waiting.Where(t => t.FirstResponseDue >= now),
                "late" => waiting.Where(t => t.FirstResponseDue < now && (t.BreachAt == null ? t.CreatedAt >= oldest : t.BreachAt >= now)),
                _ => waiting.Where(t => t.BreachAt == null ? t.CreatedAt < oldest : t.BreachAt < now),
            };
        }
        if (assignee is { Length: > 0 })
        {
            query = assignee == "none" ? query.Where(t => t.Assignee == null) : query.Where(t => t.Assignee == assignee);
        }
        var tickets = await query.OrderBy(t => t.FirstRespondedAt == null ? 0 : 1).ThenBy(t => t.FirstResponseDue).ThenBy(t => t.CreatedAt).Take(take).ToListAsync(ct);
        return (tickets, null);
    }

    /// <summary>How many tickets wait for a first response, by SLA state, and how many are open in all (for the inbox header).</summary>
    public static async Task<(int Open, int Late, int Breached)> CountsAsync(ClienteleDb db, SlaPolicy policy, DateTime now, CancellationToken ct)
    {
        var active = db.Tickets.AsNoTracking().Where(t => t.Status != TicketStatus.Solved);
        var open = await active.CountAsync(ct);
        var oldest = now.AddHours(-policy.LimitHours);
        var waiting = active.Where(t => t.FirstRespondedAt == null);
        var breached = await waiting.CountAsync(t => t.BreachAt == null ? t.CreatedAt < oldest : t.BreachAt < now, ct);
        var late = await waiting.CountAsync(t => t.FirstResponseDue < now, ct) - breached;
        return (open, late, breached);
    }
}

/// <summary>One line of the response-time report: how many first responses came within the target, within the limit, or later.</summary>
internal sealed record ResponseLine(string Key, int Tickets, int WithinTarget, int WithinLimit, int Later, int Waiting, double? MedianHours)
{
    /// <summary>Tickets whose outcome is known: answered, or past the limit without an answer.</summary>
    public int Decided => WithinTarget + WithinLimit + Later;

    public double? ShareWithinTarget => Decided == 0 ? null : (double)WithinTarget / Decided;
    public double? ShareWithinLimit => Decided == 0 ? null : (double)(WithinTarget + WithinLimit) / Decided;
    public double? ShareLater => Decided == 0 ? null : (double)Later / Decided;
}

internal sealed record ResponseReport(ResponseLine All, List<ResponseLine> ByAgent, List<ResponseLine> ByWeek);

/// <summary>The first-response facts of a ticket, as the report reads them.</summary>
internal sealed record ResponseFacts(DateTime CreatedAt, DateTime Due, DateTime BreachAt, DateTime? RespondedAt, string? Responder, bool Solved);

/// <summary>
/// The response-time report as a pure function: the share of tickets answered within the target (24 h), within the
/// limit (48 h) and later, in all, by agent (who answered first) and by week (Monday, of the ticket's arrival). A ticket
/// still unanswered counts as later once past its limit and as waiting before; one solved without a reply is left out.
/// </summary>
internal static class ResponseTimes
{
    public static ResponseReport Build(IReadOnlyList<ResponseFacts> tickets, DateTime now)
    {
        var counted = tickets.Where(t => t.RespondedAt is not null || !t.Solved).ToList();
        return new ResponseReport(
            Line("all", counted, now),
            counted.Where(t => t.RespondedAt is not null).GroupBy(t => t.Responder ?? "unknown").Select(g => Line(g.Key, g.ToList(), now))
                .OrderByDescending(l => l.Tickets).ThenBy(l => l.Key, StringComparer.Ordinal).ToList(),
            counted.GroupBy(t => WeekOf(t.CreatedAt)).OrderBy(g => g.Key).Select(g => Line(g.Key.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), g.ToList(), now)).ToList());
    }

    public static DateOnly WeekOf(DateTime at)
    {
        var day = DateOnly.FromDateTime(at);
        var back = ((int)day.DayOfWeek + 6) % 7; // Monday = 0
        return day.AddDays(-back);
    }

    private static ResponseLine Line(string key, List<ResponseFacts> tickets, DateTime now)
    {
        int target = 0, limit = 0, later = 0, waiting = 0;
        var hours = new List<double>();
        foreach (var t in tickets)
        {
            if (t.RespondedAt is { } at)
            {
                hours.Add((at - t.CreatedAt).TotalHours);
                if (at <= t.Due)
                {
                    target++;
                }
                else if (at <= t.BreachAt)
                {
                    limit++;
                }
                else
                {
                    later++;
                }
            }
            else if (now > t.BreachAt)
            {
                later++;
            }
            else
            {
                waiting++;
            }
        }
        hours.Sort();
        double? median = hours.Count == 0 ? null
            : hours.Count % 2 == 1 ? hours[hours.Count / 2]
            : (hours[hours.Count / 2 - 1] + hours[hours.Count / 2]) / 2;
        return new ResponseLine(key, tickets.Count, target, limit, later, waiting, median);
    }

    /// <summary>The report for tickets that arrived in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public static async Task<ResponseReport> LoadAsync(ClienteleDb db, DateTime from, DateTime to, DateTime now, CancellationToken ct)
    {
        var policy = await SettingsStore.LoadAsync(db, SlaPolicy.Key, SlaPolicy.Default, ct);
        var rows = await db.Tickets.AsNoTracking().Where(t => t.CreatedAt >= from && t.CreatedAt < to && t.Channel != "journey")
            .Select(t => new { t.CreatedAt, t.FirstResponseDue, t.BreachAt, t.FirstRespondedAt, t.FirstResponder, t.Status })
            .ToListAsync(ct);
        return Build(rows.Select(r => new ResponseFacts(r.CreatedAt, r.FirstResponseDue, r.BreachAt ?? r.CreatedAt.AddHours(policy.LimitHours),
            r.FirstRespondedAt, r.FirstResponder, r.Status == TicketStatus.Solved)).ToList(), now);
    }
}
