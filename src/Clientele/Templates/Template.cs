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

    public TemplateSource Source() => new(Subject, Body, Format == "html" ? BodyFormat.Html : BodyFormat.Markdown, Preheader);
}
