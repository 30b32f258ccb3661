using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Clientele.Outbox;
using Clientele.Support;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace Clientele.Tests.Support;

/// <summary>
/// The support desk end to end: e-mail inquiries read from a real IMAP server (Dovecot) become tickets, are acknowledged
/// at once, answered by an agent on the same thread, followed up by the customer, and timed against the first-response
/// policy on a fake clock.
/// </summary>
public sealed class SupportDeskTests
{
    private const string Support = "help@shop.example";

    private static MimeMessage Mail(string text) =>
        MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\r\n"))));

    private static async Task<(TestApp App, ImapServer Imap, HttpClient Api)> StartAsync(string kind)
    {
        var imap = await ImapServer.StartAsync();
        try
        {
            var app = await TestApp.StartAsync(kind, settings: new()
            {
                ["Clientele:Support:Imap:Host"] = imap.Host,
                ["Clientele:Support:Imap:Port"] = imap.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Clientele:Support:Imap:Security"] = "none",
                ["Clientele:Support:Imap:Username"] = imap.Username,
                ["Clientele:Support:Imap:Password"] = imap.Password,
            });
            var api = await app.ApiClientAsync();
            var saved = await api.PutAsJsonAsync("/api/v1/support/settings", new { address = Support, phone = "+49 30 1234567", autoAcknowledge = true, ackText = "Thanks for writing to Beanery.", articles = 3, reopenDays = 14, csatOnSolve = true, alerts = true });
            Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
            return (app, imap, api);
        }
        catch
        {
            await imap.DisposeAsync();
            throw;
        }
    }

    private static Task<int> ReadMailboxAsync(TestApp app) => app.Services.GetRequiredService<SupportMailbox>().ReadOnceAsync(CancellationToken.None);

    /// <summary>The message as the transport sent it, once it has gone.</summary>
    private static async Task<MimeMessage> SentAsync(TestApp app, string kind, int nth = 0)
    {
        MimeMessage? found = null;
        await MailFlowTests.Until(async () =>
        {
            await using var db = app.NewDb();
            var sent = await db.OutboxMessages.AsNoTracking().Where(m => m.Kind == kind && m.Status == OutboxStatus.Sent).OrderBy(m => m.CreatedAt).Skip(nth).FirstOrDefaultAsync();
            if (sent is null)
            {
                return false;
            }
            var raw = await db.LocalMail.AsNoTracking().SingleAsync(m => m.MessageId == sent.Id);
            found = MimeMessage.Load(new MemoryStream(raw.Raw));
            return true;
        }, $"a {kind} e-mail was sent");
        return found!;
    }

    private static async Task<int> AlertsAsync(TestApp app)
    {
        await using var db = app.NewDb();
        return await db.OutboxMessages.CountAsync(m => m.Kind == "support-alert");
    }

    private static async Task<JsonElement> TicketAsync(HttpClient api, Guid id) => await (await api.GetAsync($"/api/v1/tickets/{id}")).ReadJsonAsync();

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_e_mail_inquiry_becomes_a_ticket_acknowledged_at_once_answered_on_its_thread_and_followed_up_by_the_customer(string kind)
    {
        var (app, imap, api) = await StartAsync(kind);
        await using var _ = imap;
        await using var __ = app;
        foreach (var article in new[]
        {
            new { title = "Why does my grinder rattle?", body = "A rattling grinder usually has a loose burr carrier screw. Tighten it before grinding espresso.", published = true },
            new { title = "Shipping times", body = "Parcels leave within two working days and arrive in three to five.", published = true },
            new { title = "Descaling your machine", body = "Descale every two months with citric acid.", published = true },
        })
        {
            Assert.Equal(HttpStatusCode.Created, (await api.PostJsonAsync("/api/v1/kb/articles", article)).StatusCode);
        }

        await imap.AppendAsync(Mail("""
            From: Maria Keller <maria@example.com>
            To: help@shop.example
            Subject: Grinder makes a rattling noise
            Date: Tue, 24 Nov 2026 09:00:00 +0000
            Message-ID: <first-question@example.com>
            Content-Type: text/plain; charset=utf-8

            Hello, my new grinder rattles when I grind espresso. What can I do?
            Maria
            """));
        Assert.Equal(1, await ReadMailboxAsync(app));

        var list = await (await api.GetAsync("/api/v1/tickets?status=open")).ReadJsonAsync();
        var ticket = Assert.Single(list.EnumerateArray());
        var id = ticket.GetProperty("id").GetGuid();
        Assert.Equal("Grinder makes a rattling noise", ticket.GetProperty("subject").GetString());
        Assert.Equal("email", ticket.GetProperty("channel").GetString());
        Assert.Equal("on-time", ticket.GetProperty("sla").GetString());
        await using (var db = app.NewDb())
        {
            var contact = await db.Contacts.AsNoTracking().SingleAsync(c => c.EmailNormalized == "maria@example.com");
            Assert.Equal(("Maria", "Keller"), (contact.FirstName, contact.LastName));
        }

        // The acknowledgement goes at once, on the customer's thread, with the promise, the phone and the address to answer to.
        var ack = await SentAsync(app, "support-ack");
        Assert.Equal("maria@example.com", ack.To.Mailboxes.Single().Address);
        Assert.Equal("Re: Grinder makes a rattling noise", ack.Subject);
        Assert.Equal("first-question@example.com", ack.InReplyTo);
        Assert.Equal(Support, ack.ReplyTo.Mailboxes.Single().Address);
        Assert.Contains("Thanks for writing to Beanery.", ack.TextBody, StringComparison.Ordinal);
        Assert.Contains("within 24 hours", ack.TextBody, StringComparison.Ordinal);
        Assert.Contains("+49 30 1234567", ack.TextBody, StringComparison.Ordinal);
        Assert.Equal("auto-generated", ack.Headers["Auto-Submitted"]);
        // The articles that may answer it, with their public links; none that do not.
        Assert.Contains("- Why does my grinder rattle?: http", ack.TextBody, StringComparison.Ordinal);
        Assert.Contains("/kb/why-does-my-grinder-rattle", ack.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("Shipping times", ack.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("Descaling", ack.TextBody, StringComparison.Ordinal);

        // The same e-mail read again (a poll interrupted before marking it read) changes nothing.
        await imap.AppendAsync(Mail("""
            From: Maria Keller <maria@example.com>
            To: help@shop.example
            Subject: Grinder makes a rattling noise
            Message-ID: <first-question@example.com>

            Hello, my new grinder rattles when I grind espresso. What can I do?
            """));
        await ReadMailboxAsync(app);
        Assert.Single((await (await api.GetAsync("/api/v1/tickets")).ReadJsonAsync()).EnumerateArray());

        // An agent answers: threaded on the conversation, the first response, and the ticket waits for the customer.
        app.Time.Advance(TimeSpan.FromHours(3));
        var replied = await api.PostJsonAsync($"/api/v1/tickets/{id}/replies", new { body = "Hello Maria,\n\nplease tighten the burr carrier screw.", agent = "anna@shop.example" });
        Assert.Equal(HttpStatusCode.OK, replied.StatusCode);
        var afterReply = await replied.ReadJsonAsync();
        Assert.Equal("pending", afterReply.GetProperty("status").GetString());
        Assert.Equal("answered", afterReply.GetProperty("sla").GetString());
        Assert.Equal("anna@shop.example", afterReply.GetProperty("firstResponder").GetString());
        var reply = await SentAsync(app, "support-reply");
        Assert.Equal("first-question@example.com", reply.InReplyTo);
        Assert.Contains("first-question@example.com", reply.References);
        Assert.Contains(ack.MessageId, reply.References);
        Assert.Contains("tighten the burr carrier screw", reply.TextBody, StringComparison.Ordinal);
        Assert.Equal(Support, reply.ReplyTo.Mailboxes.Single().Address);

        // The customer answers the reply: the same ticket, open again, with no second acknowledgement.
        app.Time.Advance(TimeSpan.FromHours(1));
        await imap.AppendAsync(Mail($"""
            From: maria@example.com
            To: help@shop.example
            Subject: Re: Grinder makes a rattling noise
            Message-ID: <follow-up@example.com>
            In-Reply-To: <{reply.MessageId}>
            References: <first-question@example.com> <{reply.MessageId}>

            That helped a little, but it still rattles at the finest setting.

            On Tue, 24 Nov 2026 at 12:00, Beanery <help@shop.example> wrote:
            > Hello Maria,
            > please tighten the burr carrier screw.
            """));
        await ReadMailboxAsync(app);
        var followed = await TicketAsync(api, id);
        Assert.Equal("open", followed.GetProperty("status").GetString());
        var messages = followed.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["in", "auto", "out", "in"], messages.Select(m => m.GetProperty("direction").GetString()));
        Assert.Equal("That helped a little, but it still rattles at the finest setting.", messages[3].GetProperty("body").GetString());
        Assert.Single((await (await api.GetAsync("/api/v1/tickets")).ReadJsonAsync()).EnumerateArray());
        await using (var db = app.NewDb())
        {
            Assert.Equal(1, await db.OutboxMessages.CountAsync(m => m.Kind == "support-ack"));
        }

        // An out-of-office on no ticket opens nothing; a new question from the same customer opens a second ticket.
        await imap.AppendAsync(Mail("""
            From: someone@example.net
            To: help@shop.example
            Subject: Out of office
            Auto-Submitted: auto-replied
            Message-ID: <away@example.net>

            I am away.
            """));
        await ReadMailboxAsync(app);
        Assert.Single((await (await api.GetAsync("/api/v1/tickets")).ReadJsonAsync()).EnumerateArray());
        Assert.All(await imap.MessagesAsync(), m => Assert.True(m.Flags!.Value.HasFlag(MailKit.MessageFlags.Seen)));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_waiting_ticket_goes_late_after_24_hours_and_breached_after_48_with_one_alert_each_and_the_report_counts_it(string kind)
    {
        var (app, imap, api) = await StartAsync(kind);
        await using var _ = imap;
        await using var __ = app;
        var start = app.Time.GetUtcNow().UtcDateTime;
        var slow = (await (await api.PostJsonAsync("/api/v1/tickets", new { email = "slow@example.com", subject = "Refund?", body = "Where is my refund?" })).ReadJsonAsync()).GetProperty("id").GetGuid();
        var fast = (await (await api.PostJsonAsync("/api/v1/tickets", new { email = "fast@example.com", subject = "Invoice", body = "Please send an invoice." })).ReadJsonAsync()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await api.PatchAsJsonAsync($"/api/v1/tickets/{slow}", new { assignee = "ben@shop.example", priority = "high", tags = new[] { "refund" } })).StatusCode);
        var alerts = app.Services.GetRequiredService<SlaAlerts>();

        app.Time.Advance(TimeSpan.FromHours(2));
        await api.PostJsonAsync($"/api/v1/tickets/{fast}/replies", new { body = "Attached.", agent = "anna@shop.example", solve = true });
        Assert.Equal(0, await alerts.RunAsync(CancellationToken.None));

        app.Time.Advance(TimeSpan.FromHours(23));
        Assert.Equal("late", (await TicketAsync(api, slow)).GetProperty("sla").GetString());
        Assert.Equal([slow], (await (await api.GetAsync("/api/v1/tickets?sla=late")).ReadJsonAsync()).EnumerateArray().Select(t => t.GetProperty("id").GetGuid()));
        // The alerts run in the background every five minutes too: a round now finds what is due, or that it was done.
        await alerts.RunAsync(CancellationToken.None);
        await alerts.RunAsync(CancellationToken.None);
        Assert.Equal(1, await AlertsAsync(app));

        app.Time.Advance(TimeSpan.FromHours(24));
        Assert.Equal("breached", (await TicketAsync(api, slow)).GetProperty("sla").GetString());
        Assert.Empty((await (await api.GetAsync("/api/v1/tickets?sla=late")).ReadJsonAsync()).EnumerateArray());
        Assert.Equal([slow], (await (await api.GetAsync("/api/v1/tickets?sla=breached")).ReadJsonAsync()).EnumerateArray().Select(t => t.GetProperty("id").GetGuid()));
        await alerts.RunAsync(CancellationToken.None);
        Assert.Equal(2, await AlertsAsync(app));
        await using (var db = app.NewDb())
        {
            var sent = await db.OutboxMessages.AsNoTracking().Where(m => m.Kind == "support-alert").OrderBy(m => m.CreatedAt).ToListAsync();
            Assert.Equal(["ben@shop.example", "ben@shop.example"], sent.Select(m => m.To));
            Assert.StartsWith("Waiting past target: Refund?", sent[0].Subject, StringComparison.Ordinal);
            Assert.StartsWith("SLA breached: Refund?", sent[1].Subject, StringComparison.Ordinal);
            Assert.Contains($"/support/tickets/{slow}", sent[1].TextBody, StringComparison.Ordinal);
        }

        app.Time.Advance(TimeSpan.FromHours(2));
        await api.PostJsonAsync($"/api/v1/tickets/{slow}/replies", new { body = "Sorry for the wait: refunded today.", agent = "ben@shop.example" });
        Assert.Equal("answered-late", (await TicketAsync(api, slow)).GetProperty("sla").GetString());

        var report = await (await api.GetAsync($"/api/v1/tickets/report?from={start:yyyy-MM-dd}")).ReadJsonAsync();
        var all = report.GetProperty("all");
        Assert.Equal(2, all.GetProperty("tickets").GetInt32());
        Assert.Equal(1, all.GetProperty("withinTarget").GetInt32());
        Assert.Equal(1, all.GetProperty("later").GetInt32());
        Assert.Equal(0.5, all.GetProperty("shareWithinTarget").GetDouble());
        var agents = report.GetProperty("byAgent").EnumerateArray().ToDictionary(a => a.GetProperty("key").GetString()!, a => a.GetProperty("shareWithinLimit").GetDouble());
        Assert.Equal(new Dictionary<string, double> { ["anna@shop.example"] = 1.0, ["ben@shop.example"] = 0.0 }, agents);
        Assert.Single(report.GetProperty("byWeek").EnumerateArray());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Solving_a_ticket_asks_once_how_satisfied_the_customer_was_and_a_click_records_the_answer(string kind)
    {
        var (app, imap, api) = await StartAsync(kind);
        await using var _ = imap;
        await using var __ = app;
        var id = (await (await api.PostJsonAsync("/api/v1/tickets", new { email = "happy@example.com", subject = "Order change", body = "Can I add a filter?" })).ReadJsonAsync()).GetProperty("id").GetGuid();
        await api.PostJsonAsync($"/api/v1/tickets/{id}/replies", new { body = "Done!", agent = "anna@shop.example", solve = true });
        var solved = await TicketAsync(api, id);
        Assert.Equal("solved", solved.GetProperty("status").GetString());

        var csat = await SentAsync(app, "support-csat");
        Assert.Contains("How satisfied are you", csat.TextBody, StringComparison.Ordinal);
        var link = csat.TextBody!.Split('\n').Single(l => l.StartsWith("5 (", StringComparison.Ordinal));
        var url = new Uri(link[(link.IndexOf("http", StringComparison.Ordinal))..].Trim());
        using var browser = app.CreateClient();
        browser.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0");
        app.Time.Advance(TimeSpan.FromMinutes(10));
        var answered = await browser.GetAsync(url.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        await using (var db = app.NewDb())
        {
            var answer = await db.SurveyAnswers.AsNoTracking().SingleAsync();
            Assert.Equal(5, answer.Score);
            Assert.Equal(SupportDesk.CsatSurveyName, (await db.Surveys.AsNoTracking().SingleAsync(s => s.Id == answer.SurveyId)).Name);
        }

        // Reopened and solved again: not asked twice.
        Assert.Equal(HttpStatusCode.OK, (await api.PatchAsJsonAsync($"/api/v1/tickets/{id}", new { status = "open" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.PatchAsJsonAsync($"/api/v1/tickets/{id}", new { status = "solved" })).StatusCode);
        await app.DrainAsync();
        await using (var db = app.NewDb())
        {
            Assert.Equal(1, await db.OutboxMessages.CountAsync(m => m.Kind == "support-csat"));
            var contact = await db.Contacts.AsNoTracking().SingleAsync(c => c.EmailNormalized == "happy@example.com");
            var types = await db.Events.AsNoTracking().Where(e => e.ContactId == contact.Id && e.Type.StartsWith("ticket.")).Select(e => e.Type).ToListAsync();
            Assert.Equal(["ticket.opened", "ticket.replied", "ticket.solved", "ticket.reopened", "ticket.solved"], types);
        }

        var bad = await api.PatchAsJsonAsync($"/api/v1/tickets/{id}", new { status = "closed", priority = "asap", tags = new[] { "" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problems = await bad.Content.ReadAsStringAsync();
        Assert.Contains("/status", problems, StringComparison.Ordinal);
        Assert.Contains("/priority", problems, StringComparison.Ordinal);
        Assert.Contains("/tags/0", problems, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostJsonAsync($"/api/v1/tickets/{Guid.NewGuid()}/replies", new { body = "x" })).StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Marketing_mail_waits_while_the_contact_has_an_open_ticket_and_goes_once_it_is_solved(string kind)
    {
        var (app, imap, api) = await StartAsync(kind);
        await using var _ = imap;
        await using var __ = app;
        var contact = await api.PostJsonAsync("/api/v1/contacts", new { email = "upset@example.com", consent = new { newsletter = "subscribed" } });
        Assert.True(contact.IsSuccessStatusCode, await contact.Content.ReadAsStringAsync());
        await app.DrainAsync();
        var id = (await (await api.PostJsonAsync("/api/v1/tickets", new { email = "upset@example.com", subject = "Broken", body = "It arrived broken." })).ReadJsonAsync()).GetProperty("id").GetGuid();
        await SentAsync(app, "support-ack"); // service mail still goes

        var broadcast = await api.PostJsonAsync("/api/v1/broadcasts", new { name = "News", topic = "newsletter", subject = "News", body = "Hello" });
        var broadcastId = (await broadcast.ReadJsonAsync()).GetProperty("id").GetGuid();
        Guid held = default;
        await MailFlowTests.Until(async () =>
        {
            await using var db = app.NewDb();
            var m = await db.OutboxMessages.AsNoTracking().FirstOrDefaultAsync(m => m.BroadcastId == broadcastId && m.LastAnswer != null);
            held = m?.Id ?? default;
            return m is { Status: OutboxStatus.Queued } && m.LastAnswer!.Contains("open support ticket", StringComparison.Ordinal);
        }, "the newsletter was held for the open ticket");

        await api.PatchAsJsonAsync($"/api/v1/tickets/{id}", new { status = "solved" });
        app.Time.Advance(TimeSpan.FromHours(1));
        app.Services.GetRequiredService<OutboxSignal>().Notify();
        await MailFlowTests.Until(async () =>
        {
            await using var db = app.NewDb();
            return (await db.OutboxMessages.AsNoTracking().SingleAsync(m => m.Id == held)).Status == OutboxStatus.Sent;
        }, "the newsletter went after the ticket was solved");
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_public_contact_form_opens_a_ticket_and_keeps_robots_and_bad_input_out(string kind)
    {
        var (app, imap, _) = await StartAsync(kind);
        await using var __ = imap;
        await using var ___ = app;
        using var browser = app.CreateClient();
        var page = await browser.GetStringAsync("/contact");
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"_t\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(token);
        app.Time.Advance(TimeSpan.FromSeconds(10));

        FormUrlEncodedContent Form(string email, string message, string website = "") => new(new Dictionary<string, string>
        {
            ["name"] = "Tom Baker",
            ["email"] = email,
            ["subject"] = "Opening hours",
            ["message"] = message,
            ["website"] = website,
            ["_t"] = token,
        });
        var robot = await browser.PostAsync("/contact", Form("tom@example.com", "Hi", website: "http://spam.example"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, robot.StatusCode);
        var wrong = await browser.PostAsync("/contact", Form("not-an-address", ""));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        var wrongPage = await wrong.Content.ReadAsStringAsync();
        Assert.Contains("Enter the e-mail address we should answer to.", wrongPage, StringComparison.Ordinal);
        Assert.Contains("Enter your message", wrongPage, StringComparison.Ordinal);
        Assert.Contains("value=\"Opening hours\"", wrongPage, StringComparison.Ordinal);

        var sent = await browser.PostAsync("/contact", Form("tom@example.com", "When are you open on Saturdays?"));
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        Assert.Contains("We have your message", await sent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using var db = app.NewDb();
        var ticket = await db.Tickets.AsNoTracking().SingleAsync();
        Assert.Equal(("form", "Opening hours"), (ticket.Channel, ticket.Subject));
        Assert.Equal(1, await db.OutboxMessages.CountAsync(m => m.Kind == "support-ack" && m.To == "tom@example.com"));
    }

    [Fact]
    public void Business_hours_count_only_opening_hours_on_working_days_across_a_clock_change()
    {
        var policy = new SlaPolicy { BusinessHoursOnly = true, TimeZone = "Europe/Berlin", Opens = new(9, 0), Closes = new(17, 0), Days = [1, 2, 3, 4, 5] };
        // Friday 16:00 in Berlin (15:00 UTC in winter): one hour on Friday, then Monday, Tuesday and 7 hours of Wednesday.
        var friday = new DateTime(2026, 11, 27, 15, 0, 0, DateTimeKind.Utc);
        Assert.Equal(new DateTime(2026, 12, 2, 15, 0, 0, DateTimeKind.Utc), Sla.Add(friday, 24, policy));
        // Arriving on Saturday night counts from Monday's opening.
        Assert.Equal(new DateTime(2026, 11, 30, 10, 0, 0, DateTimeKind.Utc), Sla.Add(new DateTime(2026, 11, 28, 22, 0, 0, DateTimeKind.Utc), 2, policy));
        // Across the spring change (29 March 2026): Friday 16:00 CET + 2 business hours is Monday 10:00 CEST = 08:00 UTC.
        Assert.Equal(new DateTime(2026, 3, 30, 8, 0, 0, DateTimeKind.Utc), Sla.Add(new DateTime(2026, 3, 27, 15, 0, 0, DateTimeKind.Utc), 2, policy));
        // Without business hours it is the wall clock.
        Assert.Equal(friday.AddHours(24), Sla.Add(friday, 24, SlaPolicy.Default));
        Assert.NotEmpty(new SlaPolicy { BusinessHoursOnly = true, TimeZone = "Mars/Olympus", Days = [] }.Problems());
    }

    [Fact]
    public void Only_the_new_part_of_a_reply_is_kept_and_software_is_told_from_people()
    {
        Assert.Equal("Thanks, that worked.", InboundMail.NewPart("Thanks, that worked.\n\nOn Mon, 23 Nov 2026 at 10:00, Beanery <help@shop.example> wrote:\n> Try this"));
        Assert.Equal("Still broken.", InboundMail.NewPart("Still broken.\r\n\r\n-----Original Message-----\r\nFrom: help@shop.example"));
        Assert.Equal("Line one\n\nLine two", InboundMail.NewPart("Line one\n\nLine two\n> quoted"));
        Assert.Equal("Hello\nthere & you", InboundMail.TextOf("<p>Hello</p>there &amp; you").Trim());

        var person = Mail("From: a@example.com\nSubject: Hi\n\nHello");
        Assert.False(InboundMail.IsAutomated(person, "a@example.com"));
        Assert.True(InboundMail.IsAutomated(Mail("From: a@example.com\nAuto-Submitted: auto-replied\nSubject: Away\n\nAway"), "a@example.com"));
        Assert.True(InboundMail.IsAutomated(Mail("From: list@example.com\nPrecedence: bulk\nSubject: News\n\nNews"), "list@example.com"));
        Assert.True(InboundMail.IsAutomated(person, "MAILER-DAEMON@example.com"));
        Assert.Null(InboundMail.Read(Mail("Subject: nobody\n\nno sender")));
    }

    [Fact]
    public void The_report_shares_first_responses_within_target_within_limit_and_later_by_agent_and_week()
    {
        var monday = new DateTime(2026, 11, 23, 8, 0, 0, DateTimeKind.Utc);
        ResponseFacts T(DateTime at, double? hours, string? who, bool solved = false) =>
            new(at, at.AddHours(24), at.AddHours(48), hours is { } h ? at.AddHours(h) : null, who, solved);
        var report = ResponseTimes.Build(
        [
            T(monday, 2, "anna"), T(monday, 30, "anna"), T(monday, 50, "ben"),
            T(monday.AddDays(7), null, null), // waiting, within the limit
            T(monday.AddDays(-10), null, null), // never answered: later
            T(monday, null, null, solved: true), // solved without a reply: left out
        ], monday.AddDays(8));
        Assert.Equal((5, 1, 1, 2, 1), (report.All.Tickets, report.All.WithinTarget, report.All.WithinLimit, report.All.Later, report.All.Waiting));
        Assert.Equal(0.25, report.All.ShareWithinTarget);
        Assert.Equal(["anna", "ben"], report.ByAgent.Select(a => a.Key));
        Assert.Equal(1.0, report.ByAgent[0].ShareWithinLimit);
        Assert.Equal(["2026-11-09", "2026-11-23", "2026-11-30"], report.ByWeek.Select(w => w.Key));
        Assert.Equal(16, report.ByAgent[0].MedianHours); // between 2 h and 30 h
    }
}
