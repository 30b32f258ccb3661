using System.Text;
using Clientele.Outbox;
using MimeKit;

namespace Clientele.Tests.Outbox;

/// <summary>Reports as mail servers and mail programs send them back to the bounce address, parsed from raw text.</summary>
public sealed class BounceParserTests
{
    private static readonly Guid PostfixSent = Guid.ParseExact("0195a1b2c3d47e5f8a9b0c1d2e3f4a5b", "N");
    private static readonly Guid GmailSent = Guid.ParseExact("0195a1b4e6f07a1b9c2d3e4f5a6b7c8d", "N");
    private static readonly Guid DelayedSent = Guid.ParseExact("0195a1c0aa11bb22cc33dd44ee55ff66", "N");
    private static readonly Guid FullSent = Guid.ParseExact("0195a1c3d00d4e5f8000112233445566", "N");
    private static readonly Guid ComplainedSent = Guid.ParseExact("0195a1d9f1e2d3c4b5a6978877665544", "N");
    private static readonly Guid OutlookSent = Guid.ParseExact("0195a1e00123456789abcdef01234567", "N");
    private static readonly Guid VacationSent = Guid.ParseExact("0195a1e1fedcba9876543210fedcba98", "N");
    private static readonly Guid QmailSent = Guid.ParseExact("0195a1f27c6b5a4938271605f4e3d2c1", "N");

    private static MimeMessage Load(string raw) => MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(raw)));

    private static BounceReport Parse(string raw) => BounceParser.Parse(Load(raw));

    // Postfix marks its own bounces "Auto-Submitted: auto-replied"; the delivery status part must still win.
    // A smarthost rewrote the Message-ID on the way out, so only X-Clientele-Id identifies the sent message.
    private const string PostfixUserUnknown = """
        Return-Path: <>
        Delivered-To: bounces@shop.example
        Received: by mail.shop.example (Postfix)
            id 4Z1Qk83mTbz9sWb; Mon,  3 Mar 2025 10:15:02 +0100 (CET)
        Date: Mon,  3 Mar 2025 10:15:02 +0100 (CET)
        From: MAILER-DAEMON@mail.shop.example (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender
        To: bounces@shop.example
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
            boundary="4Z1Qk83mTbz9sWb.1741000502/mail.shop.example"
        Content-Transfer-Encoding: 8bit
        Message-Id: <20250303091502.4Z1Qk83mTbz9sWb@mail.shop.example>

        This is a MIME-encapsulated message.

        --4Z1Qk83mTbz9sWb.1741000502/mail.shop.example
        Content-Description: Notification
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        This is the mail system at host mail.shop.example.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients. It's attached below.

                           The mail system

        <ana.silva@example.org>: host mx.example.org[198.51.100.7] said: 550 5.1.1
            <ana.silva@example.org>: Recipient address rejected: User unknown in
            virtual mailbox table (in reply to RCPT TO command)

        --4Z1Qk83mTbz9sWb.1741000502/mail.shop.example
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.shop.example
        X-Postfix-Queue-ID: 4Z1Qk83mTbz9sWb
        X-Postfix-Sender: rfc822; bounces@shop.example
        Arrival-Date: Mon,  3 Mar 2025 10:15:01 +0100 (CET)

        Final-Recipient: rfc822; ana.silva@example.org
        Original-Recipient: rfc822;ana.silva@example.org
        Action: failed
        Status: 5.1.1
        Remote-MTA: dns; mx.example.org
        Diagnostic-Code: smtp; 550 5.1.1 <ana.silva@example.org>: Recipient address
            rejected: User unknown in virtual mailbox table

        --4Z1Qk83mTbz9sWb.1741000502/mail.shop.example
        Content-Description: Undelivered Message Headers
        Content-Type: text/rfc822-headers
        Content-Transfer-Encoding: 8bit

        Return-Path: <bounces@shop.example>
        Received: from relay.shop.example (relay.shop.example [192.0.2.10])
            by mail.shop.example (Postfix) with ESMTPS id 4Z1Qk83mTbz9sWb
            for <ana.silva@example.org>; Mon,  3 Mar 2025 10:15:01 +0100 (CET)
        Date: Mon, 03 Mar 2025 10:15:00 +0100
        From: The Coffee Shop <hello@shop.example>
        To: Ana Silva <ana.silva@example.org>
        Subject: Your beans are on their way
        Message-ID: <20250303091500.GA4711@relay.shop.example>
        X-Clientele-Id: 0195a1b2c3d47e5f8a9b0c1d2e3f4a5b
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        --4Z1Qk83mTbz9sWb.1741000502/mail.shop.example--
        """;

    private const string GmailNoSuchUser = """
        Delivered-To: bounces@shop.example
        Return-Path: <>
        Received: by 2002:a05:6a10:1234:b0:5c1:9f3e:4a21 with SMTP id n18csp1234567pxb;
                Mon, 3 Mar 2025 01:15:03 -0800 (PST)
        From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
        To: bounces@shop.example
        Auto-Submitted: auto-replied
        Subject: Delivery Status Notification (Failure)
        References: <0195a1b4e6f07a1b9c2d3e4f5a6b7c8d@shop.example>
        In-Reply-To: <0195a1b4e6f07a1b9c2d3e4f5a6b7c8d@shop.example>
        X-Failed-Recipients: no.such.person.4711@gmail.com
        Message-ID: <67c5738b.050a0220.3f2a1c.8e41.GMR@mx.google.com>
        Date: Mon, 03 Mar 2025 01:15:03 -0800 (PST)
        MIME-Version: 1.0
        Content-Type: multipart/report; boundary="000000000000f1a2b3062f4c8d9e"; report-type=delivery-status

        --000000000000f1a2b3062f4c8d9e
        Content-Type: text/plain; charset="UTF-8"

        ** Address not found **

        Your message wasn't delivered to no.such.person.4711@gmail.com because the address couldn't be found, or is unable to receive mail.

        The response from the remote server was:
        550 5.1.1 The email account that you tried to reach does not exist.

        --000000000000f1a2b3062f4c8d9e
        Content-Type: message/delivery-status

        Reporting-MTA: dns; googlemail.com
        Received-From-MTA: dns; hello@shop.example
        Arrival-Date: Mon, 03 Mar 2025 01:15:02 -0800 (PST)
        X-Original-Message-ID: <0195a1b4e6f07a1b9c2d3e4f5a6b7c8d@shop.example>

        Final-Recipient: rfc822; no.such.person.4711@gmail.com
        Action: failed
        Status: 5.1.1
        Remote-MTA: dns; gmail-smtp-in.l.google.com. 142.250.102.27
        Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist.
         550-5.1.1 Please try double-checking the recipient's email address for
         550 5.1.1 typos or unnecessary spaces. d2e1a72fcca58-7342 - gsmtp
        Last-Attempt-Date: Mon, 03 Mar 2025 01:15:03 -0800 (PST)

        --000000000000f1a2b3062f4c8d9e
        Content-Type: message/rfc822

        Return-Path: <bounces@shop.example>
        Received: from mail.shop.example (mail.shop.example. [192.0.2.20])
                by mx.google.com with ESMTPS id d2e1a72fcca58
                for <no.such.person.4711@gmail.com>; Mon, 03 Mar 2025 01:15:02 -0800 (PST)
        Date: Mon, 03 Mar 2025 10:15:02 +0100
        From: The Coffee Shop <hello@shop.example>
        To: no.such.person.4711@gmail.com
        Subject: Welcome to the Coffee Shop
        Message-ID: <0195a1b4e6f07a1b9c2d3e4f5a6b7c8d@shop.example>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        Hello,

        thank you for signing up. Your first bag ships on Friday.

        --000000000000f1a2b3062f4c8d9e--
        """;

    private const string PostfixDelayed = """
        Return-Path: <>
        Date: Wed,  5 Mar 2025 14:20:11 +0100 (CET)
        From: MAILER-DAEMON@mail.shop.example (Mail Delivery System)
        Subject: Delayed Mail (still being retried)
        To: bounces@shop.example
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
            boundary="7Fa21B9kQz.1741180811/mail.shop.example"
        Message-Id: <20250305132011.7Fa21B9kQz@mail.shop.example>

        --7Fa21B9kQz.1741180811/mail.shop.example
        Content-Description: Notification
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host mail.shop.example.

        ####################################################################
        # THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
        ####################################################################

        Your message could not be delivered for more than 4 hour(s).
        It will be retried until it is 5 day(s) old.

        --7Fa21B9kQz.1741180811/mail.shop.example
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.shop.example
        X-Postfix-Queue-ID: 7Fa21B9kQz
        Arrival-Date: Wed,  5 Mar 2025 10:12:40 +0100 (CET)

        Final-Recipient: rfc822; orders@slow-mx.example.com
        Original-Recipient: rfc822;orders@slow-mx.example.com
        Action: delayed
        Status: 4.4.1
        Diagnostic-Code: X-Postfix; connect to mx.slow-mx.example.com[203.0.113.25]:25:
            Connection timed out
        Will-Retry-Until: Mon, 10 Mar 2025 10:12:40 +0100 (CET)

        --7Fa21B9kQz.1741180811/mail.shop.example
        Content-Description: Undelivered Message Headers
        Content-Type: text/rfc822-headers

        Date: Wed, 05 Mar 2025 10:12:39 +0100
        From: The Coffee Shop <hello@shop.example>
        To: orders@slow-mx.example.com
        Subject: Your invoice 2025-0117
        Message-ID: <0195a1c0aa11bb22cc33dd44ee55ff66@shop.example>
        X-Clientele-Id: 0195a1c0aa11bb22cc33dd44ee55ff66

        --7Fa21B9kQz.1741180811/mail.shop.example--
        """;

    private const string MailboxFull = """
        Return-Path: <>
        Date: Thu, 6 Mar 2025 08:02:44 +0000
        From: Mail Delivery System <MAILER-DAEMON@mx2.mailhost.example>
        To: bounces@shop.example
        Subject: Undeliverable: Spring roast is here
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type="delivery-status"; boundary="=_full_b0a1"

        --=_full_b0a1
        Content-Type: text/plain; charset=us-ascii

        Delivery has failed to these recipients or groups:

        piet.jansen@mailhost.example
        The recipient's mailbox is full and can't accept messages now.

        --=_full_b0a1
        Content-Type: message/delivery-status

        Reporting-MTA: dns;mx2.mailhost.example
        Received-From-MTA: dns;mail.shop.example
        Arrival-Date: Thu, 6 Mar 2025 08:02:43 +0000

        Final-Recipient: rfc822;piet.jansen@mailhost.example
        Action: failed
        Status: 5.2.2
        Diagnostic-Code: smtp;552 5.2.2 Mailbox full: quota exceeded (10240000/10240000)

        --=_full_b0a1
        Content-Type: text/rfc822-headers

        From: The Coffee Shop <hello@shop.example>
        To: Piet Jansen <piet.jansen@mailhost.example>
        Subject: Spring roast is here
        Date: Thu, 06 Mar 2025 09:02:40 +0100
        Message-ID: <0195a1c3d00d4e5f8000112233445566@shop.example>

        --=_full_b0a1--
        """;

    // A feedback loop of the kind large webmail providers run: the user pressed "This is spam".
    private const string AbuseReport = """
        Return-Path: <fbl-bounces@feedback.mailprovider.example>
        From: Mail Feedback Loop <fbl@feedback.mailprovider.example>
        To: abuse@shop.example
        Subject: Email Feedback Report for IP 192.0.2.20
        Date: Fri, 7 Mar 2025 16:40:02 +0000
        Message-ID: <fbl.1741365602.88213@feedback.mailprovider.example>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=feedback-report;
            boundary="----=_Part_88213_1741365602"

        ------=_Part_88213_1741365602
        Content-Type: text/plain; charset="US-ASCII"
        Content-Transfer-Encoding: 7bit

        This is an email abuse report for an email message received from IP 192.0.2.20 on Fri, 7 Mar 2025 16:39:41 +0000.
        For information, please review the feedback loop terms at the provider's postmaster site.

        ------=_Part_88213_1741365602
        Content-Type: message/feedback-report

        Feedback-Type: abuse
        User-Agent: MailProvider-Feedback/2.0
        Version: 1
        Original-Mail-From: <bounces@shop.example>
        Original-Rcpt-To: <lena.fischer@mailprovider.example>
        Arrival-Date: Fri, 7 Mar 2025 16:39:41 +0000
        Reporting-MTA: dns; feedback.mailprovider.example
        Source-IP: 192.0.2.20
        Authentication-Results: mta4.mailprovider.example; dkim=pass header.d=shop.example; spf=pass smtp.mailfrom=shop.example
        Reported-Domain: shop.example

        ------=_Part_88213_1741365602
        Content-Type: message/rfc822
        Content-Disposition: inline

        Return-Path: <bounces@shop.example>
        Received: from mail.shop.example (192.0.2.20) by mta4.mailprovider.example with SMTP;
            Fri, 7 Mar 2025 16:39:41 +0000
        From: The Coffee Shop <hello@shop.example>
        To: Lena Fischer <lena.fischer@mailprovider.example>
        Subject: 20% off all single origins this weekend
        Date: Fri, 07 Mar 2025 17:39:40 +0100
        Message-ID: <0195a1d9f1e2d3c4b5a6978877665544@shop.example>
        X-Clientele-Id: 0195a1d9f1e2d3c4b5a6978877665544
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        Hello Lena, this weekend only ...

        ------=_Part_88213_1741365602--
        """;

    // Exchange and Outlook mark out-of-office replies only in the subject; X-Auto-Response-Suppress alone is no sign,
    // since Outlook sets it on ordinary mail too.
    private const string OutlookAutomaticReply = """
        Received: from AM0PR07MB1234.eurprd07.prod.outlook.example (2603:10a6:208:1::12)
            by mail.shop.example; Mon, 10 Mar 2025 08:00:05 +0000
        From: Jonas Berg <jonas.berg@contoso.example>
        To: The Coffee Shop <hello@shop.example>
        Subject: Automatic reply: Your beans are on their way
        Thread-Topic: Your beans are on their way
        Thread-Index: AQHbkV1c2x3Jm0aD8k6YQ7kqg1Vg5A==
        Date: Mon, 10 Mar 2025 08:00:04 +0000
        Message-ID: <AM0PR07MB1234C0FFEE0A1B2C3D4E5F6A7B8C@AM0PR07MB1234.eurprd07.prod.outlook.example>
        In-Reply-To: <0195a1e00123456789abcdef01234567@shop.example>
        References: <0195a1e00123456789abcdef01234567@shop.example>
        X-MS-Has-Attach:
        X-Auto-Response-Suppress: All
        X-MS-Exchange-Inbox-Rules-Loop: jonas.berg@contoso.example
        Content-Language: en-GB
        MIME-Version: 1.0
        Content-Type: multipart/alternative; boundary="_000_AM0PR07MB1234_"

        --_000_AM0PR07MB1234_
        Content-Type: text/plain; charset="us-ascii"

        I am out of the office until 17 March with limited access to email.

        --_000_AM0PR07MB1234_
        Content-Type: text/html; charset="us-ascii"

        <html><body><p>I am out of the office until 17 March with limited access to email.</p></body></html>

        --_000_AM0PR07MB1234_--
        """;

    // A Sieve vacation reply answers with "Re:" of the original subject; only the headers say it is automatic.
    private const string VacationReply = """
        Return-Path: <>
        From: Marie Dubois <marie.dubois@example.fr>
        To: hello@shop.example
        Subject: Re: Your order #10442
        Date: Tue, 11 Mar 2025 09:14:00 +0100
        Message-ID: <sieve-vacation-1741680840.31337@imap.example.fr>
        References: <thread-start@shop.example> <0195a1e1fedcba9876543210fedcba98@shop.example>
        Auto-Submitted: auto-replied (vacation)
        Precedence: bulk
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        Bonjour, je suis en congé jusqu'au 24 mars. Merci de votre patience.
        """;

    private const string QmailBounce = """
        Return-Path: <>
        Received: (qmail 24817 invoked for bounce); 12 Mar 2025 11:30:27 -0000
        Date: 12 Mar 2025 11:30:27 -0000
        From: MAILER-DAEMON@mx1.oldhost.example
        To: bounces@shop.example
        Subject: failure notice

        Hi. This is the qmail-send program at mx1.oldhost.example.
        I'm afraid I wasn't able to deliver your message to the following addresses.
        This is a permanent error; I've given up. Sorry it didn't work out.

        <karl.meier@oldhost.example>:
        198.51.100.44 does not like recipient.
        Remote host said: 550 5.1.1 <karl.meier@oldhost.example>... User unknown
        Giving up on 198.51.100.44.

        --- Below this line is a copy of the message.

        Return-Path: <bounces@shop.example>
        Received: (qmail 24790 invoked from network); 12 Mar 2025 11:30:26 -0000
        From: The Coffee Shop <hello@shop.example>
        To: karl.meier@oldhost.example
        Subject: We miss you: 10% off your next bag
        Date: Wed, 12 Mar 2025 12:30:25 +0100
        Message-ID: <0195a1f27c6b5a4938271605f4e3d2c1@shop.example>
        X-Clientele-Id: 0195a1f27c6b5a4938271605f4e3d2c1
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        Hello Karl, it has been a while. Reply 5.2.2 if you want ... (not the server's words)
        """;

    // Exim's plain-text bounce carries "Auto-Submitted: auto-replied" like an out-of-office reply does.
    private const string EximBounce = """
        Return-path: <>
        From: Mail Delivery System <Mailer-Daemon@mail.eximhost.example>
        To: bounces@shop.example
        Subject: Mail delivery failed: returning message to sender
        Auto-Submitted: auto-replied
        Message-Id: <E1tsQ4Z-000Abc-2x@mail.eximhost.example>
        Date: Thu, 13 Mar 2025 07:45:12 +0000

        This message was created automatically by mail delivery software.

        A message that you sent could not be delivered to one or more of its
        recipients. This is a permanent error. The following address(es) failed:

          sofia.rossi@eximhost.example
            host mx.eximhost.example [198.51.100.61]
            SMTP error from remote mail server after RCPT TO:<sofia.rossi@eximhost.example>:
            550 5.1.1 <sofia.rossi@eximhost.example>: Recipient address rejected

        ------ This is a copy of the message, including all the headers. ------

        From: The Coffee Shop <hello@shop.example>
        To: sofia.rossi@eximhost.example
        Subject: Your beans are on their way
        Message-ID: <0195a1f3aabbccddeeff001122334455@shop.example>
        """;

    private const string OrdinaryReply = """
        From: Tom Baker <tom.baker@example.co.uk>
        To: The Coffee Shop <hello@shop.example>
        Subject: Re: Your beans are on their way
        Date: Fri, 14 Mar 2025 18:22:10 +0000
        Message-ID: <CAF3x9k2+human.reply@mail.example.co.uk>
        In-Reply-To: <20250314090000.unrelated@elsewhere.example>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        Thanks! Could you grind the next bag for a French press? The automatic reply from your
        shop said to write back here. Out of office hours I can be reached on the phone.
        """;

    [Fact]
    public void A_Postfix_user_unknown_bounce_is_hard_and_finds_the_sent_message_by_its_Clientele_id()
    {
        var report = Parse(PostfixUserUnknown);

        Assert.Equal(BounceKind.Hard, report.Kind);
        Assert.Equal("ana.silva@example.org", report.Recipient);
        Assert.Equal("5.1.1", report.Status);
        Assert.Equal(PostfixSent, report.MessageId);
        Assert.Equal("550 5.1.1 <ana.silva@example.org>: Recipient address rejected: User unknown in virtual mailbox table", report.Detail);
    }

    [Fact]
    public void A_Gmail_bounce_with_the_whole_original_attached_is_hard_and_finds_the_sent_message_by_its_Message_ID()
    {
        var report = Parse(GmailNoSuchUser);

        Assert.Equal(BounceKind.Hard, report.Kind);
        Assert.Equal("no.such.person.4711@gmail.com", report.Recipient);
        Assert.Equal("5.1.1", report.Status);
        Assert.Equal(GmailSent, report.MessageId);
        Assert.StartsWith("550-5.1.1 The email account that you tried to reach does not exist.", report.Detail);
    }

    [Fact]
    public void A_delayed_delivery_is_soft_with_the_server_s_reason()
    {
        var report = Parse(PostfixDelayed);

        Assert.Equal(BounceKind.Soft, report.Kind);
        Assert.Equal("orders@slow-mx.example.com", report.Recipient);
        Assert.Equal("4.4.1", report.Status);
        Assert.Equal(DelayedSent, report.MessageId);
        Assert.Equal("connect to mx.slow-mx.example.com[203.0.113.25]:25: Connection timed out", report.Detail);
    }

    [Fact]
    public void A_full_mailbox_reported_as_permanent_is_soft_because_the_address_exists()
    {
        var report = Parse(MailboxFull);

        Assert.Equal(BounceKind.Soft, report.Kind);
        Assert.Equal("piet.jansen@mailhost.example", report.Recipient);
        Assert.Equal("5.2.2", report.Status);
        Assert.Equal(FullSent, report.MessageId);
        Assert.Contains("Mailbox full", report.Detail);
    }

    [Theory]
    [InlineData("failed", "5.1.1", "550 5.1.1 User unknown", "Hard", "5.1.1")]
    [InlineData("failed", "5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found", "Hard", "5.1.10")]
    [InlineData("failed", "5.4.4", "Host or domain name not found", "Hard", "5.4.4")]
    [InlineData("failed", "5.2.2", "552 5.2.2 Over quota", "Soft", "5.2.2")]
    [InlineData("failed", "5.0.0", "552 5.2.2 Quota exceeded", "Soft", "5.2.2")]
    [InlineData("failed", "5.0.0", "550 5.1.1 No such mailbox", "Hard", "5.1.1")]
    [InlineData("failed", "5.7.1", "550 5.7.1 Message rejected as spam by content filter", "Soft", "5.7.1")]
    [InlineData("failed", "5.7.26", "550 5.7.26 Unauthenticated email is not accepted", "Soft", "5.7.26")]
    [InlineData("failed", "4.4.7", "Message expired, could not deliver in time", "Soft", "4.4.7")]
    [InlineData("delayed", "4.4.1", "Connection timed out", "Soft", "4.4.1")]
    [InlineData("delivered", "2.0.0", "250 2.0.0 OK", "Unknown", "2.0.0")]
    [InlineData("relayed", "2.0.0", "250 2.0.0 Queued", "Unknown", "2.0.0")]
    [InlineData("expanded", "2.0.0", "250 2.0.0 Sent to list members", "Unknown", "2.0.0")]
    public void A_delivery_status_is_classified_by_its_action_and_status_code(string action, string status, string diagnostic, string kind, string expectedStatus)
    {
        var report = Parse(Dsn(action, status, diagnostic));

        Assert.Equal(Enum.Parse<BounceKind>(kind), report.Kind);
        Assert.Equal(expectedStatus, report.Status);
        Assert.Equal("ana.silva@example.org", report.Recipient);
    }

    [Fact]
    public void A_report_without_a_final_recipient_names_the_original_recipient()
    {
        var raw = Dsn("failed", "5.1.1", "550 5.1.1 User unknown")
            .Replace("Final-Recipient: rfc822; ana.silva@example.org", "Original-Recipient: rfc822; <ana@example.org>", StringComparison.Ordinal);

        Assert.Equal("ana@example.org", Parse(raw).Recipient);
    }

    [Fact]
    public void An_abuse_feedback_report_is_a_complaint_by_the_original_recipient()
    {
        var report = Parse(AbuseReport);

        Assert.Equal(BounceKind.Complaint, report.Kind);
        Assert.Equal("lena.fischer@mailprovider.example", report.Recipient);
        Assert.Equal(ComplainedSent, report.MessageId);
        Assert.Null(report.Status);
        Assert.Equal("abuse report from MailProvider-Feedback/2.0", report.Detail);
    }

    [Fact]
    public void A_feedback_report_without_the_recipient_field_names_the_recipient_of_the_returned_message()
    {
        var raw = AbuseReport.Replace("Original-Rcpt-To: <lena.fischer@mailprovider.example>\n", "", StringComparison.Ordinal);

        var report = Parse(raw);

        Assert.Equal(BounceKind.Complaint, report.Kind);
        Assert.Equal("lena.fischer@mailprovider.example", report.Recipient);
    }

    [Theory]
    [InlineData("abuse", "Complaint")]
    [InlineData("fraud", "Complaint")]
    [InlineData("other", "Complaint")]
    [InlineData("not-spam", "Unknown")]
    [InlineData("auth-failure", "Unknown")]
    public void Only_feedback_that_objects_to_the_mail_is_a_complaint(string feedbackType, string kind)
    {
        var raw = AbuseReport.Replace("Feedback-Type: abuse", $"Feedback-Type: {feedbackType}", StringComparison.Ordinal);

        Assert.Equal(Enum.Parse<BounceKind>(kind), Parse(raw).Kind);
    }

    [Fact]
    public void An_Outlook_automatic_reply_is_an_auto_reply_that_points_at_the_sent_message()
    {
        var report = Parse(OutlookAutomaticReply);

        Assert.Equal(BounceKind.AutoReply, report.Kind);
        Assert.Equal("jonas.berg@contoso.example", report.Recipient);
        Assert.Equal(OutlookSent, report.MessageId);
    }

    [Fact]
    public void A_vacation_reply_marked_auto_replied_is_an_auto_reply_found_by_its_references()
    {
        var report = Parse(VacationReply);

        Assert.Equal(BounceKind.AutoReply, report.Kind);
        Assert.Equal("marie.dubois@example.fr", report.Recipient);
        Assert.Equal(VacationSent, report.MessageId);
        Assert.Contains("auto-replied", report.Detail);
    }

    [Theory]
    [InlineData("Auto-Submitted: auto-generated", "Your order")]
    [InlineData("X-Autoreply: yes", "Re: Your order")]
    [InlineData("X-Autorespond: Thank you for your message", "Re: Your order")]
    [InlineData("Precedence: auto_reply", "Re: Your order")]
    [InlineData("X-Mailer: Webmail", "Out of Office: Your order")]
    [InlineData("X-Mailer: Webmail", "Auto: Your order")]
    [InlineData("X-Mailer: Webmail", "Abwesenheitsnotiz: Your order")]
    [InlineData("X-Mailer: Webmail", "Automatische Antwort: Your order")]
    public void Each_sign_of_an_automatic_reply_is_recognised(string header, string subject)
    {
        Assert.Equal(BounceKind.AutoReply, Parse(Reply(header, subject)).Kind);
    }

    [Theory]
    [InlineData("Auto-Submitted: no", "Re: Your order")]
    [InlineData("Precedence: bulk", "Re: Your order")]
    [InlineData("X-Auto-Response-Suppress: All", "Re: Out of office hours delivery?")]
    public void A_reply_without_a_sign_of_automation_is_not_an_auto_reply(string header, string subject)
    {
        Assert.Equal(BounceKind.Unknown, Parse(Reply(header, subject)).Kind);
    }

    [Fact]
    public void A_plain_text_qmail_bounce_is_read_from_its_text()
    {
        var report = Parse(QmailBounce);

        Assert.Equal(BounceKind.Hard, report.Kind);
        Assert.Equal("karl.meier@oldhost.example", report.Recipient);
        Assert.Equal("5.1.1", report.Status);
        Assert.Equal(QmailSent, report.MessageId);
        Assert.Equal("Remote host said: 550 5.1.1 <karl.meier@oldhost.example>... User unknown", report.Detail);
    }

    [Fact]
    public void A_plain_text_bounce_marked_auto_replied_is_still_a_bounce()
    {
        var report = Parse(EximBounce);

        Assert.Equal(BounceKind.Hard, report.Kind);
        Assert.Equal("sofia.rossi@eximhost.example", report.Recipient);
        Assert.Equal("5.1.1", report.Status);
        Assert.Equal(Guid.ParseExact("0195a1f3aabbccddeeff001122334455", "N"), report.MessageId);
    }

    [Fact]
    public void A_plain_text_bounce_does_not_take_the_bounce_address_for_the_recipient()
    {
        var raw = QmailBounce.Replace("I'm afraid I wasn't able", "Your message from <bounces@shop.example> failed. I'm afraid I wasn't able", StringComparison.Ordinal);

        Assert.Equal("karl.meier@oldhost.example", Parse(raw).Recipient);
    }

    [Fact]
    public void A_plain_text_bounce_without_a_status_code_is_unknown()
    {
        var raw = QmailBounce.Replace("550 5.1.1 ", "", StringComparison.Ordinal);

        var report = Parse(raw);

        Assert.Equal(BounceKind.Unknown, report.Kind);
        Assert.Equal("karl.meier@oldhost.example", report.Recipient);
    }

    [Fact]
    public void An_ordinary_reply_is_unknown()
    {
        var report = Parse(OrdinaryReply);

        Assert.Equal(BounceKind.Unknown, report.Kind);
        Assert.Null(report.Status);
        Assert.Null(report.MessageId);
    }

    public static TheoryData<string> Malformed => new()
    {
        // Headers and nothing else.
        "X-Nothing: here\n",
        // Control characters in the headers, a Content-Type that is all punctuation, a body of noise.
        "Subject: \u0001\u0002 junk\nContent-Type: ;;;; garbage=\"\n\n\u0000\u0001 bytes \uFFFD\n",
        // The boundary never appears, so the report has no parts.
        """
        From: MAILER-DAEMON@mail.example
        Subject: Undelivered Mail Returned to Sender
        Content-Type: multipart/report; report-type=delivery-status; boundary="never-used"

        Final-Recipient: rfc822; ana@example.org
        Action: failed
        """,
        // No boundary parameter at all.
        """
        From: MAILER-DAEMON@mail.example
        Content-Type: multipart/report; report-type=delivery-status

        --x
        Content-Type: message/delivery-status

        Action: failed
        --x--
        """,
        // A delivery status part of noise, with no fields.
        """
        From: MAILER-DAEMON@mail.example
        Content-Type: multipart/report; report-type=delivery-status; boundary="b"

        --b
        Content-Type: message/delivery-status

        %%%% \u0001\u0002 not fields at all %%%%
        :::
        --b--
        """,
        // Fields whose values are not what RFC 3464 says.
        """
        From: MAILER-DAEMON@mail.example
        Content-Type: multipart/report; report-type=delivery-status; boundary="b"

        --b
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.example

        Final-Recipient: rfc822;
        Action: exploded
        Status: soon
        --b--
        """,
        // A delivery status part that claims base64 but is not.
        """
        From: MAILER-DAEMON@mail.example
        Content-Type: multipart/report; report-type=delivery-status; boundary="b"

        --b
        Content-Type: message/delivery-status
        Content-Transfer-Encoding: base64

        !!!!not base64 at all!!!!
        --b--
        """,
        // An empty feedback report.
        """
        From: Feedback <fbl@provider.example>
        Content-Type: multipart/report; report-type=feedback-report; boundary="b"

        --b
        Content-Type: message/feedback-report

        --b
        Content-Type: text/rfc822-headers

        --b--
        """,
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_report_is_unknown_and_says_why(string raw)
    {
        var report = Parse(raw);

        Assert.Equal(BounceKind.Unknown, report.Kind);
        Assert.False(string.IsNullOrWhiteSpace(report.Detail));
    }

    private static string Dsn(string action, string status, string diagnostic) => $"""
        From: MAILER-DAEMON@mail.shop.example (Mail Delivery System)
        To: bounces@shop.example
        Subject: Undelivered Mail Returned to Sender
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-boundary"

        --dsn-boundary
        Content-Type: text/plain

        Delivery report.

        --dsn-boundary
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.shop.example

        Final-Recipient: rfc822; ana.silva@example.org
        Action: {action}
        Status: {status}
        Diagnostic-Code: smtp; {diagnostic}

        --dsn-boundary--
        """;

    private static string Reply(string header, string subject) => $"""
        From: Customer <customer@example.net>
        To: hello@shop.example
        Subject: {subject}
        {header}
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        Thank you for your message.
        """;
}
