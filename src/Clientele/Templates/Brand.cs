using System.Text.RegularExpressions;

namespace Clientele.Templates;

/// <summary>
/// How the business's messages look and whom they come from: plain data, stored as JSON in settings. Every message is
/// wrapped in a layout built from it, with the postal address and the unsubscribe link in the footer.
/// </summary>
internal sealed partial class Brand
{
    public string BusinessName { get; set; } = "Our shop";

    /// <summary>An http(s) image shown at the top of every message; other schemes are ignored.</summary>
    public string? LogoUrl { get; set; }

    /// <summary>Links and buttons. Hex only (#rgb or #rrggbb), so a colour can never end the CSS it sits in.</summary>
    public string PrimaryColor { get; set; } = "#3558d8";

    /// <summary>Around the message.</summary>
    public string BackgroundColor { get; set; } = "#f4f5f7";

    /// <summary>Behind the message's text.</summary>
    public string ContentBackgroundColor { get; set; } = "#ffffff";

    public string TextColor { get; set; } = "#1f2933";

    /// <summary>The law in most places wants it in every marketing message; shown in the footer as written.</summary>
    public string PostalAddress { get; set; } = "";

    public string? FooterText { get; set; }

    public string? WebsiteUrl { get; set; }

    public string FromName { get; set; } = "Our shop";

    public string FromAddress { get; set; } = "hello@example.com";

    public string? ReplyTo { get; set; }

    /// <summary>The footer's link words, in the business's language.</summary>
    public string UnsubscribeText { get; set; } = "Unsubscribe";

    public string PreferencesText { get; set; } = "Email preferences";

    public string ViewOnlineText { get; set; } = "View in browser";

    /// <summary>ISO 4217 code used by <c>money</c> when a template gives none.</summary>
    public string Currency { get; set; } = "USD";

    [GeneratedRegex("^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")]
    private static partial Regex HexColor();

    /// <summary>What is wrong with the brand, in words for the settings page; empty when nothing is.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(BusinessName))
        {
            problems.Add("The business name is required.");
        }
        foreach (var (name, value) in new[] { ("Primary colour", PrimaryColor), ("Background colour", BackgroundColor), ("Content background colour", ContentBackgroundColor), ("Text colour", TextColor) })
        {
            if (!IsColor(value))
            {
                problems.Add($"{name} must be a hex colour such as #3558d8.");
            }
        }
        if (string.IsNullOrWhiteSpace(PostalAddress))
        {
            problems.Add("The postal address is required: it is shown in the footer of every message.");
        }
        if (LogoUrl is { Length: > 0 } && !IsWebUrl(LogoUrl))
        {
            problems.Add("The logo must be an http or https address.");
        }
        if (WebsiteUrl is { Length: > 0 } && !IsWebUrl(WebsiteUrl))
        {
            problems.Add("The website must be an http or https address.");
        }
        if (string.IsNullOrWhiteSpace(FromAddress) || !FromAddress.Contains('@', StringComparison.Ordinal))
        {
            problems.Add("The sender address must be an e-mail address.");
        }
        if (Currency is not { Length: 3 } || !Currency.All(char.IsAsciiLetter))
        {
            problems.Add("The currency must be a three-letter code such as USD or EUR.");
        }
        return problems;
    }

    public static bool IsColor(string? value) => value is not null && HexColor().IsMatch(value);

    /// <summary>The colour if it is a valid hex colour, else the fallback: a bad setting changes a colour, never the
    /// markup.</summary>
    public static string SafeColor(string? value, string fallback) => IsColor(value) ? value! : fallback;

    public static bool IsWebUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
}
