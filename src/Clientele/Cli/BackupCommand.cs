using System.CommandLine;
using System.Globalization;
using Clientele.Data;
using Microsoft.Data.Sqlite;

namespace Clientele.Cli;

/// <summary>
/// <c>clientele backup --to FILE</c>: a consistent copy of a SQLite database while the app keeps running (SQLite's
/// online backup), checked with <c>PRAGMA integrity_check</c> before it is called done. PostgreSQL is backed up with its
/// own tools (docs/operations.md).
/// </summary>
internal static class BackupCommand
{
    public static Command Create()
    {
        var to = new Option<string>("--to") { Description = "The file to write, e.g. backups/clientele-2026-11-24.db; refused if it exists", Required = true };
        var command = new Command("backup", "Copy the SQLite database to a file while the app runs, then check the copy") { to };
        command.SetAction(async (result, ct) =>
        {
            var database = CliApp.Open(result);
            var target = Path.GetFullPath(result.GetValue(to)!);
            var outcome = await RunAsync(database, target, ct);
            if (outcome.Error is { } error)
            {
                await Console.Error.WriteLineAsync(error);
                return 1;
            }
            Console.WriteLine(outcome.Message);
            return 0;
        });
        return command;
    }

    internal sealed record Outcome(string? Error, string Message);

    internal static async Task<Outcome> RunAsync(ClienteleDatabase database, string target, CancellationToken ct)
    {
        if (database.Kind != DatabaseKind.Sqlite)
        {
            return new("This database is PostgreSQL: back it up with pg_dump (for example `pg_dump -Fc -f clientele.dump DBNAME`) " +
                "or continuous archiving; see docs/operations.md.", "");
        }
        var source = new SqliteConnectionStringBuilder(database.ConnectionString).DataSource;
        if (!File.Exists(source))
        {
            return new($"There is no database at {Path.GetFullPath(source)}.", "");
        }
        if (File.Exists(target))
        {
            return new($"{target} exists already; choose a new file name so no backup is overwritten.", "");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var partial = target + ".partial";
        File.Delete(partial);
        await using (var from = new SqliteConnection(database.ConnectionString))
        await using (var into = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = partial, Pooling = false }.ToString()))
        {
            await from.OpenAsync(ct);
            await into.OpenAsync(ct);
            // Copies page by page; writers may go on meanwhile, and the copy is of one moment.
            from.BackupDatabase(into);
            await using var check = into.CreateCommand();
            check.CommandText = "PRAGMA integrity_check";
            var answer = (string?)await check.ExecuteScalarAsync(ct);
            if (answer != "ok")
            {
                return new($"The copy failed its integrity check ({answer}); it is left at {partial} for inspection.", "");
            }
            await using var mode = into.CreateCommand();
            // The copy is a single file: no write-ahead log beside it.
            mode.CommandText = "PRAGMA journal_mode=DELETE";
            await mode.ExecuteNonQueryAsync(ct);
        }
        File.Move(partial, target);
        var size = new FileInfo(target).Length;
        return new(null, string.Create(CultureInfo.InvariantCulture,
            $"Backed up {Path.GetFullPath(source)} to {target} ({size / 1024.0 / 1024.0:0.0} MB) in {started.Elapsed.TotalSeconds:0.0} s; the copy passed its integrity check."));
    }
}
