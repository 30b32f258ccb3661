using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Clientele.Tests.Infrastructure;

/// <summary>
/// A real SMTP server on loopback for one test: <c>smtp_peer.py</c> (aiosmtpd, from Debian's python3-aiosmtpd)
/// that logs every message it accepts and, when asked, refuses or drops a share of them on purpose.
/// </summary>
/// <example>
/// <code>
/// await using var peer = await SmtpPeer.StartAsync("--temp-fail", "0.2", "--drop", "0.05");
/// // … send to 127.0.0.1:peer.Port …
/// Assert.Equal(expected, peer.AcceptedMessageIds());
/// </code>
/// </example>
public sealed class SmtpPeer : IAsyncDisposable
{
    /// <summary>Debian's interpreter: the one python3-aiosmtpd is installed for (a python3 earlier on PATH may lack it).</summary>
    public const string Python = "/usr/bin/python3";

    private Process _process;
    private readonly string _dir;
    private StringBuilder _stderr;
    private string[] _options = [];

    private SmtpPeer(Process process, int port, string dir, StringBuilder stderr)
    {
        _process = process;
        Port = port;
        _dir = dir;
        _stderr = stderr;
    }

    /// <summary>Stops the server at once (connections in progress are cut), as a crashed or unplugged mail server would.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
    }

    /// <summary>Starts the server again on the same port, with the same options, appending to the same log.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        _process.Dispose();
        var (process, stderr, line) = await LaunchAsync(Port, _dir, _options);
        if (process is null)
        {
            throw new InvalidOperationException($"smtp_peer.py did not start again on port {Port}: {line}\n{stderr}");
        }
        (_process, _stderr) = (process, stderr);
    }

    public int Port { get; }

    public string LogPath => Path.Combine(_dir, "accepted.log");

    /// <summary>
    /// Starts the peer with the script's options, e.g. <c>"--temp-fail", "0.2", "--perm-fail", "0.01", "--drop", "0.05",
    /// "--seed", "7"</c>, or <c>"--auth", "user:secret"</c>. Returns once it listens.
    /// </summary>
    public static async Task<SmtpPeer> StartAsync(params string[] options)
    {
        if (!File.Exists(Python))
        {
            throw new InvalidOperationException($"{Python} is needed for the SMTP tests (./test.sh installs python3-aiosmtpd).");
        }
        var dir = Path.Combine(Path.GetTempPath(), "clientele-smtp-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        // The free port is found by binding and letting go, so another process may take it first: try again then.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var (process, stderr, line) = await LaunchAsync(port, dir, options);
            if (process is not null)
            {
                return new SmtpPeer(process, port, dir, stderr) { _options = options };
            }
            if (attempt == 3)
            {
                Directory.Delete(dir, recursive: true);
                throw new InvalidOperationException($"smtp_peer.py did not start: {line}\n{stderr}");
            }
        }
    }

    /// <summary>Starts the script on <paramref name="port"/>; the process once it listens, or null and what it said.</summary>
    private static async Task<(Process? Process, StringBuilder Stderr, string? Line)> LaunchAsync(int port, string dir, string[] options)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Infrastructure", "smtp_peer.py");
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[script, "--port", port.ToString(), "--log", Path.Combine(dir, "accepted.log"), "--exit-with-stdin", .. options])
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        var stderr = new StringBuilder();
        string? line = null;
        try
        {
            process.ErrorDataReceived += (_, e) =>
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            };
            process.BeginErrorReadLine();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line == "ready")
            {
                // Keep stdout drained so the script never blocks on a full pipe.
                _ = process.StandardOutput.ReadToEndAsync();
                return (process, stderr, line);
            }
        }
        catch (Exception)
        {
            // A slow start or a lost port race: the caller may start again.
        }
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        await process.WaitForExitAsync();
        process.Dispose();
        return (null, stderr, line);
    }

    /// <summary>The Message-IDs of the accepted messages, without angle brackets, in the order accepted; a message accepted twice is listed twice.</summary>
    public IReadOnlyList<string> AcceptedMessageIds() => Accepted().Select(a => a.MessageId).ToList();

    /// <summary>Every accepted message: its Message-ID (without angle brackets) and the RCPT recipients.</summary>
    public IReadOnlyList<(string MessageId, string[] Recipients)> Accepted()
    {
        if (!File.Exists(LogPath))
        {
            return [];
        }
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var accepted = new List<(string, string[])>();
        while (reader.ReadLine() is { } line)
        {
            var tab = line.IndexOf('\t');
            if (tab < 0)
            {
                continue;
            }
            accepted.Add((line[..tab].Trim('<', '>'), line[(tab + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries)));
        }
        return accepted;
    }

    /// <summary>What the script wrote to stderr, for a failing test's message.</summary>
    public string Errors()
    {
        lock (_stderr)
        {
            return _stderr.ToString();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
