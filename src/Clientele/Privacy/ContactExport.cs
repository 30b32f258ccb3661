using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Clientele.Privacy;

/// <summary>
/// Everything the database holds about one contact, as one JSON document (the right of access): the contact, the
/// consent log with source and wording, and every row of every table that belongs to them — found from the data model,
/// so a table added later is in the export without a change here.
/// </summary>
internal static class ContactExport
{
    public static async Task<JsonObject?> BuildAsync(ClienteleDb db, Guid contactId, DateTime now, CancellationToken ct)
    {
        var contact = await db.Contacts.AsNoTracking().Include(c => c.Consents).FirstOrDefaultAsync(c => c.Id == contactId, ct);
        if (contact is null)
        {
            return null;
        }
        var consentLog = await db.Events.AsNoTracking()
            .Where(e => e.ContactId == contactId && e.Type.StartsWith("consent."))
            .OrderBy(e => e.Id)
            .Select(e => new { e.Type, e.OccurredAt, e.Source, e.Properties })
            .ToListAsync(ct);
        var document = new JsonObject
        {
            ["exportedAt"] = now,
            ["contact"] = JsonSerializer.SerializeToNode(contact.AsDto(), EventJson.Options),
            ["consentLog"] = new JsonArray(consentLog.Select(e => (JsonNode)new JsonObject
            {
                ["type"] = e.Type,
                ["at"] = e.OccurredAt,
                ["source"] = e.Source,
                ["details"] = Json(e.Properties),
            }).ToArray()),
        };
        var data = new JsonObject();
        foreach (var entity in ContactErasure.ContactTables(db.Model).OrderBy(e => e.GetTableName(), StringComparer.Ordinal))
        {
            data[entity.GetTableName()!] = await RowsAsync(db, entity, "ContactId", contactId, ct);
        }
        var tickets = await db.Tickets.AsNoTracking().Where(t => t.ContactId == contactId).Select(t => t.Id).ToListAsync(ct);
        var ticketMessages = new JsonArray();
        foreach (var ticket in tickets)
        {
            foreach (var row in await RowsAsync(db, db.Model.FindEntityType(typeof(Support.TicketMessage))!, "TicketId", ticket, ct))
            {
                ticketMessages.Add(row!.DeepClone());
            }
        }
        data["ticket_messages"] = ticketMessages;
        var referralType = db.Model.FindEntityType(typeof(Referrals.Referral))!;
        data["referrals_made"] = await RowsAsync(db, referralType, "ReferrerId", contactId, ct);
        data["referred_by"] = await RowsAsync(db, referralType, "FriendId", contactId, ct);
        document["data"] = data;
        return document;
    }

    /// <summary>The rows of <paramref name="entity"/> whose <paramref name="property"/> is <paramref name="value"/>, column by column.</summary>
    private static async Task<JsonArray> RowsAsync(ClienteleDb db, IEntityType entity, string property, object value, CancellationToken ct)
    {
        var table = entity.GetTableName()!;
        var store = StoreObjectIdentifier.Table(table, entity.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        var columns = entity.GetProperties().Select(p => (Property: p, Column: p.GetColumnName(store)!)).ToList();
        foreach (var owned in entity.GetNavigations().Where(n => n.TargetEntityType.IsOwned()))
        {
            columns.AddRange(owned.TargetEntityType.GetProperties().Where(p => !p.IsPrimaryKey()).Select(p => (p, p.GetColumnName(store)!)));
        }
        var filter = entity.FindProperty(property)!;
        var connection = db.Database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await db.Database.OpenConnectionAsync(ct);
        }
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", columns.Select(c => sql.DelimitIdentifier(c.Column)))} FROM {sql.DelimitIdentifier(table)} WHERE {sql.DelimitIdentifier(filter.GetColumnName(store)!)} = @v";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@v";
        parameter.Value = filter.GetTypeMapping().Converter?.ConvertToProvider(value) ?? value;
        command.Parameters.Add(parameter);
        var rows = new JsonArray();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var row = new JsonObject();
            for (var i = 0; i < columns.Count; i++)
            {
                row[JsonNamingPolicy.CamelCase.ConvertName(columns[i].Property.Name)] = Value(reader, i, columns[i].Property);
            }
            rows.Add(row);
        }
        return rows;
    }

    private static JsonNode? Value(DbDataReader reader, int i, IProperty property)
    {
        if (reader.IsDBNull(i))
        {
            return null;
        }
        var raw = reader.GetValue(i);
        var converter = property.GetTypeMapping().Converter;
        // SQLite hands back longs, doubles and text; bring them to the type the model stores.
        var stored = Nullable.GetUnderlyingType(converter?.ProviderClrType ?? property.ClrType) ?? converter?.ProviderClrType ?? property.ClrType;
        if (!stored.IsInstanceOfType(raw) && raw is IConvertible && (stored.IsPrimitive || stored == typeof(decimal) || stored == typeof(DateTime)))
        {
            raw = Convert.ChangeType(raw, stored, CultureInfo.InvariantCulture);
        }
        var value = converter is not null && converter.ProviderClrType.IsInstanceOfType(raw) ? converter.ConvertFromProvider(raw) : raw;
        return value switch
        {
            string s when s.Length > 1 && (s[0] == '{' || s[0] == '[') => Json(s),
            string s => s,
            byte[] bytes => Convert.ToBase64String(bytes),
            DateTime d => DateTime.SpecifyKind(d, DateTimeKind.Utc),
            Enum e => e.ToString(),
            System.Collections.IEnumerable list => JsonSerializer.SerializeToNode(list, EventJson.Options),
            _ => JsonValue.Create(value) ?? (JsonNode)Convert.ToString(value, CultureInfo.InvariantCulture)!,
        };
    }

    private static JsonNode? Json(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return text;
        }
    }
}
