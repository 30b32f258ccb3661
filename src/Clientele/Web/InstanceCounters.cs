using System.Diagnostics.Metrics;

namespace Clientele.Web;

/// <summary>
/// What this instance did since it started, not what the database holds: with several instances on one PostgreSQL,
/// each one's <c>/metrics</c> shows its share of the mail, journey steps, webhook calls and scoring runs.
/// </summary>
internal static class InstanceCounters
{
    private static readonly Meter Meter = new(Metrics.MeterName);

    public static readonly Counter<long> MailSent =
        Meter.CreateCounter<long>("clientele.instance.mail.sent", "{message}", "Messages this instance handed to the mail server");

    public static readonly Counter<long> JourneyRuns =
        Meter.CreateCounter<long>("clientele.instance.journey.runs", "{run}", "Journey runs this instance moved along");

    public static readonly Counter<long> WebhookCalls =
        Meter.CreateCounter<long>("clientele.instance.webhook.calls", "{call}", "Webhook calls this instance posted");

    public static readonly Counter<long> ScoringRuns =
        Meter.CreateCounter<long>("clientele.instance.scoring.runs", "{run}", "Scoring runs this instance ran");
}
