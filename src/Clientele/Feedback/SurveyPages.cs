using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Clientele.Data;
using Clientele.Events;
using Clientele.Forms;
using Clientele.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Feedback;

/// <summary>
/// <c>/s/{token}?a={survey}-{score}</c>: the one-click answer from a feedback e-mail. A person's click records the score
/// (<c>survey.answered</c>) and offers a comment box (<c>survey.commented</c>); a click by software — a link scanner
/// following every score at delivery — records nothing and asks for a confirming press instead. Clicking another
/// score in the same e-mail changes the answer. A promoter's comment may then be published as a review, when they
/// tick the box that says so (<c>/s/{token}/publish</c>).
/// </summary>
internal static class SurveyPages
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    public static void MapSurveyPages(WebApplication app)
    {
        app.MapGet("/s/{token}", AnswerAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/s/{token}", CommentAsync).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        app.MapPost("/s/{token}/publish", PublishAsync).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
    }

    private sealed record Link(Guid MessageId, Guid ContactId, DateTime? SentAt, Survey Survey, int Score);

    /// <summary>The message, survey and score a link stands for, or null when it was not made by us or does not fit.</summary>
    private static async Task<Link?> ReadAsync(string token, string? a, MailLinks links, ClienteleDb db, CancellationToken ct)
    {
        if (a is null || links.Verify("s", token, a) is not { } messageId)
        {
            return null;
        }
        var dash = a.LastIndexOf('-');
        if (dash < 0 || !Guid.TryParseExact(a[..dash], "N", out var surveyId) || !int.TryParse(a[(dash + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var score))
        {
            return null;
        }
        var message = await db.OutboxMessages.AsNoTracking().Where(m => m.Id == messageId && m.SurveyId == surveyId)
            .Select(m => new { m.ContactId, m.SentAt }).FirstOrDefaultAsync(ct);
        var survey = await db.Surveys.AsNoTracking().FirstOrDefaultAsync(s => s.Id == surveyId, ct);
        var (low, high) = survey is null ? (0, -1) : SurveyRules.Scale(survey.Kind);
        return message is null || survey is null || score < low || score > high ? null : new Link(messageId, message.ContactId, message.SentAt, survey, score);
    }

    private static IResult Invalid() => PublicForms.HtmlResult(StatusCodes.Status400BadRequest, PublicForms.Page("Link not valid",
        "<p>This link is damaged or was not made by us, so it cannot record an answer. Please use the link in the original e-mail.</p>", false));

    private static async Task<IResult> AnswerAsync(string token, string? a, HttpContext http, MailLinks links, ClienteleDatabase database, EventSignal signal,
        TimeProvider time, CancellationToken ct)
    {
        http.Response.Headers.CacheControl = "no-store";
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        if (await ReadAsync(token, a, links, db, ct) is not { } link)
        {
            return Invalid();
        }
        var action = $"/s/{Html.Encode(token)}?a={Html.Encode(a!)}";
        if (MachineActivity.IsMachine("email.clicked", http.Request.Headers.UserAgent.ToString(), http.Connection.RemoteIpAddress, link.SentAt, now))
        {
            return PublicForms.HtmlResult(StatusCodes.Status200OK, PublicForms.Page("One more step",
                $"<p>{Html.Encode(link.Survey.Question)}</p><p>Your answer: <strong>{link.Score}</strong></p>"
                + $"<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"confirm\" value=\"1\"><button type=\"submit\">Send my answer</button></form>", false));
        }
        await RecordAsync(database, db, link, now, ct);
        signal.Notify();
        return PublicForms.HtmlResult(StatusCodes.Status200OK, ThankYou(link, action, commented: false));
    }

    private static string ThankYou(Link link, string action, bool commented, string? publish = null) =>
        PublicForms.Page("Thank you!",
            $"<p role=\"status\">We have your answer: <strong>{link.Score}</strong>. You can change it by choosing another score in the e-mail.</p>"
            + (commented
                ? "<p>Thanks for telling us more — we read every comment.</p>" + publish
                : $"<form method=\"post\" action=\"{action}\"><div class=\"field\"><label for=\"comment\">{Html.Encode(link.Survey.FollowUp)}</label>"
                    + "<textarea id=\"comment\" name=\"comment\" rows=\"5\" maxlength=\"4000\"></textarea></div><button type=\"submit\">Send</button></form>"),
            false);

    /// <summary>
    /// For a promoter's comment: the offer to publish it as a review, with the name to show and an unticked box to agree;
    /// null for anyone else.
    /// </summary>
    private static async Task<string?> PublishOfferAsync(ClienteleDb db, Link link, string token, string a, string comment, string? error, CancellationToken ct)
    {
        var settings = await SettingsStore.LoadAsync(db, FeedbackSettings.Key, FeedbackSettings.Default, ct);
        if (FeedbackRules.Category(settings, link.Survey.Kind, link.Score) != FeedbackRules.Promoter
            || await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.Id == link.ContactId, ct) is not { } contact)
        {
            return null;
        }
        var h = new StringBuilder();
        h.Append(CultureInfo.InvariantCulture, $"<h2>May we share your words?</h2><form method=\"post\" action=\"/s/{Html.Encode(token)}/publish?a={Html.Encode(a)}\">");
        h.Append(CultureInfo.InvariantCulture, $"<p>Others choosing us would like to read them:</p><blockquote>{Html.Encode(comment)}</blockquote>");
        if (error is not null)
        {
            h.Append(CultureInfo.InvariantCulture, $"<p class=\"error\" role=\"alert\">{Html.Encode(error)}</p>");
        }
        ReviewPages.AppendPublishing(h, contact, ReviewRules.DefaultNameStyle, false, ReviewRules.Wording(settings, await ReviewPages.BusinessAsync(db, ct)));
        h.Append("<button type=\"submit\">Publish my review</button></form>");
        return h.ToString();
    }

    /// <summary>A promoter agrees to publish their comment: it becomes a review, waiting to be read before it is shown.</summary>
    private static async Task<IResult> PublishAsync(string token, string? a, HttpRequest request, MailLinks links, ClienteleDatabase database, EventSignal signal,
        TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        if (await ReadAsync(token, a, links, db, ct) is not { } link)
        {
            return Invalid();
        }
        var answer = await db.SurveyAnswers.AsNoTracking().FirstOrDefaultAsync(x => x.MessageId == link.MessageId && x.SurveyId == link.Survey.Id, ct);
        var settings = await SettingsStore.LoadAsync(db, FeedbackSettings.Key, FeedbackSettings.Default, ct);
        var contact = await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.Id == link.ContactId && c.DeletedAt == null, ct);
        if (answer is not { Comment: { Length: > 0 } comment } || answer.Score != link.Score || contact is null
            || FeedbackRules.Category(settings, link.Survey.Kind, answer.Score) != FeedbackRules.Promoter)
        {
            return Invalid();
        }
        var form = request.HasFormContentType ? await request.ReadFormAsync(ct) : null;
        var action = $"/s/{Html.Encode(token)}?a={Html.Encode(a!)}";
        if (form?["consent"].ToString() != "yes")
        {
            return PublicForms.HtmlResult(StatusCodes.Status400BadRequest, ThankYou(link, action, commented: true,
                await PublishOfferAsync(db, link, token, a!, comment, "To publish your review, tick the box to say you agree.", ct)));
        }
        var style = form["name"].ToString() is { } n && ReviewRules.NameStyles.Contains(n) ? n : ReviewRules.DefaultNameStyle;
        var wording = ReviewRules.Wording(settings, await ReviewPages.BusinessAsync(db, ct));
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await ReviewsApi.SubmitAsync(db, new Review
            {
                ContactId = contact.Id,
                Rating = ReviewRules.RatingFromSurvey(link.Survey.Kind, answer.Score),
                Text = comment,
                Sku = link.Survey.Sku,
                Source = "survey",
                SurveyAnswerId = answer.Id,
                NameStyle = style,
                DisplayName = ReviewRules.DisplayName(contact.FirstName, contact.LastName, style),
                ConsentWording = wording,
                ConsentAt = now,
                IdempotencyKey = $"survey:{answer.Id:N}",
            }, now, ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        signal.Notify();
        return PublicForms.HtmlResult(StatusCodes.Status200OK, PublicForms.Page("Thank you!",
            "<p role=\"status\">Thank you for letting us share your words. Your review will appear once we have read it.</p>", false));
    }

    private static async Task<IResult> CommentAsync(string token, string? a, HttpRequest request, MailLinks links, ClienteleDatabase database, EventSignal signal,
        TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        if (await ReadAsync(token, a, links, db, ct) is not { } link)
        {
            return Invalid();
        }
        var form = request.HasFormContentType ? await request.ReadFormAsync(ct) : null;
        var comment = form?["comment"].ToString().Trim();
        // A confirmed answer (after a scanner's visit) or a comment: either way the score in the link stands.
        var answer = await RecordAsync(database, db, link, now, ct);
        if (comment is { Length: > 0 })
        {
            comment = comment.Length > 4000 ? comment[..4000] : comment;
            using (await database.EnterWriteAsync(ct))
            {
                await using var tx = await db.Database.BeginTransactionAsync(ct);
                await db.SurveyAnswers.Where(x => x.Id == answer).ExecuteUpdateAsync(s => s.SetProperty(x => x.Comment, comment), ct);
                db.Events.Add(Event.Recorded(link.ContactId, "survey.commented", "surveys", $"survey.commented:{link.MessageId:N}:{now.Ticks}",
                    new { surveyId = link.Survey.Id, survey = link.Survey.Name, kind = link.Survey.Kind, score = link.Score, comment, sku = link.Survey.Sku, messageId = link.MessageId }, now));
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
            }
        }
        signal.Notify();
        var publish = comment is { Length: > 0 } ? await PublishOfferAsync(db, link, token, a!, comment, null, ct) : null;
        return PublicForms.HtmlResult(StatusCodes.Status200OK, ThankYou(link, $"/s/{Html.Encode(token)}?a={Html.Encode(a!)}", commented: comment is { Length: > 0 }, publish));
    }

    /// <summary>Stores the answer for the message (a new score replaces the old one) and records <c>survey.answered</c> when it changed; returns its id.</summary>
    private static async Task<Guid> RecordAsync(ClienteleDatabase database, ClienteleDb db, Link link, DateTime now, CancellationToken ct)
    {
        using var gate = await database.EnterWriteAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var answer = await db.SurveyAnswers.FirstOrDefaultAsync(x => x.MessageId == link.MessageId && x.SurveyId == link.Survey.Id, ct);
        if (answer?.Score == link.Score)
        {
            return answer.Id;
        }
        if (answer is null)
        {
            answer = new SurveyAnswer { Id = Guid.CreateVersion7(), SurveyId = link.Survey.Id, ContactId = link.ContactId, MessageId = link.MessageId };
            db.SurveyAnswers.Add(answer);
        }
        answer.Score = link.Score;
        answer.AnsweredAt = now;
        db.Events.Add(Event.Recorded(link.ContactId, "survey.answered", "surveys", $"survey.answered:{link.MessageId:N}:{link.Score}:{now.Ticks}",
            new { surveyId = link.Survey.Id, survey = link.Survey.Name, kind = link.Survey.Kind, score = link.Score, sku = link.Survey.Sku, messageId = link.MessageId }, now));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return answer.Id;
    }
}
