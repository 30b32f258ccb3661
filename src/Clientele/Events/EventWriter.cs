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
        // One round trip for the whole batch; each statement returns its own id, in order.
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var e in events)
        {
            var cmd = new NpgsqlBatchCommand($"INSERT INTO events ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING \"Id\"");
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = e.ContactId, NpgsqlDbType = NpgsqlDbType.Uuid });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Type, NpgsqlDbType = NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = e.OccurredAt, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = e.ReceivedAt, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Properties, NpgsqlDbType = NpgsqlDbType.Jsonb });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)e.IdempotencyKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Source, NpgsqlDbType = NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)e.CauseEventId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
            batch.BatchCommands.Add(cmd);
        }
        await using var reader = await batch.ExecuteReaderAsync(ct);
        var i = 0;
        do
        {
            while (await reader.ReadAsync(ct))
            {
                events[i++].Id = reader.GetInt64(0);
            }
        }
        while (await reader.NextResultAsync(ct));
    }
}
