using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Knowledge;

/// <summary>
/// The articles' full-text index, kept by the database itself: on SQLite an FTS5 table over title, summary, category,
/// tags and body, updated by triggers; on PostgreSQL a generated tsvector (title weighted above summary, above category
/// and tags, above body) with a GIN index. Both stem English words ("returns" finds "returned").
/// </summary>
internal static class KnowledgeIndex
{
    private static readonly string[] Columns = ["Title", "Summary", "Category", "Tags", "Body"];

    /// <summary>
    /// Creates the index if missing. Idempotent, run after migrations (after contact search, whose accent folding the
    /// PostgreSQL index shares): a migration that rebuilds the articles table on SQLite drops its triggers, and this
    /// puts them back and reindexes.
    /// </summary>
    public static async Task EnsureAsync(ClienteleDb db, CancellationToken ct)
    {
        if (db.Kind == DatabaseKind.Sqlite)
        {
            await Fts5.EnsureAsync(db, "kb_articles", Columns, "porter unicode61 remove_diacritics 2", ct);
            return;
        }
        // array_to_string is only "stable" in PostgreSQL's books; for text[] it cannot change, so the wrapper may say immutable.
        await db.Database.ExecuteSqlRawAsync("""
            CREATE OR REPLACE FUNCTION clientele_kb_document(title text, summary text, category text, tags text[], body text) RETURNS tsvector
              LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $f$
              SELECT setweight(to_tsvector('english', clientele_fold(coalesce(title, ''))), 'A')
                  || setweight(to_tsvector('english', clientele_fold(coalesce(summary, ''))), 'B')
                  || setweight(to_tsvector('english', clientele_fold(coalesce(category, '') || ' ' || array_to_string(coalesce(tags, ARRAY[]::text[]), ' '))), 'C')
                  || setweight(to_tsvector('english', clientele_fold(coalesce(body, ''))), 'D')
              $f$;
            ALTER TABLE kb_articles ADD COLUMN IF NOT EXISTS search tsvector
              GENERATED ALWAYS AS (clientele_kb_document("Title", "Summary", "Category", "Tags", "Body")) STORED;
            CREATE INDEX IF NOT EXISTS ix_kb_articles_search ON kb_articles USING GIN (search);
            """, ct);
    }

    internal sealed class Row
    {
        public Guid Id { get; set; }
        public string Slug { get; set; } = "";
        public string Title { get; set; } = "";
        public string? Summary { get; set; }
        public string Body { get; set; } = "";
        public double Rank { get; set; }
    }

    internal sealed class TermCount
    {
        public int Index { get; set; }
        public long Count { get; set; }
    }

    /// <summary>
    /// How many published articles hold each term (index -1: how many are published at all), in one statement.
    /// </summary>
    public static async Task<(long Published, long[] Counts)> CountAsync(ClienteleDb db, IReadOnlyList<string> terms, CancellationToken ct)
    {
        var parts = new List<string>
        {
            db.Kind == DatabaseKind.Sqlite
                ? "SELECT -1 AS \"Index\", count(*) AS \"Count\" FROM kb_articles WHERE \"Published\" = 1"
                : "SELECT -1 AS \"Index\", count(*) AS \"Count\" FROM kb_articles WHERE \"Published\"",
        };
        var args = new object[terms.Count];
        for (var i = 0; i < terms.Count; i++)
        {
            args[i] = db.Kind == DatabaseKind.Sqlite ? Fts5Term(terms[i], prefix: false) : terms[i];
            parts.Add(db.Kind == DatabaseKind.Sqlite
                ? $"SELECT {i} AS \"Index\", count(*) AS \"Count\" FROM kb_articles_fts JOIN kb_articles a ON a.rowid = kb_articles_fts.rowid WHERE kb_articles_fts MATCH {{{i}}} AND a.\"Published\" = 1"
                : $"SELECT {i} AS \"Index\", count(*) AS \"Count\" FROM kb_articles WHERE \"Published\" AND search @@ to_tsquery('english', clientele_fold({{{i}}}))");
        }
        var rows = await db.Database.SqlQueryRaw<TermCount>(string.Join(" UNION ALL ", parts), args).ToListAsync(ct);
        var counts = new long[terms.Count];
        var published = 0L;
        foreach (var row in rows)
        {
            if (row.Index < 0)
            {
                published = row.Count;
            }
            else
            {
                counts[row.Index] = row.Count;
            }
        }
        return (published, counts);
    }

    /// <summary>
    /// Articles holding any of <paramref name="terms"/>, best first (bm25 / ts_rank_cd): only published ones, unless
    /// <paramref name="drafts"/> (the back office's search).
    /// </summary>
    public static Task<List<Row>> RankAsync(ClienteleDb db, IReadOnlyList<string> terms, bool prefixLast, int limit, bool drafts, CancellationToken ct)
    {
        if (db.Kind == DatabaseKind.Sqlite)
        {
            var match = string.Join(" OR ", terms.Select((t, i) => prefixLast && i == terms.Count - 1
                ? "(" + Fts5Term(t, prefix: false) + " OR " + Fts5Term(t, prefix: true) + ")"
                : Fts5Term(t, prefix: false)));
            // Column weights in the index's order: title, summary, category, tags, body.
            const string sqlite = """
                SELECT a."Id", a."Slug", a."Title", a."Summary", a."Body", bm25(kb_articles_fts, 10.0, 4.0, 2.0, 2.0, 1.0) AS "Rank"
                FROM kb_articles_fts JOIN kb_articles a ON a.rowid = kb_articles_fts.rowid
                WHERE kb_articles_fts MATCH {0} AND (a."Published" = 1 OR {2})
                ORDER BY "Rank", a."Title"
                LIMIT {1}
                """;
            return db.Database.SqlQueryRaw<Row>(sqlite, match, limit, drafts).ToListAsync(ct);
        }
        var query = string.Join(" | ", terms.Select((t, i) => prefixLast && i == terms.Count - 1 ? $"({t} | {t}:*)" : t));
        // Normalisation 1 divides by the log of the length, so a long article does not win by size alone.
        const string postgres = """
            SELECT "Id", "Slug", "Title", "Summary", "Body", ts_rank_cd(search, q, 1)::float8 AS "Rank"
            FROM kb_articles, to_tsquery('english', clientele_fold({0})) AS q
            WHERE ("Published" OR {2}) AND search @@ q
            ORDER BY "Rank" DESC, "Title"
            LIMIT {1}
            """;
        return db.Database.SqlQueryRaw<Row>(postgres, query, limit, drafts).ToListAsync(ct);
    }

    /// <summary>A term as an FTS5 string: terms are letters and digits only, and quoted they are never operators.</summary>
    private static string Fts5Term(string term, bool prefix) => "\"" + term.Replace("\"", "", StringComparison.Ordinal) + "\"" + (prefix ? "*" : "");
}
