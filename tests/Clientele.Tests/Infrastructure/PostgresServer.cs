using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Clientele.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the tests use: the one test.sh started (CLIENTELE_TEST_POSTGRES), or else a
/// throwaway one started here with the machine's PostgreSQL 15 binaries (initdb + pg_ctl, fsync off).
/// </summary>
public static class PostgresServer
{
    public const string EnvironmentVariable = "CLIENTELE_TEST_POSTGRES";
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _adminConnection;

    public static async Task<string> AdminConnectionStringAsync()
    {
        if (_adminConnection is not null)
        {
            return _adminConnection;
        }
        await Gate.WaitAsync();
        try
        {
            _adminConnection ??= Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } given
                ? given
                : await StartOwnAsync();
            return _adminConnection;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// Creates an empty database for one test (or a copy of <paramref name="template"/>) and returns its connection string.
    /// </summary>
    public static async Task<string> CreateDatabaseAsync(string? template = null)
    {
        var admin = await AdminConnectionStringAsync();
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand(template is null ? $"CREATE DATABASE {name}" : $"CREATE DATABASE {name} TEMPLATE {template}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = true, MaxPoolSize = 20 }.ToString();
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(await AdminConnectionStringAsync());
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<string> StartOwnAsync()
    {
        const string bin = "/usr/lib/postgresql/15/bin";
        if (!File.Exists(Path.Combine(bin, "initdb")))
        {
            throw new InvalidOperationException(
                $"PostgreSQL 15 is needed for the tests: set {EnvironmentVariable} or install postgresql-15 (./test.sh does both).");
        }
        var dir = Path.Combine(Path.GetTempPath(), "clientele-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var port = FreePort();
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            await RunAsync("chown", $"postgres:postgres {dir}");
        }
        await RunPgAsync(asRoot, $"{bin}/initdb", $"-D {dir}/data -U postgres -A trust --no-sync -E UTF8");
        await RunPgAsync(asRoot, $"{bin}/pg_ctl",
            $"-D {dir}/data -l {dir}/log -w -o \"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300\" start");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            using var stop = Process.Start(asRoot ? "runuser" : $"{bin}/pg_ctl",
                asRoot ? $"-u postgres -- {bin}/pg_ctl -D {dir}/data -m immediate stop" : $"-D {dir}/data -m immediate stop");
            stop?.WaitForExit(10_000);
        };
        return $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
    }

    private static Task RunPgAsync(bool asRoot, string exe, string args) =>
        asRoot ? RunAsync("runuser", $"-u postgres -- {exe} {args}") : RunAsync(exe, args);

    private static async Task RunAsync(string exe, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stderr = p.StandardError.ReadToEndAsync();
        _ = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{exe} {args} failed: {await stderr}");
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
