using System.Globalization;
using System.Text;

namespace Clientele.Segments;

/// <summary>
/// Writes a parsed segment back as text, in the canonical form the parser reads back to the same tree:
/// single spaces, parentheses only where the tree needs them (an <c>or</c> inside an <c>and</c>, a right-nested
/// group, a group under <c>not</c>), durations in days or hours.
/// </summary>
internal static class SegmentFormat
{
    public static string Format(SegmentNode node)
    {
        var sb = new StringBuilder();
        Write(sb, node);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, SegmentNode node)
    {
        switch (node)
        {
            case SegmentNode.And a:
                Operand(sb, a.Left, a.Left is SegmentNode.Or);
                sb.Append(" and ");
                Operand(sb, a.Right, a.Right is SegmentNode.Or or SegmentNode.And);
                break;
            case SegmentNode.Or o:
                Operand(sb, o.Left, false);
                sb.Append(" or ");
                Operand(sb, o.Right, o.Right is SegmentNode.Or);
                break;
            case SegmentNode.Not n:
                sb.Append("not ");
                Operand(sb, n.Inner, n.Inner is SegmentNode.And or SegmentNode.Or);
                break;
            case SegmentNode.Compare c:
                sb.Append(c.Field).Append(' ').Append(c.Op).Append(' ').Append(Value(c.Value));
                break;
            case SegmentNode.Call c:
                sb.Append(c.Name).Append('(');
                sb.AppendJoin(", ", c.Args.Select(a => a.Key + ": " + Value(a.Value)));
                sb.Append(')');
                if (c.Op is not null && c.Value is not null)
                {
                    sb.Append(' ').Append(c.Op).Append(' ').Append(Value(c.Value));
                }
                break;
            case SegmentNode.Within w:
                sb.Append(w.Field).Append(" within ").Append(Duration(w.Span));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(node));
        }
    }

    private static void Operand(StringBuilder sb, SegmentNode node, bool parenthesize)
    {
        if (parenthesize)
        {
            sb.Append('(');
        }
        Write(sb, node);
        if (parenthesize)
        {
            sb.Append(')');
        }
    }

    public static string Value(SegmentValue v) =>
        v.Text is not null ? Quote(v.Text)
        : v.Number is { } n ? Number(n)
        : v.Duration is { } d ? Duration(d)
        : v.Word ?? "";

    public static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    public static string Duration(TimeSpan span) =>
        span.Ticks % TimeSpan.TicksPerDay == 0
            ? (span.Ticks / TimeSpan.TicksPerDay).ToString(CultureInfo.InvariantCulture) + "d"
            : Number(span.TotalHours) + "h";

    /// <summary>Plain decimal notation (never 1E-05), as the parser reads numbers.</summary>
    public static string Number(double n) => n.ToString("0.################", CultureInfo.InvariantCulture);
}
