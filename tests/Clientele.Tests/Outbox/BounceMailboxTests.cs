using System.Text;
using System.Text.Json;
using Clientele.Contacts;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using MailKit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MimeKit;

namespace Clientele.Tests.Outbox;

/// <summary>
/// The bounce mailbox read over IMAP from a real Dovecot server: what comes back to the bounce address after a
/// broadcast (bounces, a complaint, an out-of-office, a customer's reply) and what that does to the contacts.
/// </summary>
public sealed class BounceMailboxTests
{
    private const string Hard = "r000@example.com";
    private const string Soft = "r001@example.com";
    private const string Complainer = "r002@example.com";
    private const string Away = "r003@example.com";
    private const string Replier = "r004@example.com";

    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private sealed record Sent(OutboxMessage Message, string Headers, string Raw);

    /// <summary>
    /// Dovecot, the app reading it, five newsletter subscribers who got a broadcast, and in the mailbox what came back
    /// for each: a hard bounce, a soft bounce, a complaint, an out-of-office and a reply from a person.
    /// </summary>
    private static async Task<(TestApp App, ImapServer Imap, HttpClient Api, Dictionary<string, Sent> Sent)> StartAsync(string kind)
    {
        var imap = await ImapServer.StartAsync();
        TestApp? app = null;
        try
        {
            app = await TestApp.StartAsync(kind, settings: new()
            {
                ["Clientele:Bounces:Imap:Host"] = imap.Host,
                ["Clientele:Bounces:Imap:Port"] = imap.Port.ToString(),
                ["Clientele:Bounces:Imap:Security"] = "none",
                ["Clientele:Bounces:Imap:Username"] = imap.Username,
                ["Clientele:Bounces:Imap:Password"] = imap.Password,
                ["Clientele:Bounces:Imap:IntervalMinutes"] = ((int)Interval.TotalMinutes).ToString(),
            });
            await using (var db = app.NewDb())
            {
                await ReliabilityTests.SeedAsync(db, 5, app.Time.GetUtcNow().UtcDateTime);
            }
            var api = await app.ApiClientAsync("write");
            var created = await api.PostJsonAsync("/api/v1/broadcasts", new { name = "June news", topic = "newsletter", subject = "June news", body = "Hello {{ contact.first_name }}" });
            await MailFlowTests.FinishedAsync(api, (await created.ReadJsonAsync()).GetProperty("id").GetGuid());
            var sent = new Dictionary<string, Sent>();
            await using (var db = app.NewDb())
            {
                foreach (var message in await db.OutboxMessages.AsNoTracking().ToListAsync())
                {
                    var raw = Encoding.UTF8.GetString((await db.LocalMail.AsNoTracking().SingleAsync(m => m.MessageId == message.Id)).Raw).ReplaceLineEndings("\n");
                    sent[message.To] = new Sent(message, raw[..raw.IndexOf("\n\n", StringComparison.Ordinal)], raw);
                }
            }
            Assert.Equal(5, sent.Count);

            await imap.AppendAsync(Dsn(sent[Hard], "failed", "5.1.1", "550 5.1.1 <r000@example.com>: Recipient address rejected: User unknown"));
            await imap.AppendAsync(Dsn(sent[Soft], "delayed", "4.2.2", "452 4.2.2 <r001@example.com>: Mailbox full"));
            await imap.AppendAsync(Complaint(sent[Complainer]));
            await imap.AppendAsync(Message($"""
                From: R3 <{Away}>
                To: bounces@example.com
                Subject: Automatic reply: June news
                Date: Mon, 1 Jun 2026 12:10:00 +0000
                Message-ID: <away-1@example.com>
                In-Reply-To: {MessageIdOf(sent[Away])}
                Auto-Submitted: auto-replied

                I am out of the office until 15 June.
                """));
            await imap.AppendAsync(Message($"""
                From: R4 <{Replier}>
                To: bounces@example.com
                Subject: Re: June news
                Date: Mon, 1 Jun 2026 12:20:00 +0000
                Message-ID: <reply-1@example.com>
                In-Reply-To: {MessageIdOf(sent[Replier])}

                Do you ship to Austria?
                """));

            await ReadAsync(app, imap, 5);
            return (app, imap, api, sent);
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
            await imap.DisposeAsync();
            throw;
        }
    }

    /// <summary>Lets the reader's interval pass until the mailbox holds <paramref name="count"/> messages, all read.</summary>
    private static async Task ReadAsync(TestApp app, ImapServer imap, int count)
    {
        try
        {
            await MailFlowTests.Until(async () =>
            {
                app.Time.Advance(Interval);
                var messages = await imap.MessagesAsync();
                return messages.Count == count && messages.All(m => m.Flags!.Value.HasFlag(MessageFlags.Seen));
            }, $"the app read all {count} messages in the mailbox");
        }
        catch (Xunit.Sdk.FailException e)
        {
            Assert.Fail($"{e.Message}\n{imap.Log()}");
        }
    }

    /// <summary>Lets the reader's interval pass until it has logged in and out of the mailbox once more.</summary>
    private static async Task AnotherPollAsync(TestApp app, ImapServer imap)
    {
        var before = imap.FinishedSessions();
        await MailFlowTests.Until(() =>
        {
            app.Time.Advance(Interval);
            return Task.FromResult(imap.FinishedSessions() > before);
        }, "the app read the mailbox again");
    }

    /// <summary>A delivery status notification as Postfix writes it, quoting the headers of the message we sent.</summary>
    private static MimeMessage Dsn(Sent sent, string action, string status, string diagnostic) => Message($"""
        From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
        To: bounces@example.com
        Subject: {(action == "delayed" ? "Delayed Mail (still being retried)" : "Undelivered Mail Returned to Sender")}
        Date: Mon, 1 Jun 2026 12:05:00 +0000
        Message-ID: <{Guid.NewGuid():N}@mx.example.com>
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-boundary"

        --dsn-boundary
        Content-Description: Notification
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host mx.example.com.

        --dsn-boundary
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.com
        Arrival-Date: Mon,  1 Jun 2026 12:00:01 +0000

        Final-Recipient: rfc822; {sent.Message.To}
        Original-Recipient: rfc822;{sent.Message.To}
        Action: {action}
        Status: {status}
        Remote-MTA: dns; mail.example.com
        Diagnostic-Code: smtp; {diagnostic}

        --dsn-boundary
        Content-Description: Undelivered Message Headers
        Content-Type: text/rfc822-headers

        {sent.Headers}

        --dsn-boundary--
        """);

    /// <summary>A feedback-loop complaint (ARF), carrying the whole message we sent.</summary>
    private static MimeMessage Complaint(Sent sent) => Message($"""
        From: Feedback Loop <fbl@feedback.example.net>
        To: bounces@example.com
        Subject: Email Feedback Report
        Date: Mon, 1 Jun 2026 12:30:00 +0000
        Message-ID: <fbl-1@feedback.example.net>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=feedback-report; boundary="arf-boundary"

        --arf-boundary
        Content-Type: text/plain; charset=us-ascii

        This is an email abuse report.

        --arf-boundary
        Content-Type: message/feedback-report

        Feedback-Type: abuse
        User-Agent: ExampleFBL/1.0
        Version: 1
        Original-Rcpt-To: <{sent.Message.To}>

        --arf-boundary
        Content-Type: message/rfc822
        Content-Disposition: inline

        {sent.Raw}
        --arf-boundary--
        """);

    private static string MessageIdOf(Sent sent) =>
        MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(sent.Raw))).Headers[HeaderId.MessageId]!.Trim();

    private static MimeMessage Message(string text) =>
        MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\r\n"))));

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Bounces_and_a_complaint_in_the_mailbox_stop_mail_to_their_addresses_while_an_auto_reply_and_a_reply_change_nothing(string kind)
    {
        var (app, imap, api, sent) = await StartAsync(kind);
        await using var _ = imap;
        await using var __ = app;

        await using (var db = app.NewDb())
        {
            var suppressions = await db.Suppressions.AsNoTracking().OrderBy(s => s.Email).ToListAsync();
            Assert.Equal([(Hard, SuppressionReason.HardBounce), (Complainer, SuppressionReason.Complaint)], suppressions.Select(s => (s.Email, s.Reason)));
            Assert.Contains("5.1.1", suppressions[0].Detail);

            var status = await db.OutboxMessages.AsNoTracking().ToDictionaryAsync(m => m.To, m => m.Status);
            Assert.Equal(OutboxStatus.Bounced, status[Hard]);
            Assert.All((string[])[Soft, Complainer, Away, Replier], to => Assert.Equal(OutboxStatus.Sent, status[to]));
            Assert.Contains("User unknown", (await db.OutboxMessages.AsNoTracking().SingleAsync(m => m.To == Hard)).LastAnswer);

            // The soft bounce is counted (one of three) against the contact and noted on the message.
            var soft = await db.Events.AsNoTracking().Where(e => e.ContactId == sent[Soft].Message.ContactId && e.Type == "email.bounced").ToListAsync();
            Assert.Equal("soft", JsonDocument.Parse(Assert.Single(soft).Properties).RootElement.GetProperty("kind").GetString());
            Assert.Contains(await db.OutboxNotes.Where(n => n.MessageId == sent[Soft].Message.Id).Select(n => n.Text).ToListAsync(), t => t.StartsWith("Soft bounce: 4.2.2", StringComparison.Ordinal));

            // The complaint unsubscribes the contact from all marketing mail.
            Assert.Equal(1, await db.Events.CountAsync(e => e.ContactId == sent[Complainer].Message.ContactId && e.Type == "email.complained"));
            var consent = await db.Consents.AsNoTracking().SingleAsync(c => c.ContactId == sent[Complainer].Message.ContactId && c.Topic == ConsentProjection.DefaultTopic);
            Assert.Equal(ConsentStatus.Unsubscribed, consent.Status);

            // The out-of-office and the customer's reply leave no trace on their contacts.
            foreach (var to in (string[])[Away, Replier])
            {
                var contact = sent[to].Message.ContactId;
                Assert.False(await db.Events.AnyAsync(e => e.ContactId == contact && (e.Type == "email.bounced" || e.Type == "email.complained" || e.Type == "email.unsubscribed")));
                Assert.False(await db.Consents.AnyAsync(c => c.ContactId == contact && c.Status == ConsentStatus.Unsubscribed));
            }
        }
        var report = await (await api.GetAsync($"/api/v1/broadcasts/{sent[Hard].Message.BroadcastId}")).ReadJsonAsync();
        Assert.Equal(1, report.GetProperty("counts").GetProperty("bounced").GetInt32());

        // The next newsletter reaches everyone but the bounced address and the complainer.
        var next = await api.PostJsonAsync("/api/v1/broadcasts", new { name = "July news", topic = "newsletter", subject = "July news", body = "Hello again" });
        await MailFlowTests.FinishedAsync(api, (await next.ReadJsonAsync()).GetProperty("id").GetGuid());
        await using var check = app.NewDb();
        var july = await check.LocalMail.AsNoTracking().Where(m => m.Subject == "July news").Select(m => m.To).OrderBy(t => t).ToListAsync();
        Assert.Equal([Soft, Away, Replier], july);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Each_message_in_the_mailbox_is_read_once_and_left_in_its_folder_marked_read(string kind)
    {
        var (app, imap, _, sent) = await StartAsync(kind);
        await using var __ = imap;
        await using var ___ = app;

        // Nothing is moved or deleted: every message stays in INBOX, marked read.
        Assert.Equal(["INBOX"], await imap.FoldersAsync());
        var messages = await imap.MessagesAsync();
        Assert.Equal(5, messages.Count);
        Assert.All(messages, m => Assert.Equal(MessageFlags.Seen, m.Flags!.Value & (MessageFlags.Seen | MessageFlags.Deleted)));

        async Task<(int Bounced, int Complained, int Suppressed, int Notes)> Counts()
        {
            await using var db = app.NewDb();
            return (await db.Events.CountAsync(e => e.Type == "email.bounced"), await db.Events.CountAsync(e => e.Type == "email.complained"),
                await db.Suppressions.CountAsync(), await db.OutboxNotes.CountAsync(n => n.Text.StartsWith("Bounced:") || n.Text.StartsWith("Soft bounce:") || n.Text.StartsWith("Marked as spam:")));
        }
        var once = await Counts();
        Assert.Equal((2, 1, 2), (once.Bounced, once.Complained, once.Suppressed));

        // The next poll finds nothing new.
        await AnotherPollAsync(app, imap);
        Assert.Equal(once, await Counts());

        // Nor does a reader that remembers nothing of earlier polls, as after a restart: the read flags in the mailbox are the record.
        var reader = app.Services.GetServices<IHostedService>().OfType<BounceMailbox>().Single();
        var section = app.Services.GetRequiredService<IConfiguration>().GetSection("Clientele:Bounces:Imap");
        Assert.Equal(0, await reader.ReadOnceAsync(section, CancellationToken.None));
        Assert.Equal(once, await Counts());

        // A report that arrives later is read at the next poll, alone: a second soft bounce for the same address. A hard
        // bounce that someone already opened in a mail client is not unread, so it is left alone.
        await imap.AppendAsync(Dsn(sent[Away], "failed", "5.1.1", "550 5.1.1 <r003@example.com>: User unknown"), MessageFlags.Seen);
        await imap.AppendAsync(Dsn(sent[Soft], "delayed", "4.2.2", "452 4.2.2 <r001@example.com>: Mailbox full"));
        await ReadAsync(app, imap, 7);
        Assert.Equal(once with { Bounced = once.Bounced + 1, Notes = once.Notes + 1 }, await Counts());
        await using var db = app.NewDb();
        Assert.Equal(2, await db.Events.CountAsync(e => e.ContactId == sent[Soft].Message.ContactId && e.Type == "email.bounced"));
        Assert.False(await db.Suppressions.AnyAsync(s => s.Email == Away));
    }
}
