using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Clientele.Templates;

/// <summary>
/// Carries a body's Liquid through Markdown and the sanitiser untouched: each token is swapped for a word of letters and
/// digits that neither will change, and swapped back afterwards. A tag that writes nothing becomes an HTML comment where
/// it sits between elements, so it stays in place inside tables and does not leave an empty paragraph behind.
/// </summary>
internal sealed class Placeholders
{
    private const string Suffix = "zq";
    private readonly string _source;
    private readonly IReadOnlyList<LiquidToken> _tokens;
    private readonly Regex _pattern;

    public Placeholders(string source, IReadOnlyList<LiquidToken> tokens)
    {
        _source = source;
        _tokens = tokens;
        // A prefix that does not occur in the body (in any case) cannot be confused with the owner's words.
        var prefix = "lqx";
        while (source.Contains(prefix, StringComparison.OrdinalIgnoreCase))
        {
            prefix += "x";
        }
        Prefix = prefix;
        _pattern = new Regex($"<!--{prefix}(\\d+){Suffix}-->|&lt;!--{prefix}(\\d+){Suffix}--&gt;|{prefix}(\\d+){Suffix}", RegexOptions.CultureInvariant);
    }

    public string Prefix { get; }

    public IReadOnlyList<LiquidToken> Tokens => _tokens;

    public string Name(int index) => $"{Prefix}{index}{Suffix}";

    /// <summary>The index of the token a comment's text stands for, or -1.</summary>
    public int IndexOfComment(string commentText)
    {
        var text = commentText.AsSpan().Trim();
        if (!text.StartsWith(Prefix, StringComparison.Ordinal) || !text.EndsWith(Suffix, StringComparison.Ordinal))
        {
            return -1;
        }
        return int.TryParse(text[Prefix.Length..^Suffix.Length], out var index) && index >= 0 && index < _tokens.Count ? index : -1;
    }

    /// <summary>The silent tokens (tags) named inside an attribute value, in order.</summary>
    public IEnumerable<int> SilentIn(string value)
    {
        if (!value.Contains(Prefix, StringComparison.Ordinal))
        {
            yield break;
        }
        foreach (Match match in _pattern.Matches(value))
        {
            var index = Index(match);
            if (index >= 0 && _tokens[index].IsSilent)
            {
                yield return index;
            }
        }
    }

    public bool Holds(string value) => value.Contains(Prefix, StringComparison.Ordinal);

    /// <summary>
    /// The Markdown with its Liquid swapped out. A line that holds only tags becomes HTML comments on a line of their
    /// own (an HTML block in Markdown), which ends the paragraph before it and starts none.
    /// </summary>
    public string ProtectMarkdown()
    {
        var text = new StringBuilder(_source.Length + 16 * _tokens.Count);
        var at = 0;
        for (var i = 0; i < _tokens.Count; i++)
        {
            var token = _tokens[i];
            text.Append(_source, at, token.Start - at);
            if (token.IsSilent && LineBlankBefore(token.Start))
            {
                var last = i;
                while (last + 1 < _tokens.Count && _tokens[last + 1].IsSilent && Blank(_tokens[last].End, _tokens[last + 1].Start))
                {
                    last++;
                }
                if (LineBlankAfter(_tokens[last].End))
                {
                    // Indented, the comment would start a code block; at the margin it is an HTML block.
                    while (text.Length > 0 && text[^1] is ' ' or '\t')
                    {
                        text.Length--;
                    }
                    for (var k = i; k <= last; k++)
                    {
                        text.Append("<!--").Append(Name(k)).Append("-->");
                    }
                    at = _tokens[last].End;
                    i = last;
                    continue;
                }
            }
            text.Append(Name(i));
            at = token.End;
        }
        text.Append(_source, at, _source.Length - at);
        return text.ToString();
    }

    /// <summary>The HTML with its Liquid swapped out: tags between elements become comments, everything else (output,
    /// and anything inside an element's markup) a plain word.</summary>
    public string ProtectHtml()
    {
        var text = new StringBuilder(_source.Length + 16 * _tokens.Count);
        var state = new MarkupState();
        var at = 0;
        for (var i = 0; i < _tokens.Count; i++)
        {
            var token = _tokens[i];
            state.Advance(_source, at, token.Start);
            text.Append(_source, at, token.Start - at);
            if (token.IsSilent && state.InContent)
            {
                text.Append("<!--").Append(Name(i)).Append("-->");
            }
            else
            {
                text.Append(Name(i));
            }
            at = token.End;
        }
        text.Append(_source, at, _source.Length - at);
        return text.ToString();
    }

    /// <summary>
    /// Puts the Liquid back into markup or text produced from the protected body. Literal braces that came out of the
    /// owner's text (written as entities) are quoted so they stay text. In HTML, a <c>{% raw %}</c> block's inside is
    /// encoded: it is the owner's way to show Liquid, not to slip markup past the sanitiser.
    /// </summary>
    public string Restore(string produced, bool html, bool[] seen)
    {
        produced = produced.Replace("{{", "{{ \"{{\" }}", StringComparison.Ordinal).Replace("{%", "{{ \"{%\" }}", StringComparison.Ordinal);
        return _pattern.Replace(produced, match =>
        {
            var index = Index(match);
            if (index < 0)
            {
                return match.Value;
            }
            seen[index] = true;
            var token = _tokens[index];
            var original = _source.Substring(token.Start, token.Length);
            return html && token.Kind == LiquidTokenKind.Raw ? EncodeRaw(original) : original;
        });
    }

    /// <summary>A <c>{% raw %}</c> block whose inside is HTML-encoded, for the HTML part.</summary>
    public static string EncodeRaw(string block)
    {
        var open = block.IndexOf("%}", StringComparison.Ordinal) + 2;
        var close = block.LastIndexOf("{%", StringComparison.Ordinal);
        return block[..open] + WebUtility.HtmlEncode(block[open..close]) + block[close..];
    }

    private int Index(Match match)
    {
        var group = match.Groups[1].Success ? match.Groups[1] : match.Groups[2].Success ? match.Groups[2] : match.Groups[3];
        return int.TryParse(group.ValueSpan, out var index) && index < _tokens.Count ? index : -1;
    }

    private bool LineBlankBefore(int index)
    {
        for (var i = index - 1; i >= 0; i--)
        {
            switch (_source[i])
            {
                case '\n':
                    return true;
                case ' ' or '\t':
                    continue;
                default:
                    return false;
            }
        }
        return true;
    }

    private bool LineBlankAfter(int index)
    {
        for (var i = index; i < _source.Length; i++)
        {
            switch (_source[i])
            {
                case '\n':
                    return true;
                case ' ' or '\t' or '\r':
                    continue;
                default:
                    return false;
            }
        }
        return true;
    }

    private bool Blank(int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            if (_source[i] is not (' ' or '\t'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Just enough of HTML's tokeniser to tell text between elements from the inside of a tag or comment.</summary>
    private struct MarkupState
    {
        private bool _inTag;
        private bool _inComment;
        private char _quote;

        public readonly bool InContent => !_inTag && !_inComment;

        public void Advance(string source, int from, int to)
        {
            for (var i = from; i < to; i++)
            {
                var c = source[i];
                if (_inComment)
                {
                    if (c == '>' && i >= 2 && source[i - 1] == '-' && source[i - 2] == '-')
                    {
                        _inComment = false;
                    }
                }
                else if (_inTag)
                {
                    if (_quote != '\0')
                    {
                        if (c == _quote)
                        {
                            _quote = '\0';
                        }
                    }
                    else if (c is '"' or '\'')
                    {
                        _quote = c;
                    }
                    else if (c == '>')
                    {
                        _inTag = false;
                    }
                }
                else if (c == '<' && i + 1 < source.Length)
                {
                    if (string.CompareOrdinal(source, i, "<!--", 0, 4) == 0)
                    {
                        _inComment = true;
                        i += 3;
                    }
                    else if (char.IsAsciiLetter(source[i + 1]) || source[i + 1] is '/' or '!')
                    {
                        _inTag = true;
                    }
                }
            }
        }
    }
}
