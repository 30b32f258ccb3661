using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Clientele.Tests.Infrastructure;

/// <summary>
/// Postfix's <c>smtp-sink</c> on loopback: a fast SMTP server (PIPELINING, 8BITMIME) that accepts and discards
/// everything, for load through the transport where what arrived does not matter.
/// </summary>
/// <example>
/// <code>
/// await using var sink = await SmtpSink.StartAsync();
/// // … send to 127.0.0.1:sink.Port …
/// </code>
/// </example>
public sealed class SmtpSink : IAsyncDisposable
{
    public const string Program = "/usr/sbin/smtp-sink";

    private readonly Process _process;

    private SmtpSink(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <param name="maxSessions">Sessions served at once (smtp-sink's -m).</param>
    public static async Task<SmtpSink> StartAsync(int maxSessions = 256)
    {
        if (!File.Exists(Program))
        {
            throw new InvalidOperationException($"{Program} is needed for the SMTP tests (./test.sh installs postfix).");
        }
        for (var attempt = 1; ; attempt++)
        {
            var port = SmtpPeer.FreePort();
            var start = new ProcessStartInfo(Program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            // smtp-sink refuses to run as root unless told which user to become once the socket is open.
            if (Environment.UserName == "root")
            {
                start.ArgumentList.Add("-u");
                start.ArgumentList.Add("nobody");
            }
            foreach (var arg in (string[])["-m", maxSessions.ToString(), $"127.0.0.1:{port}", "1000"])
            {
                start.ArgumentList.Add(arg);
            }
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (await ListeningAsync(process, port))
            {
                return new SmtpSink(process, port);
            }
            if (!process.HasExited)
            {
                process.Kill();
            }
            await process.WaitForExitAsync();
            if (attempt == 3)
            {
                throw new InvalidOperationException($"smtp-sink did not start on 127.0.0.1:{port} (exit code {process.ExitCode}).");
            }
        }
    }

    private static async Task<bool> ListeningAsync(Process process, int port)
    {
        for (var i = 0; i < 200 && !process.HasExited; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(25);
            }
        }
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
