namespace Clientele.Outbox;

/// <summary>How the connection to the SMTP server is secured.</summary>
internal enum SmtpSecurity
{
    /// <summary>TLS from the first byte on port 465, otherwise STARTTLS when the server offers it.</summary>
    Auto,

    /// <summary>Plain text, even if the server offers STARTTLS (a relay on the same machine or network).</summary>
    None,

    /// <summary>STARTTLS, and refuse to go on without it.</summary>
    StartTls,

    /// <summary>TLS from the first byte (SMTPS, usually port 465).</summary>
    Ssl,
}

/// <summary>The SMTP server mail is handed to, from <c>Clientele:Smtp</c> (env <c>Clientele__Smtp__Host</c>, …).</summary>
internal sealed class SmtpOptions
{
    public const string Section = "Clientele:Smtp";

    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    public string? Username { get; set; }

    public string? Password { get; set; }

    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    /// <summary>Connections kept open to the server, and so messages in flight at once.</summary>
    public int MaxConnections { get; set; } = 4;

    /// <summary>Messages per second at most; 0 = no limit. A limit delays sending, it never fails a message.</summary>
    public int PerSecond { get; set; }

    /// <summary>Messages per hour at most (a provider's quota); 0 = no limit.</summary>
    public int PerHour { get; set; }

    /// <summary>How long one network step (connect, a command, the message body) may take.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>The name given in EHLO; without it, the local address is sent.</summary>
    public string? LocalDomain { get; set; }

    /// <summary>Until a host is set, mail stays in the local outbox.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host);

    public static SmtpOptions From(IConfiguration configuration) =>
        configuration.GetSection(Section).Get<SmtpOptions>() ?? new SmtpOptions();
}
