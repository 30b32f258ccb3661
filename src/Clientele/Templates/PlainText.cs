using System.Text;
using AngleSharp.Dom;

namespace Clientele.Templates;

/// <summary>
/// The text part of a message, written once per template from the sanitised body (placeholders still in it): paragraphs
/// apart by a blank line, list items on their own lines, links as "text (url)". The Liquid tags that stood between
/// elements are kept at the start of the block that follows them, so a false <c>{% if %}</c> leaves no extra blank lines.
/// </summary>
internal sealed class PlainText
{
    private readonly StringBuilder _out = new();
    private readonly Placeholders _slots;
    private readonly LinkMarkers _markers;
    private int _breaks;
    private bool _space;
    private int _lists;
    private int _pre;

    /// <summary>
    /// A tag was written where a block starts, after <see cref="_tagBreaks"/> line breaks: the next block's break is
    /// already written before the tag, so only a stronger break (the end of a table after its last row) adds any.
    /// </summary>
    private bool _tagged;

    private int _tagBreaks;

    private PlainText(Placeholders slots, LinkMarkers markers)
    {
        _slots = slots;
        _markers = markers;
    }

    public static string From(IElement body, Placeholders slots, LinkMarkers markers)
    {
        var writer = new PlainText(slots, markers);
        writer.Children(body);
        return writer._out.ToString();
    }

    private void Children(INode parent)
    {
        foreach (var child in parent.ChildNodes)
        {
            switch (child)
            {
                case IText text when _pre > 0:
                    Flush();
                    _out.Append(text.Data.ReplaceLineEndings("\n"));
                    break;
                case IText text:
                    Words(text.Data);
                    break;
                case IComment comment when _slots.IndexOfComment(comment.Data) is var index and >= 0:
                    var atBlockStart = _breaks > 0 || _out.Length == 0 || _tagged;
                    var written = _tagged ? _tagBreaks : -1;
                    Flush();
                    _tagBreaks = written >= 0 ? written : _out.Length == 0 ? 2 : TrailingNewlines();
                    _out.Append(_slots.Name(index));
                    _tagged = atBlockStart;
                    break;
                case IElement element:
                    Element(element);
                    break;
            }
        }
    }

    private void Element(IElement element)
    {
        var name = element.LocalName;
        KeepSilentTags(element, name switch { "a" => "href", "img" => "alt", _ => null });
        switch (name)
        {
            case "script" or "style" or "head" or "title" or "template":
                return;
            case "br":
                _space = false;
                if (_breaks == 0)
                {
                    _out.Append('\n');
                }
                return;
            case "hr":
                Block(2);
                Flush();
                _out.Append("----");
                Block(2);
                return;
            case "img":
                if (element.GetAttribute("alt") is { Length: > 0 } alt)
                {
                    Words(alt);
                }
                return;
            case "a":
                Link(element);
                return;
            case "ul" or "ol":
                Block(_lists == 0 ? 2 : 1);
                _lists++;
                Children(element);
                _lists--;
                Block(_lists == 0 ? 2 : 1);
                return;
            case "li":
                Block(1);
                Flush();
                _out.Append(' ', 2 * Math.Max(0, _lists - 1));
                _out.Append(element.ParentElement?.LocalName == "ol" ? $"{Position(element)}. " : "- ");
                Children(element);
                Block(1);
                return;
            case "td" or "th":
                if (element.PreviousElementSibling is not null)
                {
                    _space = true;
                }
                Children(element);
                return;
            case "p" or "h1" or "h2" or "h3" or "h4" or "h5" or "h6" or "blockquote" or "pre" or "table" or "dl" or "figure":
                Block(2);
                _pre += name == "pre" ? 1 : 0;
                Children(element);
                _pre -= name == "pre" ? 1 : 0;
                Block(2);
                return;
            case "div" or "tr" or "section" or "article" or "header" or "footer" or "center" or "address" or "dt" or "dd" or "caption":
                Block(1);
                Children(element);
                Block(1);
                return;
            default:
                Children(element);
                return;
        }
    }

    private void Link(IElement link)
    {
        var href = link.GetAttribute("href")?.Trim() ?? "";
        Flush();
        var start = _out.Length;
        Children(link);
        if (href.Length == 0 || href.StartsWith('#'))
        {
            return;
        }
        var text = _out.ToString(start, _out.Length - start).Trim();
        var shown = href.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) ? href[7..].Split('?')[0]
            : href.StartsWith("tel:", StringComparison.OrdinalIgnoreCase) ? href[4..]
            : href;
        var url = Tracked(href) ? _markers.Start + href + _markers.End : shown;
        if (text == shown || text == href || text.Length == 0)
        {
            // A bare address (or an image link): show the address once.
            _out.Length = start;
            _out.Append(url);
        }
        else
        {
            _out.Append(" (").Append(url).Append(')');
        }
    }

    /// <summary>Links whose address is the owner's (http or https) or comes from Liquid: they are checked and
    /// rewritten for each message.</summary>
    public bool Tracked(string href) => Tracked(href, _slots);

    public static bool Tracked(string href, Placeholders slots) =>
        href.Length > 0 && !href.StartsWith('#') &&
        (slots.Holds(href) || href.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || href.StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    /// <summary>A tag inside an attribute the text does not show must still run, or its block would lose its end.</summary>
    private void KeepSilentTags(IElement element, string? shownAttribute)
    {
        foreach (var attribute in element.Attributes)
        {
            if (attribute.LocalName == shownAttribute)
            {
                continue;
            }
            foreach (var index in _slots.SilentIn(attribute.Value))
            {
                _out.Append(_slots.Name(index));
            }
        }
    }

    private static int Position(IElement item)
    {
        var n = 1;
        for (var sibling = item.PreviousElementSibling; sibling is not null; sibling = sibling.PreviousElementSibling)
        {
            n += sibling.LocalName == "li" ? 1 : 0;
        }
        return n;
    }

    private void Words(string text)
    {
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                _space = _out.Length > 0 && _out[^1] != '\n' && !_tagged;
                continue;
            }
            Flush();
            _out.Append(c);
        }
    }

    private void Block(int breaks)
    {
        _space = false;
        _breaks = Math.Max(_breaks, _tagged ? breaks - _tagBreaks : breaks);
    }

    /// <summary>Writes the line breaks or the space owed before the next thing written.</summary>
    private void Flush()
    {
        _tagged = false;
        if (_breaks > 0)
        {
            if (_out.Length > 0)
            {
                while (_out.Length > 0 && _out[^1] == ' ')
                {
                    _out.Length--;
                }
                _out.Append('\n', Math.Max(0, _breaks - TrailingNewlines()));
            }
            _breaks = 0;
            _space = false;
        }
        else if (_space)
        {
            _out.Append(' ');
            _space = false;
        }
    }

    private int TrailingNewlines()
    {
        var count = 0;
        for (var i = _out.Length - 1; i >= 0 && _out[i] == '\n'; i--)
        {
            count++;
        }
        return count;
    }
}
