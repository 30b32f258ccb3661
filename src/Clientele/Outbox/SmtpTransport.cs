using System.Net.Sockets;
using System.Threading.RateLimiting;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Clientele.Outbox;

/// <summary>
/// Hands messages to one SMTP server over a small pool of connections that stay open between messages
/// (connecting and authenticating cost several round trips; a message over an open, pipelining connection
/// costs about three), at no more than the configured rate.
/// </summary>
internal sealed class SmtpTransport : IMailTransport, IAsyncDisposable
{
    /// <summary>
    /// An idle connection older than this is closed rather than reused: servers drop quiet sessions on their own
    /// schedule, and a message sent into a connection the server has just dropped comes back as a retry.
    /// </summary>
    internal static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(30);

    private readonly SmtpOptions _options;
    private readonly string _host;
    private readonly string _server;
    private readonly SecureSocketOptions _security;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger _log;

    // Bounds the messages in flight, and so the connections open: one connection per message in flight.
    private readonly SemaphoreSlim _slots;

    // The idle connections, most recently used on top: under light load the same warm connection is reused
    // and the others age out. An array under a lock, because a concurrent collection allocates per push.
    private readonly Lock _idleLock = new();
    private readonly Connection?[] _idle;
    private int _idleCount;
    private bool _disposed;

    private readonly List<ReplenishingRateLimiter> _limits;
    private readonly RateLimiter? _limiter;
    private readonly ITimer _sweep;
    private int _opened;
    private int _open;
    private long _lastConnectWarning;

    public SmtpTransport(SmtpOptions options, TimeProvider time, ILogger<SmtpTransport> log)
    {
        if (!options.IsConfigured)
        {
            throw new ArgumentException($"{SmtpOptions.Section}:Host is not set.", nameof(options));
        }
        _options = options;
        _host = options.Host!.Trim();
        _server = $"{_host}:{options.Port}";
        _security = options.Security switch
        {
            SmtpSecurity.None => SecureSocketOptions.None,
            SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
            SmtpSecurity.Ssl => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.Auto,
        };
        _timeout = TimeSpan.FromSeconds(Math.Max(1, options.TimeoutSeconds));
        _time = time;
        _log = log;
        var size = Math.Max(1, options.MaxConnections);
        _slots = new SemaphoreSlim(size, size);
        _idle = new Connection?[size];
        _limits = CreateLimits(options.PerSecond, options.PerHour);
        _limiter = _limits.Count switch
        {
            0 => null,
            1 => _limits[0],
            _ => RateLimiter.CreateChained([.. _limits]),
        };
        var every = IdleLimit / 3;
        _sweep = time.CreateTimer(_ => Sweep(), null, every, every);
    }

    public string Name => "smtp";

    /// <summary>How long one message may take on an open connection: four times the timeout, at least two minutes.</summary>
    private TimeSpan MessageDeadline => _timeout * 4 > TimeSpan.FromMinutes(2) ? _timeout * 4 : TimeSpan.FromMinutes(2);

    /// <summary>Connections opened since the transport started; a healthy pool opens few.</summary>
    internal int ConnectionsOpened => Volatile.Read(ref _opened);

    /// <summary>Connections open now, idle or busy.</summary>
    internal int ConnectionsOpen => Volatile.Read(ref _open);

    public async Task<DeliveryResult> SendAsync(MimeMessage message, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        if (_limiter is not null)
        {
            using var lease = await _limiter.AcquireAsync(1, ct);
            // The queue is unbounded, so a permit is refused only when the transport is shutting down.
            ObjectDisposedException.ThrowIf(!lease.IsAcquired, this);
        }
        await _slots.WaitAsync(ct);
        Connection? connection = null;
        try
        {
            try
            {
                connection = Rent() ?? await ConnectAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                var failure = ClassifyConnectFailure(e, _server);
                LogConnectFailure(failure.Answer);
                return failure;
            }
            // One deadline for the whole message instead of MailKit's per-read timeout, which arms a timer on every
            // read and write and costs about a third of a connection's throughput.
            using var deadline = new CancellationTokenSource(MessageDeadline, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
            try
            {
                var reply = await connection.Client.SendAsync(message, linked.Token);
                return new DeliveryResult(DeliveryOutcome.Sent, reply);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // Cut off mid-transaction: the connection's state is unknown, so it is not reused.
                Close(connection);
                connection = null;
                return new DeliveryResult(DeliveryOutcome.Retry, $"no answer from {_server} within {MessageDeadline.TotalSeconds:0} s");
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                var failure = Classify(e);
                if (!connection.Client.IsConnected)
                {
                    _log.LogDebug("SMTP connection to {Server} closed: {Answer}", _server, failure.Answer);
                }
                return failure;
            }
        }
        finally
        {
            if (connection is not null)
            {
                Return(connection);
            }
            _slots.Release();
        }
    }

    /// <summary>What a failed send means for the message. Refusals by the server keep their code and text.</summary>
    internal static DeliveryResult Classify(Exception error) => error switch
    {
        SmtpCommandException command => new DeliveryResult(
            (int)command.StatusCode >= 500 ? DeliveryOutcome.Failed : DeliveryOutcome.Retry,
            $"{(int)command.StatusCode} {OneLine(command.Message)}"),
        // Neither is the recipient's fault: the message waits until the settings are put right.
        ServiceNotAuthenticatedException => new DeliveryResult(DeliveryOutcome.Retry,
            $"the server requires authentication: set {SmtpOptions.Section}:Username and Password ({OneLine(error.Message)})"),
        AuthenticationException => new DeliveryResult(DeliveryOutcome.Retry,
            $"authentication failed: check {SmtpOptions.Section}:Username and Password ({OneLine(error.Message)})"),
        SmtpProtocolException or IOException or SocketException or TimeoutException or ServiceNotConnectedException
            or OperationCanceledException or ObjectDisposedException =>
            new DeliveryResult(DeliveryOutcome.Retry, "connection dropped: " + OneLine(error.Message)),
        // MailKit refuses a message it cannot send at all (no sender, no recipients, 8-bit headers to a server
        // without 8BITMIME) before it writes a byte: sending it again would not change that.
        NotSupportedException or InvalidOperationException or ArgumentException or FormatException =>
            new DeliveryResult(DeliveryOutcome.Failed, "message cannot be sent: " + OneLine(error.Message)),
        _ => new DeliveryResult(DeliveryOutcome.Retry, $"unexpected error: {error.GetType().Name}: {OneLine(error.Message)}"),
    };

    /// <summary>
    /// What a failure to connect or log in means for the message waiting on it: always a retry, since whatever
    /// the server or the network said, it was not about this message.
    /// </summary>
    internal static DeliveryResult ClassifyConnectFailure(Exception error, string server) => new(DeliveryOutcome.Retry, error switch
    {
        AuthenticationException => $"authentication at {server} failed: check {SmtpOptions.Section}:Username and Password ({OneLine(error.Message)})",
        SslHandshakeException => $"TLS with {server} failed: check {SmtpOptions.Section}:Security and the server's certificate ({OneLine(error.Message)})",
        SmtpCommandException command => $"{server} refused the connection: {(int)command.StatusCode} {OneLine(command.Message)}",
        TimeoutException => $"no answer from {server}: {OneLine(error.Message)}",
        NotSupportedException => $"cannot use {server} as configured: {OneLine(error.Message)}",
        _ => $"cannot connect to {server}: {OneLine(error.Message)}",
    });

    /// <summary>Whether an idle connection may carry the next message.</summary>
    /// <param name="serverSpoke">The server closed its end or said something unasked (such as "421 idle too long").</param>
    internal static bool IsReusable(bool connected, bool serverSpoke, TimeSpan idleFor) =>
        connected && !serverSpoke && idleFor < IdleLimit;

    /// <summary>The limits a send waits on: per second as a steady trickle, per hour as a quota over a sliding hour.</summary>
    internal static List<ReplenishingRateLimiter> CreateLimits(int perSecond, int perHour, bool autoReplenishment = true)
    {
        var limits = new List<ReplenishingRateLimiter>(2);
        if (perSecond > 0)
        {
            // A tenth of a second's worth goes at once, then the next tenth: 20/s is 2 every 100 ms rather than
            // 20 at once and a pause, so the server sees an even rate and no second gets much over the limit.
            var batch = (perSecond + 9) / 10;
            limits.Add(new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = batch,
                TokensPerPeriod = batch,
                ReplenishmentPeriod = TimeSpan.FromSeconds((double)batch / perSecond),
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = autoReplenishment,
            }));
        }
        if (perHour > 0)
        {
            limits.Add(new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
            {
                PermitLimit = perHour,
                Window = TimeSpan.FromHours(1),
                SegmentsPerWindow = 60,
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = autoReplenishment,
            }));
        }
        return limits;
    }

    private static string OneLine(string text) => text.Contains('\n') ? text.ReplaceLineEndings(" ") : text;

    private Connection? Rent()
    {
        while (true)
        {
            Connection? connection;
            lock (_idleLock)
            {
                if (_idleCount == 0)
                {
                    return null;
                }
                connection = _idle[--_idleCount];
                _idle[_idleCount] = null;
            }
            if (IsReusable(connection!.Client.IsConnected, connection.ServerSpoke(), _time.GetElapsedTime(connection.IdleSince)))
            {
                return connection;
            }
            Close(connection);
        }
    }

    private void Return(Connection connection)
    {
        if (connection.Client.IsConnected)
        {
            connection.IdleSince = _time.GetTimestamp();
            lock (_idleLock)
            {
                if (!_disposed && _idleCount < _idle.Length)
                {
                    _idle[_idleCount++] = connection;
                    return;
                }
            }
        }
        Close(connection);
    }

    private async Task<Connection> ConnectAsync(CancellationToken ct)
    {
        // The socket is ours so that Nagle's algorithm is off (a command written after the message body must not
        // wait for an ACK) and so that an idle connection can be checked for a close without a round trip.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var client = new SmtpClient { Timeout = (int)_timeout.TotalMilliseconds };
        if (!string.IsNullOrWhiteSpace(_options.LocalDomain))
        {
            client.LocalDomain = _options.LocalDomain.Trim();
        }
        try
        {
            using (var deadline = new CancellationTokenSource(_timeout, _time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token))
            {
                try
                {
                    await socket.ConnectAsync(_host, _options.Port, linked.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new TimeoutException($"no connection within {_timeout.TotalSeconds:0} s");
                }
            }
            await client.ConnectAsync(socket, _host, _options.Port, _security, ct);
            if (!string.IsNullOrEmpty(_options.Username))
            {
                await client.AuthenticateAsync(_options.Username, _options.Password ?? "", ct);
            }
            client.Timeout = Timeout.Infinite; // messages run under MessageDeadline
        }
        catch
        {
            client.Dispose();
            socket.Dispose();
            throw;
        }
        Interlocked.Increment(ref _opened);
        var open = Interlocked.Increment(ref _open);
        _log.LogDebug("SMTP connection to {Server} opened ({Open} open)", _server, open);
        return new Connection(client, socket);
    }

    /// <summary>
    /// A server that is down fails every message waiting for it: one warning a minute says so, the rest go to debug.
    /// </summary>
    private void LogConnectFailure(string answer)
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastConnectWarning);
        if ((last == 0 || _time.GetElapsedTime(last, now) >= TimeSpan.FromMinutes(1))
            && Interlocked.CompareExchange(ref _lastConnectWarning, now, last) == last)
        {
            _log.LogWarning("SMTP: {Answer}", answer);
        }
        else
        {
            _log.LogDebug("SMTP: {Answer}", answer);
        }
    }

    /// <summary>Closes idle connections that aged out or that the server closed, even when nothing is being sent.</summary>
    private void Sweep()
    {
        List<Connection>? stale = null;
        lock (_idleLock)
        {
            var kept = 0;
            for (var i = 0; i < _idleCount; i++)
            {
                var connection = _idle[i]!;
                if (IsReusable(connection.Client.IsConnected, connection.ServerSpoke(), _time.GetElapsedTime(connection.IdleSince)))
                {
                    _idle[kept++] = connection;
                }
                else
                {
                    (stale ??= []).Add(connection);
                }
            }
            Array.Clear(_idle, kept, _idleCount - kept);
            _idleCount = kept;
        }
        foreach (var connection in stale ?? [])
        {
            _ = QuitAsync(connection);
        }
    }

    private async Task QuitAsync(Connection connection)
    {
        try
        {
            if (connection.Client.IsConnected)
            {
                await connection.Client.DisconnectAsync(quit: true, CancellationToken.None);
            }
        }
        catch (Exception e)
        {
            _log.LogDebug("SMTP: closing a connection to {Server}: {Error}", _server, e.Message);
        }
        finally
        {
            Close(connection);
        }
    }

    private void Close(Connection connection)
    {
        if (connection.Close())
        {
            Interlocked.Decrement(ref _open);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Connection[] idle;
        lock (_idleLock)
        {
            if (_disposed)
            {
                return;
            }
            Volatile.Write(ref _disposed, true);
            idle = new Connection[_idleCount];
            for (var i = 0; i < _idleCount; i++)
            {
                idle[i] = _idle[i]!;
            }
            Array.Clear(_idle);
            _idleCount = 0;
        }
        await _sweep.DisposeAsync();
        await Task.WhenAll(idle.Select(QuitAsync));
        _limiter?.Dispose();
        foreach (var limit in _limits)
        {
            limit.Dispose();
        }
    }

    private sealed class Connection(SmtpClient client, Socket socket)
    {
        private int _closed;

        public SmtpClient Client { get; } = client;

        public long IdleSince { get; set; }

        /// <summary>
        /// Whether anything arrived while the connection sat idle. Between transactions a server has nothing to
        /// say, so readable means it closed its end or announced that it is about to ("421 … timeout").
        /// </summary>
        public bool ServerSpoke()
        {
            try
            {
                return socket.Poll(0, SelectMode.SelectRead);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return true;
            }
        }

        /// <summary>Closes the connection once; true for the call that did.</summary>
        public bool Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0)
            {
                return false;
            }
            Client.Dispose();
            socket.Dispose();
            return true;
        }
    }
}
