using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using MimeKit;

namespace Clientele.Tests.Infrastructure;

/// <summary>
/// A real IMAP server on loopback for one test: Dovecot (Debian's dovecot-imapd) with its configuration, sockets,
/// log and one maildir in a temp directory. Plain IMAP without TLS; any login name with <see cref="Password"/> opens
/// the same mailbox.
/// </summary>
/// <example>
/// <code>
/// await using var imap = await ImapServer.StartAsync();
/// await imap.AppendAsync(MimeMessage.Load(...));
/// // … point a reader at 127.0.0.1:imap.Port as imap.Username / imap.Password …
/// Assert.All(await imap.MessagesAsync(), m => Assert.True(m.Flags!.Value.HasFlag(MessageFlags.Seen)));
/// </code>
/// </example>
public sealed partial class ImapServer : IAsyncDisposable
{
    public const string Dovecot = "/usr/sbin/dovecot";

    /// <summary>
    /// The test's own login (appending, looking): a name apart from <see cref="Username"/>, so the server's log tells
    /// the reader's sessions from the test's.
    /// </summary>
    private const string Inspector = "postmaster";

    private readonly Process _process;
    private readonly string _dir;
    private readonly StringBuilder _stderr;

    private ImapServer(Process process, int port, string dir, string password, StringBuilder stderr)
    {
        _process = process;
        Port = port;
        _dir = dir;
        Password = password;
        _stderr = stderr;
    }

    public string Host => "127.0.0.1";

    public int Port { get; }

    /// <summary>The login to give the code under test.</summary>
    public string Username => "bounces";

    public string Password { get; }

    public string LogPath => Path.Combine(_dir, "dovecot.log");

    /// <summary>Starts Dovecot and returns once its IMAP port accepts connections.</summary>
    public static async Task<ImapServer> StartAsync()
    {
        if (!File.Exists(Dovecot) || !File.Exists("/usr/lib/dovecot/imap"))
        {
            throw new InvalidOperationException($"{Dovecot} is needed for the IMAP tests (./test.sh installs dovecot-imapd).");
        }
        var dir = Path.Combine(Path.GetTempPath(), "clientele-imap-" + Guid.NewGuid().ToString("N")[..8]);
        var mail = Path.Combine(dir, "mail");
        Directory.CreateDirectory(mail);
        var password = Guid.NewGuid().ToString("N");
        var users = await UsersAsync();
        if (users.MailUid != users.Uid)
        {
            // Run as root: Dovecot keeps mail away from root, so the mailbox belongs to its mail user.
            await RunAsync("chown", $"{users.MailUid}:{users.MailGid} {mail}");
        }
        // The free port is found by binding and letting go, so another process may take it first: try again then.
        for (var attempt = 1; ; attempt++)
        {
            var port = SmtpPeer.FreePort();
            var config = Path.Combine(dir, "dovecot.conf");
            await File.WriteAllTextAsync(config, Config(dir, port, password, users));
            var start = new ProcessStartInfo(Dovecot)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in (string[])["-F", "-c", config])
            {
                start.ArgumentList.Add(arg);
            }
            var process = Process.Start(start)!;
            var stderr = new StringBuilder();
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) =>
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (await ListeningAsync(process, port))
            {
                return new ImapServer(process, port, dir, password, stderr);
            }
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            await process.WaitForExitAsync();
            process.Dispose();
            var log = File.Exists(Path.Combine(dir, "dovecot.log")) ? await File.ReadAllTextAsync(Path.Combine(dir, "dovecot.log")) : "";
            foreach (var state in (string[])["run", "state", "dovecot.log"])
            {
                var path = Path.Combine(dir, state);
                if (Directory.Exists(path))
                {
                    Directory.Delete(path, recursive: true);
                }
                else
                {
                    File.Delete(path);
                }
            }
            if (attempt == 3)
            {
                Directory.Delete(dir, recursive: true);
                throw new InvalidOperationException($"dovecot did not start:\n{stderr}\n{log}");
            }
        }
    }

    /// <summary>Puts a message into INBOX as the mail system would deliver it: unread, unless flagged otherwise.</summary>
    public async Task<UniqueId> AppendAsync(MimeMessage message, MessageFlags flags = MessageFlags.None)
    {
        using var imap = await LogInAsync();
        var uid = await imap.Inbox.AppendAsync(message, flags);
        await imap.DisconnectAsync(true);
        return uid ?? throw new InvalidOperationException("Dovecot did not say which UID it gave the message.");
    }

    /// <summary>Every message in the folder (INBOX unless named) with its UID, envelope and flags; looking changes no flag.</summary>
    public async Task<IReadOnlyList<IMessageSummary>> MessagesAsync(string folder = "INBOX")
    {
        using var imap = await LogInAsync();
        var mailbox = await imap.GetFolderAsync(folder);
        await mailbox.OpenAsync(FolderAccess.ReadOnly);
        var messages = mailbox.Count == 0
            ? []
            : await mailbox.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.Envelope | MessageSummaryItems.Flags);
        await imap.DisconnectAsync(true);
        return [.. messages];
    }

    /// <summary>The folders of the mailbox, so a test can see that nothing was moved elsewhere.</summary>
    public async Task<IReadOnlyList<string>> FoldersAsync()
    {
        using var imap = await LogInAsync();
        var folders = await imap.GetFoldersAsync(imap.PersonalNamespaces[0]);
        await imap.DisconnectAsync(true);
        return [.. folders.Select(f => f.FullName).Order()];
    }

    /// <summary>How many IMAP sessions of <see cref="Username"/> have ended, by the server's log.</summary>
    public int FinishedSessions()
    {
        if (!File.Exists(LogPath))
        {
            return 0;
        }
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var count = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Contains($" imap({Username})", StringComparison.Ordinal) && line.Contains(": Disconnected", StringComparison.Ordinal))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>The server's log and what it wrote to stderr, for a failing test's message.</summary>
    public string Log()
    {
        var log = "";
        if (File.Exists(LogPath))
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            log = reader.ReadToEnd();
        }
        lock (_stderr)
        {
            return log + _stderr;
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

    private async Task<ImapClient> LogInAsync()
    {
        var imap = new ImapClient();
        try
        {
            await imap.ConnectAsync(Host, Port, SecureSocketOptions.None);
            await imap.AuthenticateAsync(Inspector, Password);
            return imap;
        }
        catch
        {
            imap.Dispose();
            throw;
        }
    }

    /// <param name="Uid">The user the tests run as.</param>
    /// <param name="MailUid">Who owns the mailbox: the same user, or nobody when the tests run as root.</param>
    private sealed record Users(int Uid, string User, string Group, string LoginUser, int MailUid, int MailGid);

    private static async Task<Users> UsersAsync()
    {
        var id = IdOutput().Match(await RunAsync("id", ""));
        if (!id.Success)
        {
            throw new InvalidOperationException("Could not read the current user from `id`.");
        }
        var (uid, user, gid, group) = (int.Parse(id.Groups["uid"].Value), id.Groups["user"].Value, int.Parse(id.Groups["gid"].Value), id.Groups["group"].Value);
        // Dovecot will not run its login processes or touch mail as root: as root, its own package users do that and
        // the mailbox belongs to nobody; otherwise everything runs as the current user.
        return uid == 0
            ? new Users(uid, "dovecot", "dovecot", "dovenull", 65534, 65534)
            : new Users(uid, user, group, user, uid, gid);
    }

    private static string Config(string dir, int port, string password, Users users) => $$"""
        protocols = imap
        listen = 127.0.0.1
        base_dir = {{dir}}/run
        state_dir = {{dir}}/state
        log_path = {{dir}}/dovecot.log
        ssl = no
        disable_plaintext_auth = no
        auth_mechanisms = plain login
        default_internal_user = {{users.User}}
        default_internal_group = {{users.Group}}
        default_login_user = {{users.LoginUser}}
        first_valid_uid = {{users.MailUid}}
        mail_location = maildir:{{dir}}/mail
        passdb {
          driver = static
          args = password={{password}}
        }
        userdb {
          driver = static
          args = uid={{users.MailUid}} gid={{users.MailGid}} home={{dir}}/mail
        }
        service imap-login {
          chroot =
          inet_listener imap {
            address = 127.0.0.1
            port = {{port}}
          }
          inet_listener imaps {
            port = 0
          }
        }
        service anvil {
          chroot =
        }

        """;

    private static async Task<bool> ListeningAsync(Process process, int port)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (process.HasExited)
            {
                return false;
            }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                // Listening is not enough: the greeting comes once the login process is up.
                using var reader = new StreamReader(client.GetStream(), Encoding.ASCII);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                if ((await reader.ReadLineAsync(timeout.Token))?.StartsWith("* OK", StringComparison.Ordinal) == true)
                {
                    return true;
                }
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                // not up yet
            }
            await Task.Delay(100);
        }
        return false;
    }

    private static async Task<string> RunAsync(string exe, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{exe} {args} failed: {await stderr}");
        }
        return stdout;
    }

    [GeneratedRegex(@"uid=(?<uid>\d+)\((?<user>[^)]+)\) gid=(?<gid>\d+)\((?<group>[^)]+)\)")]
    private static partial Regex IdOutput();
}
