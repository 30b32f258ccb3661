using System.Data.Common;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Clientele.Events;

/// <summary>
/// Appends events to the log in the current transaction with the driver directly: the hot path of
/// ingestion, where change tracking would cost more than the insert. Sets each event's <see cref="Event.Id"/>.
/// </summary>
internal static class EventWriter
{
    private const string Columns = "\"ContactId\", \"Type\", \"OccurredAt\", \"ReceivedAt\", \"Properties\", \"IdempotencyKey\", \"Source\", \"CauseEventId\"";

    public static async Task InsertAsync(ClienteleDb db, List<Event> events, CancellationToken ct)
    {
        if (events.Count == 0)
        {
            return;
        }
        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Events are appended inside a transaction.");
        if (db.Kind == DatabaseKind.Sqlite)
        {
            await InsertSqliteAsync(connection, transaction, events, ct);
        }
        else
        {
            await InsertPostgresAsync((NpgsqlConnection)connection, (NpgsqlTransaction)transaction, events, ct);
        }
    }

    private static async Task InsertSqliteAsync(DbConnection connection, DbTransaction transaction, List<Event> events, CancellationToken ct)
    {
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = transaction;
        cmd.CommandText = $"INSERT INTO events ({Columns}) VALUES ($c, $t, $o, $r, $p, $k, $s, $x) RETURNING \"Id\"";
        var c = Add(cmd, "$c");
        var t = Add(cmd, "$t");
        var o = Add(cmd, "$o");
        var r = Add(cmd, "$r");
        var p = Add(cmd, "$p");
        var k = Add(cmd, "$k");
        var s = Add(cmd, "$s");
        var x = Add(cmd, "$x");
        await cmd.PrepareAsync(ct);
        foreach (var e in events)
        {
            c.Value = e.ContactId.ToByteArray(); // as the model's Guid-to-bytes conversion stores it
            t.Value = e.Type;
            o.Value = e.OccurredAt;
            r.Value = e.ReceivedAt;
            p.Value = e.Properties;
            k.Value = (object?)e.IdempotencyKey ?? DBNull.Value;
            s.Value = e.Source;
            x.Value = (object?)e.CauseEventId ?? DBNull.Value;
            e.Id = (long)(await cmd.ExecuteScalarAsync(ct))!;
        }
    }

    private static DbParameter Add(DbCommand cmd, string name)
    {
        var parameter = cmd.CreateParameter();
        parameter.ParameterName = name;
        cmd.Parameters.Add(parameter);
        return parameter;
    }

    private static async Task InsertPostgresAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<Event> events, CancellationToken ct)
    {
        // Take the ids from the column's sequence first, in one round trip, then stream the rows with
        // binary COPY: the fastest way into PostgreSQL, and every event knows its id. The sequence is looked up
        // by name once per batch, not once per row as a call in the select list would be.
        await using (var ids = new NpgsqlCommand(
            "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('events', 'Id')::regclass AS seq) SELECT nextval(s.seq) FROM s, generate_series(1, $1)",
            connection, transaction))
        {
            ids.Parameters.Add(new NpgsqlParameter<int> { TypedValue = events.Count });
            await using var reader = await ids.ExecuteReaderAsync(ct);
            var i = 0;
            while (await reader.ReadAsync(ct))
            {
                events[i++].Id = reader.GetInt64(0);
            }
        }
        await using var writer = await connection.BeginBinaryImportAsync($"COPY events (\"Id\", {Columns}) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var e in events)
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(e.Id, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(e.ContactId, NpgsqlDbType.Uuid, ct);
            await writer.WriteAsync(e.Type, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(e.OccurredAt, NpgsqlDbType.TimestampTz, ct);
            await writer.WriteAsync(e.ReceivedAt, NpgsqlDbType.TimestampTz, ct);
            await writer.WriteAsync(e.Properties, NpgsqlDbType.Jsonb, ct);
            await WriteNullableAsync(writer, e.IdempotencyKey, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(e.Source, NpgsqlDbType.Text, ct);
            await WriteNullableAsync(writer, e.CauseEventId, NpgsqlDbType.Bigint, ct);
        }
        await writer.CompleteAsync(ct);
    }

    private static async Task WriteNullableAsync<T>(NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type, CancellationToken ct)
    {
        if (value is null)
        {
            await writer.WriteNullAsync(ct);
        }
        else
        {
            await writer.WriteAsync(value, type, ct);
        }
    }
}
