using MimeKit;

namespace Clientele.Outbox;

/// <summary>What a transport made of one delivery attempt.</summary>
internal enum DeliveryOutcome
{
    /// <summary>The receiving server (or the local outbox) took the message.</summary>
    Sent,

    /// <summary>A temporary refusal (4xx) or a dropped connection: try again later.</summary>
    Retry,

    /// <summary>A permanent refusal (5xx): do not try again.</summary>
    Failed,
}

/// <param name="Answer">The server's reply or the reason, shown in the message's history.</param>
internal readonly record struct DeliveryResult(DeliveryOutcome Outcome, string Answer);

/// <summary>Where messages leave the system: the local outbox until SMTP is set up, then an SMTP server.</summary>
internal interface IMailTransport
{
    /// <summary>"local" or "smtp", shown in the back office.</summary>
    string Name { get; }

    /// <summary>Delivers one message. Safe to call concurrently; a transport limits its own connections and rate.</summary>
    Task<DeliveryResult> SendAsync(MimeMessage message, CancellationToken ct);
}
