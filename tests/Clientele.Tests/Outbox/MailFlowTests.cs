using System.Net;
using System.Text.Json;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace Clientele.Tests.Outbox;

/// <summary>Broadcasts, send-time rules, unsubscribe and tracking through the front door, with the local outbox transport.</summary>
public sealed class MailFlowTests
{
    private static async Task<Guid> ContactAsync(HttpClient api, string email, string? first, object? consent, string? zone = null)
    {
        var response = await api.PostJsonAsync("/api/v1/contacts", consent is null
            ? new { email, firstName = first, timeZone = zone }
            : new { email, firstName = first, consent, timeZone = zone });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    /// <summary>Waits (in real time: the senders run in the background) until the condition holds.</summary>
    internal static async Task Until(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed.TotalSeconds > seconds)
            {
                Assert.Fail("Timed out waiting until " + what);
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the broadcast is finished; returns its report.</summary>
    internal static async Task<JsonElement> FinishedAsync(HttpClient api, Guid id, int seconds = 30)
    {
        JsonElement report = default;
        await Until(async () =>
        {
            report = await (await api.GetAsync($"/api/v1/broadcasts/{id}")).ReadJsonAsync();
            return report.GetProperty("status").GetString() == "finished";
        }, "the broadcast finished", seconds);
        return report;
    }

    private static async Task<List<MimeMessage>> LocalMailAsync(TestApp app)
    {
        await using var db = app.NewDb();
        var rows = await db.LocalMail.AsNoTracking().OrderBy(m => m.To).ToListAsync();
        return [.. rows.Select(r => MimeMessage.Load(new MemoryStream(r.Raw)))];
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_broadcast_reaches_each_subscriber_of_its_topic_once_personalised_and_then_finishes(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync("write");
        await ContactAsync(api, "ann@example.com", "Ann", new { newsletter = "subscribed" });
        await ContactAsync(api, "bob@example.com", null, new { newsletter = "subscribed" });
        await ContactAsync(api, "cleo@example.com", "Cleo", new { newsletter = "unsubscribed" });
        await ContactAsync(api, "dan@example.com", "Dan", new { offers = "subscribed" });
        await ContactAsync(api, "eve@example.com", "Eve", null);
        app.Time.Advance(TimeSpan.FromHours(1));

        var created = await api.PostJsonAsync("/api/v1/broadcasts", new
        {
            name = "June news",
            topic = "newsletter",
            subject = "Hello {{ contact.first_name | default: \"friend\" }}",
            body = "Hi **{{ contact.first_name | default: \"there\" }}**,\n\nOur [summer sale](https://shop.example/sale) starts today.",
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();

        var report = await FinishedAsync(api, id);
        var counts = report.GetProperty("counts");
        Assert.Equal(2, counts.GetProperty("sent").GetInt32());
        Assert.Equal(0, counts.GetProperty("failed").GetInt32());
        Assert.Equal(2, report.GetProperty("audience").GetInt32());

        var mail = await LocalMailAsync(app);
        Assert.Equal(["ann@example.com", "bob@example.com"], mail.Select(m => m.To.Mailboxes.Single().Address));
        Assert.Equal("Hello Ann", mail[0].Subject);
        Assert.Equal("Hello friend", mail[1].Subject);
        Assert.Contains("<strong>there</strong>", mail[1].HtmlBody);
        Assert.Contains("Hi there", mail[1].TextBody!.Replace("*", ""));
        // RFC 8058 one-click unsubscribe on every marketing message.
        Assert.Equal("List-Unsubscribe=One-Click", mail[0].Headers["List-Unsubscribe-Post"]);
        Assert.Matches("^<https?://[^>]+/u/[0-9a-f]{32}\\.[^>]+>, <mailto:", mail[0].Headers[HeaderId.ListUnsubscribe]);
        // Links go through the signed click redirect.
        Assert.DoesNotContain("href=\"https://shop.example/sale\"", mail[0].HtmlBody);
        Assert.Contains("/t/c/", mail[0].HtmlBody);

        await using var db = app.NewDb();
        Assert.Equal(2, await db.Events.CountAsync(e => e.Type == "email.sent"));
        // A message sent is not a sign of life from the contact: the last activity stays at sign-up, an hour before.
        await app.DrainAsync();
        await using var after = app.NewDb();
        var last = await after.Contacts.AsNoTracking().Where(c => c.Email == "ann@example.com").Select(c => c.LastActivityAt).SingleAsync();
        Assert.True(last is null || last < app.Time.GetUtcNow().UtcDateTime.AddMinutes(-30), $"last activity {last}");
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task A_template_mistake_is_a_400_that_names_the_line_and_column(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync("write");

        var response = await api.PostJsonAsync("/api/v1/broadcasts", new
        {
            name = "Broken",
            topic = "newsletter",
            subject = "Hi",
            body = "Line one\n\nHello {{ contact.first_name | nosuchfilter }}",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("/body", problem.GetProperty("pointer").GetString());
        Assert.Equal(3, problem.GetProperty("line").GetInt32());
        Assert.Contains("nosuchfilter", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task One_click_unsubscribe_takes_effect_at_once_while_opening_the_link_only_asks(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync("write");
        var ann = await ContactAsync(api, "ann@example.com", "Ann", new { newsletter = "subscribed", offers = "subscribed" });
        var created = await api.PostJsonAsync("/api/v1/broadcasts", new { name = "News", topic = "newsletter", subject = "News", body = "Hello" });
        await FinishedAsync(api, (await created.ReadJsonAsync()).GetProperty("id").GetGuid());
        var link = (await LocalMailAsync(app)).Single().Headers[HeaderId.ListUnsubscribe]!.Split('<', '>')[1];
        var path = new Uri(link).PathAndQuery;
        var web = app.CreateClient(new() { AllowAutoRedirect = false });

        // A link scanner fetching the URL changes nothing.
        var page = await web.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<form method=\"post\"", await page.Content.ReadAsStringAsync());
        async Task<string?> Consent(string topic)
        {
            await using var db = app.NewDb();
            return (await db.Consents.AsNoTracking().FirstOrDefaultAsync(c => c.ContactId == ann && c.Topic == topic))?.Status.ToString();
        }
        Assert.Equal("Subscribed", await Consent("newsletter"));

        // The mail client's one-click POST (RFC 8058).
        var post = await web.PostAsync(path, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal("Unsubscribed", await Consent("newsletter"));
        Assert.Equal("Subscribed", await Consent("offers"));

        // A forged token is refused.
        var forged = await web.PostAsync(path[..^3] + "AAA", new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);

        // The next newsletter skips her; the report counts the unsubscribe.
        var again = await api.PostJsonAsync("/api/v1/broadcasts", new { name = "News 2", topic = "newsletter", subject = "More", body = "Hello" });
        var report = await FinishedAsync(api, (await again.ReadJsonAsync()).GetProperty("id").GetGuid());
        Assert.Equal(0, report.GetProperty("audience").GetInt32());
        await using var data = app.NewDb();
        Assert.Equal(1, await data.Events.CountAsync(e => e.Type == "email.unsubscribed" && e.ContactId == ann));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_signed_click_redirects_and_lands_on_the_timeline_while_a_tampered_one_is_refused(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync("write");
        var ann = await ContactAsync(api, "ann@example.com", "Ann", new { newsletter = "subscribed" });
        var created = await api.PostJsonAsync("/api/v1/broadcasts", new { name = "News", topic = "newsletter", subject = "News", body = "[Shop](https://shop.example/a?x=1)" });
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        await FinishedAsync(api, id);
        var html = (await LocalMailAsync(app)).Single().HtmlBody!;
        var click = WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(html, "href=\"([^\"]*/t/c/[^\"]*)\"").Groups[1].Value);
        var pixel = System.Text.RegularExpressions.Regex.Match(html, "src=\"([^\"]*/t/o/[^\"]*)\"").Groups[1].Value;
        var web = app.CreateClient(new() { AllowAutoRedirect = false });
        web.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Thunderbird/128.0");
        app.Time.Advance(TimeSpan.FromMinutes(5)); // a person reads it later, not a scanner at delivery

        var tampered = await web.GetAsync(new Uri(click).PathAndQuery.Replace("shop.example", "evil.example"));
        Assert.Equal(HttpStatusCode.BadRequest, tampered.StatusCode);
        Assert.Null(tampered.Headers.Location);

        var followed = await web.GetAsync(new Uri(click).PathAndQuery);
        Assert.Equal(HttpStatusCode.Redirect, followed.StatusCode);
        Assert.Equal("https://shop.example/a?x=1", followed.Headers.Location!.ToString());

        var image = await web.GetAsync(new Uri(pixel).PathAndQuery);
        Assert.Equal("image/gif", image.Content.Headers.ContentType!.MediaType);

        await using var db = app.NewDb();
        var clicked = await db.Events.AsNoTracking().SingleAsync(e => e.Type == "email.clicked");
        Assert.Equal(ann, clicked.ContactId);
        Assert.False(JsonDocument.Parse(clicked.Properties).RootElement.GetProperty("machine").GetBoolean());
        Assert.Equal(1, await db.Events.CountAsync(e => e.Type == "email.opened"));
        var report = await (await api.GetAsync($"/api/v1/broadcasts/{id}")).ReadJsonAsync();
        Assert.Equal(1, report.GetProperty("counts").GetProperty("clicked").GetInt32());
        Assert.Equal(1, report.GetProperty("counts").GetProperty("opened").GetInt32());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Opens_and_clicks_by_scanners_at_delivery_are_kept_on_the_timeline_as_machine_activity_and_not_counted(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync("write");
        var ann = await ContactAsync(api, "ann@example.com", "Ann", new { newsletter = "subscribed" });
        var created = await api.PostJsonAsync("/api/v1/broadcasts", new { name = "News", topic = "newsletter", subject = "News", body = "[Shop](https://shop.example/a)" });
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        await FinishedAsync(api, id);
        var html = (await LocalMailAsync(app)).Single().HtmlBody!;
        var click = new Uri(WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(html, "href=\"([^\"]*/t/c/[^\"]*)\"").Groups[1].Value)).PathAndQuery;
        var pixel = new Uri(System.Text.RegularExpressions.Regex.Match(html, "src=\"([^\"]*/t/o/[^\"]*)\"").Groups[1].Value).PathAndQuery;

        // A gateway scanner follows the link and fetches the image the moment the message arrives.
        var scanner = app.CreateClient(new() { AllowAutoRedirect = false });
        scanner.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (compatible; Mimecast URL Protect)");
        Assert.Equal(HttpStatusCode.Redirect, (await scanner.GetAsync(click)).StatusCode); // the scanner still gets the page
        await scanner.GetAsync(pixel);
        // A mail client without an agent name, right at delivery, looks no different.
        await app.CreateClient().GetAsync(pixel);

        var report = await (await api.GetAsync($"/api/v1/broadcasts/{id}")).ReadJsonAsync();
        Assert.Equal(0, report.GetProperty("counts").GetProperty("opened").GetInt32());
        Assert.Equal(0, report.GetProperty("counts").GetProperty("clicked").GetInt32());
        await using (var db = app.NewDb())
        {
            var seen = await db.Events.AsNoTracking().Where(e => e.ContactId == ann && (e.Type == "email.opened" || e.Type == "email.clicked")).ToListAsync();
            Assert.Equal(2, seen.Count); // the two opens in the same minute are one entry
            Assert.All(seen, e => Assert.True(JsonDocument.Parse(e.Properties).RootElement.GetProperty("machine").GetBoolean()));
        }

        // Ann reads it an hour later: that one counts.
        app.Time.Advance(TimeSpan.FromHours(1));
        var reader = app.CreateClient(new() { AllowAutoRedirect = false });
        reader.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Thunderbird/128.0");
        await reader.GetAsync(pixel);
        report = await (await api.GetAsync($"/api/v1/broadcasts/{id}")).ReadJsonAsync();
        Assert.Equal(1, report.GetProperty("counts").GetProperty("opened").GetInt32());
        Assert.Equal(0, report.GetProperty("counts").GetProperty("clicked").GetInt32());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Consent_is_checked_again_when_a_queued_message_is_due(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync("write");
        var ann = await ContactAsync(api, "ann@example.com", "Ann", new { offers = "subscribed" });
        var now = app.Time.GetUtcNow().UtcDateTime;
        await using (var db = app.NewDb())
        {
            await Clientele.Outbox.Outbox.EnqueueAsync(db, new OutboxMessage
            {
                ContactId = ann,
                To = "ann@example.com",
                Subject = "10% off",
                TextBody = "Use SAVE10",
                Kind = "journey",
                Class = MessageClass.Marketing,
                Topic = "offers",
                IdempotencyKey = "test:offer:1",
                CreatedAt = now,
                DueAt = now.AddHours(1),
            }, CancellationToken.None);
            await db.SaveChangesAsync();
        }
        // Withdrawn through the API after the message was queued.
        var withdrawn = await api.PostJsonAsync("/api/v1/events", new { events = new[] { new { type = "consent.withdrawn", email = "ann@example.com", properties = new { topic = "offers" } } } });
        Assert.True(withdrawn.IsSuccessStatusCode);
        await app.DrainAsync();

        app.Time.Advance(TimeSpan.FromHours(1));
        app.Services.GetRequiredService<OutboxSignal>().Notify();

        await Until(async () =>
        {
            await using var db = app.NewDb();
            return await db.OutboxMessages.AnyAsync(m => m.IdempotencyKey == "test:offer:1" && m.Status == OutboxStatus.Suppressed);
        }, "the message was suppressed");
        await using var check = app.NewDb();
        var message = await check.OutboxMessages.AsNoTracking().SingleAsync();
        Assert.Contains("unsubscribed from \"offers\"", message.LastAnswer);
        Assert.Equal(0, await check.LocalMail.CountAsync());
        Assert.Contains(await check.OutboxNotes.Select(n => n.Text).ToListAsync(), t => t.Contains("offers"));
    }
}

/// <summary>Bounce and complaint reports posted to the API, as a mail provider's webhook or a forwarding rule would.</summary>
public sealed class BounceApiTests
{
    private static string Dsn(Guid messageId, string recipient, string status, string action) => $"""
        From: MAILER-DAEMON@mx.shop.example (Mail Delivery System)
        To: bounces@shop.example
        Subject: Undelivered Mail Returned to Sender
        Date: Mon, 1 Jun 2026 12:05:00 +0000
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

        --b1
        Content-Type: text/plain

        Your message could not be delivered.

        --b1
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.shop.example

        Final-Recipient: rfc822; {recipient}
        Action: {action}
        Status: {status}
        Diagnostic-Code: smtp; 550 {status} mailbox unknown

        --b1
        Content-Type: text/rfc822-headers

        From: news@example.com
        To: {recipient}
        Subject: News
        Message-ID: <{messageId:N}@example.com>
        X-Clientele-Id: {messageId:N}

        --b1--
        """;

    private static async Task<(TestApp App, HttpClient Api, OutboxMessage Message)> SentAsync(string kind)
    {
        var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync("write");
        await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com", firstName = "Ann", consent = new { newsletter = "subscribed" } });
        var created = await api.PostJsonAsync("/api/v1/broadcasts", new { name = "News", topic = "newsletter", subject = "News", body = "Hello" });
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        await MailFlowTests.FinishedAsync(api, id);
        await using var db = app.NewDb();
        return (app, api, await db.OutboxMessages.AsNoTracking().SingleAsync());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_hard_bounce_report_marks_the_message_bounced_and_suppresses_the_address_for_all_mail(string kind)
    {
        var (app, api, message) = await SentAsync(kind);
        await using var _ = app;

        var response = await api.PostAsync("/api/v1/bounces",
            new StringContent(Dsn(message.Id, "ann@example.com", "5.1.1", "failed").Replace("\n", "\r\n"), System.Text.Encoding.UTF8, "message/rfc822"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var outcome = await response.ReadJsonAsync();
        Assert.Equal("hard", outcome.GetProperty("kind").GetString());
        Assert.True(outcome.GetProperty("applied").GetBoolean());
        await using var db = app.NewDb();
        Assert.Equal(OutboxStatus.Bounced, (await db.OutboxMessages.AsNoTracking().SingleAsync()).Status);
        var suppression = await db.Suppressions.AsNoTracking().SingleAsync();
        Assert.Equal(("ann@example.com", SuppressionReason.HardBounce), (suppression.Email, suppression.Reason));
        Assert.Equal(1, await db.Events.CountAsync(e => e.Type == "email.bounced"));
        var report = await (await api.GetAsync($"/api/v1/broadcasts/{message.BroadcastId}")).ReadJsonAsync();
        Assert.Equal(1, report.GetProperty("counts").GetProperty("bounced").GetInt32());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task Soft_bounces_count_up_to_the_limit_and_an_auto_reply_changes_nothing(string kind)
    {
        var (app, api, message) = await SentAsync(kind);
        await using var _ = app;
        var autoReply = "From: ann@example.com\r\nTo: news@example.com\r\nSubject: Automatic reply: News\r\nAuto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n";

        var ignored = await (await api.PostAsync("/api/v1/bounces", new StringContent(autoReply, System.Text.Encoding.UTF8, "message/rfc822"))).ReadJsonAsync();
        Assert.False(ignored.GetProperty("applied").GetBoolean());
        for (var i = 0; i < 2; i++)
        {
            await api.PostAsync("/api/v1/bounces", new StringContent(Dsn(message.Id, "ann@example.com", "4.2.2", "delayed").Replace("\n", "\r\n"), System.Text.Encoding.UTF8, "message/rfc822"));
        }
        await using (var db = app.NewDb())
        {
            Assert.Equal(0, await db.Suppressions.CountAsync()); // two of three
        }
        await api.PostAsync("/api/v1/bounces", new StringContent(Dsn(message.Id, "ann@example.com", "4.2.2", "delayed").Replace("\n", "\r\n"), System.Text.Encoding.UTF8, "message/rfc822"));
        await using var check = app.NewDb();
        Assert.Equal(SuppressionReason.SoftBounces, (await check.Suppressions.AsNoTracking().SingleAsync()).Reason);
        Assert.Equal(OutboxStatus.Sent, (await check.OutboxMessages.AsNoTracking().SingleAsync()).Status);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_complaint_stops_all_marketing_mail_to_the_contact(string kind)
    {
        var (app, api, _) = await SentAsync(kind);
        await using var __ = app;

        var response = await api.PostJsonAsync("/api/v1/bounces", new { email = "Ann@Example.com", type = "complaint" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bad = await api.PostJsonAsync("/api/v1/bounces", new { email = "ann@example.com", type = "angry" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("/type", (await bad.ReadJsonAsync()).GetProperty("errors").EnumerateObject().First().Name);

        var again = await api.PostJsonAsync("/api/v1/broadcasts", new { name = "News 2", topic = "newsletter", subject = "More", body = "Hello" });
        var id = (await again.ReadJsonAsync()).GetProperty("id").GetGuid();
        await MailFlowTests.FinishedAsync(api, id);
        await using var db = app.NewDb();
        Assert.Equal(SuppressionReason.Complaint, (await db.Suppressions.AsNoTracking().SingleAsync()).Reason);
        Assert.Equal(1, await db.LocalMail.CountAsync()); // the first only
        Assert.Equal(1, await db.Events.CountAsync(e => e.Type == "email.complained"));
    }
}
