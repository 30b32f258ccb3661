using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace Clientele.Data;

/// <summary>
/// Picks the provider from the connection string and creates contexts for it.
/// SQLite by default (<c>./data/clientele.db</c>); PostgreSQL when the string says so.
/// </summary>
internal sealed class ClienteleDatabase : IDbContextFactory<ClienteleDb>, IDisposable
{
    public const string DefaultSqlite = "Data Source=./data/clientele.db";

    private readonly DbContextOptions<SqliteClienteleDb>? _sqlite;
    private readonly DbContextOptions<PostgresClienteleDb>? _postgres;

    private ClienteleDatabase(DatabaseKind kind, string connectionString)
    {
        Kind = kind;
        ConnectionString = connectionString;
        if (kind == DatabaseKind.Sqlite)
        {
            _sqlite = new DbContextOptionsBuilder<SqliteClienteleDb>()
                .UseSqlite(connectionString, o => o.UseParameterizedCollectionMode(CollectionMode))
                .AddInterceptors(SqlitePragmas.Instance)
                .Options;
        }
        else
        {
            _postgres = new DbContextOptionsBuilder<PostgresClienteleDb>()
                .UseNpgsql(connectionString, o => o.UseParameterizedCollectionMode(CollectionMode))
                .Options;
        }
    }

    /// <summary>
    /// A list in a query (<c>ids.Contains(x.Id)</c>) travels as one parameter: a JSON array read with <c>json_each</c> on
    /// SQLite, an array with <c>= ANY</c> on PostgreSQL. One SQL text and one compiled query serve lists of any length;
    /// the default of one parameter per element made a batch of a few thousand events bind, and SQLite look up, thousands
    /// of parameters by name in every query.
    /// </summary>
    private const ParameterTranslationMode CollectionMode = ParameterTranslationMode.Parameter;

    public DatabaseKind Kind { get; }
    public string ConnectionString { get; }

    private readonly SemaphoreSlim _writeGate = new(1, 1);

    /// <summary>
    /// On SQLite, the busy writers of this process (ingestion, the event dispatcher) queue here for the
    /// single write lock instead of polling the database for it. On PostgreSQL there is nothing to wait for.
    /// </summary>
    public async Task<IDisposable> EnterWriteAsync(CancellationToken ct)
    {
        if (Kind != DatabaseKind.Sqlite)
        {
            return NoGate.Instance;
        }
        await _writeGate.WaitAsync(ct);
        return new Gate(_writeGate);
    }

    private sealed class Gate(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                semaphore.Release();
            }
        }
    }

    private sealed class NoGate : IDisposable
    {
        public static readonly NoGate Instance = new();

        public void Dispose()
        {
        }
    }

    /// <summary>A connection string safe to print: no password.</summary>
    public string Describe()
    {
        if (Kind == DatabaseKind.Sqlite)
        {
            return "SQLite " + new SqliteConnectionStringBuilder(ConnectionString).DataSource;
        }
        var b = new NpgsqlConnectionStringBuilder(ConnectionString);
        return $"PostgreSQL {b.Host}:{b.Port}/{b.Database}";
    }

    public void Dispose() => _writeGate.Dispose();

    public static ClienteleDatabase Open(string? connectionString)
    {
        var (kind, normalized) = Resolve(connectionString);
        return new ClienteleDatabase(kind, normalized);
    }

    public ClienteleDb CreateDbContext() => Kind == DatabaseKind.Sqlite
        ? new SqliteClienteleDb(_sqlite!)
        : new PostgresClienteleDb(_postgres!);

    /// <summary>
    /// Creates the database if needed, applies this provider's migrations and sets up contact and knowledge-base search.
    /// Returns the migrations it applied, oldest first (none when the schema was already up to date).
    /// </summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct = default)
    {
        if (Kind == DatabaseKind.Sqlite)
        {
            var path = new SqliteConnectionStringBuilder(ConnectionString).DataSource;
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(dir) && path != ":memory:")
            {
                Directory.CreateDirectory(dir);
            }
        }
        await using var db = CreateDbContext();
        if (Kind == DatabaseKind.Sqlite)
        {
            // WAL lets readers go on while the single writer commits; the mode is stored in the file.
            await db.Database.OpenConnectionAsync(ct);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
        var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
        if (pending.Count > 0)
        {
            // EF takes a lock for the migration; on SQLite it is a row that a killed process leaves behind, and every
            // later start would wait for it forever. So migrate only when there is something to do, and on SQLite under
            // a lock the operating system frees with the process: whoever holds it knows any row left is stale.
            using var guard = Kind == DatabaseKind.Sqlite ? await SqliteMigrationGuardAsync(ct) : null;
            if (guard is not null)
            {
                await ClearStaleMigrationLockAsync(db, ct);
            }
            await db.Database.MigrateAsync(ct);
        }
        await Contacts.ContactSearch.EnsureIndexAsync(db, ct);
        await Knowledge.KnowledgeIndex.EnsureAsync(db, ct);
        return pending;
    }

    /// <summary>An exclusive lock on a file beside the database, held while migrating; null for an in-memory database.</summary>
    private async Task<FileStream?> SqliteMigrationGuardAsync(CancellationToken ct)
    {
        var path = new SqliteConnectionStringBuilder(ConnectionString).DataSource;
        if (string.IsNullOrEmpty(path) || path == ":memory:" || path.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        while (true)
        {
            try
            {
                return new FileStream(Path.GetFullPath(path) + ".migrating", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                // Another process is migrating this database right now.
                await Task.Delay(200, ct);
            }
        }
    }

    private static async Task ClearStaleMigrationLockAsync(ClienteleDb db, CancellationToken ct)
    {
        var exists = await db.Database.SqlQueryRaw<int>("SELECT count(*) AS \"Value\" FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsLock'").SingleAsync(ct);
        if (exists > 0)
        {
            await db.Database.ExecuteSqlRawAsync("DELETE FROM \"__EFMigrationsLock\"", ct);
        }
    }

    /// <summary>True when the database answers a trivial query.</summary>
    public async Task<bool> PingAsync(CancellationToken ct)
    {
        try
        {
            await using var db = CreateDbContext();
            return await db.Database.CanConnectAsync(ct);
        }
        catch (DbException)
        {
            return false;
        }
    }

    internal static (DatabaseKind Kind, string ConnectionString) Resolve(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            value = DefaultSqlite;
        }
        value = value.Trim();
        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return (DatabaseKind.Postgres, PostgresDefaults(FromUri(new Uri(value))));
        }
        if (HasKey(value, "Host") || HasKey(value, "Server"))
        {
            return (DatabaseKind.Postgres, PostgresDefaults(value));
        }
        var sqlite = HasKey(value, "Data Source") || HasKey(value, "DataSource") || HasKey(value, "Filename")
            ? new SqliteConnectionStringBuilder(value)
            : new SqliteConnectionStringBuilder { DataSource = value };
        if (!HasKey(value, "Default Timeout") && !HasKey(value, "Command Timeout"))
        {
            // Doubles as the busy timeout: the driver retries a locked database until it expires.
            sqlite.DefaultTimeout = 30;
        }
        return (DatabaseKind.Sqlite, sqlite.ToString());
    }

    /// <summary>
    /// Statements the app runs again and again (membership checks, consumer reads) are prepared on the server after a
    /// few uses, so PostgreSQL plans them once per connection; and a pooled connection is not reset when returned (the
    /// app sets no session state, and its advisory locks end with their transaction). A connection string that sets
    /// either itself wins.
    /// </summary>
    private static string PostgresDefaults(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        if (!HasKey(connectionString, "Max Auto Prepare") && !HasKey(connectionString, "MaxAutoPrepare"))
        {
            b.MaxAutoPrepare = 200;
        }
        if (!HasKey(connectionString, "No Reset On Close") && !HasKey(connectionString, "NoResetOnClose"))
        {
            b.NoResetOnClose = true;
        }
        return b.ToString();
    }

    private static bool HasKey(string connectionString, string key) =>
        connectionString.Split(';').Any(part =>
            part.Split('=', 2)[0].Trim().Equals(key, StringComparison.OrdinalIgnoreCase) && part.Contains('='));

    private static string FromUri(Uri uri)
    {
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = uri.AbsolutePath.Trim('/'),
        };
        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo[0].Length > 0)
        {
            b.Username = Uri.UnescapeDataString(userInfo[0]);
        }
        if (userInfo.Length > 1)
        {
            b.Password = Uri.UnescapeDataString(userInfo[1]);
        }
        return b.ToString();
    }

    private sealed class SqlitePragmas : DbConnectionInterceptor
    {
        public static readonly SqlitePragmas Instance = new();

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) =>
            Apply(connection);

        public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Apply(connection);
            return Task.CompletedTask;
        }

        // Pooled connections keep their native handle, and with it these settings: apply them once per handle.
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> Configured = [];

        private static void Apply(DbConnection connection)
        {
            if (connection is SqliteConnection { Handle: { } handle } && !Configured.TryAdd(handle, Configured))
            {
                return;
            }
            using var cmd = connection.CreateCommand();
            // NORMAL is durable across application crashes in WAL mode; only a power cut can lose the last commits.
            // A 32 MB page cache keeps the hot index pages of the event log in memory.
            // busy_timeout lets SQLite wait for a lock itself, in small steps, rather than fail at once.
            cmd.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY; PRAGMA busy_timeout=30000;";
            cmd.ExecuteNonQuery();
        }
    }
}
