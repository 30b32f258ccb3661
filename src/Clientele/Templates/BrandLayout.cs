using System.Net;
using System.Text;

namespace Clientele.Templates;

/// <summary>
/// The frame around every message, built once per template from the brand: a 600-pixel column of tables with inline
/// styles (what Outlook, Gmail and phones all render), the logo on top, the body, and a footer with the business name,
/// postal address, footer text and the contact's links. Its few Liquid tags show the links a message has.
/// </summary>
internal static class BrandLayout
{
    private const string Font = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";

    /// <param name="Head">Everything before the body.</param>
    /// <param name="Foot">Everything after the body, with the slot for the open pixel.</param>
    /// <param name="TextFoot">The footer of the text part.</param>
    internal sealed record Frame(string Head, string Foot, string TextFoot);

    /// <param name="subject">The subject's Liquid, text already HTML-encoded, for the document title.</param>
    /// <param name="preheader">The preheader's Liquid, text already HTML-encoded; null for none.</param>
    public static Frame Build(Brand brand, string subject, string? preheader, LinkMarkers markers)
    {
        var background = Brand.SafeColor(brand.BackgroundColor, "#f4f5f7");
        var content = Brand.SafeColor(brand.ContentBackgroundColor, "#ffffff");
        var text = Brand.SafeColor(brand.TextColor, "#1f2933");
        var primary = Brand.SafeColor(brand.PrimaryColor, "#3558d8");
        var website = Brand.IsWebUrl(brand.WebsiteUrl) ? brand.WebsiteUrl : null;
        var logo = Brand.IsWebUrl(brand.LogoUrl) ? brand.LogoUrl : null;
        var name = Encode(brand.BusinessName);

        var head = new StringBuilder();
        head.Append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>\n")
            .Append("<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<meta name=\"x-apple-disable-message-reformatting\">\n<meta name=\"color-scheme\" content=\"light\">\n")
            .Append("<title>").Append(subject).Append("</title>\n")
            .Append("<style>\nbody{margin:0;padding:0;width:100%;} table{border-collapse:collapse;} img{border:0;outline:none;text-decoration:none;}\n")
            .Append("a{color:").Append(primary).Append(";}\n")
            .Append("@media only screen and (max-width:620px){.cl-column{width:100% !important;}.cl-content{padding:24px 18px !important;}}\n</style>\n")
            .Append("</head>\n<body style=\"margin:0;padding:0;background-color:").Append(background).Append(";\">\n");
        if (preheader is not null)
        {
            // Hidden text the inbox shows after the subject; the filler keeps the body's first words out of the preview.
            head.Append("<div style=\"display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all;\">")
                .Append(preheader)
                .Append(string.Concat(Enumerable.Repeat("&#847;&zwnj;&nbsp;", 40)))
                .Append("</div>\n");
        }
        head.Append("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"background-color:").Append(background).Append(";\">\n")
            .Append("<tr><td align=\"center\" style=\"padding:24px 12px;\">\n")
            .Append("<!--[if mso]><table role=\"presentation\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr><td><![endif]-->\n")
            .Append("<table role=\"presentation\" class=\"cl-column\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"width:100%;max-width:600px;\">\n");
        if (logo is not null)
        {
            var image = $"<img src=\"{Encode(logo)}\" alt=\"{name}\" width=\"160\" style=\"display:block;width:160px;max-width:160px;height:auto;border:0;\">";
            head.Append("<tr><td align=\"center\" style=\"padding:0 0 20px 0;\">")
                .Append(website is not null ? $"<a href=\"{markers.Start}{Encode(website)}{markers.End}\">{image}</a>" : image)
                .Append("</td></tr>\n");
        }
        head.Append("<tr><td class=\"cl-content\" style=\"background-color:").Append(content).Append(";padding:32px;border-radius:6px;font-family:")
            .Append(Font).Append(";font-size:16px;line-height:1.55;color:").Append(text).Append(";\">\n");

        var foot = new StringBuilder();
        foot.Append("\n</td></tr>\n<tr><td align=\"center\" style=\"padding:20px 32px;font-family:").Append(Font)
            .Append(";font-size:12px;line-height:1.6;color:#6b7280;\">\n")
            .Append("<p style=\"margin:0 0 6px 0;\"><strong>").Append(name).Append("</strong></p>\n");
        if (!string.IsNullOrWhiteSpace(brand.PostalAddress))
        {
            foot.Append("<p style=\"margin:0 0 6px 0;\">").Append(Lines(brand.PostalAddress)).Append("</p>\n");
        }
        if (!string.IsNullOrWhiteSpace(brand.FooterText))
        {
            foot.Append("<p style=\"margin:0 0 6px 0;\">").Append(Lines(brand.FooterText)).Append("</p>\n");
        }
        if (website is not null)
        {
            foot.Append("<p style=\"margin:0 0 6px 0;\"><a href=\"").Append(markers.Start).Append(Encode(website)).Append(markers.End)
                .Append("\" style=\"color:#6b7280;\">").Append(Encode(website)).Append("</a></p>\n");
        }
        const string muted = "color:#6b7280;text-decoration:underline;";
        // The unsubscribe and preference links are left unmarked: they must reach the contact exactly as made.
        foot.Append("<p style=\"margin:10px 0 0 0;\">")
            .Append("{% if links.view_online %}<a href=\"").Append(markers.Start).Append("{{ links.view_online }}").Append(markers.End)
            .Append("\" style=\"").Append(muted).Append("\">").Append(Encode(brand.ViewOnlineText)).Append("</a>&nbsp;&nbsp; {% endif %}")
            .Append("{% if links.preferences %}<a href=\"{{ links.preferences }}\" style=\"").Append(muted).Append("\">")
            .Append(Encode(brand.PreferencesText)).Append("</a>&nbsp;&nbsp; {% endif %}")
            .Append("{% if links.unsubscribe %}<a href=\"{{ links.unsubscribe }}\" style=\"").Append(muted).Append("\">")
            .Append(Encode(brand.UnsubscribeText)).Append("</a>{% endif %}")
            .Append("</p>\n</td></tr>\n</table>\n<!--[if mso]></td></tr></table><![endif]-->\n</td></tr>\n</table>\n")
            .Append(markers.Pixel)
            .Append("</body>\n</html>\n");

        var plain = new StringBuilder("\n\n--\n");
        plain.Append(Quote(brand.BusinessName.Trim())).Append('\n');
        if (!string.IsNullOrWhiteSpace(brand.PostalAddress))
        {
            plain.Append(Quote(brand.PostalAddress.Trim().ReplaceLineEndings("\n"))).Append('\n');
        }
        if (!string.IsNullOrWhiteSpace(brand.FooterText))
        {
            plain.Append(Quote(brand.FooterText.Trim().ReplaceLineEndings("\n"))).Append('\n');
        }
        if (website is not null)
        {
            plain.Append(markers.Start).Append(Quote(website)).Append(markers.End).Append('\n');
        }
        plain.Append("{% if links.view_online %}\n").Append(Quote(brand.ViewOnlineText)).Append(": ").Append(markers.Start).Append("{{ links.view_online }}").Append(markers.End).Append("{% endif %}")
            .Append("{% if links.preferences %}\n").Append(Quote(brand.PreferencesText)).Append(": {{ links.preferences }}{% endif %}")
            .Append("{% if links.unsubscribe %}\n").Append(Quote(brand.UnsubscribeText)).Append(": {{ links.unsubscribe }}{% endif %}\n");

        return new Frame(head.ToString(), foot.ToString(), plain.ToString());
    }

    /// <summary>The brand's words, encoded; line breaks kept.</summary>
    private static string Lines(string value) => string.Join("<br>", value.Trim().ReplaceLineEndings("\n").Split('\n').Select(Encode));

    private static string Encode(string? value) => Quote(WebUtility.HtmlEncode(value ?? ""));

    /// <summary>Brand text goes into Liquid source: braces in it must stay text.</summary>
    private static string Quote(string value) =>
        value.Replace("{{", "{{ \"{{\" }}", StringComparison.Ordinal).Replace("{%", "{{ \"{%\" }}", StringComparison.Ordinal);
}
