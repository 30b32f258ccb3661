using System.Globalization;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using Ganss.Xss;
using Markdig;

namespace Clientele.Templates;

/// <summary>
/// Marks the addresses in the output that are checked and rewritten per message. The start carries a key made for
/// each compiled template, so no value a contact supplies can pass for a mark.
/// </summary>
internal sealed record LinkMarkers(string Start, string End, string Pixel)
{
    public static LinkMarkers Create()
    {
        var key = System.Security.Cryptography.RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 10);
        return new LinkMarkers("\u0001" + key, "\u0002", "\u0003" + key);
    }
}

/// <summary>
/// Turns a body into the HTML and the text the message's Liquid runs on, once per template: Markdown to HTML, then
/// the sanitiser, then email-safe inline styles; the text part is written from the same sanitised document.
/// </summary>
internal static partial class BodyMarkup
{
    internal sealed record Prepared(string Html, string Text);

    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UseEmphasisExtras()
        .UsePipeTables()
        .UseGridTables()
        .UseListExtras()
        .UseTaskLists()
        .UseAutoLinks()
        .UseGenericAttributes()
        .UseSoftlineBreakAsHardlineBreak()
        .Build();

    [GeneratedRegex(@"rgba\((\d{1,3}), (\d{1,3}), (\d{1,3}), 1\)")]
    private static partial Regex OpaqueRgba();

    public static Prepared Prepare(string source, BodyFormat format, IReadOnlyList<LiquidToken> tokens, Brand brand, LinkMarkers markers)
    {
        var slots = new Placeholders(source, tokens);
        string html;
        if (format == BodyFormat.Markdown)
        {
            try
            {
                html = Markdown.ToHtml(slots.ProtectMarkdown(), Pipeline);
            }
            catch (ArgumentException)
            {
                throw new TemplateCompileException(new TemplateError("body", 1, 1, "the Markdown is nested too deeply"));
            }
        }
        else
        {
            html = slots.ProtectHtml();
        }

        using var document = Sanitizer(slots).SanitizeDom(html);
        var body = document.Body ?? throw new TemplateCompileException(new TemplateError("body", 1, 1, "the body could not be read as HTML"));
        if (format == BodyFormat.Markdown)
        {
            GatherListLoops(body, slots);
        }
        var text = PlainText.From(body, slots, markers);
        Decorate(body, brand, format, slots, markers);

        var inHtml = new bool[tokens.Count];
        var restoredHtml = slots.Restore(body.InnerHtml, html: true, inHtml);
        var inText = new bool[tokens.Count];
        var restoredText = slots.Restore(text, html: false, inText);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (!inHtml[i] || (!inText[i] && tokens[i].IsSilent))
            {
                throw LiquidScanner.Error(source, "body", tokens[i].Start,
                    "this Liquid sits in markup that is removed for safety (a script, a style value, an event handler, an unknown attribute or a comment); put it in text or in an attribute such as href");
            }
        }
        return new Prepared(restoredHtml, restoredText);
    }

    /// <summary>
    /// In Markdown, <c>{% for %}</c> and <c>{% endfor %}</c> on their own lines around a list item make a list per
    /// item; moving the loop inside the list makes one list, as the owner meant.
    /// </summary>
    private static void GatherListLoops(IElement body, Placeholders slots)
    {
        foreach (var list in body.QuerySelectorAll("ul, ol").ToList())
        {
            var before = Tags(list, slots, backwards: true);
            var after = Tags(list, slots, backwards: false);
            var pairs = 0;
            while (pairs < before.Count && pairs < after.Count
                && slots.Tokens[before[pairs].Index].Name == "for" && slots.Tokens[after[pairs].Index].Name == "endfor")
            {
                pairs++;
            }
            // before runs outwards from the list, after likewise: the innermost pairs are moved.
            for (var i = 0; i < pairs; i++)
            {
                list.InsertBefore(before[i].Node, list.FirstChild);
                list.AppendChild(after[i].Node);
            }
        }

        static List<(INode Node, int Index)> Tags(IElement list, Placeholders slots, bool backwards)
        {
            var found = new List<(INode, int)>();
            for (var node = backwards ? list.PreviousSibling : list.NextSibling; node is not null; node = backwards ? node.PreviousSibling : node.NextSibling)
            {
                if (node is IText text && string.IsNullOrWhiteSpace(text.Data))
                {
                    continue;
                }
                if (node is not IComment comment || slots.IndexOfComment(comment.Data) is not (>= 0 and var index))
                {
                    break;
                }
                found.Add((node, index));
            }
            return found;
        }
    }

    /// <summary>Normal e-mail markup (tables, images, inline styles, links) stays; scripts, forms, frames, event
    /// handlers and unsafe addresses go.</summary>
    private static HtmlSanitizer Sanitizer(Placeholders slots)
    {
        var sanitizer = new HtmlSanitizer();
        foreach (var tag in new[] { "form", "input", "button", "select", "option", "optgroup", "textarea", "keygen", "datalist", "output", "progress", "meter", "fieldset", "legend", "label", "menu", "menuitem" })
        {
            sanitizer.AllowedTags.Remove(tag);
        }
        sanitizer.AllowedSchemes.Add("mailto");
        sanitizer.AllowedSchemes.Add("tel");
        sanitizer.AllowedAttributes.Add("class");
        sanitizer.AllowedAttributes.Add("role");
        sanitizer.AllowedClasses.Add("button");
        sanitizer.RemovingComment += (_, e) => e.Cancel = slots.IndexOfComment(e.Comment.Data) >= 0;
        return sanitizer;
    }

    /// <summary>
    /// Inline styles, since many mail clients ignore style sheets: spacing for text blocks, the brand colour on links,
    /// buttons for links marked <c>{.button}</c> (Markdown) or <c>class="button"</c> (HTML), images that shrink on
    /// phones. The owner's own styles win. Then the links that are checked per message are marked.
    /// </summary>
    private static void Decorate(IElement body, Brand brand, BodyFormat format, Placeholders slots, LinkMarkers markers)
    {
        var primary = Brand.SafeColor(brand.PrimaryColor, "#3558d8");
        foreach (var element in body.QuerySelectorAll("*"))
        {
            var style = element.GetAttribute("style");
            if (style is not null)
            {
                // The sanitiser writes colours as rgba(), which Outlook on Windows does not understand.
                style = OpaqueRgba().Replace(style, m => "#" + string.Concat(Enumerable.Range(1, 3).Select(g => int.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture).ToString("x2", CultureInfo.InvariantCulture))));
                element.SetAttribute("style", style);
            }
            var name = element.LocalName;
            if (name is "a" or "area")
            {
                if (element.ClassList.Contains("button"))
                {
                    element.SetAttribute("style", $"display:inline-block;padding:12px 22px;background-color:{primary};color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold;" + (style ?? ""));
                }
                else if (style is null || !style.Contains("color", StringComparison.OrdinalIgnoreCase))
                {
                    element.SetAttribute("style", $"color:{primary};" + (style ?? ""));
                }
                if (element.GetAttribute("href") is { } href && PlainText.Tracked(href.Trim(), slots))
                {
                    element.SetAttribute("href", markers.Start + href.Trim() + markers.End);
                }
                continue;
            }
            if (style is null && DefaultStyle(name, format) is { } defaults)
            {
                element.SetAttribute("style", defaults);
            }
        }
    }

    private static string? DefaultStyle(string element, BodyFormat format) => element switch
    {
        "p" => "margin:0 0 16px 0;",
        "h1" => "margin:0 0 16px 0;font-size:26px;line-height:1.25;",
        "h2" => "margin:24px 0 12px 0;font-size:21px;line-height:1.3;",
        "h3" => "margin:20px 0 8px 0;font-size:18px;line-height:1.3;",
        "h4" or "h5" or "h6" => "margin:16px 0 8px 0;font-size:16px;",
        "ul" or "ol" => "margin:0 0 16px 0;padding:0 0 0 24px;",
        "li" => "margin:0 0 4px 0;",
        "blockquote" => "margin:0 0 16px 0;padding:0 0 0 14px;border-left:3px solid #d0d5dd;",
        "img" => "max-width:100%;height:auto;border:0;",
        "pre" => "margin:0 0 16px 0;padding:12px;background-color:#f4f5f7;white-space:pre-wrap;font-family:Menlo,Consolas,monospace;font-size:14px;",
        "code" => "font-family:Menlo,Consolas,monospace;font-size:14px;",
        "hr" => "border:0;border-top:1px solid #e4e7eb;margin:24px 0;",
        // Markdown tables have no styling of their own; an HTML author's layout tables keep theirs.
        "table" when format == BodyFormat.Markdown => "border-collapse:collapse;margin:0 0 16px 0;",
        "th" or "td" when format == BodyFormat.Markdown => "padding:6px 10px;border:1px solid #e4e7eb;text-align:left;",
        _ => null,
    };
}
