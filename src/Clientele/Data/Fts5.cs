using Microsoft.EntityFrameworkCore;

namespace Clientele.Data;

/// <summary>SQLite full-text search tables kept in step with the table they index.</summary>
internal static class Fts5
{
    /// <summary>
    /// Creates <c>{table}_fts</c>, an FTS5 index over <paramref name="columns"/> of <paramref name="table"/> kept in step
    /// by three triggers, and fills it; does nothing while the triggers are there. A migration that rebuilds the table on
    /// SQLite drops its triggers, so this runs after migrations and puts them back.
    /// </summary>
    public static async Task EnsureAsync(ClienteleDb db, string table, IReadOnlyList<string> columns, string tokenizer, CancellationToken ct)
    {
        var fts = table + "_fts";
        // The names are the app's own, never input.
        var count = $"SELECT count(*) AS \"Value\" FROM sqlite_master WHERE type = 'trigger' AND name IN ('{fts}_ai', '{fts}_ad', '{fts}_au')";
        var triggers = await db.Database.SqlQueryRaw<int>(count).SingleAsync(ct);
        if (triggers == 3)
        {
            return;
        }
        var cols = string.Join(", ", columns);
        var news = string.Join(", ", columns.Select(c => "new." + c));
        var olds = string.Join(", ", columns.Select(c => "old." + c));
        var create = $"""
            DROP TABLE IF EXISTS {fts};
            CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='rowid', tokenize='{tokenizer}');
            DROP TRIGGER IF EXISTS {fts}_ai;
            DROP TRIGGER IF EXISTS {fts}_ad;
            DROP TRIGGER IF EXISTS {fts}_au;
            CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN
              INSERT INTO {fts}(rowid, {cols}) VALUES (new.rowid, {news});
            END;
            CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN
              INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.rowid, {olds});
            END;
            CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN
              INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.rowid, {olds});
              INSERT INTO {fts}(rowid, {cols}) VALUES (new.rowid, {news});
            END;
            INSERT INTO {fts}({fts}) VALUES ('rebuild');
            """;
        await db.Database.ExecuteSqlRawAsync(create, ct);
    }
}
