using System.Collections.Concurrent;
using System.Net.Sockets;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MimeKit;

namespace Clientele.Tests.Outbox;

/// <summary>The SMTP transport against real servers on loopback: aiosmtpd (which can misbehave) and postfix's smtp-sink.</summary>
[Collection(nameof(HeavyMail))]
public sealed class SmtpTransportTests
{
    private static SmtpTransport Transport(int port, TimeProvider? time = null, int maxConnections = 4, int perSecond = 0, int perHour = 0,
        string? username = null, string? password = null) =>
        new(new SmtpOptions
        {
            Host = "127.0.0.1",
            Port = port,
            Security = SmtpSecurity.None,
            MaxConnections = maxConnections,
            PerSecond = perSecond,
            PerHour = perHour,
            Username = username,
            Password = password,
            TimeoutSeconds = 10,
            LocalDomain = "clientele.test",
        }, time ?? TimeProvider.System, NullLogger<SmtpTransport>.Instance);

    private static MimeMessage Message(int i)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("The Coffee Shop", "hello@shop.example"));
        message.To.Add(new MailboxAddress($"Customer {i}", $"customer{i}@example.com"));
        message.Subject = $"Thank you for your order #{i}";
        message.MessageId = $"{Guid.NewGuid():N}@shop.example";
        message.Body = new TextPart("plain") { Text = $"Hello {i},\n\nyour beans are on their way. Grüße from the roastery.\n" };
        return message;
    }

    [Fact]
    public async Task Messages_arrive_once_each_over_one_reused_connection()
    {
        await using var peer = await SmtpPeer.StartAsync();
        await using var transport = Transport(peer.Port);
        var sent = new List<string>();

        for (var i = 0; i < 25; i++)
        {
            var message = Message(i);
            var result = await transport.SendAsync(message, TestContext.Current.CancellationToken);
            Assert.Equal(DeliveryOutcome.Sent, result.Outcome);
            Assert.Contains("queued", result.Answer);
            sent.Add(message.MessageId!);
        }

        Assert.Equal(sent, peer.AcceptedMessageIds());
        Assert.Equal(["customer3@example.com"], peer.Accepted()[3].Recipients);
        Assert.Equal(1, transport.ConnectionsOpened);
        Assert.Equal("smtp", transport.Name);
    }

    [Fact]
    public async Task Concurrent_sends_share_no_more_connections_than_configured()
    {
        await using var peer = await SmtpPeer.StartAsync();
        await using var transport = Transport(peer.Port, maxConnections: 4);
        var messages = Enumerable.Range(0, 200).Select(Message).ToList();

        var results = await Task.WhenAll(messages.Select(m => transport.SendAsync(m, TestContext.Current.CancellationToken)));

        Assert.All(results, r => Assert.Equal(DeliveryOutcome.Sent, r.Outcome));
        Assert.Equal(messages.Select(m => m.MessageId).Order(), peer.AcceptedMessageIds().Order());
        Assert.InRange(transport.ConnectionsOpened, 1, 4);
    }

    [Fact]
    public async Task A_faulty_server_loses_and_duplicates_nothing_when_every_retry_is_tried_again()
    {
        await using var peer = await SmtpPeer.StartAsync("--temp-fail", "0.2", "--perm-fail", "0.01", "--drop", "0.05", "--seed", "7");
        await using var transport = Transport(peer.Port, maxConnections: 4);
        var messages = Enumerable.Range(0, 300).Select(Message).ToList();
        var retries = new ConcurrentBag<string>();

        // What the outbox does, without its waiting: a retry is sent again until it is sent or refused for good.
        async Task<DeliveryResult> Deliver(MimeMessage message)
        {
            for (var attempt = 1; attempt <= 50; attempt++)
            {
                var result = await transport.SendAsync(message, TestContext.Current.CancellationToken);
                if (result.Outcome != DeliveryOutcome.Retry)
                {
                    return result;
                }
                retries.Add(result.Answer);
            }
            throw new InvalidOperationException($"{message.MessageId} was never delivered: {string.Join(" | ", retries.Take(5))}");
        }
        var results = await Task.WhenAll(messages.Select(Deliver));

        var accepted = peer.AcceptedMessageIds();
        var sent = messages.Where((_, i) => results[i].Outcome == DeliveryOutcome.Sent).Select(m => m.MessageId).ToList();
        var failed = results.Where(r => r.Outcome == DeliveryOutcome.Failed).ToList();
        Assert.Equal(accepted.Count, accepted.Distinct().Count());
        Assert.Equal(sent.Order(), accepted.Order());
        Assert.Equal(300, sent.Count + failed.Count);
        Assert.All(failed, f => Assert.Equal("550 5.1.1 mailbox unknown", f.Answer));
        Assert.Contains(retries, r => r.StartsWith("connection dropped: ", StringComparison.Ordinal));
        Assert.Contains(retries, r => r.StartsWith("421 4.3.2 ", StringComparison.Ordinal));
        Assert.Contains(retries, r => r.StartsWith("451 4.3.0 ", StringComparison.Ordinal));
        Assert.Contains(retries, r => r.StartsWith("454 4.7.0 ", StringComparison.Ordinal));
        // Dropped connections were replaced, and never more than the pool's size were open at once.
        Assert.True(transport.ConnectionsOpened > 4);
        Assert.InRange(transport.ConnectionsOpen, 1, 4);
    }

    [Fact]
    public async Task A_connection_the_server_closed_while_idle_is_replaced_before_the_next_message()
    {
        await using var peer = await SmtpPeer.StartAsync("--idle-timeout", "0.2");
        await using var transport = Transport(peer.Port);
        Assert.Equal(DeliveryOutcome.Sent, (await transport.SendAsync(Message(1), TestContext.Current.CancellationToken)).Outcome);

        await Task.Delay(1000, TestContext.Current.CancellationToken); // well past the server's idle timeout
        var second = await transport.SendAsync(Message(2), TestContext.Current.CancellationToken);

        Assert.Equal(DeliveryOutcome.Sent, second.Outcome);
        Assert.Equal(2, transport.ConnectionsOpened);
        Assert.Equal(2, peer.AcceptedMessageIds().Count);
    }

    [Fact]
    public async Task A_connection_left_idle_for_thirty_seconds_is_closed()
    {
        await using var peer = await SmtpPeer.StartAsync();
        var time = new FakeTimeProvider(TestApp.Start);
        await using var transport = Transport(peer.Port, time);
        await transport.SendAsync(Message(1), TestContext.Current.CancellationToken);
        Assert.Equal(1, transport.ConnectionsOpen);

        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(1, transport.ConnectionsOpen);
        time.Advance(TimeSpan.FromSeconds(20));
        for (var i = 0; i < 200 && transport.ConnectionsOpen > 0; i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken); // the QUIT runs in the background
        }

        Assert.Equal(0, transport.ConnectionsOpen);
        Assert.Equal(DeliveryOutcome.Sent, (await transport.SendAsync(Message(2), TestContext.Current.CancellationToken)).Outcome);
        Assert.Equal(2, transport.ConnectionsOpened);
    }

    [Fact]
    public async Task Wrong_credentials_are_a_retry_that_points_at_the_settings_not_the_recipient()
    {
        await using var peer = await SmtpPeer.StartAsync("--auth", "shop:s3cret");
        await using var wrong = Transport(peer.Port, username: "shop", password: "guess");
        await using var right = Transport(peer.Port, username: "shop", password: "s3cret");

        var refused = await wrong.SendAsync(Message(1), TestContext.Current.CancellationToken);
        var sent = await right.SendAsync(Message(2), TestContext.Current.CancellationToken);

        Assert.Equal(DeliveryOutcome.Retry, refused.Outcome);
        Assert.Contains("authentication at 127.0.0.1:", refused.Answer);
        Assert.Contains("Clientele:Smtp:Username and Password", refused.Answer);
        Assert.Equal(0, wrong.ConnectionsOpen);
        Assert.Equal(DeliveryOutcome.Sent, sent.Outcome);
        Assert.Single(peer.AcceptedMessageIds());
    }

    [Fact]
    public async Task A_server_that_is_not_there_is_a_retry_that_names_it()
    {
        var port = SmtpPeer.FreePort();
        await using var transport = Transport(port);

        var result = await transport.SendAsync(Message(1), TestContext.Current.CancellationToken);

        Assert.Equal(DeliveryOutcome.Retry, result.Outcome);
        Assert.StartsWith($"cannot connect to 127.0.0.1:{port}: ", result.Answer);
    }

    [Fact]
    public async Task With_rate_limits_every_message_still_goes_through()
    {
        await using var peer = await SmtpPeer.StartAsync();
        await using var transport = Transport(peer.Port, perSecond: 100, perHour: 10_000);
        var messages = Enumerable.Range(0, 40).Select(Message).ToList();

        var results = await Task.WhenAll(messages.Select(m => transport.SendAsync(m, TestContext.Current.CancellationToken)));

        Assert.All(results, r => Assert.Equal(DeliveryOutcome.Sent, r.Outcome));
        Assert.Equal(40, peer.AcceptedMessageIds().Distinct().Count());
    }

    [Fact]
    public async Task A_send_waiting_on_the_hourly_quota_can_be_cancelled()
    {
        await using var peer = await SmtpPeer.StartAsync();
        await using var transport = Transport(peer.Port, perHour: 1);
        Assert.Equal(DeliveryOutcome.Sent, (await transport.SendAsync(Message(1), TestContext.Current.CancellationToken)).Outcome);
        using var cancel = new CancellationTokenSource();

        var waiting = transport.SendAsync(Message(2), cancel.Token);
        Assert.False(waiting.IsCompleted);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Single(peer.AcceptedMessageIds());
    }

    [Fact]
    public async Task Thousands_of_messages_flow_through_eight_pipelined_connections()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var transport = Transport(sink.Port, maxConnections: 8);
        var messages = Enumerable.Range(0, 2000).Select(Message).ToList();

        var results = await Task.WhenAll(messages.Select(m => transport.SendAsync(m, TestContext.Current.CancellationToken)));

        Assert.All(results, r => Assert.Equal(DeliveryOutcome.Sent, r.Outcome));
        Assert.InRange(transport.ConnectionsOpened, 1, 8);
    }

    [Theory]
    [InlineData(421, "Retry")]
    [InlineData(450, "Retry")]
    [InlineData(451, "Retry")]
    [InlineData(452, "Retry")]
    [InlineData(454, "Retry")]
    [InlineData(550, "Failed")]
    [InlineData(552, "Failed")]
    [InlineData(553, "Failed")]
    [InlineData(554, "Failed")]
    public void A_4xx_refusal_is_retried_and_a_5xx_refusal_is_final(int code, string expected)
    {
        var refusal = new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, (SmtpStatusCode)code,
            new MailboxAddress("", "ann@example.com"), "5.1.1 mailbox unknown");

        var result = SmtpTransport.Classify(refusal);

        Assert.Equal(Enum.Parse<DeliveryOutcome>(expected), result.Outcome);
        Assert.Equal($"{code} 5.1.1 mailbox unknown", result.Answer);
    }

    [Fact]
    public void A_refusal_after_the_message_body_keeps_the_servers_words()
    {
        var refusal = new SmtpCommandException(SmtpErrorCode.MessageNotAccepted, SmtpStatusCode.ExceededStorageAllocation,
            "5.3.4 Message too big\nfor this mailbox");

        Assert.Equal(new DeliveryResult(DeliveryOutcome.Failed, "552 5.3.4 Message too big for this mailbox"), SmtpTransport.Classify(refusal));
    }

    public static TheoryData<Exception> DroppedConnections() =>
    [
        new IOException("Connection reset by peer"),
        new SmtpProtocolException("The SMTP server has unexpectedly disconnected."),
        new SocketException((int)SocketError.ConnectionReset),
        new TimeoutException("Operation timed out after 30000 milliseconds"),
        new ServiceNotConnectedException("The SmtpClient is not connected."),
    ];

    [Theory]
    [MemberData(nameof(DroppedConnections))]
    public void A_dropped_connection_is_retried(Exception error)
    {
        var result = SmtpTransport.Classify(error);

        Assert.Equal(DeliveryOutcome.Retry, result.Outcome);
        Assert.Equal("connection dropped: " + error.Message, result.Answer);
    }

    [Fact]
    public void An_authentication_problem_is_retried_and_blames_the_settings()
    {
        var failed = SmtpTransport.Classify(new AuthenticationException("535: 5.7.8 Authentication credentials invalid"));
        var required = SmtpTransport.Classify(new ServiceNotAuthenticatedException("5.7.0 Authentication required"));

        Assert.Equal(DeliveryOutcome.Retry, failed.Outcome);
        Assert.Contains("Clientele:Smtp:Username and Password", failed.Answer);
        Assert.Equal(DeliveryOutcome.Retry, required.Outcome);
        Assert.Contains("Clientele:Smtp:Username and Password", required.Answer);
    }

    [Fact]
    public void A_message_mailkit_cannot_send_at_all_fails_for_good()
    {
        var result = SmtpTransport.Classify(new InvalidOperationException("No recipients have been specified."));

        Assert.Equal(new DeliveryResult(DeliveryOutcome.Failed, "message cannot be sent: No recipients have been specified."), result);
    }

    [Fact]
    public void A_server_refusing_the_connection_itself_is_a_retry_even_with_a_5xx()
    {
        var greeting = new SmtpCommandException(SmtpErrorCode.UnexpectedStatusCode, SmtpStatusCode.TransactionFailed, "5.7.1 No service for you");

        var result = SmtpTransport.ClassifyConnectFailure(greeting, "mail.example.com:587");

        Assert.Equal(new DeliveryResult(DeliveryOutcome.Retry, "mail.example.com:587 refused the connection: 554 5.7.1 No service for you"), result);
        Assert.Contains("Clientele:Smtp:Security", SmtpTransport.ClassifyConnectFailure(new SslHandshakeException("bad cert"), "h:465").Answer);
    }

    [Theory]
    [InlineData(true, false, 0, true)]
    [InlineData(true, false, 29.9, true)]
    [InlineData(true, false, 30, false)]
    [InlineData(false, false, 1, false)]
    [InlineData(true, true, 1, false)]
    public void An_idle_connection_is_reused_only_while_open_quiet_and_younger_than_thirty_seconds(bool connected, bool serverSpoke, double idleSeconds, bool reusable)
    {
        Assert.Equal(reusable, SmtpTransport.IsReusable(connected, serverSpoke, TimeSpan.FromSeconds(idleSeconds)));
    }

    // System.Threading.RateLimiting refills from the wall clock even when refilled by hand, so these check the
    // shape of the limits and that excess is queued rather than refused; the rate itself is measured by the benchmark.
    [Fact]
    public void A_per_second_limit_lets_a_tenth_of_a_second_through_and_queues_the_rest_without_refusing()
    {
        var limit = Assert.Single(SmtpTransport.CreateLimits(perSecond: 20, perHour: 0, autoReplenishment: false));

        var waits = Enumerable.Range(0, 60).Select(_ => limit.AcquireAsync(1, TestContext.Current.CancellationToken)).ToList();

        Assert.Equal(TimeSpan.FromMilliseconds(100), limit.ReplenishmentPeriod);
        Assert.All(waits.Take(2), w => Assert.True(w.IsCompletedSuccessfully && w.Result.IsAcquired));
        Assert.All(waits.Skip(2), w => Assert.False(w.IsCompleted));
        Assert.Equal(58, limit.GetStatistics()!.CurrentQueuedCount);
        limit.Dispose();
    }

    [Fact]
    public void A_per_hour_quota_lets_the_hours_worth_through_and_queues_the_rest_without_refusing()
    {
        var quota = Assert.Single(SmtpTransport.CreateLimits(perSecond: 0, perHour: 5, autoReplenishment: false));

        var waits = Enumerable.Range(0, 8).Select(_ => quota.AcquireAsync(1, TestContext.Current.CancellationToken)).ToList();

        Assert.Equal(TimeSpan.FromMinutes(1), quota.ReplenishmentPeriod);
        Assert.All(waits.Take(5), w => Assert.True(w.IsCompletedSuccessfully && w.Result.IsAcquired));
        Assert.All(waits.Skip(5), w => Assert.False(w.IsCompleted));
        Assert.Equal(3, quota.GetStatistics()!.CurrentQueuedCount);
        quota.Dispose();
    }

    [Fact]
    public void Without_limits_nothing_waits()
    {
        Assert.Empty(SmtpTransport.CreateLimits(0, 0));
        Assert.Equal(2, SmtpTransport.CreateLimits(10, 100).Count);
    }

    [Fact]
    public void Settings_come_from_Clientele_Smtp_with_sensible_defaults()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Clientele:Smtp:Host"] = "smtp.example.com",
            ["Clientele:Smtp:Security"] = "starttls",
            ["Clientele:Smtp:PerHour"] = "500",
        }).Build();

        var options = SmtpOptions.From(config);
        var empty = SmtpOptions.From(new ConfigurationBuilder().Build());

        Assert.True(options.IsConfigured);
        Assert.Equal(("smtp.example.com", 587, SmtpSecurity.StartTls, 4, 0, 500, 30), (options.Host, options.Port, options.Security, options.MaxConnections, options.PerSecond, options.PerHour, options.TimeoutSeconds));
        Assert.False(empty.IsConfigured);
        Assert.Equal(SmtpSecurity.Auto, empty.Security);
    }
}
