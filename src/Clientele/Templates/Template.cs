namespace Clientele.Templates;

/// <summary>A message the owner wrote once and sends again: from broadcasts and, later, journeys.</summary>
internal sealed class Template
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string Subject { get; set; } = "";
    public string Body { get; set; } = "";

    /// <summary>"markdown" or "html".</summary>
    public string Format { get; set; } = "markdown";

    public string? Preheader { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>Adds what is missing or wrong in a message's subject, body and format to <paramref name="errors"/>; returns the format.</summary>
    public static string CheckContent(string? subject, string? body, string? format, List<Api.FieldError> errors)
    {
        if (string.IsNullOrWhiteSpace(subject))
        {
            errors.Add(new("/subject", "A subject is needed."));
        }
        if (string.IsNullOrWhiteSpace(body))
        {
            errors.Add(new("/body", "A body is needed."));
        }
        var normalized = (format ?? "markdown").Trim().ToLowerInvariant();
        if (normalized is not ("markdown" or "html"))
        {
            errors.Add(new("/format", "Format is \"markdown\" or \"html\"."));
        }
        return normalized;
    }

    public TemplateSource Source() => new(Subject, Body, Format == "html" ? BodyFormat.Html : BodyFormat.Markdown, Preheader);
}
