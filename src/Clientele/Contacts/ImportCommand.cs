using System.CommandLine;
using System.Globalization;
using Clientele.Cli;
using Clientele.Commerce;
using Clientele.Data;
using Clientele.Value;

namespace Clientele.Contacts;

/// <summary><c>clientele import contacts|orders FILE [--dry-run] [--map column=field ...]</c>.</summary>
internal static class ImportCommand
{
    private delegate Task<ImportReport> Importer(ClienteleDatabase database, Stream csv, ImportOptions options, TimeProvider time, CancellationToken ct);

    public static Command Create() => new("import", "Import contacts or past orders from a CSV file (see docs/import.md)")
    {
        Verb("contacts", "Create or update contacts from a CSV file; recorded consent is never overwritten", ContactImport.RunAsync),
        Verb("orders", "Import past orders from a CSV file; orders already imported are skipped", OrderImport.RunAsync),
    };

    private static Command Verb(string kind, string description, Importer importer)
    {
        var file = new Argument<string>("FILE") { Description = "The CSV file, with a header row" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Check every row and report, but write nothing" };
        var map = new Option<string[]>("--map")
        {
            Description = "Read a column as a field, e.g. --map \"E-Mail Adresse=email\" (repeatable; field 'ignore' skips a column)",
            HelpName = "column=field",
        };
        var command = new Command(kind, description) { file, dryRun, map };
        command.SetAction(async (result, ct) =>
        {
            var path = result.GetValue(file)!;
            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync(Directory.Exists(path) ? $"{path} is a folder, not a CSV file." : $"Cannot read {path}: there is no such file.");
                return 1;
            }
            var database = await CliApp.OpenMigratedAsync(result, ct);
            return await RunAsync(database, kind, path, result.GetValue(dryRun), result.GetValue(map) ?? [], importer, Console.Out, Console.Error, TimeProvider.System, ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(ClienteleDatabase database, string kind, string path, bool dryRun, string[] map, Importer importer,
        TextWriter output, TextWriter progress, TimeProvider time, CancellationToken ct)
    {
        var total = ImportCsv.CountLines(path) - 1;
        var shown = 0;
        var options = new ImportOptions
        {
            Name = Path.GetFileName(path),
            DryRun = dryRun,
            Map = map,
            Progress = rows =>
            {
                // A line a few seconds for long files; nothing for short ones.
                if (rows / 5000 > shown)
                {
                    shown = rows / 5000;
                    progress.WriteLine($"{N(rows)} / {N(Math.Max(total, rows))} rows");
                }
            },
        };
        ImportReport report;
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            report = await importer(database, stream, options, time, ct);
        }
        catch (ImportFileException ex)
        {
            await progress.WriteLineAsync(ex.Message);
            return 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await progress.WriteLineAsync($"Cannot read {path}: {ex.Message}");
            return 1;
        }
        await output.WriteAsync(Format(report, options.Name));
        if (kind == "orders" && !dryRun && report.Imported + report.Updated > 0)
        {
            // New purchase history changes every customer's value: queue a scoring run for the server to pick up.
            await using var db = database.CreateDbContext();
            await ScoringJob.RequestAsync(db, "import", null, time.GetUtcNow().UtcDateTime, ct);
            await output.WriteLineAsync("Customer value is rescored by the running server within a minute (or when it next starts).");
        }
        return report.ExitCode;
    }

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>The report as people read it: the columns, a table of counts, then every error and note.</summary>
    internal static string Format(ImportReport report, string name)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        w.WriteLine(report.DryRun
            ? $"Dry run of {report.Kind} from {name}: nothing was written."
            : $"Imported {report.Kind} from {name}.");
        w.WriteLine();
        w.WriteLine("Columns:");
        var width = report.Columns.Count == 0 ? 0 : report.Columns.Max(c => c.Column.Length);
        foreach (var (column, field) in report.Columns)
        {
            w.WriteLine($"  {column.PadRight(width)}  → {field}");
        }
        w.WriteLine();
        var created = report.Kind == "contacts" ? "new contacts" : "rows of new orders";
        var skipped = report.Kind == "contacts" ? "unchanged" : "already imported";
        var rows = new List<(string Label, int Value, string Note)>
        {
            ("rows", report.Rows, ""),
            ("imported", report.Imported, created),
            ("updated", report.Updated, report.Kind == "contacts" ? "existing contacts changed" : "refunds of orders imported before"),
            ("skipped", report.Skipped, skipped),
            ("errors", report.Failed, report.Failed > 0 ? "rows not stored, listed below" : ""),
        };
        rows.AddRange(report.Details.Select(d => (d.Label, d.Value, "")));
        var labelWidth = rows.Max(r => r.Label.Length);
        var valueWidth = rows.Max(r => N(r.Value).Length);
        foreach (var (label, value, note) in rows)
        {
            w.WriteLine($"  {label.PadRight(labelWidth)}  {N(value).PadLeft(valueWidth)}{(note.Length > 0 ? "  " + note : "")}".TrimEnd());
        }
        if (report.Errors.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("Errors:");
            foreach (var error in report.Errors)
            {
                w.WriteLine("  " + error);
            }
        }
        if (report.Notes.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("Notes:");
            foreach (var note in report.Notes)
            {
                w.WriteLine("  " + note);
            }
        }
        return w.ToString();
    }
}
