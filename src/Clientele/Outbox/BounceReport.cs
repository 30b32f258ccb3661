using System.Text.RegularExpressions;
using MimeKit;

namespace Clientele.Outbox;

/// <summary>What a message that came back to the bounce address says about a sent message.</summary>
internal enum BounceKind
{
    /// <summary>The address does not exist or will never take mail: stop sending to it.</summary>
    Hard,

    /// <summary>A failure that may pass: a delay, a full mailbox, a receiving server's policy.</summary>
    Soft,

    /// <summary>The recipient marked the message as spam.</summary>
    Complaint,

    /// <summary>An out-of-office or vacation reply: says nothing about the address.</summary>
    AutoReply,

    /// <summary>Not a report about a failed delivery, or one that could not be read.</summary>
    Unknown,
}

/// <param name="Recipient">The address the report is about, as the report gives it.</param>
/// <param name="MessageId">The outbox id of the message the report is about, when the report carries it back.</param>
/// <param name="Status">The enhanced status code (RFC 3463), such as "5.1.1".</param>
/// <param name="Detail">The server's own words, or why the report was not understood.</param>
internal sealed record BounceReport(BounceKind Kind, string? Recipient, Guid? MessageId, string? Status, string Detail);

/// <summary>
/// Reads delivery status notifications (RFC 3464), feedback reports (RFC 5965), automatic replies and the plain-text
/// bounces of servers that predate both. Pure: the caller decides what a hard bounce or a complaint does to a contact.
/// </summary>
internal static partial class BounceParser
{
    private static readonly string[] AutoReplyHeaders = ["X-Autoreply", "X-Autorespond"];

    public static BounceReport Parse(MimeMessage report)
    {
        ArgumentNullException.ThrowIfNull(report);
        try
        {
            return Read(report);
        }
        catch (Exception e)
        {
            // Reports arrive from any server on the Internet; one that cannot be taken apart must not stop the
            // reading of the others, and the caller keeps it as Unknown.
            return new BounceReport(BounceKind.Unknown, null, null, null, $"the report could not be read: {e.Message}");
        }
    }

    private static BounceReport Read(MimeMessage report)
    {
        var entities = Entities(report.Body);
        var returned = entities.OfType<MessagePart>().Select(p => p.Message).FirstOrDefault(m => m is not null);
        var id = IdOf(returned) ?? IdFromThread(report);

        if (entities.OfType<MessageFeedbackReport>().FirstOrDefault() is { } feedback)
        {
            return FromFeedback(feedback.Fields, returned, id);
        }
        if (entities.OfType<MessageDeliveryStatus>().FirstOrDefault() is { } status)
        {
            return FromDeliveryStatus(status.StatusGroups, returned, id ?? IdFromText(report.TextBody));
        }
        // Before the auto-reply signs: plain-text bounces from Exim and others carry "Auto-Submitted: auto-replied"
        // too, and a bounce read as an auto-reply would go on being sent to a dead address.
        if (LooksLikeBounce(report))
        {
            return FromText(report.TextBody ?? "", report, returned, id ?? IdFromText(report.TextBody));
        }
        if (AutoReplySign(report) is { } sign)
        {
            return new BounceReport(BounceKind.AutoReply, report.From.Mailboxes.FirstOrDefault()?.Address, id, null, sign);
        }
        return new BounceReport(BounceKind.Unknown, null, id, null, "not a bounce, a complaint or an automatic reply");
    }

    /// <summary>The body and its parts in document order, without entering attached messages: the returned original may be a report itself.</summary>
    private static List<MimeEntity> Entities(MimeEntity? body)
    {
        var found = new List<MimeEntity>();
        var pending = new Queue<MimeEntity>();
        if (body is not null)
        {
            pending.Enqueue(body);
        }
        while (pending.TryDequeue(out var entity))
        {
            found.Add(entity);
            if (entity is Multipart multipart)
            {
                foreach (var child in multipart)
                {
                    pending.Enqueue(child);
                }
            }
        }
        return found;
    }

    private static BounceReport FromDeliveryStatus(IEnumerable<HeaderList> groups, MimeMessage? returned, Guid? id)
    {
        BounceReport? chosen = null;
        // The first group holds the per-message fields; but some servers leave out the blank line before the
        // recipient's fields, so any group that speaks of a recipient counts.
        foreach (var fields in groups.Where(g => g.Contains("Action") || g.Contains("Status") || g.Contains("Final-Recipient")))
        {
            var candidate = FromRecipientFields(fields, returned, id);
            // Clientele writes to one recipient per message, so several groups are rare; the most telling one wins.
            if (chosen is null || Weight(candidate.Kind) > Weight(chosen.Kind))
            {
                chosen = candidate;
            }
        }
        return chosen ?? new BounceReport(BounceKind.Unknown, ToOf(returned), id, null, "the delivery status report names no recipient");
    }

    private static int Weight(BounceKind kind) => kind switch
    {
        BounceKind.Hard => 2,
        BounceKind.Soft => 1,
        _ => 0,
    };

    private static BounceReport FromRecipientFields(HeaderList fields, MimeMessage? returned, Guid? id)
    {
        var recipient = AddressOf(fields["Final-Recipient"]) ?? AddressOf(fields["Original-Recipient"]) ?? ToOf(returned);
        var action = FirstWord(fields["Action"]);
        var diagnostic = Untyped(fields["Diagnostic-Code"]);
        var status = StatusCode(fields["Status"]);
        var diagnosed = StatusCode(diagnostic);
        // Some servers put the catch-all X.0.0 in Status and the precise code only in the diagnostic text.
        if (status is null || (status.EndsWith(".0.0", StringComparison.Ordinal) && diagnosed is not null && diagnosed[0] == status[0]))
        {
            status = diagnosed ?? status;
        }
        var detail = diagnostic ?? Describe(status);

        if (action is "delivered" or "relayed" or "expanded")
        {
            return new BounceReport(BounceKind.Unknown, recipient, id, status, $"{action}, not a bounce: {detail}");
        }
        if (action is "delayed")
        {
            return new BounceReport(BounceKind.Soft, recipient, id, status, detail);
        }
        return status switch
        {
            ['4', ..] => new BounceReport(BounceKind.Soft, recipient, id, status, detail),
            ['5', ..] => new BounceReport(Permanent(status), recipient, id, status, detail),
            null => new BounceReport(BounceKind.Unknown, recipient, id, null, $"no status code for action {action ?? "(none)"}: {detail}"),
            _ => new BounceReport(BounceKind.Unknown, recipient, id, status, $"status {status} is not a failure: {detail}"),
        };
    }

    private static BounceKind Permanent(string status)
    {
        // A full mailbox belongs to an address that exists; some servers call it permanent, but it empties again.
        if (status == "5.2.2")
        {
            return BounceKind.Soft;
        }
        // 5.7.x is the receiving server's policy (a spam filter, a blocked sending address, DMARC): it says nothing
        // about the recipient's address, and suppressing the contact for it would lose a customer who wants the mail.
        if (status.StartsWith("5.7.", StringComparison.Ordinal))
        {
            return BounceKind.Soft;
        }
        return BounceKind.Hard;
    }

    private static BounceReport FromFeedback(HeaderList fields, MimeMessage? returned, Guid? id)
    {
        var recipient = AddressOf(fields["Original-Rcpt-To"]) ?? AddressOf(fields["Removal-Recipient"]) ?? ToOf(returned);
        var type = FirstWord(fields["Feedback-Type"]);
        var agent = fields["User-Agent"]?.Trim();
        var detail = agent is { Length: > 0 } ? $"{type} report from {agent}" : $"{type} report";
        return type switch
        {
            "abuse" or "fraud" or "other" => new BounceReport(BounceKind.Complaint, recipient, id, null, detail),
            null => new BounceReport(BounceKind.Unknown, recipient, id, null, "the feedback report has no Feedback-Type"),
            // not-spam, virus and auth-failure reports are about the mail stream, not a recipient who objects.
            _ => new BounceReport(BounceKind.Unknown, recipient, id, null, $"{detail}, not a complaint"),
        };
    }

    private static bool LooksLikeBounce(MimeMessage report)
    {
        var from = report.From.Mailboxes.FirstOrDefault()?.Address ?? "";
        var local = from.Split('@')[0];
        return local.Equals("mailer-daemon", StringComparison.OrdinalIgnoreCase)
            || local.Equals("postmaster", StringComparison.OrdinalIgnoreCase)
            || BounceSubject().IsMatch(report.Subject ?? "");
    }

    private static BounceReport FromText(string text, MimeMessage report, MimeMessage? returned, Guid? id)
    {
        // Everything after the copy of the original is the customer's own message, whose text must not be read as the
        // server's verdict.
        var notice = CopyMarker().Split(text, 2)[0];
        var code = ReplyWithCode().Match(notice) is { Success: true } reply ? reply : EnhancedCode().Match(notice);
        var recipient = Addresses().Matches(notice)
            .Select(m => m.Groups["address"].Value.Trim('.'))
            .FirstOrDefault(a => !IsRobot(a) && !IsOurs(a, report)) ?? ToOf(returned);
        if (!code.Success)
        {
            return new BounceReport(BounceKind.Unknown, recipient, id, null, "a bounce without an enhanced status code in its text");
        }
        var status = code.Groups["code"].Value;
        var detail = LineAround(notice, code.Index);
        if (recipient is null)
        {
            return new BounceReport(BounceKind.Unknown, null, id, status, $"a bounce that names no address: {detail}");
        }
        var kind = status[0] == '4' ? BounceKind.Soft : Permanent(status);
        return new BounceReport(kind, recipient, id, status, detail);
    }

    private static bool IsRobot(string address)
    {
        var local = address.Split('@')[0];
        return local.Equals("mailer-daemon", StringComparison.OrdinalIgnoreCase)
            || local.Equals("postmaster", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Notices often name the sender, which is our own bounce address, before the failed recipient.</summary>
    private static bool IsOurs(string address, MimeMessage report) =>
        report.To.Mailboxes.Any(m => string.Equals(m.Address, address, StringComparison.OrdinalIgnoreCase));

    private static string LineAround(string text, int index)
    {
        var start = text.LastIndexOf('\n', Math.Max(index - 1, 0)) + 1;
        var end = text.IndexOf('\n', index);
        return Spaces().Replace(text[start..(end < 0 ? text.Length : end)], " ").Trim();
    }

    private static string? AutoReplySign(MimeMessage message)
    {
        var submitted = message.Headers["Auto-Submitted"];
        if (submitted is not null && FirstWord(submitted) is { } value && value != "no")
        {
            return $"Auto-Submitted: {submitted.Trim()}";
        }
        foreach (var name in AutoReplyHeaders)
        {
            if (message.Headers.Contains(name))
            {
                return $"{name}: {message.Headers[name]?.Trim()}";
            }
        }
        if (FirstWord(message.Headers["Precedence"]) is "auto_reply")
        {
            return "Precedence: auto_reply";
        }
        // Outlook and many webmail services mark their replies only in the subject, in the reader's language.
        var subject = message.Subject ?? "";
        return AutoReplySubject().IsMatch(subject) ? $"subject \"{subject.Trim()}\"" : null;
    }

    /// <summary>Clientele writes its outbox id into every message twice, because relays may rewrite the Message-ID.</summary>
    private static Guid? IdOf(MimeMessage? original)
    {
        if (original is null)
        {
            return null;
        }
        var header = original.Headers["X-Clientele-Id"]?.Trim().Trim('<', '>');
        return Guid.TryParseExact(header, "N", out var id) ? id : IdFromMessageId(original.Headers[HeaderId.MessageId]);
    }

    private static Guid? IdFromMessageId(string? messageId)
    {
        var value = messageId?.Trim().TrimStart('<');
        var at = value?.IndexOf('@') ?? -1;
        return at == 32 && Guid.TryParseExact(value![..at], "N", out var id) ? id : null;
    }

    /// <summary>Auto-replies and human answers point at the sent message by its Message-ID; the nearest reference comes last.</summary>
    private static Guid? IdFromThread(MimeMessage message)
    {
        var references = MessageIds().Matches(message.Headers[HeaderId.References] ?? "").Select(m => m.Value).Reverse();
        return MessageIds().Matches(message.Headers[HeaderId.InReplyTo] ?? "").Select(m => m.Value)
            .Concat(references)
            .Select(IdFromMessageId)
            .FirstOrDefault(id => id is not null);
    }

    /// <summary>Servers that quote the original in the text instead of attaching it still quote its headers.</summary>
    private static Guid? IdFromText(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        if (QuotedClienteleId().Match(text) is { Success: true } header && Guid.TryParseExact(header.Groups["id"].Value, "N", out var id))
        {
            return id;
        }
        return QuotedMessageId().Match(text) is { Success: true } messageId && Guid.TryParseExact(messageId.Groups["id"].Value, "N", out var fromMessageId)
            ? fromMessageId
            : null;
    }

    private static string? ToOf(MimeMessage? original) => original?.To.Mailboxes.FirstOrDefault()?.Address;

    /// <summary>"rfc822; ana@example.org" or "&lt;ana@example.org&gt;" → "ana@example.org".</summary>
    private static string? AddressOf(string? field)
    {
        var address = Untyped(field)?.Trim('<', '>', ' ');
        return string.IsNullOrEmpty(address) ? null : address;
    }

    /// <summary>Drops the type that DSN fields start with ("smtp; 550 …", "X-Postfix; …") and unfolds the rest.</summary>
    private static string? Untyped(string? field)
    {
        if (field is null)
        {
            return null;
        }
        var match = TypedValue().Match(field);
        var value = Spaces().Replace(match.Success ? match.Groups["value"].Value : field, " ").Trim();
        return value.Length == 0 ? null : value;
    }

    private static string? FirstWord(string? field) =>
        field is not null && Word().Match(field) is { Success: true } word ? word.Value.ToLowerInvariant() : null;

    private static string? StatusCode(string? text) =>
        text is not null && EnhancedCode().Match(text) is { Success: true } match ? match.Groups["code"].Value : null;

    /// <summary>For reports without a Diagnostic-Code: the meaning of the code's class and subject (RFC 3463).</summary>
    private static string Describe(string? status)
    {
        if (status is null)
        {
            return "no diagnostic given";
        }
        var outcome = status[0] switch
        {
            '2' => "delivered",
            '4' => "temporary failure",
            _ => "permanent failure",
        };
        var subject = status.Split('.')[1] switch
        {
            "1" => "addressing",
            "2" => "mailbox",
            "3" => "mail system",
            "4" => "network or routing",
            "5" => "mail delivery protocol",
            "6" => "message content",
            "7" => "security or policy",
            _ => "other",
        };
        return $"{outcome} ({subject}), status {status}";
    }

    [GeneratedRegex(@"(?<![\d.])(?<code>[245]\.\d{1,3}\.\d{1,3})(?!\.?\d)")]
    private static partial Regex EnhancedCode();

    // "550 5.1.1" or "550-5.1.1": the enhanced code right after a reply code is the server's verdict, not a version number.
    [GeneratedRegex(@"\b[45]\d\d[ -](?<code>[45]\.\d{1,3}\.\d{1,3})(?!\.?\d)")]
    private static partial Regex ReplyWithCode();

    [GeneratedRegex(@"(?<address>[A-Za-z0-9._%+'=-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)")]
    private static partial Regex Addresses();

    [GeneratedRegex(@"^\s*-{2,}.*(copy of|original message|message follows|undelivered message)", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex CopyMarker();

    [GeneratedRegex(@"^\s*(undeliver(ed|able)|delivery (status notification|failure|has failed)|mail delivery (failed|failure)|returned mail|failure notice|non-?delivery|message not delivered|unzustellbar|nicht zustellbar)", RegexOptions.IgnoreCase)]
    private static partial Regex BounceSubject();

    [GeneratedRegex(@"^\s*(out of (the )?office|automatic reply|automatische antwort|auto(matic)?[- ]?(reply|response)|autoreply|auto:|abwesenheitsnotiz|réponse automatique|respuesta automática|risposta automatica|automatisch antwoord)", RegexOptions.IgnoreCase)]
    private static partial Regex AutoReplySubject();

    [GeneratedRegex(@"^[\s>]*X-Clientele-Id:\s*<?(?<id>[0-9A-Fa-f]{32})>?\s*$", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex QuotedClienteleId();

    [GeneratedRegex(@"^[\s>]*Message-ID:\s*<(?<id>[0-9A-Fa-f]{32})@", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex QuotedMessageId();

    [GeneratedRegex(@"<[^<>\s]+>")]
    private static partial Regex MessageIds();

    [GeneratedRegex(@"^\s*[A-Za-z0-9-]+\s*;(?<value>.*)$", RegexOptions.Singleline)]
    private static partial Regex TypedValue();

    [GeneratedRegex(@"[A-Za-z_-]+")]
    private static partial Regex Word();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
