namespace Clientele.Value;

internal enum ScoringStatus
{
    Queued = 0,
    Running = 1,
    Succeeded = 2,
    Failed = 3,
}

/// <summary>One run of the scoring job: why it ran, how it went, and the fit diagnostics it produced.</summary>
internal sealed class ScoringRun
{
    public Guid Id { get; set; }

    /// <summary>nightly, manual (UI), api, import or startup.</summary>
    public string Trigger { get; set; } = "";

    public string? RequestedBy { get; set; }
    public DateTime RequestedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    public ScoringStatus Status { get; set; }

    /// <summary>While running: the instance running it renews this; a run whose lease has passed was abandoned (the instance stopped).</summary>
    public DateTime? LeaseUntil { get; set; }

    /// <summary>Contacts scored.</summary>
    public int Contacts { get; set; }

    /// <summary>Why it failed, in words for the owner.</summary>
    public string? Error { get; set; }

    /// <summary><see cref="ScoringDiagnostics"/> as JSON, when it succeeded.</summary>
    public string? Diagnostics { get; set; }

    /// <summary><see cref="ScoringSettings"/> the run used, as JSON.</summary>
    public string Settings { get; set; } = "{}";
}
