using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Clientele.Outbox;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;

namespace Clientele.Bench;

/// <summary>
/// SMTP throughput over loopback into postfix's smtp-sink: the baseline is postfix's own smtp-source (C, one
/// connection per session, kept open with -d) sending the same number of messages of the same payload; then the
/// SMTP transport sends pre-built messages with 4 and with 8 connections.
/// </summary>
internal static class SmtpRun
{
    private const string Sink = "/usr/sbin/smtp-sink";
    private const string Source = "/usr/sbin/smtp-source";

    public static async Task<int> RunAsync(string[] args)
    {
        var count = IngestRun.IntArg(args, "--messages", 20_000);
        var size = IngestRun.IntArg(args, "--size", 2048);
        if (!File.Exists(Sink) || !File.Exists(Source))
        {
            Console.Error.WriteLine("smtp-sink and smtp-source come with Debian's postfix: apt-get install postfix (./test.sh does).");
            return 1;
        }
        var port = IngestRun.FreePort();
        using var sink = StartSink(port);
        try
        {
            await WaitListeningAsync(port);
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
            Console.WriteLine($"{count:N0} messages, {size:N0} bytes of body each, smtp-sink on 127.0.0.1:{port}");

            // Warm-up: the JIT, the sink's process pool, and the first connections.
            await SourceAsync(port, 4, 1000, size);
            await TransportAsync(port, 4, Build(2000, size));

            var rows = new List<(string Name, int Connections, double PerSecond, string Note)>();
            foreach (var sessions in (int[])[4, 8])
            {
                var seconds = await SourceAsync(port, sessions, count, size);
                rows.Add(("smtp-source (baseline)", sessions, count / seconds, ""));
            }
            foreach (var connections in (int[])[4, 8])
            {
                var messages = Build(count, size);
                GC.Collect();
                var allocated = GC.GetTotalAllocatedBytes(precise: true);
                var (seconds, sent) = await TransportAsync(port, connections, messages);
                var perMessage = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)count;
                if (sent != count)
                {
                    Console.Error.WriteLine($"only {sent} of {count} were sent");
                    return 1;
                }
                rows.Add(("SmtpTransport", connections, count / seconds, $"{perMessage / 1024:N1} KB allocated per message"));
            }

            Console.WriteLine();
            Console.WriteLine($"{"sender",-24} {"connections",11} {"messages/s",12}  {"vs baseline",11}");
            foreach (var row in rows)
            {
                var baseline = rows.First(r => r.Connections == row.Connections).PerSecond;
                Console.WriteLine($"{row.Name,-24} {row.Connections,11} {row.PerSecond,12:N0}  {row.PerSecond / baseline,10:P0}  {row.Note}");
            }
        }
        finally
        {
            if (!sink.HasExited)
            {
                sink.Kill();
            }
            await sink.WaitForExitAsync();
        }
        return 0;
    }

    internal static Process StartSink(int port)
    {
        var start = new ProcessStartInfo(Sink) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // smtp-sink refuses to run as root unless told which user to become once the socket is open.
        foreach (var arg in (string[])[.. Environment.UserName == "root" ? ["-u", "nobody"] : Array.Empty<string>(), "-m", "256", $"127.0.0.1:{port}", "1000"])
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    internal static async Task WaitListeningAsync(int port)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (i < 200)
            {
                await Task.Delay(25);
            }
        }
    }

    /// <summary>Seconds smtp-source takes to send <paramref name="count"/> messages over <paramref name="sessions"/> kept-open sessions.</summary>
    internal static async Task<double> SourceAsync(int port, int sessions, int count, int size)
    {
        var start = new ProcessStartInfo(Source) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["-d", "-s", sessions.ToString(), "-m", count.ToString(), "-l", size.ToString(), $"127.0.0.1:{port}"])
        {
            start.ArgumentList.Add(arg);
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"smtp-source failed: {await stderr}");
        }
        return seconds;
    }

    /// <summary>Sends every message through a fresh transport with one sender per connection, as the outbox's workers would.</summary>
    private static async Task<(double Seconds, int Sent)> TransportAsync(int port, int connections, List<MimeMessage> messages)
    {
        var options = new SmtpOptions { Host = "127.0.0.1", Port = port, Security = SmtpSecurity.None, MaxConnections = connections, LocalDomain = "bench.example" };
        await using var transport = new SmtpTransport(options, TimeProvider.System, NullLogger<SmtpTransport>.Instance);
        var next = -1;
        var sent = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < messages.Count)
            {
                var result = await transport.SendAsync(messages[i], CancellationToken.None);
                if (result.Outcome == DeliveryOutcome.Sent)
                {
                    Interlocked.Increment(ref sent);
                }
            }
        })));
        return (clock.Elapsed.TotalSeconds, sent);
    }

    /// <summary>Plain-text messages with a body of <paramref name="size"/> bytes in 76-character lines, as smtp-source sends.</summary>
    private static List<MimeMessage> Build(int count, int size)
    {
        var body = new StringBuilder(size + 80);
        while (body.Length < size)
        {
            body.Append(new string((char)('a' + (body.Length / 78 % 26)), Math.Min(76, size - body.Length))).Append('\n');
        }
        var text = body.ToString();
        var messages = new List<MimeMessage>(count);
        for (var i = 0; i < count; i++)
        {
            var message = new MimeMessage();
            message.From.Add(new MailboxAddress("The Coffee Shop", "hello@shop.example"));
            message.To.Add(new MailboxAddress("", $"customer{i}@example.com"));
            message.Subject = $"Your order #{i}";
            message.MessageId = $"bench{i}@shop.example";
            message.Body = new TextPart("plain") { Text = text };
            messages.Add(message);
        }
        return messages;
    }
}
