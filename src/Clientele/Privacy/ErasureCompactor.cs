using System.Collections.Concurrent;
using Clientele.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Privacy;

/// <summary>
/// After an erasure, rewrites the database so deleted rows leave no bytes behind. On SQLite: the full-text indexes are
/// merged, the file is rebuilt (<c>VACUUM</c>) and the write-ahead log emptied, then the files are searched for the
/// address, which is known only in memory until then. On PostgreSQL: <c>VACUUM</c> frees the dead rows for reuse (a
/// <c>VACUUM FULL</c> in a quiet hour rewrites the files; see docs/privacy.md).
/// </summary>
internal sealed class ErasureCompactor(ClienteleDatabase database, TimeProvider time, ILogger<ErasureCompactor> log) : BackgroundService
{
    private readonly WakeSignal _signal = new();
    private readonly ConcurrentDictionary<Guid, IReadOnlyList<string>> _checks = new();

    /// <summary>Asks for a compaction soon; the identifiers are searched for in the files afterwards, then forgotten.</summary>
    public void Compact(ErasureOutcome outcome)
    {
        _checks[outcome.Erasure.Id] = outcome.Identifiers;
        _signal.Notify();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogError(ex, "Compaction after an erasure failed; it is tried again in a minute");
            }
            await _signal.WaitAsync(TimeSpan.FromMinutes(1), stoppingToken);
        }
    }

    internal async Task RunOnceAsync(CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        var pending = await db.Erasures.Where(e => e.CompactedAt == null).Select(e => e.Id).ToListAsync(ct);
        if (pending.Count == 0)
        {
            return;
        }
        var findings = new Dictionary<Guid, string>();
        if (database.Kind == DatabaseKind.Sqlite)
        {
            await CompactSqliteAsync(db, ct);
            var path = Path.GetFullPath(new SqliteConnectionStringBuilder(database.ConnectionString).DataSource);
            foreach (var id in pending)
            {
                if (_checks.TryGetValue(id, out var identifiers))
                {
                    findings[id] = await SearchFilesAsync(path, identifiers, ct) is { Count: > 0 } files
                        ? "The address is still in " + string.Join(", ", files.Select(Path.GetFileName)) + " after compaction."
                        : "Compacted; the address and phone are found nowhere in the database files.";
                }
            }
        }
        else
        {
            await db.Database.ExecuteSqlRawAsync("VACUUM", ct);
        }
        var now = time.GetUtcNow().UtcDateTime;
        using (await database.EnterWriteAsync(ct))
        {
            foreach (var erasure in await db.Erasures.Where(e => pending.Contains(e.Id)).ToListAsync(ct))
            {
                erasure.CompactedAt = now;
                if (findings.TryGetValue(erasure.Id, out var finding))
                {
                    erasure.Check += " " + finding;
                }
            }
            await db.SaveChangesAsync(ct);
        }
        foreach (var id in pending)
        {
            _checks.TryRemove(id, out _);
        }
        log.LogInformation("Compacted the database after {Count} erasure(s)", pending.Count);
    }

    private async Task CompactSqliteAsync(ClienteleDb db, CancellationToken ct)
    {
        using var gate = await database.EnterWriteAsync(ct);
        await db.Database.OpenConnectionAsync(ct);
        var fts = await db.Database.SqlQueryRaw<string>(
            "SELECT name AS \"Value\" FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'").ToListAsync(ct);
        foreach (var table in fts)
        {
            // Merges the index segments, dropping the entries of deleted rows. The names come from sqlite_master.
            var optimize = $"INSERT INTO \"{table}\"(\"{table}\") VALUES('optimize')";
            await db.Database.ExecuteSqlRawAsync(optimize, ct);
        }
        await db.Database.ExecuteSqlRawAsync("VACUUM", ct);
        // Readers holding an old snapshot keep the log from being emptied; they finish quickly, so try a few times.
        for (var attempt = 0; attempt < 20; attempt++)
        {
            await using var checkpoint = db.Database.GetDbConnection().CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            var busy = Convert.ToInt64(await checkpoint.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
            if (busy == 0)
            {
                break;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), time, ct);
        }
    }

    /// <summary>The database files (main, write-ahead log) that still hold one of the identifiers.</summary>
    internal static async Task<List<string>> SearchFilesAsync(string path, IReadOnlyList<string> identifiers, CancellationToken ct)
    {
        var found = new List<string>();
        foreach (var file in new[] { path, path + "-wal", path + "-journal" })
        {
            if (File.Exists(file) && await FileMentionsAsync(file, identifiers, ct))
            {
                found.Add(file);
            }
        }
        return found;
    }

    private static async Task<bool> FileMentionsAsync(string file, IReadOnlyList<string> identifiers, CancellationToken ct)
    {
        const int Chunk = 1 << 20;
        var overlap = identifiers.Max(i => System.Text.Encoding.UTF8.GetByteCount(i));
        var buffer = new byte[Chunk + overlap];
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, useAsync: true);
        var kept = 0;
        while (true)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(kept, Chunk), ct);
            if (read == 0)
            {
                return false;
            }
            var length = kept + read;
            if (ContactErasure.Mentions(buffer.AsSpan(0, length), identifiers))
            {
                return true;
            }
            kept = Math.Min(overlap, length);
            buffer.AsSpan(length - kept, kept).CopyTo(buffer);
        }
    }

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }
}
