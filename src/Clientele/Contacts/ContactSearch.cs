using System.Text;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Contacts;

/// <summary>Full-text search over names, e-mails, external ids and phones: SQLite FTS5 or PostgreSQL tsvector.</summary>
internal static class ContactSearch
{
    /// <summary>Contacts matching every word of <paramref name="q"/> as a prefix ("ann exa" finds ann@example.com).</summary>
    public static IQueryable<Contact> Matching(ClienteleDb db, string q)
    {
        var words = Words(q);
        if (words.Count == 0)
        {
            return db.Contacts;
        }
        if (db.Kind == DatabaseKind.Sqlite)
        {
            var match = string.Join(' ', words.Select(w => "\"" + w + "\"*"));
            return db.Contacts.FromSqlRaw("SELECT * FROM contacts WHERE rowid IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH {0})", match);
        }
        var query = string.Join(" & ", words.Select(w => w + ":*"));
        return db.Contacts.FromSqlRaw("SELECT * FROM contacts WHERE search @@ to_tsquery('simple', clientele_fold({0}))", query);
    }

    /// <summary>Letters and digits only, lower-cased: nothing the user types can break the query syntax.</summary>
    internal static List<string> Words(string q)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var ch in q.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(ch))
            {
                current.Append(ch);
            }
            else if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }
        if (current.Length > 0)
        {
            words.Add(current.ToString());
        }
        return words.Take(8).ToList();
    }

    /// <summary>
    /// Creates the search index if missing. Idempotent, run after migrations: a migration that rebuilds
    /// the contacts table on SQLite drops its triggers, and this puts them back and reindexes.
    /// </summary>
    public static async Task EnsureIndexAsync(ClienteleDb db, CancellationToken ct)
    {
        if (db.Kind == DatabaseKind.Sqlite)
        {
            await Fts5.EnsureAsync(db, "contacts", ["Email", "FirstName", "LastName", "ExternalId", "Phone"], "unicode61 remove_diacritics 2", ct);
            return;
        }
        // Accents are folded so "zoe" finds "Zoë"; unaccent is a trusted extension, but fall back gracefully without it.
        const string withUnaccent = "CREATE OR REPLACE FUNCTION clientele_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $f$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $f$";
        const string plain = "CREATE OR REPLACE FUNCTION clientele_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $f$ SELECT lower($1) $f$";
        var hasUnaccent = true;
        try
        {
            await db.Database.ExecuteSqlRawAsync("CREATE EXTENSION IF NOT EXISTS unaccent", ct);
        }
        catch (Npgsql.PostgresException)
        {
            hasUnaccent = false;
        }
        await db.Database.ExecuteSqlRawAsync(hasUnaccent ? withUnaccent : plain, ct);
        await db.Database.ExecuteSqlRawAsync("""
            ALTER TABLE contacts ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS (
              to_tsvector('simple', clientele_fold(
                coalesce("Email", '') || ' ' || translate(coalesce("Email", ''), '@.+_-', '     ') || ' ' ||
                coalesce("FirstName", '') || ' ' || coalesce("LastName", '') || ' ' ||
                coalesce("ExternalId", '') || ' ' || coalesce("Phone", '')))) STORED;
            CREATE INDEX IF NOT EXISTS ix_contacts_search ON contacts USING GIN (search);
            """, ct);
    }
}
