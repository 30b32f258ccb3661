using Clientele.Accounts;
using Clientele.Data;
using Clientele.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Support;

/// <summary>
/// Tells the team when a ticket still waiting for its first response passes its target (24 h) and when it is breached
/// (48 h): an e-mail to the assignee, else to every agent and owner, once per ticket and level (the alert's key).
/// </summary>
internal sealed class SlaAlerts(ClienteleDatabase database, OutboxSignal outbox, MailLinks links, TimeProvider time, ILogger<SlaAlerts> log)
    : PeriodicService(time, log)
{
    protected override TimeSpan Every => TimeSpan.FromMinutes(5);

    protected override string What => "Support SLA alerts";

    /// <summary>The alert a waiting ticket has earned: 0 none, 1 past the target, 2 breached.</summary>
    public static int Level(Ticket t, DateTime breachAt, DateTime now) =>
        t.FirstRespondedAt is not null || t.Status == TicketStatus.Solved ? 0
        : now > breachAt ? 2
        : now > t.FirstResponseDue ? 1
        : 0;

    protected override async Task RunOnceAsync(CancellationToken ct)
    {
        if (await RunAsync(ct) > 0)
        {
            outbox.Notify();
        }
    }

    /// <summary>Queues the alerts now due; returns how many tickets were alerted.</summary>
    internal async Task<int> RunAsync(CancellationToken ct)
    {
        var now = Clock.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        var settings = await SettingsStore.LoadAsync(db, SupportSettings.Key, SupportSettings.Default, ct);
        if (!settings.Alerts)
        {
            return 0;
        }
        var policy = await SettingsStore.LoadAsync(db, SlaPolicy.Key, SlaPolicy.Default, ct);
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var tickets = await db.Tickets.Where(t => t.FirstRespondedAt == null && t.Status != TicketStatus.Solved && t.Channel != "journey"
                && t.AlertLevel < 2 && t.FirstResponseDue < now).OrderBy(t => t.FirstResponseDue).Take(500).ToListAsync(ct);
            if (tickets.Count == 0)
            {
                return 0;
            }
            var team = await db.Users.AsNoTracking().Where(u => u.DisabledAt == null && (u.Role == Role.Agent || u.Role == Role.Owner)).Select(u => u.Email).ToListAsync(ct);
            var alerted = 0;
            foreach (var t in tickets)
            {
                var breachAt = t.BreachAt ?? t.CreatedAt.AddHours(policy.LimitHours);
                var level = Level(t, breachAt, now);
                if (level <= t.AlertLevel)
                {
                    continue;
                }
                t.AlertLevel = level;
                var to = t.Assignee is { Length: > 0 } assignee ? [assignee] : team;
                var what = level == 2 ? $"breached: no answer in {policy.LimitHours} hours" : $"past its {policy.TargetHours}-hour target";
                var text = $"The ticket \"{t.Subject}\" is {what}.\n\nArrived: {t.CreatedAt:yyyy-MM-dd HH:mm} UTC\n"
                    + (level == 2 ? "" : $"Breached at: {breachAt:yyyy-MM-dd HH:mm} UTC\n")
                    + $"Priority: {t.Priority}\nAssignee: {t.Assignee ?? "nobody"}\n\nAnswer it: {links.BaseUrl}/support/tickets/{t.Id}";
                foreach (var address in to.Distinct(StringComparer.OrdinalIgnoreCase))
                {
                    await Outbox.Outbox.EnqueueAsync(db, new OutboxMessage
                    {
                        ContactId = t.ContactId,
                        To = address,
                        Subject = (level == 2 ? "SLA breached: " : "Waiting past target: ") + (t.Subject.Length > 150 ? t.Subject[..150] : t.Subject),
                        TextBody = text,
                        Kind = "support-alert",
                        Class = MessageClass.Transactional,
                        IdempotencyKey = $"ticket:{t.Id:N}:alert:{level}:{address.ToLowerInvariant()}",
                        DueAt = now,
                        CreatedAt = now,
                    }, ct);
                }
                alerted++;
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return alerted;
        }
    }
}
