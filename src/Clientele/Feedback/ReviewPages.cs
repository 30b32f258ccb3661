using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Clientele.Forms;
using Clientele.Outbox;
using Clientele.Templates;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Feedback;

/// <summary>
/// The public review pages, plain HTML without a login: <c>/review/{token}</c>, the contact's own signed page to write a
/// review (with an unticked box to agree to its publication) and to take back the consent for earlier ones, and
/// <c>/reviews/embed</c>, the published reviews with their average for an <c>iframe</c> on the business's site.
/// </summary>
internal static partial class ReviewPages
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    public static void MapReviewPages(WebApplication app)
    {
        app.MapGet("/review/{token}", FormAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/review/{token}", SubmitAsync).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        app.MapPost("/review/{token}/withdraw", WithdrawAsync).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        app.MapGet("/reviews/embed", EmbedAsync).AllowAnonymous().ExcludeFromDescription();
        // The same files as the API's export, for the back office (signed in, no API key).
        app.MapGet("/feedback/reviews.{format}", (string format, string? sku, ClienteleDb db, CancellationToken ct) => ReviewsApi.ExportAsync(db, format, sku, ct))
            .RequireAuthorization(Clientele.Web.Access.Marketing).ExcludeFromDescription();
    }

    private static IResult Invalid() => PublicForms.HtmlResult(StatusCodes.Status400BadRequest, PublicForms.Page("Link not valid",
        "<p>This link is damaged or was not made by us. Please use the link in the e-mail we sent you.</p>", false));

    private static async Task<Contact?> ContactAsync(string token, MailLinks links, ClienteleDb db, CancellationToken ct) =>
        links.Verify("r", token) is { } id ? await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id && c.DeletedAt == null, ct) : null;

    internal static async Task<string> BusinessAsync(ClienteleDb db, CancellationToken ct) =>
        (await SettingsStore.LoadAsync(db, OutboxContent.BrandKey, new Brand(), ct)).BusinessName;

    /// <summary>What the page shows and keeps between a refused post and the next try.</summary>
    private sealed record Values(string? Rating, string Text, string NameStyle, bool Consent, string? Sku, string Nonce);

    private static async Task<IResult> FormAsync(string token, string? sku, HttpContext http, MailLinks links, ClienteleDb db, CancellationToken ct)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (await ContactAsync(token, links, db, ct) is not { } contact)
        {
            return Invalid();
        }
        var values = new Values(null, "", ReviewRules.DefaultNameStyle, false, ValidSku(sku), Guid.NewGuid().ToString("N"));
        return PublicForms.HtmlResult(StatusCodes.Status200OK, await PageAsync(token, contact, values, [], db, ct));
    }

    private static string? ValidSku(string? sku) => sku is { Length: > 0 and <= 100 } s && !s.Any(char.IsControl) ? s.Trim() : null;

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex Nonce();

    private static async Task<string> PageAsync(string token, Contact contact, Values values, List<string> errors, ClienteleDb db, CancellationToken ct)
    {
        var settings = await SettingsStore.LoadAsync(db, FeedbackSettings.Key, FeedbackSettings.Default, ct);
        var business = await BusinessAsync(db, ct);
        var product = values.Sku is { } sku ? await db.Products.AsNoTracking().Where(p => p.Sku == sku).Select(p => p.Name).FirstOrDefaultAsync(ct) ?? sku : null;
        var h = new StringBuilder();
        h.Append(CultureInfo.InvariantCulture, $"<p>Tell others what you think of {Html.Encode(product ?? business)}.</p>");
        if (errors.Count > 0)
        {
            h.Append("<ul class=\"errors\" role=\"alert\">");
            foreach (var e in errors)
            {
                h.Append("<li>").Append(Html.Encode(e)).Append("</li>");
            }
            h.Append("</ul>");
        }
        h.Append(CultureInfo.InvariantCulture, $"<form method=\"post\" action=\"/review/{Html.Encode(token)}\">");
        h.Append(CultureInfo.InvariantCulture, $"<input type=\"hidden\" name=\"nonce\" value=\"{Html.Encode(values.Nonce)}\">");
        if (values.Sku is { } s)
        {
            h.Append(CultureInfo.InvariantCulture, $"<input type=\"hidden\" name=\"sku\" value=\"{Html.Encode(s)}\">");
        }
        h.Append("<fieldset class=\"field\"><legend>Your rating</legend>");
        for (var i = 5; i >= 1; i--)
        {
            var id = "rating" + i.ToString(CultureInfo.InvariantCulture);
            h.Append(CultureInfo.InvariantCulture, $"<label for=\"{id}\" style=\"font-weight:400\"><input type=\"radio\" id=\"{id}\" name=\"rating\" value=\"{i}\" style=\"width:auto\" required")
                .Append(values.Rating == i.ToString(CultureInfo.InvariantCulture) ? " checked" : "")
                .Append(CultureInfo.InvariantCulture, $"> {ReviewRules.Stars(i)} {i} of 5</label>");
        }
        h.Append("</fieldset>");
        h.Append(CultureInfo.InvariantCulture, $"<div class=\"field\"><label for=\"text\">Your review</label><textarea id=\"text\" name=\"text\" rows=\"6\" maxlength=\"{ReviewRules.MaxText}\" required>{Html.Encode(values.Text)}</textarea></div>");
        AppendPublishing(h, contact, values.NameStyle, values.Consent, ReviewRules.Wording(settings, business));
        h.Append("<button type=\"submit\">Send my review</button></form>");

        var earlier = await db.Reviews.AsNoTracking().Where(r => r.ContactId == contact.Id && r.ConsentAt != null && r.WithdrawnAt == null && r.Status != ReviewStatus.Rejected)
            .OrderByDescending(r => r.CreatedAt).Take(20).ToListAsync(ct);
        if (earlier.Count > 0)
        {
            h.Append("<h2>Your reviews</h2><p>You agreed to their publication. You can take that back at any time: the review is then never shown again.</p>");
            foreach (var r in earlier)
            {
                h.Append(CultureInfo.InvariantCulture, $"<form method=\"post\" action=\"/review/{Html.Encode(token)}/withdraw\" class=\"field\"><blockquote>{ReviewRules.Stars(r.Rating)} {Html.Encode(r.Text)}</blockquote>")
                    .Append(CultureInfo.InvariantCulture, $"<input type=\"hidden\" name=\"review\" value=\"{r.Id:N}\"><button type=\"submit\">Do not publish it any more</button></form>");
            }
        }
        return PublicForms.Page("Your review", h.ToString(), false);
    }

    /// <summary>The choice of how the name is shown and the unticked box to agree to publication, with the words agreed to.</summary>
    internal static void AppendPublishing(StringBuilder h, Contact contact, string nameStyle, bool consent, string wording)
    {
        h.Append("<fieldset class=\"field\"><legend>Show my name as</legend>");
        var shown = new HashSet<string>(StringComparer.Ordinal);
        foreach (var style in ReviewRules.NameStyles)
        {
            var name = ReviewRules.DisplayName(contact.FirstName, contact.LastName, style);
            if (!shown.Add(name))
            {
                continue; // the same name twice (no last name): offer it once
            }
            h.Append(CultureInfo.InvariantCulture, $"<label for=\"name-{style}\" style=\"font-weight:400\"><input type=\"radio\" id=\"name-{style}\" name=\"name\" value=\"{style}\" style=\"width:auto\"")
                .Append(style == nameStyle ? " checked" : "")
                .Append(CultureInfo.InvariantCulture, $"> {Html.Encode(name)}</label>");
        }
        h.Append("</fieldset>");
        h.Append("<div class=\"field\"><label for=\"consent\" style=\"font-weight:400\"><input type=\"checkbox\" id=\"consent\" name=\"consent\" value=\"yes\"")
            .Append(consent ? " checked" : "")
            .Append(CultureInfo.InvariantCulture, $"> {Html.Encode(wording)}</label></div>");
    }

    private static async Task<IResult> SubmitAsync(string token, HttpRequest request, MailLinks links, ClienteleDatabase database, EventSignal signal, TimeProvider time,
        CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        if (await ContactAsync(token, links, db, ct) is not { } contact)
        {
            return Invalid();
        }
        var form = request.HasFormContentType ? await request.ReadFormAsync(ct) : null;
        var rating = form?["rating"].ToString();
        var text = (form?["text"].ToString() ?? "").Trim();
        var style = form?["name"].ToString() is { } n && ReviewRules.NameStyles.Contains(n) ? n : ReviewRules.DefaultNameStyle;
        var consent = form?["consent"].ToString() == "yes";
        var nonce = form?["nonce"].ToString() is { } given && Nonce().IsMatch(given) ? given : Guid.NewGuid().ToString("N");
        var values = new Values(rating, text, style, consent, ValidSku(form?["sku"].ToString()), nonce);
        var errors = new List<string>();
        if (!int.TryParse(rating, NumberStyles.None, CultureInfo.InvariantCulture, out var stars) || stars is < 1 or > 5)
        {
            errors.Add("Choose a rating from 1 to 5.");
        }
        if (text.Length == 0 || text.Length > ReviewRules.MaxText)
        {
            errors.Add($"Write your review, up to {ReviewRules.MaxText:N0} characters.");
        }
        if (errors.Count > 0)
        {
            return PublicForms.HtmlResult(StatusCodes.Status400BadRequest, await PageAsync(token, contact, values, errors, db, ct));
        }
        var settings = await SettingsStore.LoadAsync(db, FeedbackSettings.Key, FeedbackSettings.Default, ct);
        var wording = ReviewRules.Wording(settings, await BusinessAsync(db, ct));
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await ReviewsApi.SubmitAsync(db, new Review
            {
                ContactId = contact.Id,
                Rating = stars,
                Text = text,
                Sku = values.Sku,
                Source = "page",
                NameStyle = style,
                DisplayName = ReviewRules.DisplayName(contact.FirstName, contact.LastName, style),
                // Without the box ticked the review is private feedback: kept, never shown.
                ConsentWording = consent ? wording : "",
                ConsentAt = consent ? now : null,
                IdempotencyKey = $"page:{contact.Id:N}:{nonce}",
            }, now, ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        signal.Notify();
        return PublicForms.HtmlResult(StatusCodes.Status200OK, PublicForms.Page("Thank you!", consent
            ? "<p role=\"status\">Thank you for your review. It will appear once we have read it.</p>"
            : "<p role=\"status\">Thank you for telling us. As you did not agree to its publication, we keep your review to ourselves.</p>", false));
    }

    private static async Task<IResult> WithdrawAsync(string token, HttpRequest request, MailLinks links, ClienteleDatabase database, EventSignal signal, TimeProvider time,
        CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        if (await ContactAsync(token, links, db, ct) is not { } contact)
        {
            return Invalid();
        }
        var form = request.HasFormContentType ? await request.ReadFormAsync(ct) : null;
        if (!Guid.TryParseExact(form?["review"].ToString(), "N", out var id)
            || !await db.Reviews.AnyAsync(r => r.Id == id && r.ContactId == contact.Id, ct))
        {
            return Invalid();
        }
        var (_, refused) = await ReviewsApi.ModerateAsync(database, id, ReviewStatus.Withdrawn, "the customer", null, time.GetUtcNow().UtcDateTime, ct);
        if (refused is not null)
        {
            return Invalid();
        }
        signal.Notify();
        return PublicForms.HtmlResult(StatusCodes.Status200OK, PublicForms.Page("Done",
            "<p role=\"status\">We will not publish that review any more. Thank you for letting us know.</p>", false));
    }

    [GeneratedRegex("^#[0-9a-fA-F]{3,8}$")]
    private static partial Regex Colour();

    /// <summary>
    /// The published reviews (approved, with consent in force), newest first, with their average: a page for an
    /// <c>iframe</c>. Everything the customer wrote is encoded, and the page runs no script.
    /// </summary>
    private static async Task<IResult> EmbedAsync(string? sku, int? limit, HttpContext http, ClienteleDb db, CancellationToken ct)
    {
        sku = string.IsNullOrEmpty(sku) ? null : sku;
        var size = Math.Clamp(limit ?? 10, 1, 50);
        var ratings = ReviewsApi.Published(db, sku).Select(r => r.Rating);
        var count = await ratings.CountAsync(ct);
        double? average = count == 0 ? null : Math.Round(await ratings.AverageAsync(ct), 1, MidpointRounding.AwayFromZero);
        var reviews = await ReviewsApi.PublishedAsync(db, sku, size, ct);
        var brand = await SettingsStore.LoadAsync(db, OutboxContent.BrandKey, new Brand(), ct);
        var colour = Colour().IsMatch(brand.PrimaryColor ?? "") ? brand.PrimaryColor : "#3558d8";
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append(CultureInfo.InvariantCulture, $"<title>Reviews of {Html.Encode(brand.BusinessName)}</title>\n")
            .Append("<style>\nbody { font: 15px/1.5 system-ui, sans-serif; margin: 0; padding: 8px; color: #1b1b1f; background: transparent; }\n")
            .Append(CultureInfo.InvariantCulture, $".stars {{ color: {colour}; letter-spacing: 1px; }}\n")
            .Append("ul { list-style: none; margin: 0; padding: 0; }\nli { padding: 12px 0; border-top: 1px solid #ddd; }\n")
            .Append("blockquote { margin: 4px 0; white-space: pre-line; }\n.by { color: #555; font-size: 13px; margin: 0; }\n.summary { margin: 0 0 8px; }\n</style>\n</head>\n<body>\n")
            .Append(CultureInfo.InvariantCulture, $"<section class=\"reviews\" aria-label=\"Reviews of {Html.Encode(brand.BusinessName)}\">\n");
        if (average is { } avg)
        {
            var rounded = (int)Math.Round(avg, MidpointRounding.AwayFromZero);
            h.Append(CultureInfo.InvariantCulture, $"<p class=\"summary\"><span class=\"stars\" aria-hidden=\"true\">{ReviewRules.Stars(rounded)}</span> ")
                .Append(CultureInfo.InvariantCulture, $"<strong data-average=\"{avg.ToString("0.0", CultureInfo.InvariantCulture)}\">{avg.ToString("0.0", CultureInfo.InvariantCulture)}</strong> out of 5 · ")
                .Append(CultureInfo.InvariantCulture, $"{count} review{(count == 1 ? "" : "s")}</p>\n<ul>\n");
            foreach (var r in reviews)
            {
                h.Append(CultureInfo.InvariantCulture, $"<li><span class=\"stars\" role=\"img\" aria-label=\"{r.Rating} out of 5\">{ReviewRules.Stars(r.Rating)}</span>")
                    .Append(CultureInfo.InvariantCulture, $"<blockquote>{Html.Encode(r.Text)}</blockquote>")
                    .Append(CultureInfo.InvariantCulture, $"<p class=\"by\">{Html.Encode(r.Name)}, {r.CreatedAt.ToString("d MMMM yyyy", CultureInfo.InvariantCulture)}</p></li>\n");
            }
            h.Append("</ul>\n");
        }
        else
        {
            h.Append("<p class=\"summary\">No reviews yet.</p>\n");
        }
        h.Append("</section>\n</body>\n</html>\n");
        http.Response.Headers.CacheControl = "public, max-age=60"; // a withdrawn review leaves within a minute
        // Shown inside other sites' pages, and never runs script even if something slipped through.
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *";
        return PublicForms.HtmlResult(StatusCodes.Status200OK, h.ToString());
    }
}
