using System.Text;
using System.Text.Encodings.Web;
using Clientele.Data;
using Clientele.Events;
using Clientele.Forms;
using Clientele.Outbox;
using Microsoft.AspNetCore.DataProtection;

namespace Clientele.Support;

/// <summary>
/// <c>/contact</c>: the public contact form. A message sent there becomes a ticket, acknowledged by e-mail at once; the
/// page thanks the customer and shows the articles that may already answer it. Spam is kept out as on hosted forms (a
/// honeypot, a minimum fill time, the per-address rate limit).
/// </summary>
internal static class ContactPage
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    public static void MapContactPage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/contact", Show).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/contact", SubmitAsync).AllowAnonymous().DisableAntiforgery().RequireRateLimiting(PublicForms.RateLimitPolicy).ExcludeFromDescription();
    }

    private static IResult Show(HttpContext http, IDataProtectionProvider protection, TimeProvider time)
    {
        http.Response.Headers.CacheControl = "no-store";
        return PublicForms.HtmlResult(StatusCodes.Status200OK, Render(new Dictionary<string, string>(), new Dictionary<string, string>(), PublicForms.NewTimeToken(protection, time)));
    }

    private static string Render(IReadOnlyDictionary<string, string> values, IReadOnlyDictionary<string, string> errors, string token)
    {
        var h = new StringBuilder("<p>Ask us anything. We answer within a day, and you will get a confirmation by e-mail right away.</p>");
        if (errors.Count > 0)
        {
            h.Append("<p class=\"errors\" role=\"alert\">Please correct the fields marked below.</p>");
        }
        h.Append("<form method=\"post\" action=\"/contact\" novalidate>");
        Field(h, "name", "Your name", "text", values, errors, "autocomplete=\"name\"");
        Field(h, "email", "Your e-mail", "email", values, errors, "required autocomplete=\"email\"");
        Field(h, "subject", "Subject", "text", values, errors, "required maxlength=\"300\"");
        Field(h, "message", "Your message", "textarea", values, errors, "required rows=\"8\" maxlength=\"20000\"");
        h.Append(PublicForms.HoneypotHtml);
        h.Append($"<input type=\"hidden\" name=\"{PublicForms.TimeToken}\" value=\"{Html.Encode(token)}\">");
        h.Append("<button type=\"submit\">Send</button></form>");
        h.Append("<p><a href=\"/kb\">Browse the help articles</a></p>");
        return PublicForms.Page("Contact us", h.ToString(), false);
    }

    private static void Field(StringBuilder h, string name, string label, string type, IReadOnlyDictionary<string, string> values,
        IReadOnlyDictionary<string, string> errors, string attributes)
    {
        var value = Html.Encode(values.GetValueOrDefault(name) ?? "");
        var error = errors.GetValueOrDefault(name);
        var invalid = error is null ? "" : $" aria-invalid=\"true\" aria-describedby=\"e-{name}\"";
        h.Append($"<div class=\"field\"><label for=\"f-{name}\">{label}</label>");
        h.Append(type == "textarea"
            ? $"<textarea id=\"f-{name}\" name=\"{name}\" {attributes}{invalid}>{value}</textarea>"
            : $"<input type=\"{type}\" id=\"f-{name}\" name=\"{name}\" value=\"{value}\" {attributes}{invalid}>");
        if (error is not null)
        {
            h.Append($"<div class=\"error\" id=\"e-{name}\">{Html.Encode(error)}</div>");
        }
        h.Append("</div>");
    }

    private static async Task<IResult> SubmitAsync(HttpRequest request, ClienteleDatabase database, IDataProtectionProvider protection, MailLinks links,
        EventSignal signal, OutboxSignal outbox, TimeProvider time, IConfiguration config, CancellationToken ct)
    {
        if (!request.HasFormContentType)
        {
            return PublicForms.HtmlResult(StatusCodes.Status415UnsupportedMediaType, PublicForms.Page("Not a form",
                "<p>Send the form as application/x-www-form-urlencoded or multipart/form-data.</p>", false));
        }
        var now = time.GetUtcNow().UtcDateTime;
        var posted = await request.ReadFormAsync(ct);
        var minSeconds = config.GetValue("Clientele:Forms:MinimumFillSeconds", 2.0);
        if (posted[PublicForms.Honeypot].ToString().Length > 0 || !PublicForms.FilledSlowly(protection, posted[PublicForms.TimeToken], now, minSeconds))
        {
            return PublicForms.HtmlResult(StatusCodes.Status422UnprocessableEntity, PublicForms.Page("Contact us",
                "<p role=\"alert\">Your message could not be accepted. Please reload the page, fill in the form and send it again.</p>", false));
        }
        var values = new[] { "name", "email", "subject", "message" }.ToDictionary(k => k, k => posted[k].ToString().Trim());
        var errors = new Dictionary<string, string>();
        if (!EventRules.IsValidEmail(values["email"]))
        {
            errors["email"] = "Enter the e-mail address we should answer to.";
        }
        if (values["subject"].Length is 0 or > 300)
        {
            errors["subject"] = "Enter a subject (up to 300 characters).";
        }
        if (values["message"].Length is 0 or > 20_000)
        {
            errors["message"] = "Enter your message (up to 20,000 characters).";
        }
        if (values["name"].Length > 200)
        {
            errors["name"] = "Enter a name of up to 200 characters.";
        }
        if (errors.Count > 0)
        {
            return PublicForms.HtmlResult(StatusCodes.Status400BadRequest, Render(values, errors, PublicForms.NewTimeToken(protection, time)));
        }
        var inquiry = new Inquiry(values["email"], values["name"].Length > 0 ? values["name"] : null, values["subject"], values["message"], "form");
        var (_, error) = await TicketsApi.TakeInAsync(database, inquiry, links, now, ct);
        if (error is not null)
        {
            return PublicForms.HtmlResult(StatusCodes.Status400BadRequest, Render(values, new Dictionary<string, string> { ["email"] = error.Message },
                PublicForms.NewTimeToken(protection, time)));
        }
        signal.Notify();
        outbox.Notify();
        await using var db = database.CreateDbContext();
        var articles = await SupportDesk.ArticlesAsync(db, links, inquiry.Subject + "\n" + inquiry.Body, 3, ct);
        var thanks = new StringBuilder("<p role=\"status\">Thank you. We have your message and will answer by e-mail; a confirmation is on its way.</p>");
        if (articles.Count > 0)
        {
            thanks.Append("<p>Meanwhile, these articles may answer it:</p><ul>");
            foreach (var a in articles)
            {
                thanks.Append($"<li><a href=\"{Html.Encode(a.Url)}\">{Html.Encode(a.Title)}</a></li>");
            }
            thanks.Append("</ul>");
        }
        return PublicForms.HtmlResult(StatusCodes.Status200OK, PublicForms.Page("Message sent", thanks.ToString(), false));
    }
}
