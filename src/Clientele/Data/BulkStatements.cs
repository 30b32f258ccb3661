using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Clientele.Data;

/// <summary>
/// One parameterised statement run once per row with the driver directly, in the current transaction: prepared once on
/// SQLite, sent in one round trip on PostgreSQL. For the hot paths where change tracking would cost more than the work.
/// </summary>
internal static class BulkStatements
{
    /// <summary>Runs <paramref name="sql"/> (parameters <c>@name</c> for each of <paramref name="names"/>) for each row; returns the rows affected.</summary>
    public static async Task<int> ExecuteAsync<T>(ClienteleDb db, string sql, string[] names, IReadOnlyList<T> rows,
        Func<T, bool, IEnumerable<object>> values, CancellationToken ct)
    {
        if (rows.Count == 0)
        {
            return 0;
        }
        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Bulk statements run inside a transaction.");
        var sqlite = db.Kind == DatabaseKind.Sqlite;
        if (!sqlite)
        {
            await using var batch = new NpgsqlBatch((NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
            foreach (var row in rows)
            {
                var command = new NpgsqlBatchCommand(sql);
                var i = 0;
                foreach (var value in values(row, false))
                {
                    command.Parameters.AddWithValue(names[i++], value);
                }
                batch.BatchCommands.Add(command);
            }
            return await batch.ExecuteNonQueryAsync(ct);
        }
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = transaction;
        cmd.CommandText = sql;
        var parameters = names.Select(n =>
        {
            var p = cmd.CreateParameter();
            p.ParameterName = "@" + n;
            cmd.Parameters.Add(p);
            return p;
        }).ToArray();
        await cmd.PrepareAsync(ct);
        var affected = 0;
        foreach (var row in rows)
        {
            var i = 0;
            foreach (var value in values(row, true))
            {
                parameters[i++].Value = value;
            }
            affected += await cmd.ExecuteNonQueryAsync(ct);
        }
        return affected;
    }

    /// <summary>A Guid as the model stores it: bytes on SQLite (the model's conversion), native on PostgreSQL.</summary>
    public static object Id(Guid id, bool sqlite) => sqlite ? id.ToByteArray() : id;

    public static object OrNull(object? value) => value ?? DBNull.Value;
}
