using System.Text.Json;
using Clientele.Templates;

namespace Clientele.Tests.Templates;

/// <summary>A brand and a contact to render with; each test changes what it is about.</summary>
internal static class Messages
{
    public static readonly DateTimeOffset Now = new(2026, 11, 23, 20, 0, 0, TimeSpan.Zero);

    public static Brand Brand() => new()
    {
        BusinessName = "Bean & Co",
        PostalAddress = "12 Harbour Street\nWellington 6011",
        FooterText = "You receive this because you bought from us.",
    };

    public static MessageModel Model(string? firstName = "Ann", string? zone = "UTC", string? locale = null, MessageLinks? links = null,
        IReadOnlyList<MessageRecommendation>? recommendations = null, MessageOrder? order = null, IReadOnlyDictionary<string, object?>? data = null,
        string attributes = "{}", IReadOnlyList<string>? tags = null) => new()
        {
            Contact = new MessageContact
            {
                Id = Guid.Parse("0190b2a8-0000-7000-8000-000000000001"),
                Email = "ann@example.com",
                FirstName = firstName,
                LastName = "Lee",
                TimeZone = zone,
                Locale = locale,
                Tags = tags ?? ["vip"],
                Attributes = MessageContact.ParseAttributes(attributes),
                Birthday = new DateOnly(1990, 11, 25),
                CreatedAt = Now.AddDays(-400),
            },
            Links = links ?? new MessageLinks { Unsubscribe = "https://app.example/u/abc", Preferences = "https://app.example/p/abc" },
            Recommendations = recommendations ?? [],
            Order = order,
            Data = data,
            Now = Now,
        };

    public static CompiledMessage Markdown(string body, string subject = "Hello", string? preheader = null, Brand? brand = null, RenderLimits? limits = null) =>
        MessageTemplate.Compile(new TemplateSource(subject, body, BodyFormat.Markdown, preheader), brand ?? Brand(), limits);

    public static CompiledMessage Html(string body, string subject = "Hello", Brand? brand = null) =>
        MessageTemplate.Compile(new TemplateSource(subject, body, BodyFormat.Html), brand ?? Brand());

    /// <summary>The body part of the HTML: between the layout's content cell and its footer.</summary>
    public static string Body(string html)
    {
        var start = html.IndexOf("class=\"cl-content\"", StringComparison.Ordinal);
        start = html.IndexOf('>', start) + 1;
        var end = html.IndexOf("\n</td></tr>\n<tr><td align=\"center\"", start, StringComparison.Ordinal);
        return html[start..end].Trim();
    }

    /// <summary>The text part without the brand footer.</summary>
    public static string TextBody(string text) => text[..text.IndexOf("\n--\n", StringComparison.Ordinal)].Trim();

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
