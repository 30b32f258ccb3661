using System.Globalization;
using System.Net.Mail;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading.RateLimiting;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Forms;

/// <summary>
/// The public side of forms: <c>GET /f/{slug}</c> renders the form as plain server HTML (no script needed, fast,
/// labelled for screen readers), <c>POST /f/{slug}</c> takes a submission, <c>GET /f/confirm/{token}</c> confirms a
/// double opt-in. Spam is kept out by a honeypot field, a minimum fill time and a per-address rate limit; a rejected
/// submission creates nothing.
/// </summary>
internal static class PublicForms
{
    public const string RateLimitPolicy = "forms";
    internal const string Honeypot = "website";
    internal const string TimeToken = "_t";
    private static readonly string[] UtmKeys = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    public static IServiceCollection AddPublicForms(this IServiceCollection services, IConfiguration config)
    {
        var perMinute = config.GetValue("Clientele:Forms:SubmissionsPerMinutePerAddress", 10);
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(RateLimitPolicy, http => RateLimitPartition.GetFixedWindowLimiter(
                http.Connection.RemoteIpAddress?.ToString() ?? "local",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
            o.OnRejected = async (context, ct) =>
            {
                context.HttpContext.Response.ContentType = "text/html; charset=utf-8";
                await context.HttpContext.Response.WriteAsync(Page("Too many submissions",
                    "<p>Too many submissions from your address in a short time. Please wait a minute and try again.</p>", embed: false), ct);
            };
        });
        return services;
    }

    public static IEndpointRouteBuilder MapPublicForms(this IEndpointRouteBuilder app)
    {
        app.MapGet("/f/{slug}", Show).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/f/{slug}", SubmitAsync).AllowAnonymous().DisableAntiforgery().RequireRateLimiting(RateLimitPolicy).ExcludeFromDescription();
        app.MapGet("/f/confirm/{token}", ConfirmAsync).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static IDataProtector Protector(IDataProtectionProvider provider, string purpose) => provider.CreateProtector("Clientele.Forms." + purpose);

    private static async Task<IResult> Show(string slug, HttpRequest request, ClienteleDb db, IDataProtectionProvider protection, TimeProvider time, CancellationToken ct)
    {
        var form = await db.Forms.AsNoTracking().FirstOrDefaultAsync(f => f.Slug == slug && f.Active, ct);
        if (form is null)
        {
            return NotFound();
        }
        var carried = new Dictionary<string, string>();
        foreach (var key in UtmKeys)
        {
            if (request.Query[key].ToString() is { Length: > 0 } value)
            {
                carried[key] = value;
            }
        }
        if (request.Headers.Referer.ToString() is { Length: > 0 } referrer)
        {
            carried["_referrer"] = referrer;
        }
        if (Referrals.ReferralLinks.Incoming(request) is { } referralCode)
        {
            carried[Referrals.ReferralLinks.Field] = referralCode;
        }
        var token = Protector(protection, "time").Protect(time.GetUtcNow().UtcTicks.ToString(CultureInfo.InvariantCulture));
        return HtmlResult(StatusCodes.Status200OK, Render(form, new Dictionary<string, string>(), new Dictionary<string, string>(), carried, token, request.Query["embed"] == "1"));
    }

    private static async Task<IResult> SubmitAsync(string slug, HttpRequest request, ClienteleDatabase database, IDataProtectionProvider protection,
        TimeProvider time, IConfiguration config, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        var form = await db.Forms.AsNoTracking().FirstOrDefaultAsync(f => f.Slug == slug && f.Active, ct);
        if (form is null)
        {
            return NotFound();
        }
        if (!request.HasFormContentType)
        {
            return HtmlResult(StatusCodes.Status415UnsupportedMediaType, Page("Not a form", "<p>Send the form as application/x-www-form-urlencoded or multipart/form-data.</p>", false));
        }
        var posted = await request.ReadFormAsync(ct);
        var embed = posted["_embed"] == "1";
        var carried = posted.Keys.Where(k => UtmKeys.Contains(k) || k is "_referrer" or "_lp" or Referrals.ReferralLinks.Field).ToDictionary(k => k, k => posted[k].ToString());

        // Spam: a filled honeypot, a missing or forged time token, or a form filled faster than a person can.
        var minSeconds = config.GetValue("Clientele:Forms:MinimumFillSeconds", 2.0);
        if (posted[Honeypot].ToString().Length > 0 || !FilledSlowly(protection, posted[TimeToken], now, minSeconds))
        {
            return HtmlResult(StatusCodes.Status422UnprocessableEntity, Page(form.Title,
                "<p role=\"alert\">Your submission could not be accepted. Please reload the page, fill in the form and send it again.</p>", embed));
        }

        var fields = form.FieldList;
        var values = fields.ToDictionary(f => f.Name, f => posted[f.Name].ToString().Trim());
        var consentGiven = posted["consent"] == "yes";
        var errors = Validate(fields, values);
        if (errors.Count > 0)
        {
            var token = Protector(protection, "time").Protect(time.GetUtcNow().UtcTicks.ToString(CultureInfo.InvariantCulture));
            return HtmlResult(StatusCodes.Status400BadRequest, Render(form, values, errors, carried, token, embed, consentGiven));
        }

        var changes = new ContactChanges { Email = values["email"] };
        var attributes = new Dictionary<string, System.Text.Json.Nodes.JsonNode?>();
        foreach (var field in fields.Where(f => f.Name != "email" && values[f.Name].Length > 0))
        {
            if (FormRules.ContactFields.Contains(field.Name))
            {
                changes.Fields[field.Name] = values[field.Name];
            }
            else
            {
                attributes[field.Name] = field.Type == "checkbox" ? values[field.Name] == "yes" : values[field.Name];
            }
        }
        if (attributes.Count > 0)
        {
            changes.Attributes = attributes;
        }
        if (consentGiven && form.ConsentWording is { Length: > 0 })
        {
            foreach (var topic in form.Topics)
            {
                changes.Consent[topic] = form.DoubleOptIn ? ConsentStatus.Pending : ConsentStatus.Subscribed;
            }
            changes.ConsentWording = form.ConsentWording;
        }
        var origin = "form:" + form.Slug;
        using (await database.EnterWriteAsync(ct))
        {
            var existing = await db.Contacts.FirstOrDefaultAsync(c => c.EmailNormalized == Contact.Normalize(values["email"]), ct);
            if (existing is null)
            {
                // Where a new contact came from is kept; a later form does not rewrite it.
                changes.Fields["source"] = origin;
                changes.Fields["referrer"] = carried.GetValueOrDefault("_referrer");
                changes.Fields["utmSource"] = carried.GetValueOrDefault("utm_source");
                changes.Fields["utmMedium"] = carried.GetValueOrDefault("utm_medium");
                changes.Fields["utmCampaign"] = carried.GetValueOrDefault("utm_campaign");
                changes.Fields["utmTerm"] = carried.GetValueOrDefault("utm_term");
                changes.Fields["utmContent"] = carried.GetValueOrDefault("utm_content");
            }
            var outcome = await ContactStore.ApplyAsync(db, existing, changes, origin, now, ct);
            var contact = outcome.Contact!;
            db.Events.Add(new Event
            {
                ContactId = contact.Id,
                Type = "form.submitted",
                OccurredAt = now,
                ReceivedAt = now,
                Source = "form",
                // Every value sent is kept here, so a later submission that changes a field loses no history.
                Properties = JsonSerializer.Serialize(new
                {
                    form = form.Slug,
                    fields = values,
                    consent = consentGiven,
                    consentWording = consentGiven ? form.ConsentWording : null,
                    topics = consentGiven ? form.Topics : [],
                    utm = UtmKeys.Where(carried.ContainsKey).ToDictionary(k => k[4..], k => carried[k]),
                    referrer = carried.GetValueOrDefault("_referrer"),
                    // Read by the referral programme: the friend came by a referrer's link.
                    referralCode = Referrals.ReferralLinks.Submitted(carried.GetValueOrDefault(Referrals.ReferralLinks.Field), request),
                }, EventJson.Options),
            });
            if (consentGiven && form.DoubleOptIn && form.Topics.Count > 0 && form.ConsentWording is { Length: > 0 })
            {
                var token = Protector(protection, "confirm").ToTimeLimitedDataProtector()
                    .Protect($"{contact.Id:N}|{form.Id:N}", TimeSpan.FromDays(7));
                var link = $"{request.Scheme}://{request.Host}/f/confirm/{token}";
                await Outbox.Outbox.EnqueueAsync(db, new Outbox.OutboxMessage
                {
                    ContactId = contact.Id,
                    To = contact.Email!,
                    Subject = $"Please confirm: {form.Title}",
                    TextBody = $"Please confirm that you want this:\n\n\"{form.ConsentWording}\"\n\nConfirm: {link}\n\nIf you did not ask for it, ignore this message and nothing will be sent.",
                    Kind = "confirmation",
                    Class = Outbox.MessageClass.Transactional,
                    IdempotencyKey = $"confirm:{form.Id:N}:{contact.Id:N}:{now:yyyyMMdd}",
                    CreatedAt = now,
                }, ct);
            }
            await db.Forms.Where(f => f.Id == form.Id).ExecuteUpdateAsync(s => s.SetProperty(f => f.Submissions, f => f.Submissions + 1), ct);
            // Sent from a landing page: the variant the visitor saw converted.
            if (carried.GetValueOrDefault("_lp") is { } variant && ReadVariantToken(protection, variant) is { } variantId)
            {
                await db.LandingVariants.Where(v => v.Id == variantId).ExecuteUpdateAsync(s => s.SetProperty(v => v.Conversions, v => v.Conversions + 1), ct);
            }
            await db.SaveChangesAsync(ct);
        }
        if (form.RedirectUrl is { Length: > 0 } redirect)
        {
            return Results.Redirect(redirect);
        }
        var thanks = form.ThankYouText is { Length: > 0 } text ? text : "Thank you!";
        var confirmNote = consentGiven && form.DoubleOptIn && form.Topics.Count > 0
            ? "<p>We have sent you an e-mail: please click the link in it to confirm.</p>"
            : "";
        return HtmlResult(StatusCodes.Status200OK, Page(form.Title, $"<p role=\"status\">{Html.Encode(thanks)}</p>{confirmNote}", embed));
    }

    private static async Task<IResult> ConfirmAsync(string token, ClienteleDatabase database, IDataProtectionProvider protection, TimeProvider time, CancellationToken ct)
    {
        string payload;
        try
        {
            payload = Protector(protection, "confirm").ToTimeLimitedDataProtector().Unprotect(token);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return HtmlResult(StatusCodes.Status400BadRequest, Page("Link not valid",
                "<p>This confirmation link is not valid or has expired (links last 7 days). Please sign up again.</p>", false));
        }
        var parts = payload.Split('|');
        var contactId = Guid.ParseExact(parts[0], "N");
        var formId = Guid.ParseExact(parts[1], "N");
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        var form = await db.Forms.AsNoTracking().FirstOrDefaultAsync(f => f.Id == formId, ct);
        using (await database.EnterWriteAsync(ct))
        {
            var contact = await db.Contacts.FirstOrDefaultAsync(c => c.Id == contactId, ct);
            if (contact is null || form is null)
            {
                return HtmlResult(StatusCodes.Status404NotFound, Page("Not found", "<p>There is nothing to confirm any more.</p>", false));
            }
            var changes = new ContactChanges { ConsentWording = form.ConsentWording };
            foreach (var topic in form.Topics)
            {
                changes.Consent[topic] = ConsentStatus.Subscribed;
            }
            var outcome = await ContactStore.ApplyAsync(db, contact, changes, $"form:{form.Slug} (confirmed)", now, ct);
            await db.SaveChangesAsync(ct);
            var message = outcome.Notes.Count > 0 && !outcome.Changed
                ? "<p>You had already confirmed, or you unsubscribed since; nothing changed.</p>"
                : "<p role=\"status\">Thank you: your subscription is confirmed.</p>";
            return HtmlResult(StatusCodes.Status200OK, Page(form.Title, message, false));
        }
    }

    internal static bool FilledSlowly(IDataProtectionProvider protection, string? token, DateTime now, double minSeconds)
    {
        if (string.IsNullOrEmpty(token))
        {
            return false;
        }
        try
        {
            var ticks = long.Parse(Protector(protection, "time").Unprotect(token), CultureInfo.InvariantCulture);
            var age = now - new DateTime(ticks, DateTimeKind.Utc);
            return age >= TimeSpan.FromSeconds(minSeconds) && age <= TimeSpan.FromDays(1);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or FormatException)
        {
            return false;
        }
    }

    /// <summary>Each field's problem, by field name.</summary>
    internal static Dictionary<string, string> Validate(IReadOnlyList<FormField> fields, IReadOnlyDictionary<string, string> values)
    {
        var errors = new Dictionary<string, string>();
        foreach (var f in fields)
        {
            var value = values.GetValueOrDefault(f.Name) ?? "";
            if (value.Length == 0)
            {
                if (f.Required)
                {
                    errors[f.Name] = f.Type == "checkbox" ? "Please tick this box." : $"Please fill in {f.Label.ToLowerInvariant()}.";
                }
                continue;
            }
            if (value.Length > 2000)
            {
                errors[f.Name] = "This is too long (at most 2,000 characters).";
            }
            else if ((f.Type == "email" || f.Name == "email") && !IsEmail(value))
            {
                errors[f.Name] = "Please enter an e-mail address such as ann@example.com.";
            }
            else if (f.Type == "number" && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                errors[f.Name] = "Please enter a number.";
            }
            else if (f.Type == "select" && !(f.Options ?? []).Contains(value))
            {
                errors[f.Name] = "Please choose one of the options.";
            }
        }
        return errors;
    }

    private static bool IsEmail(string value) =>
        MailAddress.TryCreate(value, out var address) && address.Address == value && value.Contains('.', StringComparison.Ordinal);

    private static string Render(Form form, IReadOnlyDictionary<string, string> values, IReadOnlyDictionary<string, string> errors,
        IReadOnlyDictionary<string, string> carried, string timeToken, bool embed, bool consentChecked = false) =>
        Page(form.Title, FormHtml(form, values, errors, carried, timeToken, embed, consentChecked), embed);

    /// <summary>The form itself (intro, errors, inputs, consent, spam guards), for a page of its own or under landing-page content.</summary>
    internal static string FormHtml(Form form, IReadOnlyDictionary<string, string> values, IReadOnlyDictionary<string, string> errors,
        IReadOnlyDictionary<string, string> carried, string timeToken, bool embed, bool consentChecked = false)
    {
        var h = new StringBuilder();
        if (form.Intro is { Length: > 0 } intro)
        {
            h.Append("<p>").Append(Html.Encode(intro)).Append("</p>");
        }
        if (errors.Count > 0)
        {
            h.Append("<div role=\"alert\" class=\"errors\"><p>Please correct ").Append(errors.Count == 1 ? "the field" : "the fields").Append(" marked below.</p></div>");
        }
        h.Append("<form method=\"post\" action=\"/f/").Append(Html.Encode(form.Slug)).Append("\" novalidate>");
        foreach (var f in form.FieldList)
        {
            var id = "f-" + f.Name;
            var value = values.GetValueOrDefault(f.Name) ?? "";
            var error = errors.GetValueOrDefault(f.Name);
            var described = error is null ? "" : $" aria-invalid=\"true\" aria-describedby=\"{id}-error\"";
            var required = f.Required ? " required aria-required=\"true\"" : "";
            h.Append("<div class=\"field\">");
            if (f.Type == "checkbox")
            {
                h.Append($"<label><input type=\"checkbox\" id=\"{id}\" name=\"{f.Name}\" value=\"yes\"{(value == "yes" ? " checked" : "")}{required}{described}> {Html.Encode(f.Label)}</label>");
            }
            else
            {
                h.Append($"<label for=\"{id}\">{Html.Encode(f.Label)}{(f.Required ? " <span aria-hidden=\"true\">*</span>" : "")}</label>");
                switch (f.Type)
                {
                    case "textarea":
                        h.Append($"<textarea id=\"{id}\" name=\"{f.Name}\" rows=\"4\"{required}{described}>{Html.Encode(value)}</textarea>");
                        break;
                    case "select":
                        h.Append($"<select id=\"{id}\" name=\"{f.Name}\"{required}{described}><option value=\"\"></option>");
                        foreach (var option in f.Options ?? [])
                        {
                            h.Append($"<option{(option == value ? " selected" : "")}>{Html.Encode(option)}</option>");
                        }
                        h.Append("</select>");
                        break;
                    default:
                        var type = f.Name == "email" ? "email" : f.Type;
                        var autocomplete = f.Name switch { "email" => "email", "firstName" => "given-name", "lastName" => "family-name", "phone" => "tel", _ => "on" };
                        h.Append($"<input type=\"{type}\" id=\"{id}\" name=\"{f.Name}\" value=\"{Html.Encode(value)}\" autocomplete=\"{autocomplete}\"{required}{described}>");
                        break;
                }
            }
            if (error is not null)
            {
                h.Append($"<p class=\"error\" id=\"{id}-error\">{Html.Encode(error)}</p>");
            }
            h.Append("</div>");
        }
        if (form.ConsentWording is { Length: > 0 } wording)
        {
            h.Append($"<div class=\"field\"><label><input type=\"checkbox\" name=\"consent\" value=\"yes\"{(consentChecked ? " checked" : "")}> {Html.Encode(wording)}</label></div>");
        }
        // Left empty by people (it is hidden from them and from screen readers); bots fill it in.
        h.Append(HoneypotHtml);
        h.Append($"<input type=\"hidden\" name=\"{TimeToken}\" value=\"{Html.Encode(timeToken)}\">");
        if (embed)
        {
            h.Append("<input type=\"hidden\" name=\"_embed\" value=\"1\">");
        }
        foreach (var (key, value) in carried)
        {
            h.Append($"<input type=\"hidden\" name=\"{Html.Encode(key)}\" value=\"{Html.Encode(value)}\">");
        }
        h.Append("<button type=\"submit\">Send</button></form>");
        return h.ToString();
    }

    internal static string VariantToken(IDataProtectionProvider protection, Guid variantId) => Protector(protection, "variant").Protect(variantId.ToString("N"));

    private static Guid? ReadVariantToken(IDataProtectionProvider protection, string token)
    {
        try
        {
            return Guid.TryParseExact(Protector(protection, "variant").Unprotect(token), "N", out var id) ? id : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    /// <summary>The field people never see and spam robots fill.</summary>
    internal static readonly string HoneypotHtml =
        $"<div class=\"hp\" aria-hidden=\"true\"><label for=\"f-{Honeypot}\">Leave this empty</label><input type=\"text\" id=\"f-{Honeypot}\" name=\"{Honeypot}\" tabindex=\"-1\" autocomplete=\"off\"></div>";

    internal static string NewTimeToken(IDataProtectionProvider protection, TimeProvider time) =>
        Protector(protection, "time").Protect(time.GetUtcNow().UtcTicks.ToString(CultureInfo.InvariantCulture));

    internal static string Page(string title, string body, bool embed) => $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{Html.Encode(title)}}</title>
        <style>
        body { font: 16px/1.5 system-ui, sans-serif; margin: 0; padding: {{(embed ? "8px" : "32px 16px")}}; color: #1b1b1f; background: #fff; }
        main { max-width: 32rem; margin: 0 auto; }
        .field { margin: 0 0 16px; }
        label { display: block; font-weight: 600; margin-bottom: 4px; }
        input, select, textarea { font: inherit; width: 100%; box-sizing: border-box; padding: 8px; border: 1px solid #767676; border-radius: 4px; }
        input[type=checkbox] { width: auto; }
        [aria-invalid=true] { border-color: #b3261e; }
        .error, .errors { color: #b3261e; }
        .hp { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
        button { font: inherit; padding: 10px 20px; border: 0; border-radius: 4px; background: #1a5fb4; color: #fff; cursor: pointer; }
        button:focus, input:focus, select:focus, textarea:focus { outline: 3px solid #f5c211; outline-offset: 1px; }
        </style>
        </head>
        <body><main><h1>{{Html.Encode(title)}}</h1>{{body}}</main></body>
        </html>
        """;

    internal static IResult NotFound() =>
        HtmlResult(StatusCodes.Status404NotFound, Page("Form not found", "<p>There is no such form, or it is no longer open.</p>", false));

    internal static IResult HtmlResult(int status, string html) => Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
}
