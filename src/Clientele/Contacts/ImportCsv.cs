using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using CsvHelper;

namespace Clientele.Contacts;

/// <summary>What an import should do: the column overrides, whether to write, and how to show progress.</summary>
internal sealed class ImportOptions
{
    /// <summary>Shown in messages, e.g. the file name.</summary>
    public string Name { get; init; } = "the file";

    public bool DryRun { get; init; }

    /// <summary><c>column=field</c> overrides, as given to <c>--map</c>.</summary>
    public IReadOnlyList<string> Map { get; init; } = [];

    /// <summary>Rows per transaction; memory stays bounded by one batch.</summary>
    public int BatchSize { get; init; } = 500;

    /// <summary>Called after each batch with the number of data rows read so far.</summary>
    public Action<int>? Progress { get; init; }
}

/// <summary>The file as a whole cannot be imported (unreadable, no header, no column saying who a row is about).</summary>
internal sealed class ImportFileException(string message) : Exception(message);

/// <summary>One problem (or note) about one data row.</summary>
internal sealed record ImportIssue(int Row, int Line, string? Column, string Message)
{
    public override string ToString()
    {
        var where = $"row {Row.ToString("N0", CultureInfo.InvariantCulture)} (line {Line.ToString("N0", CultureInfo.InvariantCulture)})";
        var message = Message.TrimEnd('.');
        return Column is null ? $"{where}: {message}" : $"{where}, column \"{Column}\": {message}";
    }
}

/// <summary>
/// What an import did. Every data row is counted exactly once:
/// <c>Imported + Updated + Skipped + Failed == Rows</c>.
/// </summary>
internal sealed class ImportReport
{
    public required string Kind { get; init; }
    public bool DryRun { get; init; }

    /// <summary>How each column of the file was read: header → field.</summary>
    public List<(string Column, string Field)> Columns { get; } = [];

    public int Rows { get; set; }

    /// <summary>Rows that created something new (a contact; a row of a new order).</summary>
    public int Imported { get; set; }

    /// <summary>Rows that changed something that existed (including a later row for the same person in one file).</summary>
    public int Updated { get; set; }

    /// <summary>Rows that changed nothing: same values as stored, or an order that was already imported.</summary>
    public int Skipped { get; set; }

    /// <summary>Rows not stored because of an error.</summary>
    public int Failed { get; set; }

    /// <summary>Every error; a row can have several.</summary>
    public List<ImportIssue> Errors { get; } = [];

    /// <summary>Rows stored with a remark, e.g. a consent that was kept.</summary>
    public List<ImportIssue> Notes { get; } = [];

    /// <summary>Further counts worth showing (orders, contacts created, refunds).</summary>
    public List<(string Label, int Value)> Details { get; } = [];

    /// <summary>0 when every row was fine, 2 when some rows had errors (the good ones are stored).</summary>
    public int ExitCode => Failed > 0 ? 2 : 0;
}

/// <summary>One data row of a CSV file, numbered for people: data row from 1, line as in an editor.</summary>
internal sealed record CsvRow(int Row, int Line, string[] Cells)
{
    /// <summary>Set when the row's quoting is broken; the row is then reported, not read.</summary>
    public string? BadData { get; init; }

    public bool IsBlank => Cells.All(c => c.Trim().Length == 0);

    public string? Cell(int index)
    {
        if (index < 0 || index >= Cells.Length)
        {
            return null;
        }
        var value = Cells[index].Trim();
        return value.Length == 0 ? null : value;
    }
}

/// <summary>
/// A CSV file with a header row; comma, semicolon, tab or pipe separated, as the header shows.
/// Read record by record, so a file of any length takes the memory of one batch.
/// </summary>
internal sealed class ImportCsv : IAsyncDisposable
{
    private readonly CsvReader _reader;
    private string? _malformed;

    private ImportCsv(CsvReader reader, string[] header)
    {
        _reader = reader;
        Header = header;
    }

    public string[] Header { get; }

    public static async Task<ImportCsv> OpenAsync(Stream stream, string name, CancellationToken ct)
    {
        // Decide the separator from the header alone: data cells (tags "a;b", notes) often hold other separators.
        char? separator = null;
        if (stream.CanSeek)
        {
            var start = stream.Position;
            using (var peek = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true))
            {
                string? line;
                while ((line = await peek.ReadLineAsync(ct)) is not null && line.Trim().Length == 0)
                {
                }
                separator = line is null ? null : DetectDelimiter(line);
            }
            stream.Position = start;
        }
        ImportCsv? file = null;
        var options = CsvReaderOptions.Default with
        {
            Separator = separator,
            HasHeader = true,
            TrackLineNumbers = true,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            MissingField = CsvMissingFieldHandling.ReturnEmpty,
            MalformedData = CsvMalformedDataHandling.Recover,
            // A stray quote inside a cell (12" vinyl) is kept as text; broken quoting around a cell is the row's error.
            OnMalformedRecord = m => file?.Malformed(m),
        };
        var reader = CsvReader.Create(stream, options, false);
        try
        {
            await reader.ReadHeaderAsync(ct);
        }
        catch (CsvFormatException ex)
        {
            await reader.DisposeAsync();
            throw new ImportFileException($"{name}: the header row cannot be read ({ex.Message}).");
        }
        var header = reader.Headers.Select(h => h.Trim()).ToArray();
        if (header.All(h => h.Length == 0))
        {
            await reader.DisposeAsync();
            throw new ImportFileException($"{name} is empty: expected a header row naming the columns.");
        }
        file = new ImportCsv(reader, header);
        return file;
    }

    private void Malformed(CsvMalformedRecord record)
    {
        if (record.Reason is not (CsvMalformedReason.StrayQuote or CsvMalformedReason.FieldCountMismatch))
        {
            _malformed ??= record.Reason switch
            {
                CsvMalformedReason.UnterminatedQuote => "a quoted cell is never closed",
                CsvMalformedReason.TextAfterClosingQuote => "text follows the closing quote of a cell",
                _ => "broken quoting",
            };
        }
    }

    public async IAsyncEnumerable<CsvRow> ReadRowsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        while (await _reader.ReadAsync(ct))
        {
            var row = (int)_reader.RowNumber;
            var line = (int)_reader.LineNumber;
            if (_malformed is { } problem)
            {
                _malformed = null;
                yield return new CsvRow(row, line, []) { BadData = problem };
                continue;
            }
            yield return new CsvRow(row, line, _reader.Current.ToArray());
        }
    }

    public ValueTask DisposeAsync() => _reader.DisposeAsync();

    internal static char DetectDelimiter(string headerLine)
    {
        char[] candidates = [',', ';', '\t', '|'];
        var counts = new int[candidates.Length];
        var quoted = false;
        foreach (var ch in headerLine)
        {
            if (ch == '"')
            {
                quoted = !quoted;
                continue;
            }
            if (!quoted && Array.IndexOf(candidates, ch) is var i and >= 0)
            {
                counts[i]++;
            }
        }
        var best = 0;
        for (var i = 1; i < candidates.Length; i++)
        {
            if (counts[i] > counts[best])
            {
                best = i;
            }
        }
        return candidates[best];
    }

    /// <summary>Counts lines cheaply, to show progress as "12,000 / 100,000 rows".</summary>
    public static long CountLines(string path)
    {
        using var stream = File.OpenRead(path);
        var buffer = new byte[1 << 16];
        long lines = 0;
        int read;
        var last = (byte)'\n';
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
            last = buffer[read - 1];
        }
        return last == '\n' ? lines : lines + 1;
    }

    /// <summary>Lower-cased letters, digits and ':' only, so "E-Mail Address", "email_address" and "EmailAddress" compare equal.</summary>
    public static string Key(string header)
    {
        var b = new StringBuilder(header.Length);
        foreach (var ch in header)
        {
            if (char.IsLetterOrDigit(ch) || ch == ':')
            {
                b.Append(char.ToLowerInvariant(ch));
            }
        }
        return b.ToString();
    }

    /// <summary>Splits <c>column=field</c>; the field is after the last '=' so a column name may contain one.</summary>
    public static (string Column, string Field) SplitMap(string map)
    {
        var at = map.LastIndexOf('=');
        if (at <= 0 || at == map.Length - 1)
        {
            throw new ImportFileException($"--map \"{map}\": expected COLUMN=FIELD, e.g. --map \"E-Mail Adresse=email\".");
        }
        return (map[..at].Trim(), map[(at + 1)..].Trim());
    }

    /// <summary>Index of the header named <paramref name="column"/>: exact first, then ignoring case and punctuation.</summary>
    public static int FindColumn(string[] header, string column, string name)
    {
        var exact = Array.FindIndex(header, h => string.Equals(h, column, StringComparison.OrdinalIgnoreCase));
        if (exact >= 0)
        {
            return exact;
        }
        var key = Key(column);
        var loose = Array.FindIndex(header, h => Key(h) == key);
        if (loose >= 0)
        {
            return loose;
        }
        throw new ImportFileException($"--map: {name} has no column \"{column}\". Its columns are: {string.Join(", ", header.Select(h => $"\"{h}\""))}.");
    }
}

/// <summary>A column of the file and the field it fills (<c>ignore</c> for none).</summary>
internal sealed record ImportColumn(int Index, string Header, string Field)
{
    public const string Ignore = "ignore";
}

/// <summary>Decides which field each column fills: <c>--map</c> first, then known names, then a fallback.</summary>
internal static class ImportColumns
{
    /// <param name="header">The header row.</param>
    /// <param name="map"><c>column=field</c> overrides.</param>
    /// <param name="name">The file, for messages.</param>
    /// <param name="known">A header's field by its name, and whether that name is only a weak hint (e.g. "id").</param>
    /// <param name="field">A field name as written after <c>--map col=</c>, made canonical; null when unknown.</param>
    /// <param name="unknown">The field of a column with an unknown name (a custom attribute, or ignore).</param>
    /// <param name="fieldList">The valid field names, for the message about an unknown one.</param>
    public static List<ImportColumn> Resolve(string[] header, IReadOnlyList<string> map, string name,
        Func<string, (string? Field, bool Weak)> known, Func<string, string?> field, Func<string, string> unknown, string fieldList)
    {
        var fields = new string?[header.Length];
        var mapped = new bool[header.Length];
        foreach (var entry in map)
        {
            var (column, fieldText) = ImportCsv.SplitMap(entry);
            var index = ImportCsv.FindColumn(header, column, name);
            fields[index] = field(fieldText)
                ?? throw new ImportFileException($"--map \"{entry}\": \"{fieldText}\" is not a field. Fields: {fieldList}.");
            mapped[index] = true;
        }
        var weak = new List<(int Index, string Field)>();
        for (var i = 0; i < header.Length; i++)
        {
            if (mapped[i])
            {
                continue;
            }
            if (header[i].Length == 0)
            {
                fields[i] = ImportColumn.Ignore;
                continue;
            }
            var (f, isWeak) = known(header[i]);
            if (f is not null && isWeak)
            {
                weak.Add((i, f));
            }
            else
            {
                fields[i] = f;
            }
        }
        foreach (var (i, f) in weak)
        {
            // A weak name ("id") counts only when no column names the field plainly.
            fields[i] = fields.Contains(f, StringComparer.OrdinalIgnoreCase) ? null : f;
        }
        for (var i = 0; i < header.Length; i++)
        {
            fields[i] ??= unknown(header[i]);
        }
        var duplicate = fields.Select((f, i) => (Field: f!, Index: i))
            .Where(x => x.Field != ImportColumn.Ignore)
            .GroupBy(x => x.Field, StringComparer.OrdinalIgnoreCase)
            .FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            var names = duplicate.Select(x => $"\"{header[x.Index]}\"").ToList();
            throw new ImportFileException(
                $"Columns {string.Join(" and ", names)} of {name} both mean {duplicate.Key}. Say which to use, e.g. --map {Quote(header[duplicate.Last().Index] + "=ignore")}.");
        }
        return fields.Select((f, i) => new ImportColumn(i, header[i], f!)).ToList();
    }

    private static string Quote(string arg) => arg.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? $"\"{arg}\"" : arg;
}
