namespace Clientele.Templates;

/// <summary>How the body of a template is written.</summary>
internal enum BodyFormat
{
    /// <summary>Markdown with Liquid in it; turned into HTML once, when the template is compiled.</summary>
    Markdown,

    /// <summary>HTML with Liquid in it; sanitised once, when the template is compiled.</summary>
    Html,
}

/// <summary>What the owner writes: a Liquid subject, a Liquid body in Markdown or HTML, and an optional preheader
/// (the line an inbox shows after the subject).</summary>
internal sealed record TemplateSource(string Subject, string Body, BodyFormat Format = BodyFormat.Markdown, string? Preheader = null);

/// <summary>Where a template is wrong: the part ("subject", "preheader" or "body"), a 1-based line and column in that
/// part as the owner wrote it, and a plain message.</summary>
internal sealed record TemplateError(string Part, int Line, int Column, string Message)
{
    public override string ToString() =>
        $"{char.ToUpperInvariant(Part[0])}{Part[1..]}, line {Line}, column {Column}: {Message}";
}

/// <summary>A template that cannot be compiled; <see cref="Error"/> says where and why.</summary>
internal sealed class TemplateCompileException(TemplateError error) : Exception(error.ToString())
{
    public TemplateError Error { get; } = error;
}

/// <summary>A message that could not be rendered for one contact (a limit was hit, or a value misbehaved). The
/// message is plain enough to show to the owner.</summary>
internal sealed class TemplateRenderException(string message, Exception? inner = null) : Exception(message, inner);
