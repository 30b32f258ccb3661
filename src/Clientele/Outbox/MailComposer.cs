using MimeKit;
using MimeKit.Cryptography;

namespace Clientele.Outbox;

/// <summary>The parts of a message once rendered, ready to become MIME.</summary>
internal sealed record ComposedContent(string Subject, string? Html, string Text);

/// <summary>Where a reply belongs in a conversation: the message it answers, all before it, and the address to answer to.</summary>
internal sealed record Threading(string? InReplyTo, IReadOnlyList<string> References, MailboxAddress? ReplyTo);

/// <summary>Turns an outbox row and its rendered content into the MIME message the transport sends.</summary>
internal static class MailComposer
{
    /// <summary>Carries the outbox id, so bounces and the local outbox can find the message again.</summary>
    public const string IdHeader = "X-Clientele-Id";

    public static MimeMessage Compose(OutboxMessage m, MailboxAddress from, MailboxAddress? replyTo, ComposedContent content,
        string? unsubscribeUrl, DateTime now, DkimSigner? dkim = null, Threading? thread = null)
    {
        var message = new MimeMessage();
        message.From.Add(from);
        replyTo = thread?.ReplyTo ?? replyTo;
        if (replyTo is not null)
        {
            message.ReplyTo.Add(replyTo);
        }
        message.To.Add(MailboxAddress.Parse(m.To));
        message.Subject = content.Subject;
        message.Date = new DateTimeOffset(DateTime.SpecifyKind(now, DateTimeKind.Utc));
        message.MessageId = MessageIdOf(m.Id, from.Domain);
        message.Headers.Add(IdHeader, m.Id.ToString("N"));
        if (thread is not null)
        {
            message.InReplyTo = thread.InReplyTo;
            foreach (var reference in thread.References)
            {
                message.References.Add(reference);
            }
        }
        if (m.Class == MessageClass.Marketing && unsubscribeUrl is not null)
        {
            // RFC 2369 and RFC 8058: mail clients offer their own unsubscribe button, and one POST takes effect.
            var mailto = $"mailto:unsubscribe@{from.Domain}?subject=unsubscribe%20{m.Id:N}";
            message.Headers.Add(HeaderId.ListUnsubscribe, $"<{unsubscribeUrl}>, <{mailto}>");
            message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
            message.Headers.Add("Precedence", "bulk");
        }
        else
        {
            message.Headers.Add("Auto-Submitted", "auto-generated");
        }
        // Quoted-printable suits every message (long lines, any script) and spares scanning each part for the best encoding.
        var text = new TextPart("plain") { Text = content.Text, ContentTransferEncoding = ContentEncoding.QuotedPrintable };
        if (content.Html is null)
        {
            message.Body = text;
        }
        else
        {
            message.Body = new MultipartAlternative
            {
                text,
                new TextPart("html") { Text = content.Html, ContentTransferEncoding = ContentEncoding.QuotedPrintable },
            };
        }
        if (dkim is not null)
        {
            message.Prepare(EncodingConstraint.SevenBit);
            dkim.Sign(message, SignedHeaders);
        }
        return message;
    }

    private static readonly HeaderId[] SignedHeaders =
        [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId, HeaderId.InReplyTo, HeaderId.References, HeaderId.ListUnsubscribe, HeaderId.MimeVersion, HeaderId.ContentType];

    public static string MessageIdOf(Guid id, string domain) => $"{id:N}@{(domain is { Length: > 0 } ? domain : "clientele.local")}";

    /// <summary>The outbox id of a message this app made, from its header or its Message-ID.</summary>
    public static Guid? OutboxId(MimeMessage message)
    {
        if (message.Headers[IdHeader] is { } header && Guid.TryParseExact(header.Trim(), "N", out var fromHeader))
        {
            return fromHeader;
        }
        return FromMessageId(message.MessageId);
    }

    public static Guid? FromMessageId(string? messageId)
    {
        var value = messageId?.Trim().Trim('<', '>');
        var at = value?.IndexOf('@', StringComparison.Ordinal) ?? -1;
        return at == 32 && Guid.TryParseExact(value.AsSpan(0, 32), "N", out var id) ? id : null;
    }
}
