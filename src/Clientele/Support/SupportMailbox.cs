using System.Net;
using System.Text.RegularExpressions;
using Clientele.Data;
using Clientele.Events;
using Clientele.Outbox;
using MailKit;
using MailKit.Search;
using MimeKit;

namespace Clientele.Support;

/// <summary>Reads a customer's e-mail into an <see cref="Inquiry"/>: who, what, the new part of the text, and what it answers.</summary>
internal static partial class InboundMail
{
    /// <summary>The inquiry in <paramref name="message"/>, or null when it is not a person's message to read (a bounce report, no sender).</summary>
    public static Inquiry? Read(MimeMessage message)
    {
        if (message.Body is MultipartReport || message.Body is MimePart { ContentType.MimeType: "message/delivery-status" })
        {
            return null; // a delivery report belongs to the bounce mailbox
        }
        var sender = message.ReplyTo.Mailboxes.FirstOrDefault() ?? message.From.Mailboxes.FirstOrDefault() ?? message.Sender;
        if (sender?.Address is not { Length: > 0 } address || !EventRules.IsValidEmail(address))
        {
            return null;
        }
        var text = message.TextBody ?? (message.HtmlBody is { } html ? TextOf(html) : "");
        var body = NewPart(text);
        if (body.Length == 0)
        {
            body = text.Trim().Length > 0 ? text.Trim() : "(no text)";
        }
        var subject = string.IsNullOrWhiteSpace(message.Subject) ? "(no subject)" : message.Subject.Trim();
        var references = new List<string>();
        if (message.InReplyTo is { Length: > 0 } inReplyTo)
        {
            references.Add(inReplyTo);
        }
        references.AddRange(message.References.Reverse());
        return new Inquiry(address.Trim(), sender.Name is { Length: > 0 } n ? n.Trim() : null, subject.Length > 300 ? subject[..300] : subject,
            body.Length > 20_000 ? body[..20_000] : body, "email")
        {
            MessageId = message.MessageId is { Length: > 0 } id ? id.Trim('<', '>') : null,
            References = references,
            Automated = IsAutomated(message, address),
        };
    }

    /// <summary>Sent by software: an auto-reply (RFC 3834), a list or bulk mail, a mailer daemon or a no-reply address.</summary>
    public static bool IsAutomated(MimeMessage message, string from)
    {
        if (message.Headers["Auto-Submitted"] is { } auto && !auto.Trim().Equals("no", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        if (message.Headers["Precedence"] is { } precedence && precedence.Trim().ToLowerInvariant() is "bulk" or "junk" or "list" or "auto_reply")
        {
            return true;
        }
        if (message.Headers.Contains("X-Autoreply") || message.Headers.Contains("X-Autorespond") || message.Headers.Contains("List-Id"))
        {
            return true;
        }
        var local = from[..from.IndexOf('@', StringComparison.Ordinal)].ToLowerInvariant();
        return local is "mailer-daemon" or "postmaster" or "noreply" or "no-reply" or "donotreply" or "do-not-reply";
    }

    /// <summary>The text above the quoted conversation: cut at "On … wrote:", an "Original Message" line or the first quoted block.</summary>
    public static string NewPart(string text)
    {
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        var kept = new List<string>();
        foreach (var line in lines)
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith('>') || WroteLine().IsMatch(trimmed) || trimmed.StartsWith("-----Original Message", StringComparison.OrdinalIgnoreCase)
                || (trimmed.StartsWith("From:", StringComparison.Ordinal) && kept.Count > 0 && kept[^1].Trim().Length == 0 && trimmed.Contains('@', StringComparison.Ordinal)))
            {
                break;
            }
            kept.Add(line);
        }
        return string.Join('\n', kept).Trim();
    }

    /// <summary>Readable text from an HTML-only e-mail.</summary>
    public static string TextOf(string html)
    {
        var text = Blocks().Replace(html, "\n");
        text = Tags().Replace(text, "");
        return WebUtility.HtmlDecode(text);
    }

    [GeneratedRegex(@"^(On|Am|Le|El|Il) .{4,200}(wrote|schrieb|a écrit|escribió|ha scritto)\s*:$", RegexOptions.IgnoreCase)]
    private static partial Regex WroteLine();

    [GeneratedRegex(@"<\s*(br|/p|/div|/li|/tr|/h[1-6])[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex Blocks();

    [GeneratedRegex(@"<(script|style)[^>]*>.*?</\1>|<[^>]+>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex Tags();
}

/// <summary>
/// Polls the support mailbox over IMAP when <c>Clientele:Support:Imap:Host</c> is set (with <c>Port</c>, <c>Security</c>,
/// <c>Username</c>, <c>Password</c>, <c>Folder</c>, <c>IntervalSeconds</c>, 30 by default): each unread e-mail becomes a
/// ticket or a message on the ticket it answers, and is then marked read. An e-mail read again after an interruption is
/// recognised by its Message-ID.
/// </summary>
internal sealed class SupportMailbox(ClienteleDatabase database, EventSignal signal, OutboxSignal outbox, MailLinks links, TimeProvider time,
    IConfiguration config, ILogger<SupportMailbox> log) : PeriodicService(time, log)
{
    private IConfigurationSection Section => config.GetSection("Clientele:Support:Imap");

    protected override bool Enabled => !string.IsNullOrEmpty(Section["Host"]);

    protected override TimeSpan Every => TimeSpan.FromSeconds(Math.Max(5, Section.GetValue("IntervalSeconds", 30)));

    protected override string What => "Reading the support mailbox";

    protected override async Task RunOnceAsync(CancellationToken ct)
    {
        // A failure (the server away, a wrong password) is logged by the base and the next round comes as usual.
        var read = await ReadOnceAsync(ct);
        if (read > 0)
        {
            Log.LogInformation("Read {Count} e-mails from the support mailbox", read);
        }
    }

    internal async Task<int> ReadOnceAsync(CancellationToken ct)
    {
        var (imap, folder) = await ImapAccess.OpenAsync(Section, ct);
        using var client = imap;
        var unread = await folder.SearchAsync(SearchQuery.NotSeen, ct);
        var taken = 0;
        foreach (var uid in unread)
        {
            try
            {
                var message = await folder.GetMessageAsync(uid, ct);
                if (InboundMail.Read(message) is { } inquiry)
                {
                    var (received, error) = await TicketsApi.TakeInAsync(database, inquiry, links, Clock.GetUtcNow().UtcDateTime, ct);
                    Log.LogDebug("Support mailbox: {Outcome} from {From}", received?.Outcome ?? error?.Message, inquiry.Email);
                    taken++;
                }
                else
                {
                    Log.LogInformation("Support mailbox: message {Uid} is not an inquiry (a delivery report, or no sender); marked read", uid);
                }
            }
            catch (FormatException ex)
            {
                Log.LogWarning("Support mailbox: message {Uid} is not readable mail ({Problem})", uid, ex.Message);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not ServiceNotConnectedException and not IOException)
            {
                // Taking it in failed (the database, say): left unread for the next poll, and the rest are read meanwhile.
                Log.LogError(ex, "Support mailbox: message {Uid} could not be taken in; it is tried again at the next poll", uid);
                continue;
            }
            await folder.AddFlagsAsync(uid, MessageFlags.Seen, true, ct);
        }
        await imap.DisconnectAsync(true, ct);
        if (taken > 0)
        {
            signal.Notify();
            outbox.Notify();
        }
        return unread.Count;
    }
}
