using Clientele.Data;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Clientele.Tests.Infrastructure;

/// <summary>
/// Empty databases with the app's schema in place for <see cref="TestApp"/>: the migrations run once per test run,
/// into a SQLite file and a PostgreSQL database, and every test gets a copy (a file copy, <c>CREATE DATABASE …
/// TEMPLATE</c>) instead of running them again. The app's start still runs <c>MigrateAsync</c>, which finds nothing
/// to do. Tests of migrating itself (upgrades, the migration lock) create truly empty databases instead.
/// </summary>
public static class MigratedTemplate
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _sqliteFile;
    private static string? _postgresName;

    /// <summary>Writes a migrated SQLite database at <paramref name="path"/>.</summary>
    public static async Task CopySqliteAsync(string path)
    {
        var template = await OnceAsync(() => _sqliteFile, async () =>
        {
            var dir = Path.Combine(Path.GetTempPath(), "clientele-template-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(dir);
            var file = Path.Combine(dir, "clientele.db");
            var connection = $"Data Source={file}";
            using (var database = ClienteleDatabase.Open(connection))
            {
                await database.MigrateAsync();
                // Closing the last connection folds the write-ahead log into the file, so the file alone is the database.
                SqliteConnection.ClearPool(new SqliteConnection(database.ConnectionString));
            }
            if (File.Exists(file + "-wal"))
            {
                throw new InvalidOperationException($"{file} still has a write-ahead log after its connections were closed.");
            }
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(dir, recursive: true);
            _sqliteFile = file;
        });
        File.Copy(template, path);
    }

    /// <summary>Creates a migrated PostgreSQL database and returns its connection string.</summary>
    public static async Task<string> CreatePostgresAsync()
    {
        var template = await OnceAsync(() => _postgresName, async () =>
        {
            var connection = await PostgresServer.CreateDatabaseAsync();
            using (var database = ClienteleDatabase.Open(connection))
            {
                await database.MigrateAsync();
                // A database is copied only while nobody is connected to it.
                NpgsqlConnection.ClearPool(new NpgsqlConnection(database.ConnectionString));
            }
            var name = new NpgsqlConnectionStringBuilder(connection).Database!;
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try
                {
                    PostgresServer.DropDatabaseAsync(connection).GetAwaiter().GetResult();
                }
                catch (NpgsqlException)
                {
                    // The tests' own throwaway server stopped first, and took the database with it.
                }
            };
            _postgresName = name;
        });
        return await PostgresServer.CreateDatabaseAsync(template);
    }

    private static async Task<string> OnceAsync(Func<string?> get, Func<Task> create)
    {
        if (get() is { } ready)
        {
            return ready;
        }
        await Gate.WaitAsync();
        try
        {
            if (get() is null)
            {
                await create();
            }
            return get()!;
        }
        finally
        {
            Gate.Release();
        }
    }
}
