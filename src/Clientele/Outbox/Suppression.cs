namespace Clientele.Outbox;

internal enum SuppressionReason
{
    /// <summary>Asked for no more marketing mail of any topic.</summary>
    Unsubscribed = 0,

    /// <summary>The address does not exist: nothing is sent to it, transactional mail included.</summary>
    HardBounce = 1,

    /// <summary>Marked a message as spam: no more marketing mail.</summary>
    Complaint = 2,

    /// <summary>Added by hand in the back office or through the API.</summary>
    Manual = 3,

    /// <summary>Too many soft bounces in a row.</summary>
    SoftBounces = 4,
}

/// <summary>An address nothing (or no marketing) goes to, by normalised e-mail.</summary>
internal sealed class Suppression
{
    public string Email { get; set; } = "";
    public SuppressionReason Reason { get; set; }
    public DateTime At { get; set; }
    public string? Detail { get; set; }

    /// <summary>Transactional mail still goes to an unsubscribed or complaining address, never to one that bounced.</summary>
    public static bool BlocksTransactional(SuppressionReason reason) =>
        reason is SuppressionReason.HardBounce or SuppressionReason.SoftBounces or SuppressionReason.Manual;
}
