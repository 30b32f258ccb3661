using System.Data.Common;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Clientele.Privacy;

/// <summary>What an erasure did, and what the database still holds of the address (nothing, when it worked).</summary>
internal sealed record ErasureOutcome(Erasure Erasure, IReadOnlyList<string> Identifiers);

/// <summary>
/// Erases a contact for good (the right to erasure): every row that belongs to them in every table, their messages in
/// the outbox, and their address or phone wherever another row mentions it (another contact's events, webhook calls,
/// stored API answers), which is replaced by "[erased]". Tables are found from the data model, so a table added later
/// with a <c>ContactId</c> is covered without a change here. The database is then compacted by
/// <see cref="ErasureCompactor"/> so the deleted rows leave no trace in its files.
/// </summary>
internal static class ContactErasure
{
    public const string Replacement = "[erased]";

    /// <summary>Tables that are about the business's own staff or configuration, never a contact's data.</summary>
    private static readonly HashSet<string> NotScrubbed = ["users", "api_keys", "erasures", "settings"];

    public static async Task<ErasureOutcome?> EraseAsync(ClienteleDatabase database, Guid contactId, string by, DateTime now, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        using var gate = await database.EnterWriteAsync(ct);
        var contact = await db.Contacts.AsNoTracking().Where(c => c.Id == contactId)
            .Select(c => new { c.Email, c.EmailNormalized, c.Phone, c.ExternalId })
            .FirstOrDefaultAsync(ct);
        if (contact is null)
        {
            return null;
        }
        var identifiers = Identifiers(contact.Email, contact.EmailNormalized, contact.Phone);
        var removed = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var scrubbed = new SortedDictionary<string, int>(StringComparer.Ordinal);

        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            // Rows that belong to the contact's rows rather than to the contact.
            var messages = db.OutboxMessages.Where(m => m.ContactId == contactId).Select(m => m.Id);
            Count(removed, "local_mail", await db.LocalMail.Where(m => messages.Contains(m.MessageId)).ExecuteDeleteAsync(ct));
            Count(removed, "outbox_notes", await db.OutboxNotes.Where(n => messages.Contains(n.MessageId)).ExecuteDeleteAsync(ct));
            var tickets = db.Tickets.Where(t => t.ContactId == contactId).Select(t => t.Id);
            Count(removed, "ticket_messages", await db.TicketMessages.Where(m => tickets.Contains(m.TicketId)).ExecuteDeleteAsync(ct));
            Count(removed, "referrals", await db.Referrals.Where(r => r.ReferrerId == contactId || r.FriendId == contactId).ExecuteDeleteAsync(ct));

            // Every table with a ContactId column; dependants first so no foreign key stands in the way.
            foreach (var entity in ContactTables(db.Model).OrderBy(e => e.GetTableName() == "contact_consents" ? 0 : 1))
            {
                var table = entity.GetTableName()!;
                var column = entity.FindProperty("ContactId")!;
                var sql = $"DELETE FROM {Quote(db, table)} WHERE {Quote(db, ColumnName(column))} = {{0}}";
                Count(removed, table, await db.Database.ExecuteSqlRawAsync(sql, [ProviderValue(column, contactId)], ct));
            }
            Count(removed, "contacts", await db.Contacts.Where(c => c.Id == contactId).ExecuteDeleteAsync(ct));

            // Mentions elsewhere: local mail is raw bytes, so it goes whole; text columns have the address replaced.
            foreach (var mail in await db.LocalMail.Select(m => new { m.MessageId, m.Raw }).ToListAsync(ct))
            {
                if (Mentions(mail.Raw, identifiers))
                {
                    Count(removed, "local_mail", await db.LocalMail.Where(m => m.MessageId == mail.MessageId).ExecuteDeleteAsync(ct));
                }
            }
            foreach (var (table, count) in await ScrubAsync(db, identifiers, ct))
            {
                Count(scrubbed, table, count);
            }

            var erasure = new Erasure
            {
                Id = Guid.CreateVersion7(),
                ContactId = contactId,
                At = now,
                By = by,
                Removed = JsonSerializer.Serialize(removed),
                Scrubbed = JsonSerializer.Serialize(scrubbed),
            };
            var left = await FindAsync(db, identifiers, ct);
            erasure.Check = left.Count == 0
                ? "No row holds the address or phone any more."
                : "Still mentioned in: " + string.Join(", ", left.Select(l => $"{l.Key} ({l.Value})")) + ".";
            db.Erasures.Add(erasure);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return new ErasureOutcome(erasure, identifiers);
        }
    }

    /// <summary>The strings to remove: the address as typed and lower-cased, as JSON escapes it, and the phone.</summary>
    internal static IReadOnlyList<string> Identifiers(string? email, string? normalized, string? phone)
    {
        var list = new List<string>();
        foreach (var value in new[] { email, normalized })
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                list.Add(value.Trim());
                // System.Text.Json writes '+' and some other characters as \uXXXX escapes.
                var escaped = JsonSerializer.Serialize(value.Trim())[1..^1];
                list.Add(escaped);
            }
        }
        if (phone is { } p && p.Count(char.IsAsciiDigit) >= 6)
        {
            list.Add(p.Trim());
            list.Add(JsonSerializer.Serialize(p.Trim())[1..^1]);
        }
        return list.Select(s => s.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Entity types stored in a table of their own with a <c>ContactId</c> column.</summary>
    internal static IEnumerable<IEntityType> ContactTables(IModel model) =>
        model.GetEntityTypes().Where(e => !e.IsOwned() && e.GetTableName() is not null && e.GetTableName() != "erasures" && e.FindProperty("ContactId") is not null);

    /// <summary>Replaces every mention in text columns; returns the rows changed per table.</summary>
    private static async Task<List<(string Table, int Rows)>> ScrubAsync(ClienteleDb db, IReadOnlyList<string> identifiers, CancellationToken ct)
    {
        var changed = new List<(string, int)>();
        var pattern = new Regex(string.Join("|", identifiers.Select(Regex.Escape)), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        foreach (var (entity, table, column, json) in TextColumns(db))
        {
            var keys = entity.FindPrimaryKey()?.Properties;
            if (keys is null)
            {
                continue;
            }
            var keyColumns = keys.Select(k => Quote(db, ColumnName(k))).ToList();
            var rows = new List<(object[] Key, string Value)>();
            var connection = db.Database.GetDbConnection();
            await using (var select = connection.CreateCommand())
            {
                select.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
                select.CommandText = $"SELECT {string.Join(", ", keyColumns)}, {Text(db, column, json)} FROM {Quote(db, table)} WHERE {Matches(db, column, json, identifiers.Count)}";
                AddParameters(select, identifiers);
                await using var reader = await select.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var key = new object[keys.Count];
                    for (var i = 0; i < keys.Count; i++)
                    {
                        key[i] = reader.GetValue(i);
                    }
                    rows.Add((key, reader.GetString(keys.Count)));
                }
            }
            var count = 0;
            foreach (var (key, value) in rows)
            {
                var replaced = pattern.Replace(value, Replacement);
                if (replaced == value)
                {
                    continue;
                }
                await using var update = connection.CreateCommand();
                update.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
                var target = json && db.Kind == DatabaseKind.Postgres ? "CAST(@v AS jsonb)" : "@v";
                var where = string.Join(" AND ", keyColumns.Select((k, i) => $"{k} = @k{i}"));
                update.CommandText = $"UPDATE {Quote(db, table)} SET {Quote(db, column)} = {target} WHERE {where}";
                Add(update, "@v", replaced);
                for (var i = 0; i < key.Length; i++)
                {
                    Add(update, "@k" + i, key[i]);
                }
                count += await update.ExecuteNonQueryAsync(ct);
            }
            if (count > 0)
            {
                changed.Add((table, count));
            }
        }
        return changed;
    }

    /// <summary>Rows per table and column that still mention one of <paramref name="identifiers"/>.</summary>
    internal static async Task<SortedDictionary<string, int>> FindAsync(ClienteleDb db, IReadOnlyList<string> identifiers, CancellationToken ct)
    {
        var found = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var connection = db.Database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await connection.OpenAsync(ct);
        }
        foreach (var (_, table, column, json) in TextColumns(db, includeLists: true))
        {
            await using var count = connection.CreateCommand();
            count.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            count.CommandText = $"SELECT count(*) FROM {Quote(db, table)} WHERE {Matches(db, column, json, identifiers.Count)}";
            AddParameters(count, identifiers);
            var n = Convert.ToInt32(await count.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
            if (n > 0)
            {
                found[$"{table}.{column}"] = n;
            }
        }
        return found;
    }

    /// <summary>
    /// Every text column of every table that can hold what a contact sent or what was sent to them. With
    /// <paramref name="includeLists"/>, also PostgreSQL's text arrays (tags), searched but not rewritten.
    /// </summary>
    private static IEnumerable<(IEntityType Entity, string Table, string Column, bool Json)> TextColumns(ClienteleDb db, bool includeLists = false)
    {
        foreach (var entity in db.Model.GetEntityTypes())
        {
            var table = entity.GetTableName();
            if (table is null || NotScrubbed.Contains(table) || entity.IsOwned())
            {
                continue;
            }
            foreach (var property in entity.GetProperties())
            {
                var mapping = property.GetRelationalTypeMapping();
                var provider = mapping.Converter?.ProviderClrType ?? property.ClrType;
                var storeType = mapping.StoreType;
                var isJson = storeType.Equals("jsonb", StringComparison.OrdinalIgnoreCase);
                var isArray = storeType.EndsWith("[]", StringComparison.Ordinal);
                if (provider == typeof(string) && !isArray)
                {
                    yield return (entity, table, ColumnName(property), isJson);
                }
                else if (includeLists && isArray && storeType.StartsWith("text", StringComparison.OrdinalIgnoreCase))
                {
                    yield return (entity, table, ColumnName(property), true);
                }
            }
        }
    }

    private static string Text(ClienteleDb db, string column, bool json) =>
        db.Kind == DatabaseKind.Postgres && json ? $"{Quote(db, column)}::text" : Quote(db, column);

    private static string Matches(ClienteleDb db, string column, bool json, int count)
    {
        var text = $"lower({Text(db, column, json)})";
        var find = db.Kind == DatabaseKind.Postgres ? "strpos({0}, @p{1}) > 0" : "instr({0}, @p{1}) > 0";
        return "(" + string.Join(" OR ", Enumerable.Range(0, count).Select(i => string.Format(System.Globalization.CultureInfo.InvariantCulture, find, text, i))) + ")";
    }

    private static void AddParameters(DbCommand command, IReadOnlyList<string> identifiers)
    {
        for (var i = 0; i < identifiers.Count; i++)
        {
            Add(command, "@p" + i, identifiers[i]);
        }
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        command.Parameters.Add(p);
    }

    /// <summary>True when the bytes hold one of the identifiers, in any case.</summary>
    internal static bool Mentions(ReadOnlySpan<byte> bytes, IReadOnlyList<string> identifiers)
    {
        foreach (var id in identifiers)
        {
            if (IndexOfIgnoreCase(bytes, Encoding.UTF8.GetBytes(id)) >= 0)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>ASCII case-insensitive search of <paramref name="lowerNeedle"/> (lower case) in <paramref name="haystack"/>.</summary>
    internal static int IndexOfIgnoreCase(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> lowerNeedle)
    {
        if (lowerNeedle.IsEmpty)
        {
            return -1;
        }
        var first = lowerNeedle[0];
        var firstUpper = first is >= (byte)'a' and <= (byte)'z' ? (byte)(first - 32) : first;
        for (var i = 0; i <= haystack.Length - lowerNeedle.Length; i++)
        {
            var rest = haystack[i..];
            var at = first == firstUpper ? rest.IndexOf(first) : rest.IndexOfAny(first, firstUpper);
            if (at < 0 || at > haystack.Length - lowerNeedle.Length - i)
            {
                return -1;
            }
            i += at;
            var j = 1;
            while (j < lowerNeedle.Length && Lower(haystack[i + j]) == lowerNeedle[j])
            {
                j++;
            }
            if (j == lowerNeedle.Length)
            {
                return i;
            }
        }
        return -1;
    }

    private static byte Lower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b;

    private static void Count(IDictionary<string, int> counts, string table, int n)
    {
        if (n > 0)
        {
            counts[table] = counts.TryGetValue(table, out var c) ? c + n : n;
        }
    }

    private static object ProviderValue(IProperty property, object value) =>
        property.GetTypeMapping().Converter?.ConvertToProvider(value) ?? value;

    private static string ColumnName(IProperty property) =>
        property.GetColumnName(StoreObjectIdentifier.Table(property.DeclaringType.ContainingEntityType.GetTableName()!, property.DeclaringType.ContainingEntityType.GetSchema()))
        ?? property.GetColumnName();

    private static string Quote(ClienteleDb db, string identifier) =>
        db.GetService<Microsoft.EntityFrameworkCore.Storage.ISqlGenerationHelper>().DelimitIdentifier(identifier);
}
