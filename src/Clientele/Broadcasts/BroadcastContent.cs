using Clientele.Templates;

namespace Clientele.Broadcasts;

/// <summary>A broadcast's subject and body as templates, and the first problem in them with its place.</summary>
internal static class BroadcastContent
{
    internal sealed record Problem(string Message, string Pointer, int Line, int Column);

    public static TemplateSource Source(Broadcast b, string? variant) => variant == "B"
        ? new TemplateSource(b.SubjectB ?? b.Subject, b.BodyB ?? b.Body, FormatOf(b.Format), b.Preheader)
        : new TemplateSource(b.Subject, b.Body, FormatOf(b.Format), b.Preheader);

    public static BodyFormat FormatOf(string format) => format == "html" ? BodyFormat.Html : BodyFormat.Markdown;

    /// <summary>Compiles each variant once; null when both are fine.</summary>
    public static Problem? Check(Broadcast b)
    {
        foreach (var variant in b.SubjectB is null ? new[] { "A" } : ["A", "B"])
        {
            try
            {
                MessageTemplate.Compile(Source(b, variant), new Brand());
            }
            catch (TemplateCompileException ex)
            {
                var pointer = ex.Error.Part switch
                {
                    "subject" => variant == "B" ? "/abTest/subject" : "/subject",
                    "preheader" => "/preheader",
                    _ => variant == "B" ? "/abTest/body" : "/body",
                };
                return new Problem(ex.Error.ToString(), pointer, ex.Error.Line, ex.Error.Column);
            }
        }
        return null;
    }
}
