namespace Clientele.Web;

/// <summary>
/// Headers that keep a browser from being turned against the business or its customers: a content security policy
/// (scripts only from Clientele itself, no plug-ins, no framing except the pages made for an iframe), no content-type
/// guessing, a referrer policy, no camera/microphone/location, and HSTS when the request came over HTTPS. A page that
/// sets its own policy (the review widget) keeps it.
/// </summary>
internal static class SecurityHeaders
{
    /// <summary>
    /// The back office and public pages. Styles may be inline (MudBlazor sets them per element); e-mail previews sit in
    /// sandboxed frames with images from anywhere over HTTPS.
    /// </summary>
    public const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; font-src 'self' data:; " +
        "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>The API reference at /docs, whose page is configured by an inline script.</summary>
    public const string DocsPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; font-src 'self' data: https:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            var path = context.Request.Path;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            if (context.Request.IsHttps)
            {
                headers.StrictTransportSecurity = "max-age=31536000";
            }
            // Blazor puts "frame-ancestors 'self'" on its pages; the full policy below replaces it.
            if (string.IsNullOrEmpty(headers.ContentSecurityPolicy) || headers.ContentSecurityPolicy == "frame-ancestors 'self'")
            {
                var policy = path.StartsWithSegments("/docs") || path.StartsWithSegments("/scalar") ? DocsPolicy : Policy;
                if (path.StartsWithSegments("/f"))
                {
                    // Hosted forms are made to be framed by the business's own site (the embed snippet).
                    policy = policy.Replace("frame-ancestors 'none'", "frame-ancestors *", StringComparison.Ordinal);
                }
                else
                {
                    headers.XFrameOptions = "DENY";
                }
                headers.ContentSecurityPolicy = policy;
            }
            return Task.CompletedTask;
        });
        return next(context);
    });
}
