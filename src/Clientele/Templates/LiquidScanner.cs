using System.Text.RegularExpressions;

namespace Clientele.Templates;

internal enum LiquidTokenKind
{
    /// <summary><c>{{ … }}</c></summary>
    Output,

    /// <summary><c>{% … %}</c>: control flow and assignments; writes nothing itself.</summary>
    Tag,

    /// <summary><c>{% raw %} … {% endraw %}</c>, kept whole: its inside is text, not Liquid.</summary>
    Raw,

    /// <summary><c>{% comment %} … {% endcomment %}</c>, kept whole; writes nothing.</summary>
    Comment,
}

/// <param name="Name">The tag's name (<c>if</c>, <c>endfor</c>, <c>assign</c>); empty for output.</param>
internal readonly record struct LiquidToken(LiquidTokenKind Kind, int Start, int Length, string Name)
{
    public int End => Start + Length;

    /// <summary>Writes nothing by itself, so a line holding only such tokens is not a line of text.</summary>
    public bool IsSilent => Kind is LiquidTokenKind.Tag or LiquidTokenKind.Comment;
}

/// <summary>
/// Finds the Liquid in a template without parsing it, so the body can be carried through Markdown and the sanitiser
/// with its Liquid intact, and so problems Fluid would only find late (or not survive, such as very deep nesting that
/// exhausts the parser's stack) are reported with the owner's line and column first.
/// </summary>
internal static partial class LiquidScanner
{
    /// <summary>Blocks inside blocks deeper than this are refused: nobody writes them, and the parser recurses.</summary>
    public const int MaxNesting = 20;

    private static readonly HashSet<string> Blocks = new(StringComparer.Ordinal) { "if", "unless", "case", "for", "tablerow", "capture", "ifchanged" };

    [GeneratedRegex(@"\{%-?\s*endraw\s*-?%\}")]
    private static partial Regex EndRaw();

    [GeneratedRegex(@"\{%-?\s*endcomment\s*-?%\}")]
    private static partial Regex EndComment();

    /// <summary>The tokens of <paramref name="source"/> in order. Throws <see cref="TemplateCompileException"/> for a
    /// token that is never closed.</summary>
    public static List<LiquidToken> Scan(string source, string part)
    {
        var tokens = new List<LiquidToken>();
        var at = 0;
        while (true)
        {
            var open = source.IndexOf('{', at);
            if (open < 0 || open + 1 >= source.Length)
            {
                return tokens;
            }
            var next = source[open + 1];
            if (next != '{' && next != '%')
            {
                at = open + 1;
                continue;
            }
            var close = next == '{' ? "}}" : "%}";
            var end = FindClose(source, open + 2, close);
            if (end < 0)
            {
                throw Error(source, part, open, next == '{' ? "'{{' is never closed by '}}'" : "'{%' is never closed by '%}'");
            }
            if (next == '{')
            {
                tokens.Add(new LiquidToken(LiquidTokenKind.Output, open, end - open, ""));
                at = end;
                continue;
            }
            var name = TagName(source, open + 2, end - 2);
            if (name is "raw" or "comment")
            {
                var closing = (name == "raw" ? EndRaw() : EndComment()).Match(source, end);
                if (!closing.Success)
                {
                    throw Error(source, part, open, $"'{{% {name} %}}' is never closed by '{{% end{name} %}}'");
                }
                end = closing.Index + closing.Length;
                tokens.Add(new LiquidToken(name == "raw" ? LiquidTokenKind.Raw : LiquidTokenKind.Comment, open, end - open, name));
            }
            else
            {
                tokens.Add(new LiquidToken(LiquidTokenKind.Tag, open, end - open, name));
            }
            at = end;
        }
    }

    /// <summary>
    /// Refuses what the sandbox does not offer, with the owner's position: loading other templates, filters that do
    /// not exist (Fluid would silently skip them), and nesting deeper than <see cref="MaxNesting"/>.
    /// </summary>
    public static void Check(string source, string part, IReadOnlyList<LiquidToken> tokens, IReadOnlySet<string> filters)
    {
        var open = new Stack<string>();
        foreach (var token in tokens)
        {
            if (token.Kind is LiquidTokenKind.Raw or LiquidTokenKind.Comment)
            {
                continue;
            }
            if (token.Kind == LiquidTokenKind.Tag)
            {
                if (token.Name is "include" or "render")
                {
                    throw Error(source, part, token.Start, $"'{token.Name}' is not available: a message cannot load other templates");
                }
                if (token.Name == "#")
                {
                    continue;
                }
                if (Blocks.Contains(token.Name))
                {
                    open.Push(token.Name);
                    if (open.Count > MaxNesting)
                    {
                        throw Error(source, part, token.Start, $"blocks are nested more than {MaxNesting} deep");
                    }
                }
                else if (token.Name.StartsWith("end", StringComparison.Ordinal) && open.Count > 0 && open.Peek() == token.Name[3..])
                {
                    open.Pop();
                }
            }
            CheckFilters(source, part, token, filters);
        }
    }

    private static void CheckFilters(string source, string part, LiquidToken token, IReadOnlySet<string> filters)
    {
        char quote = '\0';
        for (var i = token.Start + 2; i < token.End - 2; i++)
        {
            var c = source[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                continue;
            }
            if (c is '"' or '\'')
            {
                quote = c;
                continue;
            }
            if (c != '|')
            {
                continue;
            }
            var start = i + 1;
            while (start < token.End && char.IsWhiteSpace(source[start]))
            {
                start++;
            }
            var stop = start;
            while (stop < token.End && (char.IsAsciiLetterOrDigit(source[stop]) || source[stop] == '_'))
            {
                stop++;
            }
            var name = source[start..stop];
            // An empty name is a syntax error, which Fluid reports with its own wording.
            if (name.Length > 0 && !filters.Contains(name))
            {
                throw Error(source, part, start, $"unknown filter '{name}'{Suggest(name, filters)}");
            }
            i = stop - 1;
        }
    }

    /// <summary>Index just past <paramref name="close"/>, skipping quoted strings; -1 when it never comes.</summary>
    private static int FindClose(string source, int from, string close)
    {
        char quote = '\0';
        for (var i = from; i < source.Length; i++)
        {
            var c = source[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == close[0] && i + 1 < source.Length && source[i + 1] == close[1])
            {
                return i + 2;
            }
            else if (c == '{' && i + 1 < source.Length && source[i + 1] is '{' or '%')
            {
                // A new tag opens before this one closed: the owner forgot the closing braces.
                return -1;
            }
        }
        return -1;
    }

    private static string TagName(string source, int from, int to)
    {
        var i = from;
        if (i < to && source[i] == '-')
        {
            i++;
        }
        while (i < to && char.IsWhiteSpace(source[i]))
        {
            i++;
        }
        if (i < to && source[i] == '#')
        {
            return "#";
        }
        var start = i;
        while (i < to && (char.IsAsciiLetterOrDigit(source[i]) || source[i] == '_'))
        {
            i++;
        }
        return source[start..i];
    }

    private static string Suggest(string name, IEnumerable<string> known)
    {
        var best = known.Select(k => (k, d: Distance(name, k))).OrderBy(x => x.d).ThenBy(x => x.k, StringComparer.Ordinal).FirstOrDefault();
        return best.k is not null && best.d <= Math.Max(1, name.Length / 3) ? $"; did you mean '{best.k}'?" : "";
    }

    private static int Distance(string a, string b)
    {
        var row = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            row[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    public static TemplateCompileException Error(string source, string part, int index, string message)
    {
        var (line, column) = Position(source, index);
        return new TemplateCompileException(new TemplateError(part, line, column, message));
    }

    /// <summary>1-based line and column of a character.</summary>
    public static (int Line, int Column) Position(string source, int index)
    {
        index = Math.Clamp(index, 0, source.Length);
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < index; i++)
        {
            if (source[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return (line, index - lineStart + 1);
    }
}
