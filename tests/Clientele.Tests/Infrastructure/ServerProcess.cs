using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Clientele.Tests.Outbox;

namespace Clientele.Tests.Infrastructure;

/// <summary>
/// The built <c>clientele serve</c> in its own process, as an operator runs it: for killing it (SIGKILL, no shutdown),
/// stopping it as systemd does (SIGTERM), and running several instances on one database.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, int port, string? key)
    {
        _process = process;
        Port = port;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
    }

    public int Port { get; }

    public HttpClient Http { get; }

    public bool HasExited => _process.HasExited;

    public int Id => _process.Id;

    /// <summary>What it wrote, for a failure message.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts the server on <paramref name="connection"/>, sending mail to the SMTP peer on <paramref name="smtpPort"/>.
    /// <paramref name="settings"/> are configuration keys (<c>Clientele:Outbox:LeaseSeconds</c>), given as environment variables.
    /// </summary>
    public static ServerProcess Start(string connection, int smtpPort, string? apiKey = null, int? port = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        var listen = port ?? SmtpPeer.FreePort();
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "clientele"), ["serve", "--urls", $"http://127.0.0.1:{listen}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ConnectionStrings__Clientele"] = connection;
        start.Environment["Clientele__Smtp__Host"] = "127.0.0.1";
        start.Environment["Clientele__Smtp__Port"] = smtpPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["Clientele__Smtp__Security"] = "none";
        // On PostgreSQL a claim is taken back when its lease runs out; keep that short here.
        start.Environment["Clientele__Outbox__LeaseSeconds"] = "5";
        start.Environment["Clientele__Scoring__Nightly"] = "false";
        start.Environment["Logging__LogLevel__Default"] = "Information";
        start.Environment["Logging__LogLevel__Microsoft"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var process = Process.Start(start)!;
        var server = new ServerProcess(process, listen, apiKey);
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            if (_output.Length > 200_000)
            {
                _output.Remove(0, 100_000);
            }
            _output.AppendLine(line);
        }
    }

    /// <summary>Waits until <c>/healthz</c> answers; fails if the process stops first.</summary>
    public async Task ReadyAsync(int seconds = 60)
    {
        try
        {
            await ReadyOrFailAsync(seconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !_process.HasExited)
        {
            Assert.Fail($"{ex.Message}\nWhat the server wrote:\n{Output}");
        }
    }

    private async Task ReadyOrFailAsync(int seconds)
    {
        await MailFlowTests.Until(async () =>
        {
            Assert.False(_process.HasExited, "the server stopped during start:\n" + Output);
            try
            {
                return (await Http.GetAsync("/healthz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
                return false;
            }
        }, "the server answered", seconds);
    }

    /// <summary>SIGKILL: no shutdown, nothing flushed.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as systemd stops a service: returns the exit code once it has shut down.</summary>
    public async Task<int> StopAsync(int seconds = 60)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        Http.Dispose();
    }
}
