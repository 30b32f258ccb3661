using System.Text;

namespace Clientele.Api;

/// <summary>RFC 4180 CSV for exports; a cell a spreadsheet would take for a formula is kept as text.</summary>
internal static class CsvText
{
    /// <summary>One cell: a leading = + - @ (or tab, carriage return) gets an apostrophe so spreadsheets do not run it; quoted when needed.</summary>
    public static string Cell(string? value)
    {
        value ??= "";
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    /// <summary>Appends one line of cells, each made safe with <see cref="Cell"/>.</summary>
    public static StringBuilder AppendRow(this StringBuilder csv, params string?[] cells)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                csv.Append(',');
            }
            csv.Append(Cell(cells[i]));
        }
        return csv.Append("\r\n");
    }
}
