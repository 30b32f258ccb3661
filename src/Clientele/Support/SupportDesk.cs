using System.Text;
using System.Text.Encodings.Web;
using Clientele.Api;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Clientele.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Support;

/// <summary>An inquiry as it arrives, whatever the channel (the contact form, the API, the support mailbox).</summary>
internal sealed record Inquiry(string Email, string? Name, string Subject, string Body, string Channel)
{
    /// <summary>The e-mail's Message-ID, without angle brackets: the same e-mail read twice makes one message.</summary>
    public string? MessageId { get; init; }

    /// <summary>In-Reply-To, then References: what the e-mail answers, to thread it onto its ticket.</summary>
    public IReadOnlyList<string> References { get; init; } = [];

    /// <summary>Sent by software (an out-of-office, a mailing list): threaded, never acknowledged, never opens a ticket.</summary>
    public bool Automated { get; init; }

    public string Priority { get; init; } = "normal";
    public string? IdempotencyKey { get; init; }
}

/// <summary>What became of an inquiry: its ticket (new, or the one it answers), or nothing for automated mail on no thread.</summary>
internal sealed record Received(Ticket? Ticket, bool Opened, bool Duplicate, string Outcome);

/// <summary>A knowledge-base article suggested in an acknowledgement.</summary>
internal sealed record SuggestedArticle(string Title, string Url);

/// <summary>
/// The support desk's work on tickets: taking in inquiries (threaded onto the ticket they answer), acknowledging them at
/// once, the team's replies, notes and changes, and the satisfaction question when a ticket is solved. Each function
/// adds to <paramref name="db"/> for the caller to save in its transaction; every e-mail goes through the outbox under a
/// key of the ticket, so nothing is sent twice.
/// </summary>
internal static class SupportDesk
{
    public const string CsatSurveyName = "Support satisfaction";
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    /// <summary>Takes an inquiry in: a new ticket with its acknowledgement, or a message on the ticket it answers.</summary>
    public static async Task<(Received? Received, FieldError? Error)> ReceiveAsync(ClienteleDb db, Inquiry inquiry, MailLinks links, DateTime now, CancellationToken ct)
    {
        if (inquiry.MessageId is { } messageId
            && await db.TicketMessages.AsNoTracking().Where(m => m.MessageId == messageId).Select(m => (Guid?)m.TicketId).FirstOrDefaultAsync(ct) is { } seen)
        {
            return (new Received(await db.Tickets.AsNoTracking().FirstAsync(t => t.Id == seen, ct), false, true, "already read"), null);
        }
        var settings = await SettingsStore.LoadAsync(db, SupportSettings.Key, SupportSettings.Default, ct);
        var thread = await ThreadAsync(db, inquiry.References, ct);
        if (thread is not null && thread.Status == TicketStatus.Solved && thread.SolvedAt < now.AddDays(-settings.ReopenDays))
        {
            thread = null; // long settled: a new question
        }
        if (thread is null && inquiry.Automated)
        {
            return (new Received(null, false, false, "automated mail on no ticket: ignored"), null);
        }
        var upsert = await ContactStore.UpsertAsync(db, new ContactChanges { Email = inquiry.Email }, "support", now, ct);
        if (upsert.Error is { } wrong)
        {
            return (null, wrong);
        }
        var contact = upsert.Contact!;
        if (upsert.Created && inquiry.Name is { Length: > 0 } name)
        {
            var parts = name.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            contact.FirstName = parts[0];
            contact.LastName = parts.Length > 1 ? parts[1] : null;
        }
        if (thread is not null)
        {
            db.TicketMessages.Add(new TicketMessage
            {
                Id = Guid.CreateVersion7(),
                TicketId = thread.Id,
                Direction = "in",
                From = inquiry.Email,
                Body = inquiry.Body,
                MessageId = inquiry.MessageId,
                CreatedAt = now,
            });
            var reopened = thread.Status == TicketStatus.Solved;
            if (!inquiry.Automated && thread.Status != TicketStatus.Open)
            {
                thread.Status = TicketStatus.Open;
                thread.SolvedAt = null;
            }
            thread.UpdatedAt = now;
            db.Events.Add(Event.Recorded(contact.Id, reopened && !inquiry.Automated ? "ticket.reopened" : "ticket.message", "support",
                "ticket.in:" + (inquiry.MessageId ?? Guid.CreateVersion7().ToString("N")), new { ticketId = thread.Id, direction = "in", channel = inquiry.Channel }, now, null));
            return (new Received(thread, false, false, reopened ? "reopened" : "threaded"), null);
        }
        var key = inquiry.IdempotencyKey ?? (inquiry.MessageId is { } id ? "mail:" + id : null);
        var (ticket, opened) = await TicketsApi.OpenAsync(db, contact.Id, inquiry.Subject, inquiry.Body, inquiry.Email, inquiry.Channel, inquiry.Priority, null, key, now, null, ct,
            inquiry.MessageId);
        if (opened is null)
        {
            return (new Received(ticket, false, true, "already open"), null);
        }
        db.Events.Add(opened);
        if (settings.AutoAcknowledge && !inquiry.Automated && !IsOwnAddress(inquiry.Email, settings)
            && await AcknowledgementsWithinHourAsync(db, contact.Id, now, ct) < 3)
        {
            var articles = settings.Articles > 0 ? await ArticlesAsync(db, links, inquiry.Subject + "\n" + inquiry.Body, settings.Articles, ct) : [];
            await AcknowledgeAsync(db, ticket, inquiry.Email, articles, settings, await SettingsStore.LoadAsync(db, SlaPolicy.Key, SlaPolicy.Default, ct), now, ct);
        }
        return (new Received(ticket, true, false, "opened"), null);
    }

    private static bool IsOwnAddress(string email, SupportSettings settings) =>
        settings.Address is { Length: > 0 } own && string.Equals(Contact.Normalize(own), Contact.Normalize(email), StringComparison.Ordinal);

    /// <summary>Acknowledgements to the contact in the last hour: a loop with another auto-responder stops after three.</summary>
    private static Task<int> AcknowledgementsWithinHourAsync(ClienteleDb db, Guid contactId, DateTime now, CancellationToken ct)
    {
        var since = now.AddHours(-1);
        return db.OutboxMessages.CountAsync(m => m.ContactId == contactId && m.Kind == "support-ack" && m.CreatedAt >= since, ct);
    }

    /// <summary>The articles most likely to answer the inquiry, best first.</summary>
    internal static async Task<List<SuggestedArticle>> ArticlesAsync(ClienteleDb db, MailLinks links, string text, int count, CancellationToken ct) =>
        [.. (await Knowledge.KnowledgeBase.SearchAsync(db, text, count, ct)).Select(a => new SuggestedArticle(a.Title, Knowledge.KnowledgeBase.ArticleUrl(links, a.Slug)))];

    /// <summary>The ticket an e-mail answers: one of ours it replies to (by our Message-ID), or a customer's e-mail on a ticket.</summary>
    internal static async Task<Ticket?> ThreadAsync(ClienteleDb db, IReadOnlyList<string> references, CancellationToken ct)
    {
        var ids = references.Select(r => r.Trim().Trim('<', '>')).Where(r => r.Length is > 0 and <= 500).Distinct().Take(50).ToList();
        if (ids.Count == 0)
        {
            return null;
        }
        var ours = ids.Select(MailComposer.FromMessageId).OfType<Guid>().ToList();
        Guid? ticketId = null;
        if (ours.Count > 0)
        {
            ticketId = await db.OutboxMessages.AsNoTracking().Where(m => ours.Contains(m.Id) && m.TicketId != null)
                .OrderByDescending(m => m.CreatedAt).Select(m => m.TicketId).FirstOrDefaultAsync(ct);
        }
        ticketId ??= await db.TicketMessages.AsNoTracking().Where(m => m.MessageId != null && ids.Contains(m.MessageId))
            .OrderByDescending(m => m.CreatedAt).Select(m => (Guid?)m.TicketId).FirstOrDefaultAsync(ct);
        return ticketId is { } found ? await db.Tickets.FirstOrDefaultAsync(t => t.Id == found, ct) : null;
    }

    /// <summary>Queues the acknowledgement of a new ticket: when to expect an answer, articles that may answer it, the phone number.</summary>
    internal static async Task AcknowledgeAsync(ClienteleDb db, Ticket ticket, string to, IReadOnlyList<SuggestedArticle> articles, SupportSettings settings,
        SlaPolicy policy, DateTime now, CancellationToken ct)
    {
        var text = new StringBuilder();
        var html = new StringBuilder();
        text.Append(settings.AckText.Trim()).Append("\n\n");
        html.Append("<p>").Append(Paragraphs(settings.AckText.Trim())).Append("</p>");
        var promise = policy.BusinessHoursOnly
            ? $"We answer within {policy.TargetHours} business hours."
            : $"We answer within {policy.TargetHours} hours.";
        text.Append(promise).Append("\n\n");
        html.Append("<p>").Append(Html.Encode(promise)).Append("</p>");
        if (articles.Count > 0)
        {
            text.Append("These articles may answer your question right away:\n");
            html.Append("<p>These articles may answer your question right away:</p><ul>");
            foreach (var a in articles)
            {
                text.Append("- ").Append(a.Title).Append(": ").Append(a.Url).Append('\n');
                html.Append("<li><a href=\"").Append(Html.Encode(a.Url)).Append("\">").Append(Html.Encode(a.Title)).Append("</a></li>");
            }
            text.Append('\n');
            html.Append("</ul>");
        }
        if (settings.Phone is { Length: > 0 } phone)
        {
            text.Append("If it is urgent, call us: ").Append(phone).Append('\n');
            html.Append("<p>If it is urgent, call us: <a href=\"tel:").Append(Html.Encode(new string(phone.Where(c => char.IsDigit(c) || c == '+').ToArray())))
                .Append("\">").Append(Html.Encode(phone)).Append("</a></p>");
        }
        text.Append("\nTo add to your message, simply reply to this e-mail.");
        html.Append("<p>To add to your message, simply reply to this e-mail.</p>");
        var message = await Outbox.Outbox.EnqueueAsync(db, new OutboxMessage
        {
            ContactId = ticket.ContactId,
            To = to,
            Subject = ReplySubject(ticket.Subject),
            TextBody = text.ToString(),
            HtmlBody = html.ToString(),
            Kind = "support-ack",
            Class = MessageClass.Transactional,
            IdempotencyKey = $"ticket:{ticket.Id:N}:ack",
            TicketId = ticket.Id,
            DueAt = now,
            CreatedAt = now,
        }, ct);
        db.TicketMessages.Add(new TicketMessage
        {
            Id = Guid.CreateVersion7(),
            TicketId = ticket.Id,
            Direction = "auto",
            From = settings.Address ?? "auto-reply",
            Body = text.ToString(),
            OutboxMessageId = message.Id,
            CreatedAt = now,
        });
    }

    /// <summary>The team's answer: e-mailed to the customer (threaded), the first response when it is one, and the ticket waits for the customer or is solved.</summary>
    public static async Task<(TicketMessage? Message, FieldError? Error)> ReplyAsync(ClienteleDb db, Ticket ticket, string agent, string body, bool solve,
        string? key, MailLinks links, DateTime now, CancellationToken ct)
    {
        var to = await db.Contacts.AsNoTracking().Where(c => c.Id == ticket.ContactId).Select(c => c.Email).FirstOrDefaultAsync(ct);
        if (to is not { Length: > 0 })
        {
            return (null, new FieldError("/body", "The contact has no e-mail address to answer."));
        }
        var reply = new TicketMessage { Id = Guid.CreateVersion7(), TicketId = ticket.Id, Direction = "out", From = agent, Body = body, CreatedAt = now };
        var message = await Outbox.Outbox.EnqueueAsync(db, new OutboxMessage
        {
            ContactId = ticket.ContactId,
            To = to,
            Subject = ReplySubject(ticket.Subject),
            TextBody = body,
            HtmlBody = "<p>" + Paragraphs(body) + "</p>",
            Kind = "support-reply",
            Class = MessageClass.Transactional,
            IdempotencyKey = key ?? $"ticket:{ticket.Id:N}:reply:{reply.Id:N}",
            TicketId = ticket.Id,
            DueAt = now,
            CreatedAt = now,
        }, ct);
        if (db.Entry(message).State != EntityState.Added)
        {
            // The same request again: its reply was made then.
            return (await db.TicketMessages.AsNoTracking().FirstOrDefaultAsync(m => m.OutboxMessageId == message.Id, ct), null);
        }
        reply.OutboxMessageId = message.Id;
        db.TicketMessages.Add(reply);
        var first = ticket.FirstRespondedAt is null;
        if (first)
        {
            ticket.FirstRespondedAt = now;
            ticket.FirstResponder = agent;
        }
        ticket.Assignee ??= agent;
        ticket.UpdatedAt = now;
        db.Events.Add(Event.Recorded(ticket.ContactId, "ticket.replied", "support", "ticket.replied:" + reply.Id.ToString("N"),
            new { ticketId = ticket.Id, by = agent, firstResponse = first, minutes = first ? (int)(now - ticket.CreatedAt).TotalMinutes : (int?)null }, now, null));
        if (solve)
        {
            await SolveAsync(db, ticket, agent, links, now, ct);
        }
        else
        {
            ticket.Status = TicketStatus.Pending;
        }
        return (reply, null);
    }

    /// <summary>An internal note, seen by the team only.</summary>
    public static TicketMessage Note(ClienteleDb db, Ticket ticket, string agent, string body, DateTime now)
    {
        var note = new TicketMessage { Id = Guid.CreateVersion7(), TicketId = ticket.Id, Direction = "note", From = agent, Body = body, CreatedAt = now };
        db.TicketMessages.Add(note);
        ticket.UpdatedAt = now;
        return note;
    }

    /// <summary>Solves the ticket and, when the settings say so, asks the customer how satisfied they were (once per ticket).</summary>
    public static async Task SolveAsync(ClienteleDb db, Ticket ticket, string by, MailLinks links, DateTime now, CancellationToken ct)
    {
        if (ticket.Status == TicketStatus.Solved)
        {
            return;
        }
        ticket.Status = TicketStatus.Solved;
        ticket.SolvedAt = now;
        ticket.UpdatedAt = now;
        db.Events.Add(Event.Recorded(ticket.ContactId, "ticket.solved", "support", $"ticket.solved:{ticket.Id:N}:{now.Ticks}",
            new { ticketId = ticket.Id, by }, now, null));
        var settings = await SettingsStore.LoadAsync(db, SupportSettings.Key, SupportSettings.Default, ct);
        var to = await db.Contacts.AsNoTracking().Where(c => c.Id == ticket.ContactId && c.DeletedAt == null).Select(c => c.Email).FirstOrDefaultAsync(ct);
        if (!settings.CsatOnSolve || to is not { Length: > 0 })
        {
            return;
        }
        var survey = await CsatSurveyAsync(db, now, ct);
        var message = await Outbox.Outbox.EnqueueAsync(db, new OutboxMessage
        {
            ContactId = ticket.ContactId,
            To = to,
            Subject = "How did we do? " + ReplySubject(ticket.Subject),
            Kind = "support-csat",
            Class = MessageClass.Transactional,
            IdempotencyKey = $"ticket:{ticket.Id:N}:csat",
            TicketId = ticket.Id,
            SurveyId = survey.Id,
            DueAt = now,
            CreatedAt = now,
        }, ct);
        if (db.Entry(message).State != EntityState.Added)
        {
            return; // asked already, when it was solved before
        }
        var text = new StringBuilder($"{survey.Question}\n\nOne click answers:\n");
        var html = new StringBuilder($"<p>{Html.Encode(survey.Question)}</p><p>One click answers:</p><p>");
        string[] words = ["very unsatisfied", "unsatisfied", "neutral", "satisfied", "very satisfied"];
        for (var score = 1; score <= 5; score++)
        {
            var url = links.Answer(message.Id, survey.Id, score);
            text.Append($"{score} ({words[score - 1]}): {url}\n");
            html.Append($"<a href=\"{Html.Encode(url)}\" style=\"display:inline-block;padding:8px 12px;margin:2px;border:1px solid #767676;border-radius:4px;text-decoration:none\">{score} · {words[score - 1]}</a> ");
        }
        html.Append("</p>");
        message.TextBody = text.ToString();
        message.HtmlBody = html.ToString();
    }

    /// <summary>The survey a solved ticket's question belongs to, made the first time it is needed.</summary>
    private static async Task<Clientele.Feedback.Survey> CsatSurveyAsync(ClienteleDb db, DateTime now, CancellationToken ct)
    {
        var survey = db.Surveys.Local.FirstOrDefault(s => s.Name == CsatSurveyName && s.Kind == "csat")
            ?? await db.Surveys.FirstOrDefaultAsync(s => s.Name == CsatSurveyName && s.Kind == "csat", ct);
        if (survey is null)
        {
            survey = new Clientele.Feedback.Survey
            {
                Id = Guid.CreateVersion7(),
                Name = CsatSurveyName,
                Kind = "csat",
                Question = "How satisfied are you with the help you received?",
                FollowUp = "What could we have done better?",
                CreatedAt = now,
            };
            db.Surveys.Add(survey);
        }
        return survey;
    }

    public static string ReplySubject(string subject) =>
        subject.StartsWith("Re:", StringComparison.OrdinalIgnoreCase) ? subject : "Re: " + subject;

    private static string Paragraphs(string text) =>
        string.Join("</p><p>", text.ReplaceLineEndings("\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(p => Html.Encode(p).Replace("\n", "<br>", StringComparison.Ordinal)));
}
