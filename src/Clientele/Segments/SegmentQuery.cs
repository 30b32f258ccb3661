using System.Globalization;
using System.Text;

namespace Clientele.Segments;

/// <summary>A segment condition, as parsed from its text form.</summary>
internal abstract record SegmentNode
{
    public sealed record And(SegmentNode Left, SegmentNode Right) : SegmentNode;

    public sealed record Or(SegmentNode Left, SegmentNode Right) : SegmentNode;

    public sealed record Not(SegmentNode Inner) : SegmentNode;

    /// <summary><c>field op value</c>, e.g. <c>stage &gt;= Purchase</c>, <c>attributes.role = "owner"</c>.</summary>
    public sealed record Compare(string Field, string Op, SegmentValue Value, int Line, int Column) : SegmentNode;

    /// <summary>A function of the contact's history: <c>orders.count(within: 90d) &gt;= 2</c>; a bare call such as
    /// <c>bought(category: "Coffee")</c> has no comparison.</summary>
    public sealed record Call(string Name, IReadOnlyDictionary<string, SegmentValue> Args, string? Op, SegmentValue? Value, int Line, int Column) : SegmentNode;

    /// <summary><c>birthday within 7d</c>: the next birthday falls in the coming days.</summary>
    public sealed record Within(string Field, TimeSpan Span, int Line, int Column) : SegmentNode;
}

/// <summary>A literal: text, number, duration or a bare word (a stage or health name).</summary>
internal sealed record SegmentValue(string? Text, double? Number, TimeSpan? Duration, string? Word, int Line, int Column)
{
    public override string ToString() =>
        Text is not null ? $"\"{Text}\"" : Number is { } n ? n.ToString(CultureInfo.InvariantCulture) : Duration is { } d ? $"{d.TotalDays}d" : Word ?? "";
}

/// <summary>What is wrong with a query, and where (1-based line and column).</summary>
internal sealed class SegmentQueryException(string message, int line, int column) : Exception(message)
{
    public int Line { get; } = line;
    public int Column { get; } = column;
}

/// <summary>
/// The segment language, by recursive descent:
/// <code>
/// query     = or
/// or        = and { "or" and }
/// and       = unary { "and" unary }
/// unary     = "not" unary | "(" query ")" | condition
/// condition = field "within" duration | name "(" [ arg { "," arg } ] ")" [ op value ] | field op value
/// arg       = name ":" value
/// op        = "=" | "!=" | "&lt;" | "&lt;=" | "&gt;" | "&gt;=" | "contains"
/// value     = "text" | number | duration (90d, 12h, 4w) | word
/// </code>
/// </summary>
internal sealed class SegmentParser
{
    private readonly List<Token> _tokens;
    private int _at;

    private SegmentParser(List<Token> tokens) => _tokens = tokens;

    private enum Kind
    {
        Word,
        Text,
        Number,
        Duration,
        Op,
        LParen,
        RParen,
        Comma,
        Colon,
        End,
    }

    private sealed record Token(Kind Kind, string Text, int Line, int Column, double Number = 0, TimeSpan Span = default);

    public static SegmentNode Parse(string query)
    {
        var parser = new SegmentParser(Lex(query ?? ""));
        if (parser.Peek.Kind == Kind.End)
        {
            throw new SegmentQueryException("The query is empty: write a condition such as stage >= Purchase.", 1, 1);
        }
        var node = parser.ParseOr();
        if (parser.Peek.Kind != Kind.End)
        {
            var t = parser.Peek;
            throw new SegmentQueryException($"Expected \"and\", \"or\" or the end of the query, found {Describe(t)}.", t.Line, t.Column);
        }
        return node;
    }

    /// <summary>One value on its own (a number, a duration such as 30d, "text" or a word), as the builder's editors give it.</summary>
    public static SegmentValue ParseValue(string text)
    {
        var parser = new SegmentParser(Lex(text ?? ""));
        var value = parser.ParseValue();
        if (parser.Peek.Kind != Kind.End)
        {
            throw new SegmentQueryException($"Expected one value, found {Describe(parser.Peek)} after it.", parser.Peek.Line, parser.Peek.Column);
        }
        return value;
    }

    private Token Peek => _tokens[_at];

    private Token Next() => _tokens[_at++];

    private bool IsWord(string word) => Peek.Kind == Kind.Word && string.Equals(Peek.Text, word, StringComparison.OrdinalIgnoreCase);

    private SegmentNode ParseOr()
    {
        var left = ParseAnd();
        while (IsWord("or"))
        {
            Next();
            left = new SegmentNode.Or(left, ParseAnd());
        }
        return left;
    }

    private SegmentNode ParseAnd()
    {
        var left = ParseUnary();
        while (IsWord("and"))
        {
            Next();
            left = new SegmentNode.And(left, ParseUnary());
        }
        return left;
    }

    private SegmentNode ParseUnary()
    {
        if (IsWord("not"))
        {
            Next();
            return new SegmentNode.Not(ParseUnary());
        }
        if (Peek.Kind == Kind.LParen)
        {
            var open = Next();
            var inner = ParseOr();
            if (Peek.Kind != Kind.RParen)
            {
                throw new SegmentQueryException($"Expected \")\" to close the \"(\" at line {open.Line}, column {open.Column}, found {Describe(Peek)}.", Peek.Line, Peek.Column);
            }
            Next();
            return inner;
        }
        return ParseCondition();
    }

    private SegmentNode ParseCondition()
    {
        var field = Peek;
        if (field.Kind != Kind.Word || field.Text is "and" or "or")
        {
            throw new SegmentQueryException($"Expected a condition such as stage >= Purchase, found {Describe(field)}.", field.Line, field.Column);
        }
        Next();
        if (IsWord("within"))
        {
            Next();
            var span = Peek;
            if (span.Kind != Kind.Duration)
            {
                throw new SegmentQueryException($"Expected a duration such as 7d after \"within\", found {Describe(span)}.", span.Line, span.Column);
            }
            Next();
            return new SegmentNode.Within(field.Text, span.Span, field.Line, field.Column);
        }
        if (Peek.Kind == Kind.LParen)
        {
            Next();
            var args = new Dictionary<string, SegmentValue>(StringComparer.OrdinalIgnoreCase);
            while (Peek.Kind != Kind.RParen)
            {
                var name = Peek;
                if (name.Kind != Kind.Word)
                {
                    throw new SegmentQueryException($"Expected an argument such as within: 30d, found {Describe(name)}.", name.Line, name.Column);
                }
                Next();
                if (Peek.Kind != Kind.Colon)
                {
                    throw new SegmentQueryException($"Expected \":\" after the argument name \"{name.Text}\", found {Describe(Peek)}.", Peek.Line, Peek.Column);
                }
                Next();
                args[name.Text] = ParseValue();
                if (Peek.Kind == Kind.Comma)
                {
                    Next();
                }
                else if (Peek.Kind != Kind.RParen)
                {
                    throw new SegmentQueryException($"Expected \",\" or \")\", found {Describe(Peek)}.", Peek.Line, Peek.Column);
                }
            }
            Next();
            if (Peek.Kind == Kind.Op || IsWord("contains"))
            {
                var op = Next().Text.ToLowerInvariant();
                return new SegmentNode.Call(field.Text, args, op, ParseValue(), field.Line, field.Column);
            }
            return new SegmentNode.Call(field.Text, args, null, null, field.Line, field.Column);
        }
        if (Peek.Kind != Kind.Op && !IsWord("contains"))
        {
            throw new SegmentQueryException($"Expected a comparison (=, !=, <, <=, >, >=, contains) after \"{field.Text}\", found {Describe(Peek)}.", Peek.Line, Peek.Column);
        }
        var compare = Next().Text.ToLowerInvariant();
        return new SegmentNode.Compare(field.Text, compare, ParseValue(), field.Line, field.Column);
    }

    private SegmentValue ParseValue()
    {
        var t = Next();
        return t.Kind switch
        {
            Kind.Text => new SegmentValue(t.Text, null, null, null, t.Line, t.Column),
            Kind.Number => new SegmentValue(null, t.Number, null, null, t.Line, t.Column),
            Kind.Duration => new SegmentValue(null, null, t.Span, null, t.Line, t.Column),
            Kind.Word when t.Text is not ("and" or "or" or "not") => new SegmentValue(null, null, null, t.Text, t.Line, t.Column),
            _ => throw new SegmentQueryException($"Expected a value (\"text\", a number, a duration such as 30d, or a name), found {Describe(t)}.", t.Line, t.Column),
        };
    }

    private static string Describe(Token t) => t.Kind switch
    {
        Kind.End => "the end of the query",
        Kind.Text => $"the text \"{t.Text}\"",
        _ => $"\"{t.Text}\"",
    };

    private static List<Token> Lex(string s)
    {
        var tokens = new List<Token>();
        int i = 0, line = 1, col = 1;
        void Advance(int n)
        {
            for (var k = 0; k < n; k++, i++)
            {
                if (s[i] == '\n')
                {
                    line++;
                    col = 1;
                }
                else
                {
                    col++;
                }
            }
        }
        while (i < s.Length)
        {
            var c = s[i];
            if (char.IsWhiteSpace(c))
            {
                Advance(1);
                continue;
            }
            int l = line, k = col;
            if (c == '"')
            {
                var text = new StringBuilder();
                var j = i + 1;
                while (j < s.Length && s[j] != '"')
                {
                    if (s[j] == '\\' && j + 1 < s.Length)
                    {
                        j++;
                    }
                    text.Append(s[j]);
                    j++;
                }
                if (j >= s.Length)
                {
                    throw new SegmentQueryException("This text is never closed: add the closing \".", l, k);
                }
                Advance(j + 1 - i);
                tokens.Add(new Token(Kind.Text, text.ToString(), l, k));
                continue;
            }
            if (char.IsDigit(c) || (c == '-' && i + 1 < s.Length && char.IsDigit(s[i + 1])))
            {
                var j = i + 1;
                while (j < s.Length && (char.IsDigit(s[j]) || s[j] == '.'))
                {
                    j++;
                }
                var number = double.Parse(s[i..j], CultureInfo.InvariantCulture);
                if (j < s.Length && s[j] is 'd' or 'h' or 'w' && (j + 1 >= s.Length || !char.IsLetterOrDigit(s[j + 1])))
                {
                    var days = s[j] switch { 'd' => number, 'h' => number / 24, _ => 7 * number };
                    if (Math.Abs(days) > 3_650_000)
                    {
                        throw new SegmentQueryException($"The duration {s[i..(j + 1)]} is too long: use at most 3650000 days.", l, k);
                    }
                    var span = s[j] switch { 'd' => TimeSpan.FromDays(number), 'h' => TimeSpan.FromHours(number), _ => TimeSpan.FromDays(7 * number) };
                    var text = s[i..(j + 1)];
                    Advance(j + 1 - i);
                    tokens.Add(new Token(Kind.Duration, text, l, k, number, span));
                    continue;
                }
                Advance(j - i);
                tokens.Add(new Token(Kind.Number, number.ToString(CultureInfo.InvariantCulture), l, k, number));
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                var j = i + 1;
                while (j < s.Length && (char.IsLetterOrDigit(s[j]) || s[j] is '_' or '.' or '-'))
                {
                    j++;
                }
                var word = s[i..j].TrimEnd('.', '-');
                Advance(word.Length);
                tokens.Add(new Token(Kind.Word, word, l, k));
                continue;
            }
            var two = i + 1 < s.Length ? s.Substring(i, 2) : "";
            if (two is "<=" or ">=" or "!=")
            {
                Advance(2);
                tokens.Add(new Token(Kind.Op, two, l, k));
                continue;
            }
            var kind = c switch
            {
                '=' or '<' or '>' => Kind.Op,
                '(' => Kind.LParen,
                ')' => Kind.RParen,
                ',' => Kind.Comma,
                ':' => Kind.Colon,
                _ => throw new SegmentQueryException($"Unexpected character '{c}'.", l, k),
            };
            Advance(1);
            tokens.Add(new Token(kind, c.ToString(), l, k));
        }
        tokens.Add(new Token(Kind.End, "", line, col));
        return tokens;
    }
}
