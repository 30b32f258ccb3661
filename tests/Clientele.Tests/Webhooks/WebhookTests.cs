using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Journeys;
using Clientele.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Clientele.Tests.Webhooks;

/// <summary>A real HTTP receiver on this machine: records each request and answers with the next status code queued (200 when none).</summary>
internal sealed class Receiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<int> _answers = new();

    public sealed record Request(string Path, Dictionary<string, string> Headers, string Body);

    public ConcurrentQueue<Request> Requests { get; } = new();
    public int Port { get; }
    public string Url(string path = "/hook") => $"http://127.0.0.1:{Port}{path}";

    public Receiver()
    {
        Port = FreePort();
        _listener.Prefixes.Add($"http://*:{Port}/"); // any host name: the tests reach it as 127.0.0.1 and as localhost
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public void Answer(params int[] codes)
    {
        foreach (var code in codes)
        {
            _answers.Enqueue(code);
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            // Each request is answered on its own, as a real receiver's server does: several senders post at once, and
            // one slow answer must not hold the others past the senders' timeout.
            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        try
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            Requests.Enqueue(new Request(context.Request.Url!.AbsolutePath,
                context.Request.Headers.AllKeys.OfType<string>().ToDictionary(k => k, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase), body));
            var code = _answers.TryDequeue(out var next) ? next : 200;
            context.Response.StatusCode = code;
            if (code is >= 300 and < 400)
            {
                context.Response.RedirectLocation = "http://169.254.169.254/latest/meta-data/";
            }
            context.Response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
            // the sender gave up on this request, or the receiver is closing
        }
    }

    private static int FreePort()
    {
        var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public void Dispose() => _listener.Close();
}

public sealed class WebhookTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("64:ff9b::a00:1")]
    public void Addresses_inside_private_networks_or_this_machine_are_refused(string address) =>
        Assert.True(WebhookGuard.IsRefused(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("64:ff9b::808:808")]
    public void Addresses_on_the_internet_are_allowed(string address) =>
        Assert.False(WebhookGuard.IsRefused(IPAddress.Parse(address)));

    [Theory]
    [InlineData("ftp://hooks.example.com/x", "http")]
    [InlineData("hooks.example.com/x", "http")]
    [InlineData("https://user:secret@hooks.example.com/x", "user name")]
    [InlineData("http://127.0.0.1:8080/x", "private network")]
    [InlineData("http://[::ffff:10.0.0.1]/x", "private network")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "private network")]
    [InlineData("http://localhost:8080/x", "this machine")]
    public void A_webhook_address_that_cannot_be_right_is_refused_before_publishing(string url, string said) =>
        Assert.Contains(said, WebhookGuard.Check(url));

    [Fact]
    public void An_address_on_the_internet_passes_the_first_check() =>
        Assert.Null(WebhookGuard.Check("https://hooks.example.com/clientele?x=1"));

    [Fact]
    public async Task A_name_that_resolves_to_this_machine_is_refused_when_connecting_although_a_receiver_listens_there()
    {
        using var receiver = new Receiver();
        using var client = WebhookSender.CreateClient(allowPrivate: false, TimeSpan.FromSeconds(5));
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync($"http://localhost:{receiver.Port}/hook", new StringContent("{}")));
        Assert.IsType<WebhookRefusedException>(error.InnerException);
        Assert.Contains("resolves only to addresses inside a private network", error.InnerException!.Message);
        Assert.Empty(receiver.Requests);

        using var allowed = WebhookSender.CreateClient(allowPrivate: true, TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, (await allowed.PostAsync($"http://localhost:{receiver.Port}/hook", new StringContent("{}"))).StatusCode);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(4, 8)]
    [InlineData(20, 720)]
    public void Retries_wait_one_minute_doubling_up_to_twelve_hours(int attempts, int minutes) =>
        Assert.Equal(TimeSpan.FromMinutes(minutes), WebhookSender.Backoff(attempts));

    private static Task<TestApp> StartAsync(string kind) => TestApp.StartAsync(kind, settings: new()
    {
        ["Clientele:Journeys:Enabled"] = "false",
        ["Clientele:Webhooks:Enabled"] = "false",
        ["Clientele:Webhooks:AllowPrivateAddresses"] = "true",
    });

    private static Task<Guid> JourneyAsync(HttpClient api, string url) => JourneyFlowTests.JourneyAsync(api, "Tell the CRM", new
    {
        trigger = new { @event = "vip.flagged" },
        steps = new object[] { new { id = "crm", type = "webhook", url, data = new { plan = "gold", priority = 2 } } },
    });

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_webhook_step_posts_the_contact_signed_once_and_a_receiver_can_check_the_signature(string kind)
    {
        using var receiver = new Receiver();
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        var ann = await JourneyFlowTests.ContactAsync(api, "ann@example.com");
        var journey = await JourneyAsync(api, receiver.Url());
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "vip.flagged");
        await JourneyFlowTests.RunDueAsync(app);

        var sender = app.Services.GetRequiredService<WebhookSender>();
        Assert.Equal(1, await sender.SendDueAsync(CancellationToken.None));
        Assert.Equal(0, await sender.SendDueAsync(CancellationToken.None)); // delivered: never again
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("/hook", request.Path);

        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("journey.webhook", body.GetProperty("type").GetString());
        Assert.Equal("Tell the CRM", body.GetProperty("journey").GetProperty("name").GetString());
        Assert.Equal(ann, body.GetProperty("contact").GetProperty("id").GetGuid());
        Assert.Equal("ann@example.com", body.GetProperty("contact").GetProperty("email").GetString());
        Assert.Equal("gold", body.GetProperty("data").GetProperty("plan").GetString());

        // The receiver recomputes the signature with the secret the owner copied.
        var secret = (await (await api.GetAsync("/api/v1/webhooks/secret")).ReadJsonAsync()).GetProperty("secret").GetString()!;
        var timestamp = long.Parse(request.Headers["Clientele-Timestamp"], System.Globalization.CultureInfo.InvariantCulture);
        var expected = "v1=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{request.Body}")));
        Assert.Equal(expected, request.Headers["Clientele-Signature"]);
        Assert.NotEqual(WebhookSender.Sign(Encoding.UTF8.GetBytes(secret), timestamp, request.Body + " "), request.Headers["Clientele-Signature"]); // any change shows
        Assert.StartsWith("journey:", request.Headers["Idempotency-Key"]);

        var log = (await (await api.GetAsync($"/api/v1/webhooks/calls?journeyId={journey}")).ReadJsonAsync()).EnumerateArray().ToList();
        var call = Assert.Single(log);
        Assert.Equal("delivered", call.GetProperty("status").GetString());
        Assert.Equal(200, call.GetProperty("lastStatusCode").GetInt32());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_receiver_that_is_down_gets_the_call_again_later_and_a_refusal_fails_it_with_the_answer(string kind)
    {
        using var receiver = new Receiver();
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.ContactAsync(api, "ann@example.com");
        await JourneyFlowTests.ContactAsync(api, "bob@example.com");
        var journey = await JourneyAsync(api, receiver.Url());
        var sender = app.Services.GetRequiredService<WebhookSender>();

        receiver.Answer(503);
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "vip.flagged");
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Equal(1, await sender.SendDueAsync(CancellationToken.None));
        Assert.Equal(0, await sender.SendDueAsync(CancellationToken.None)); // waits a minute before the next try
        app.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await sender.SendDueAsync(CancellationToken.None));
        Assert.Equal(2, receiver.Requests.Count);
        Assert.Single(receiver.Requests.Select(r => r.Headers["Idempotency-Key"]).Distinct()); // the same call twice, not two calls

        receiver.Answer(404);
        await JourneyFlowTests.SignalAsync(api, "bob@example.com", "vip.flagged");
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Equal(1, await sender.SendDueAsync(CancellationToken.None));
        var failed = (await (await api.GetAsync("/api/v1/webhooks/calls?status=failed")).ReadJsonAsync()).EnumerateArray().Single();
        Assert.Equal(404, failed.GetProperty("lastStatusCode").GetInt32());
        Assert.Contains("404", failed.GetProperty("lastError").GetString());
        var delivered = (await (await api.GetAsync("/api/v1/webhooks/calls?status=delivered")).ReadJsonAsync()).EnumerateArray().Single();
        Assert.Equal(2, delivered.GetProperty("attempts").GetInt32());

        // Tried again by hand once the receiver is mended.
        var retry = await api.PostAsync($"/api/v1/webhooks/calls/{failed.GetProperty("id").GetGuid()}/retry", null);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(1, await sender.SendDueAsync(CancellationToken.None));
        Assert.Empty((await (await api.GetAsync("/api/v1/webhooks/calls?status=failed")).ReadJsonAsync()).EnumerateArray());
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsync($"/api/v1/webhooks/calls/{failed.GetProperty("id").GetGuid()}/retry", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync("/api/v1/webhooks/calls?status=lost")).StatusCode);

        // A redirect is not followed (here towards the metadata address): the call fails and says why.
        receiver.Answer(302);
        await JourneyFlowTests.ContactAsync(api, "cy@example.com");
        await JourneyFlowTests.SignalAsync(api, "cy@example.com", "vip.flagged");
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Equal(1, await sender.SendDueAsync(CancellationToken.None));
        var redirected = (await (await api.GetAsync("/api/v1/webhooks/calls?status=failed")).ReadJsonAsync()).EnumerateArray().Single();
        Assert.Contains("redirects are not followed", redirected.GetProperty("lastError").GetString());
        Assert.Equal(5, receiver.Requests.Count);
        await using var db = app.NewDb();
        Assert.Equal(3, await db.WebhookCalls.CountAsync(c => c.JourneyId == journey));
    }

    [Fact]
    public async Task A_journey_cannot_be_published_with_a_webhook_to_this_machine()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, settings: new() { ["Clientele:Journeys:Enabled"] = "false" });
        var api = await app.ApiClientAsync();
        var created = await api.PostJsonAsync("/api/v1/journeys", new
        {
            name = "Sneaky",
            definition = new { trigger = new { @event = "vip.flagged" }, steps = new object[] { new { id = "x", type = "webhook", url = "http://169.254.169.254/latest/meta-data/" } } },
        });
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        var published = await api.PostAsync($"/api/v1/journeys/{id}/publish", null);
        Assert.Equal(HttpStatusCode.BadRequest, published.StatusCode);
        Assert.Contains("/steps/0/url", await published.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_crm_hears_of_each_contact_created_and_changed_through_the_api(string kind)
    {
        using var receiver = new Receiver();
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        var created = await api.PostJsonAsync("/api/v1/webhooks/subscriptions", new { name = "CRM", url = receiver.Url("/crm"), events = new[] { "contact.*" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var ann = (await (await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com", firstName = "Ann" })).ReadJsonAsync()).GetProperty("id").GetGuid();
        await api.PatchAsync($"/api/v1/contacts/{ann}", JsonContent.Create(new { lastName = "Lee" }));
        // Sending the same details again changes nothing, and says so to nobody.
        await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com", firstName = "Ann" });
        await api.PostJsonAsync("/api/v1/contacts", new { email = "bo@example.com" });
        await app.DrainAsync();

        var sender = app.Services.GetRequiredService<WebhookSender>();
        Assert.Equal(3, await sender.SendDueAsync(CancellationToken.None));
        var bodies = receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(["contact.created", "contact.created", "contact.updated"], bodies.Select(b => b.GetProperty("type").GetString()).Order());
        var update = bodies.Single(b => b.GetProperty("type").GetString() == "contact.updated");
        Assert.Equal("Lee", update.GetProperty("contact").GetProperty("lastName").GetString());
        Assert.Equal("api", update.GetProperty("data").GetProperty("source").GetString());
        // Being added or changed by the business is no sign of life.
        await using var db = app.NewDb();
        Assert.Null((await db.Contacts.SingleAsync(c => c.Id == ann)).LastActivityAt);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_subscription_gets_each_event_of_its_types_from_then_on_signed_once_and_a_paused_one_gets_nothing(string kind)
    {
        using var receiver = new Receiver();
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.ContactAsync(api, "ann@example.com");
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "order.placed", new { orderId = "BEFORE", total = 10, currency = "EUR" });
        await app.DrainAsync();
        app.Time.Advance(TimeSpan.FromSeconds(1));

        var bad = await api.PostJsonAsync("/api/v1/webhooks/subscriptions", new { name = "", url = "ftp://crm.example.com/hook", events = new[] { "Order placed!" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problems = await bad.Content.ReadAsStringAsync();
        foreach (var field in new[] { "/name", "/url", "/events/0" })
        {
            Assert.Contains(field, problems);
        }
        var created = await api.PostJsonAsync("/api/v1/webhooks/subscriptions", new { name = "Shop CRM", url = receiver.Url("/crm"), events = new[] { "order.*", "ticket.opened" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var subscription = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();

        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "order.placed", new { orderId = "A1", total = 42.5, currency = "EUR" });
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "page.viewed", new { path = "/pricing" });
        await api.PostJsonAsync("/api/v1/tickets", new { email = "ann@example.com", subject = "Where is A1?", body = "Hello" });
        await app.DrainAsync();
        await app.DrainAsync(); // the ticket's event is handed over after the order's

        var sender = app.Services.GetRequiredService<WebhookSender>();
        Assert.Equal(2, await sender.SendDueAsync(CancellationToken.None));
        var bodies = receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(["order.placed", "ticket.opened"], bodies.Select(b => b.GetProperty("type").GetString()).Order());
        var order = bodies.Single(b => b.GetProperty("type").GetString() == "order.placed");
        Assert.Equal("A1", order.GetProperty("data").GetProperty("orderId").GetString());
        Assert.Equal("ann@example.com", order.GetProperty("contact").GetProperty("email").GetString());
        Assert.All(receiver.Requests, r => Assert.StartsWith("sub:", r.Headers["Idempotency-Key"]));
        Assert.All(receiver.Requests, r => Assert.StartsWith("v1=", r.Headers["Clientele-Signature"]));

        // The events handed over again (as after a crash) queue nothing twice.
        await using (var db = app.NewDb())
        {
            Assert.Equal(2, await db.WebhookCalls.CountAsync(c => c.SubscriptionId == subscription));
        }
        var listed = (await (await api.GetAsync("/api/v1/webhooks/subscriptions")).ReadJsonAsync()).EnumerateArray().Single();
        Assert.Equal(2, listed.GetProperty("delivered").GetInt32());
        Assert.Equal(2, (await (await api.GetAsync($"/api/v1/webhooks/calls?subscriptionId={subscription}")).ReadJsonAsync()).GetArrayLength());

        // Paused: nothing more.
        var paused = await api.PutAsJsonAsync($"/api/v1/webhooks/subscriptions/{subscription}", new { name = "Shop CRM", url = receiver.Url("/crm"), events = new[] { "order.*" }, active = false });
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "order.placed", new { orderId = "A2", total = 5, currency = "EUR" });
        await app.DrainAsync();
        Assert.Equal(0, await sender.SendDueAsync(CancellationToken.None));
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/v1/webhooks/subscriptions/{subscription}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.DeleteAsync($"/api/v1/webhooks/subscriptions/{subscription}")).StatusCode);
    }

    [Fact]
    public void Event_types_match_exactly_by_family_or_all()
    {
        Assert.True(WebhookTopics.Matches(["order.*"], "order.refunded"));
        Assert.False(WebhookTopics.Matches(["order.*"], "orders.x"));
        Assert.True(WebhookTopics.Matches(["stage.changed"], "stage.changed"));
        Assert.False(WebhookTopics.Matches(["stage.changed"], "stage.overridden"));
        Assert.True(WebhookTopics.Matches(["*"], "anything.at_all"));
        Assert.Empty(WebhookTopics.Check("CRM", "https://crm.example.com/hook", ["order.*", "*", "survey.answered"], false));
    }
}
