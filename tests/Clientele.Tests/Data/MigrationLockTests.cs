using Clientele.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Clientele.Tests.Data;

/// <summary>A process killed while migrating a SQLite file leaves EF's lock row behind; the next start must not wait for it.</summary>
public sealed class MigrationLockTests
{
    [Fact]
    public async Task A_migration_lock_left_by_a_killed_process_does_not_stop_the_next_start()
    {
        var dir = Path.Combine(Path.GetTempPath(), "clientele-lock-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var connection = $"Data Source={Path.Combine(dir, "clientele.db")}";
        try
        {
            using var database = ClienteleDatabase.Open(connection);
            await using (var db = database.CreateDbContext())
            {
                var migrations = db.Database.GetMigrations().ToList();
                await db.GetService<IMigrator>().MigrateAsync(migrations[^2]);
                // What a kill in the middle of the last migration leaves: EF's lock row, never deleted.
                await db.Database.ExecuteSqlRawAsync("""
                    CREATE TABLE IF NOT EXISTS "__EFMigrationsLock" ("Id" INTEGER NOT NULL CONSTRAINT "PK___EFMigrationsLock" PRIMARY KEY, "Timestamp" TEXT NOT NULL);
                    INSERT OR IGNORE INTO "__EFMigrationsLock" ("Id", "Timestamp") VALUES (1, '2026-01-01 00:00:00');
                    """);
            }

            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var applied = await database.MigrateAsync(limit.Token);

            Assert.Single(applied);
            await using var check = database.CreateDbContext();
            Assert.Empty(await check.Database.GetPendingMigrationsAsync());
            Assert.Equal(0, await check.Database.SqlQueryRaw<int>("SELECT count(*) AS \"Value\" FROM \"__EFMigrationsLock\"").SingleAsync());
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }
}
