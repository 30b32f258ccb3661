using System.Globalization;
using System.Text.Json;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Clientele.Support;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Feedback;

/// <summary>The scores at which an answer counts, per kind of survey.</summary>
internal sealed record ScoreLimits(int Nps, int Csat, int Rating);

/// <summary>
/// How the business closes the loop on survey answers (setting <c>feedback</c>): who counts as a detractor (at or below
/// these scores) or a promoter (at or above), whether a detractor opens a ticket and how, and the words a customer
/// agrees to when a review is published.
/// </summary>
internal sealed record FeedbackSettings
{
    public const string Key = "feedback";

    /// <summary>At or below: NPS 0–6, CSAT 1–2, rating 1–2.</summary>
    public ScoreLimits Detractor { get; init; } = new(6, 2, 2);

    /// <summary>At or above: NPS 9–10, CSAT 5, rating 5.</summary>
    public ScoreLimits Promoter { get; init; } = new(9, 5, 5);

    /// <summary>A detractor's answer opens a ticket for the team.</summary>
    public bool OpenTickets { get; init; } = true;

    /// <summary><c>low</c>, <c>normal</c>, <c>high</c> or <c>urgent</c>.</summary>
    public string TicketPriority { get; init; } = "high";

    /// <summary>A user's e-mail to hand detractor tickets to; null: anyone.</summary>
    public string? TicketAssignee { get; init; }

    /// <summary>What a customer agrees to when their review is published; <c>{business}</c> is replaced by the business's name.</summary>
    public string ConsentWording { get; init; } =
        "I agree that {business} may publish this review, with my name as chosen above, on its website and in its marketing. I can ask for it to be removed at any time.";

    public static FeedbackSettings Default { get; } = new();

    /// <summary>What is wrong with these settings, by field; empty when they are fine.</summary>
    public Dictionary<string, string[]> Check()
    {
        var errors = new Dictionary<string, string[]>();
        void Limits(string name, ScoreLimits? limits)
        {
            if (limits is null)
            {
                errors[name] = ["Give the scores for nps, csat and rating."];
                return;
            }
            if (limits.Nps is < 0 or > 10)
            {
                errors[name + "/nps"] = ["An NPS score is 0 to 10."];
            }
            if (limits.Csat is < 1 or > 5)
            {
                errors[name + "/csat"] = ["A CSAT score is 1 to 5."];
            }
            if (limits.Rating is < 1 or > 5)
            {
                errors[name + "/rating"] = ["A rating is 1 to 5."];
            }
        }
        Limits("detractor", Detractor);
        Limits("promoter", Promoter);
        if (Detractor is not null && Promoter is not null && errors.Count == 0
            && (Detractor.Nps >= Promoter.Nps || Detractor.Csat >= Promoter.Csat || Detractor.Rating >= Promoter.Rating))
        {
            errors["promoter"] = ["A promoter's score must be above a detractor's for every kind."];
        }
        if (!TicketsApi.Priorities.Contains(TicketPriority))
        {
            errors["ticketPriority"] = ["The priority is low, normal, high or urgent."];
        }
        if (TicketAssignee is { Length: > 320 })
        {
            errors["ticketAssignee"] = ["At most 320 characters."];
        }
        if (string.IsNullOrWhiteSpace(ConsentWording) || ConsentWording.Length > 1000)
        {
            errors["consentWording"] = ["The words a customer agrees to, 1 to 1,000 characters."];
        }
        return errors;
    }
}

/// <summary>Which answers are a detractor's or a promoter's, and what the team's ticket says, as pure functions.</summary>
internal static class FeedbackRules
{
    public const string Detractor = "detractor", Promoter = "promoter";

    /// <summary>
    /// Answers recorded longer after they were given than this (an import of old answers, a log replayed) only stay on
    /// the timeline: a ticket or a thank-you months late helps nobody.
    /// </summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);

    public static bool Recent(DateTime occurredAt, DateTime now) => now - occurredAt <= MaxAge;

    /// <summary><see cref="Detractor"/>, <see cref="Promoter"/> or null (a passive, or a kind of answer that is neither).</summary>
    public static string? Category(FeedbackSettings settings, string? kind, double score)
    {
        (int Low, int High)? limits = kind switch
        {
            "nps" => (settings.Detractor.Nps, settings.Promoter.Nps),
            "csat" => (settings.Detractor.Csat, settings.Promoter.Csat),
            "rating" or "review" => (settings.Detractor.Rating, settings.Promoter.Rating),
            _ => null,
        };
        return limits is not { } l ? null : score <= l.Low ? Detractor : score >= l.High ? Promoter : null;
    }

    /// <summary>"NPS 3 from Ann Smith" — what the team sees in the ticket list.</summary>
    public static string Subject(string kind, int score, string who) =>
        $"{KindName(kind)} {score.ToString(CultureInfo.InvariantCulture)} from {who}";

    public static string KindName(string kind) => kind switch
    {
        "nps" => "NPS",
        "csat" => "CSAT",
        "rating" => "Rating",
        _ => kind,
    };

    /// <summary>The ticket's first message: the answer, the question, the solved ticket it was asked about, and any comment given with it.</summary>
    public static string Body(string kind, int score, string? survey, string? question, string? sku, string? comment, (Guid Id, string Subject)? about = null)
    {
        var (_, high) = SurveyRules.Scale(kind);
        var text = $"Answered {score.ToString(CultureInfo.InvariantCulture)} of {high.ToString(CultureInfo.InvariantCulture)}"
            + (question is { Length: > 0 } ? $" to \"{question}\"" : "")
            + (survey is { Length: > 0 } ? $" (survey \"{survey}\"" + (sku is { Length: > 0 } ? $", product {sku})" : ")") : sku is { Length: > 0 } ? $" (product {sku})" : "")
            + "."
            + (about is { } t ? $"\n\nAsked after the ticket \"{t.Subject}\" ({t.Id}) was solved." : "");
        return comment is { Length: > 0 } ? $"{text}\n\nTheir comment:\n{comment}" : text + "\n\nNo comment yet; one given later is added here.";
    }

    /// <summary>
    /// The ticket a survey answer opens is found again by this key: one per answer (the e-mail that asked), so a changed
    /// score or a later comment lands on the same ticket.
    /// </summary>
    public static string TicketKey(Guid? messageId, long eventId) =>
        messageId is { } m ? $"survey:{m:N}" : $"survey:event:{eventId.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// Closes the loop on survey answers: a detractor's answer opens a ticket for the team with the score (and the
/// comment, added to the same ticket when it comes later) and records <c>feedback.detractor</c>; a promoter's answer
/// records <c>feedback.promoter</c>, which journeys (the "promoter ask" playbook) start on.
/// </summary>
internal sealed class FeedbackLoop : IEventConsumer
{
    public string Name => "feedback";

    public bool Wants(string eventType) => eventType is "survey.answered" or "survey.commented";

    public Task HandleAsync(ConsumerContext context, Event e, CancellationToken ct) => HandleBatchAsync(context, [e], ct);

    private sealed record Answer(string Kind, int Score, Guid? SurveyId, string? Survey, string? Sku, Guid? MessageId, string? Comment);

    private static Answer? Read(Event e)
    {
        using var doc = JsonDocument.Parse(e.Properties);
        var p = doc.RootElement;
        if (p.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        string? Text(string name) => p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        Guid? Id(string name) => Guid.TryParse(Text(name), out var g) ? g : null;
        var score = p.TryGetProperty("score", out var s)
            ? s.ValueKind == JsonValueKind.Number && s.TryGetDouble(out var n) ? n
            : s.ValueKind == JsonValueKind.String && double.TryParse(s.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var t) ? t
            : (double?)null
            : null;
        return Text("kind") is { } kind && score is { } sc && sc == Math.Floor(sc)
            ? new Answer(kind, (int)sc, Id("surveyId"), Text("survey"), Text("sku"), Id("messageId"), Text("comment") is { Length: > 0 } c ? c.Trim() : null)
            : null;
    }

    public async Task HandleBatchAsync(ConsumerContext context, IReadOnlyList<Event> events, CancellationToken ct)
    {
        var db = context.Db;
        var settings = await SettingsStore.LoadAsync(db, FeedbackSettings.Key, FeedbackSettings.Default, ct);
        var ids = events.Select(e => e.ContactId).Distinct().ToList();
        var contacts = await db.Contacts.AsNoTracking().Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        foreach (var e in events)
        {
            if (!FeedbackRules.Recent(e.OccurredAt, context.Now) || Read(e) is not { } answer || !contacts.TryGetValue(e.ContactId, out var contact) || contact.DeletedAt is not null)
            {
                continue;
            }
            var category = FeedbackRules.Category(settings, answer.Kind, answer.Score);
            var key = FeedbackRules.TicketKey(answer.MessageId, e.Id);
            var ticket = await db.Tickets.FirstOrDefaultAsync(t => t.IdempotencyKey == key, ct);
            var who = Format(contact);
            if (e.Type == "survey.commented")
            {
                if (answer.Comment is not { } comment)
                {
                    continue;
                }
                if (ticket is not null)
                {
                    Add(db, ticket, "in", contact.Email ?? who, comment, context.Now);
                }
                else if (category == FeedbackRules.Detractor && settings.OpenTickets)
                {
                    await OpenAsync(context, e, answer with { Comment = comment }, contact, settings, key, ct);
                }
                continue;
            }
            if (ticket is not null)
            {
                // The same e-mail answered again with another score: the team reads the change where they read the first.
                Add(db, ticket, "note", "survey", $"The answer was changed to {answer.Score.ToString(CultureInfo.InvariantCulture)}"
                    + (category is null ? "." : $" ({category})."), context.Now);
            }
            if (category == FeedbackRules.Detractor)
            {
                var opened = ticket ?? (settings.OpenTickets ? await OpenAsync(context, e, answer, contact, settings, key, ct) : null);
                context.Emit(e, "feedback.detractor", new { answer.SurveyId, answer.Survey, answer.Kind, answer.Score, answer.Sku, ticketId = opened?.Id });
            }
            else if (category == FeedbackRules.Promoter)
            {
                context.Emit(e, "feedback.promoter", new { answer.SurveyId, answer.Survey, answer.Kind, answer.Score, answer.Sku });
            }
        }
    }

    private static string Format(Contact c) =>
        string.Join(' ', new[] { c.FirstName, c.LastName }.Where(p => !string.IsNullOrWhiteSpace(p))) is { Length: > 0 } name ? name : c.Email ?? c.Id.ToString();

    private static void Add(ClienteleDb db, Ticket ticket, string direction, string from, string body, DateTime now)
    {
        db.TicketMessages.Add(new TicketMessage { Id = Guid.CreateVersion7(), TicketId = ticket.Id, Direction = direction, From = from, Body = body, CreatedAt = now });
        ticket.UpdatedAt = now;
    }

    /// <summary>Opens the team's ticket for a detractor's answer (once per answer) and saves it, so a later event of the same batch finds it.</summary>
    private static async Task<Ticket> OpenAsync(ConsumerContext context, Event e, Answer answer, Contact contact, FeedbackSettings settings, string key, CancellationToken ct)
    {
        var db = context.Db;
        var question = answer.SurveyId is { } id ? await db.Surveys.AsNoTracking().Where(s => s.Id == id).Select(s => s.Question).FirstOrDefaultAsync(ct) : null;
        // The support desk asks how satisfied a customer is when their ticket is solved: a poor answer names that ticket.
        var solved = answer.MessageId is { } m
            ? await db.OutboxMessages.AsNoTracking().Where(o => o.Id == m && o.TicketId != null)
                .Join(db.Tickets.AsNoTracking(), o => o.TicketId, t => t.Id, (o, t) => new { t.Id, t.Subject }).FirstOrDefaultAsync(ct)
            : null;
        var (ticket, opened) = await TicketsApi.OpenAsync(db, contact.Id, FeedbackRules.Subject(answer.Kind, answer.Score, Format(contact)),
            FeedbackRules.Body(answer.Kind, answer.Score, answer.Survey, question, answer.Sku, answer.Comment, solved is null ? null : (solved.Id, solved.Subject)),
            contact.Email ?? Format(contact), "survey",
            settings.TicketPriority, settings.TicketAssignee, key, context.Now, e.Id, ct);
        if (opened is not null)
        {
            db.Events.Add(opened);
        }
        await db.SaveChangesAsync(ct);
        return ticket;
    }
}
