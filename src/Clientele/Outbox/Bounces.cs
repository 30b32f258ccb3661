using System.Text.Json;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace Clientele.Outbox;

/// <summary>
/// What bounce and complaint reports do: a hard bounce suppresses the address for all mail, soft bounces count up to
/// the limit in Settings → Sending, a complaint stops all marketing mail, auto-replies are ignored. Reports come from
/// the bounce mailbox (<see cref="BounceMailbox"/>) or are posted to <c>POST /api/v1/bounces</c>.
/// </summary>
internal static class Bounces
{
    internal sealed record Outcome(string Kind, bool Applied, Guid? MessageId, string? Email, string Detail);

    public static async Task<Outcome> ApplyAsync(ClienteleDatabase database, ConsentGuard guard, EventSignal signal, BounceReport report,
        SendingRules rules, DateTime now, CancellationToken ct)
    {
        var kind = report.Kind.ToString().ToLowerInvariant();
        if (report.Kind is BounceKind.AutoReply or BounceKind.Unknown)
        {
            return new Outcome(kind, false, report.MessageId, report.Recipient, report.Kind == BounceKind.AutoReply
                ? "An automatic reply (out of office): ignored."
                : "Not a bounce or complaint report: " + report.Detail);
        }
        await using var db = database.CreateDbContext();
        var email = Contact.Normalize(report.Recipient);
        var message = report.MessageId is { } id ? await db.OutboxMessages.FirstOrDefaultAsync(m => m.Id == id, ct) : null;
        if (message is null && email is not null)
        {
            message = await db.OutboxMessages.Where(m => m.To == report.Recipient || m.To == email)
                .OrderByDescending(m => m.SentAt).FirstOrDefaultAsync(m => m.SentAt != null, ct);
        }
        email ??= Contact.Normalize(message?.To);
        var contactId = message?.ContactId
            ?? (email is null ? null : await db.Contacts.Where(c => c.EmailNormalized == email).Select(c => (Guid?)c.Id).FirstOrDefaultAsync(ct));
        if (email is null || contactId is null)
        {
            return new Outcome(kind, false, report.MessageId, report.Recipient, "No message or contact of ours matches this report.");
        }
        if (report.Kind == BounceKind.Complaint)
        {
            guard.Withdrawn(contactId.Value, ConsentGuard.AllTopics);
        }
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var detail = report.Status is { } status ? $"{status} {report.Detail}".Trim() : report.Detail;
            db.Events.Add(new Event
            {
                ContactId = contactId.Value,
                Type = report.Kind == BounceKind.Complaint ? "email.complained" : "email.bounced",
                OccurredAt = now,
                ReceivedAt = now,
                // A complaint's consent change is written here; the consent projection must not apply it again.
                Source = report.Kind == BounceKind.Complaint ? ContactStore.DirectSource : "bounces",
                Properties = JsonSerializer.Serialize(new { messageId = message?.Id, kind, status = report.Status, detail = report.Detail, broadcastId = message?.BroadcastId }, EventJson.Options),
            });
            SuppressionReason? suppress = report.Kind switch
            {
                BounceKind.Hard => SuppressionReason.HardBounce,
                BounceKind.Complaint => SuppressionReason.Complaint,
                _ => null,
            };
            if (report.Kind == BounceKind.Soft)
            {
                var since = now.AddDays(-30);
                var earlier = await db.Events.CountAsync(e => e.ContactId == contactId && e.Type == "email.bounced" && e.OccurredAt >= since
                    && ClienteleDb.AttributeText(e.Properties, "kind") == "soft", ct);
                if (earlier + 1 >= rules.SoftBounceLimit)
                {
                    suppress = SuppressionReason.SoftBounces;
                }
            }
            if (report.Kind == BounceKind.Complaint)
            {
                await Preferences.SetConsentAsync(db, contactId.Value, ConsentProjection.DefaultTopic, ConsentStatus.Unsubscribed, "spam complaint", now, ct);
                await Preferences.SuppressWaitingAsync(db, contactId.Value, null, now, ct);
            }
            if (suppress is { } reason && await db.Suppressions.FindAsync([email], ct) is null)
            {
                db.Suppressions.Add(new Suppression { Email = email, Reason = reason, At = now, Detail = detail });
            }
            if (message is not null && report.Kind == BounceKind.Hard && message.Status == OutboxStatus.Sent)
            {
                message.Status = OutboxStatus.Bounced;
                message.LastAnswer = "Bounced: " + detail;
                db.OutboxNotes.Add(new OutboxNote { MessageId = message.Id, At = now, Text = "Bounced: " + detail });
            }
            else if (message is not null)
            {
                db.OutboxNotes.Add(new OutboxNote { MessageId = message.Id, At = now, Text = $"{(report.Kind == BounceKind.Complaint ? "Marked as spam" : "Soft bounce")}: {detail}" });
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        signal.Notify();
        return new Outcome(kind, true, message?.Id, email, report.Detail);
    }

    public static void MapBounces(RouteGroupBuilder api)
    {
        api.MapPost("/bounces", ReceiveAsync).WithTags("Outbox").RequireAuthorization(ApiKeys.WritePolicy)
            .Accepts<BounceInput>("application/json", "message/rfc822")
            .WithSummary("Report a bounce or complaint: the raw DSN / ARF message (message/rfc822), or {\"email\", \"type\": \"hard\"|\"soft\"|\"complaint\", \"messageId\", \"detail\"}");
    }

    internal sealed record BounceInput(string? Email, string? Type, Guid? MessageId, string? Detail);

    private static async Task<IResult> ReceiveAsync(HttpRequest request, ClienteleDatabase database, ConsentGuard guard, EventSignal signal,
        OutboxContent content, TimeProvider time, CancellationToken ct)
    {
        BounceReport report;
        if (request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            var (input, problem) = await JsonBody.ReadAsync<BounceInput>(request, ct);
            if (problem is not null)
            {
                return problem;
            }
            var kind = input!.Type?.ToLowerInvariant() switch
            {
                "hard" => BounceKind.Hard,
                "soft" => BounceKind.Soft,
                "complaint" => BounceKind.Complaint,
                _ => (BounceKind?)null,
            };
            if (kind is null)
            {
                return ApiProblems.Invalid("/type", "Type is \"hard\", \"soft\" or \"complaint\".");
            }
            if (input.Email is null && input.MessageId is null)
            {
                return ApiProblems.Invalid("/email", "Say whose address bounced: email, or the messageId of our message.");
            }
            report = new BounceReport(kind.Value, input.Email, input.MessageId, null, input.Detail ?? "reported through the API");
        }
        else
        {
            try
            {
                report = BounceParser.Parse(await MimeMessage.LoadAsync(request.Body, ct));
            }
            catch (FormatException ex)
            {
                return ApiProblems.BadRequest("The body is not a mail message: " + ex.Message);
            }
        }
        var rules = await content.RulesAsync(ct);
        var outcome = await Bounces.ApplyAsync(database, guard, signal, report, rules, time.GetUtcNow().UtcDateTime, ct);
        return TypedResults.Ok(outcome);
    }
}

/// <summary>
/// Reads the bounce mailbox over IMAP when <c>Clientele:Bounces:Imap:Host</c> is set (with <c>Port</c>,
/// <c>Username</c>, <c>Password</c>, <c>Folder</c>): every few minutes, each unread report is applied and marked read.
/// </summary>
internal sealed class BounceMailbox(ClienteleDatabase database, ConsentGuard guard, EventSignal signal, OutboxContent content,
    TimeProvider time, IConfiguration config, ILogger<BounceMailbox> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var section = config.GetSection("Clientele:Bounces:Imap");
        if (string.IsNullOrEmpty(section["Host"]))
        {
            return;
        }
        var every = TimeSpan.FromMinutes(section.GetValue("IntervalMinutes", 5));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var read = await ReadOnceAsync(section, stoppingToken);
                if (read > 0)
                {
                    log.LogInformation("Read {Count} reports from the bounce mailbox", read);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning("Could not read the bounce mailbox: {Problem}", ex.Message);
            }
            await Task.Delay(every, time, stoppingToken);
        }
    }

    internal async Task<int> ReadOnceAsync(IConfigurationSection section, CancellationToken ct)
    {
        var (imap, folder) = await ImapAccess.OpenAsync(section, ct);
        using var _ = imap;
        var unread = await folder.SearchAsync(SearchQuery.NotSeen, ct);
        var rules = await content.RulesAsync(ct);
        foreach (var uid in unread)
        {
            try
            {
                var message = await folder.GetMessageAsync(uid, ct);
                var outcome = await Bounces.ApplyAsync(database, guard, signal, BounceParser.Parse(message), rules, time.GetUtcNow().UtcDateTime, ct);
                log.LogDebug("Bounce mailbox: {Kind} for {Email}", outcome.Kind, outcome.Email);
            }
            catch (FormatException ex)
            {
                // Not a mail message at all: read past it rather than stumble on it every time.
                log.LogWarning("Bounce mailbox: message {Uid} is not readable mail ({Problem})", uid, ex.Message);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not MailKit.ServiceNotConnectedException and not IOException)
            {
                // Applying it failed (the database, say): left unread for the next poll, and the rest are read meanwhile.
                log.LogError(ex, "Bounce mailbox: message {Uid} could not be applied; it is tried again at the next poll", uid);
                continue;
            }
            await folder.AddFlagsAsync(uid, MessageFlags.Seen, true, ct);
        }
        await imap.DisconnectAsync(true, ct);
        return unread.Count;
    }
}
