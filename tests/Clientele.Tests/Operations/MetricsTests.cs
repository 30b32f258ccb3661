using System.Net;
using System.Net.Http.Headers;
using Clientele.Tests.Infrastructure;
using Clientele.Web;
using Microsoft.Extensions.DependencyInjection;

namespace Clientele.Tests.Operations;

/// <summary>
/// Meters are process-wide: every app started in this process would show its gauges on any app's /metrics. These
/// tests run alone, so the figures read are their own app's.
/// </summary>
[CollectionDefinition(nameof(ProcessWideMetrics), DisableParallelization = true)]
public sealed class ProcessWideMetrics;

[Collection(nameof(ProcessWideMetrics))]
public sealed class MetricsTests
{
    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Prometheus_reads_requests_runtime_events_consumer_lag_and_the_outbox(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync();
        var events = await api.PostJsonAsync("/api/v1/events", new
        {
            events = Enumerable.Range(0, 7).Select(i => new { type = "page.viewed", email = $"v{i}@example.com", properties = new { url = "/" } }),
        });
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        await app.DrainAsync();
        await app.Services.GetRequiredService<MetricsSnapshot>().RefreshAsync(CancellationToken.None);

        var response = await app.CreateClient().GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var eventsLine = Assert.Single(text.Split('\n'), l => l.StartsWith("clientele_events ", StringComparison.Ordinal) || l.StartsWith("clientele_events{", StringComparison.Ordinal));
        Assert.True(double.Parse(eventsLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) >= 7, eventsLine);
        var lag = Assert.Single(text.Split('\n'), l => l.StartsWith("clientele_consumer_lag{", StringComparison.Ordinal) && l.Contains("consumer=\"activity\"", StringComparison.Ordinal));
        Assert.EndsWith("} 0", lag, StringComparison.Ordinal);
        Assert.Contains(text.Split('\n'), l => l.StartsWith("clientele_outbox_messages{", StringComparison.Ordinal) && l.Contains("status=\"queued\"", StringComparison.Ordinal));
        Assert.Contains("http_server_request_duration_seconds", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_collections", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_token_set_metrics_need_it()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, settings: new() { ["Clientele:Metrics:Token"] = "scrape-secret-42" });
        var client = app.CreateClient();

        var without = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Forbidden, without.StatusCode);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/metrics")).StatusCode);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "scrape-secret-42");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/metrics")).StatusCode);
    }
}
