using System.Text.Json;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Clientele.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Support;

/// <summary><c>/api/v1/tickets</c>: inquiries (and tasks) on the first-response clock.</summary>
internal static class TicketsApi
{
    public static RouteGroupBuilder MapTickets(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/tickets").WithTags("Support");
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<TicketInput>("application/json")
            .WithSummary("Open a ticket: {\"email\", \"subject\", \"body\", \"priority\"} → the ticket with firstResponseDue and status (an unknown e-mail becomes a contact)");
        group.MapGet("/{id:guid}", GetAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("One ticket, its messages and where its first-response clock stands");
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Tickets, oldest first (?status=open|pending|solved, ?sla=on-time|late|breached for those still waiting for a first response, ?assignee=)");
        group.MapPost("/{id:guid}/replies", ReplyAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<ReplyInput>("application/json")
            .WithSummary("Answer the customer: {\"body\", \"solve\": false, \"agent\"} — e-mailed threaded on the conversation; the ticket then waits for the customer (or is solved)");
        group.MapPost("/{id:guid}/notes", NoteAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<NoteInput>("application/json")
            .WithSummary("An internal note for the team: {\"body\"}");
        group.MapPatch("/{id:guid}", PatchAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<ChangeInput>("application/json")
            .WithSummary("Change {\"status\", \"assignee\", \"priority\", \"tags\"}; solving asks the customer how satisfied they were");
        group.MapGet("/report", ReportAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Response times: the share of tickets first answered within the target (24 h), the limit (48 h) or later, in all, by agent and by week (?from=&to=, dates; default the last 12 weeks)");
        var support = api.MapGroup("/support").WithTags("Support");
        support.MapGet("/settings", async (ClienteleDb db, CancellationToken ct) => TypedResults.Ok(await SettingsStore.LoadAsync(db, SupportSettings.Key, SupportSettings.Default, ct)))
            .RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("How the desk answers: support address, phone, acknowledgements, articles, reopening, CSAT, alerts");
        support.MapPut("/settings", SaveSettingsAsync).RequireAuthorization(ApiKeys.AdminPolicy).Accepts<SupportSettings>("application/json").WithSummary("Change the support settings");
        support.MapGet("/sla", async (ClienteleDb db, CancellationToken ct) => TypedResults.Ok(await SettingsStore.LoadAsync(db, SlaPolicy.Key, SlaPolicy.Default, ct)))
            .RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("The first-response policy: target and limit hours, business hours");
        support.MapPut("/sla", SaveSlaAsync).RequireAuthorization(ApiKeys.AdminPolicy).Accepts<SlaPolicy>("application/json")
            .WithSummary("Change the first-response policy (applies to tickets opened from then on)");
        return api;
    }

    private static async Task<IResult> ReportAsync(DateOnly? from, DateOnly? to, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var end = to?.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) ?? now;
        var start = from?.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) ?? ResponseTimes.WeekOf(now).AddDays(-7 * 11).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        if (start >= end)
        {
            return ApiProblems.BadRequest("The report's start comes before its end.", "/from");
        }
        return TypedResults.Ok(await ResponseTimes.LoadAsync(db, start, end, now, ct));
    }

    private static async Task<IResult> SaveSettingsAsync(HttpRequest request, ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<SupportSettings>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new List<FieldError>();
        if (input!.Address is { Length: > 0 } address && !EventRules.IsValidEmail(address))
        {
            errors.Add(new("/address", "The support address is an e-mail address."));
        }
        if (input.Phone is { Length: > 40 })
        {
            errors.Add(new("/phone", "A phone number is at most 40 characters."));
        }
        if (input.Articles is < 0 or > 10)
        {
            errors.Add(new("/articles", "Suggest 0 to 10 articles."));
        }
        if (input.ReopenDays is < 0 or > 365)
        {
            errors.Add(new("/reopenDays", "Reopen within 0 to 365 days."));
        }
        if (string.IsNullOrWhiteSpace(input.AckText) || input.AckText.Length > 4000)
        {
            errors.Add(new("/ackText", "The acknowledgement's opening, 1 to 4,000 characters."));
        }
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            await SettingsStore.SaveAsync(db, SupportSettings.Key, input, time.GetUtcNow().UtcDateTime, ct);
        }
        return TypedResults.Ok(input);
    }

    private static async Task<IResult> SaveSlaAsync(HttpRequest request, ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<SlaPolicy>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (input!.Problems() is { Count: > 0 } errors)
        {
            return ApiProblems.Invalid(errors);
        }
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            await SettingsStore.SaveAsync(db, SlaPolicy.Key, input, time.GetUtcNow().UtcDateTime, ct);
        }
        return TypedResults.Ok(input);
    }

    internal sealed record TicketInput(string? Email, string? Name, string? Subject, string? Body, string? Priority);

    internal sealed record MessageDto(string Direction, string From, string Body, DateTime CreatedAt);

    internal sealed record TicketDto(Guid Id, Guid ContactId, string Subject, string Status, string Priority, string? Assignee, string Channel, List<string> Tags,
        DateTime CreatedAt, DateTime FirstResponseDue, DateTime BreachAt, DateTime? FirstRespondedAt, string? FirstResponder, DateTime? SolvedAt, string Sla,
        List<MessageDto> Messages);

    public static readonly string[] Priorities = ["low", "normal", "high", "urgent"];

    public static string ToApi(this TicketStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>
    /// Adds a ticket with its first message and a <c>ticket.opened</c> event for the caller to save; the same idempotency
    /// key gives back the ticket made before.
    /// </summary>
    internal static async Task<(Ticket Ticket, Event? Opened)> OpenAsync(ClienteleDb db, Guid contactId, string subject, string body, string from, string channel,
        string priority, string? assignee, string? key, DateTime now, long? cause, CancellationToken ct, string? messageId = null)
    {
        if (key is not null && await db.Tickets.AsNoTracking().FirstOrDefaultAsync(t => t.IdempotencyKey == key, ct) is { } before)
        {
            return (before, null);
        }
        var policy = await SettingsStore.LoadAsync(db, SlaPolicy.Key, SlaPolicy.Default, ct);
        var ticket = new Ticket
        {
            Id = Guid.CreateVersion7(),
            ContactId = contactId,
            Subject = subject.Length > 300 ? subject[..300] : subject,
            Status = TicketStatus.Open,
            Priority = priority,
            Assignee = assignee,
            Channel = channel,
            IdempotencyKey = key,
            CreatedAt = now,
            FirstResponseDue = Sla.FirstResponseDue(now, policy),
            BreachAt = Sla.BreachAt(now, policy),
            UpdatedAt = now,
        };
        db.Tickets.Add(ticket);
        db.TicketMessages.Add(new TicketMessage { Id = Guid.CreateVersion7(), TicketId = ticket.Id, Direction = channel == "journey" ? "note" : "in", From = from, Body = body, MessageId = messageId, CreatedAt = now });
        var opened = Event.Recorded(contactId, "ticket.opened", "support", "ticket.opened:" + ticket.Id.ToString("N"),
            new { ticketId = ticket.Id, subject = ticket.Subject, channel, priority, firstResponseDue = ticket.FirstResponseDue }, now, cause);
        return (ticket, opened);
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, ClienteleDatabase database, EventSignal signal, OutboxSignal outbox, MailLinks links,
        TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<TicketInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new List<FieldError>();
        if (input!.Email is not { Length: > 0 } email || !EventRules.IsValidEmail(email))
        {
            errors.Add(new("/email", "The e-mail of who asks."));
        }
        if (string.IsNullOrWhiteSpace(input.Subject) || input.Subject.Length > 300)
        {
            errors.Add(new("/subject", "A subject of 1 to 300 characters."));
        }
        if (string.IsNullOrWhiteSpace(input.Body) || input.Body.Length > 20_000)
        {
            errors.Add(new("/body", "What they ask, 1 to 20,000 characters."));
        }
        if (input.Priority is { } p && !Priorities.Contains(p))
        {
            errors.Add(new("/priority", "The priority is low, normal, high or urgent."));
        }
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        var key = request.Headers["Idempotency-Key"].FirstOrDefault() is { Length: > 0 } given ? "api:" + given : null;
        var inquiry = new Inquiry(input.Email!.Trim(), input.Name, input.Subject!.Trim(), input.Body!, "api") { Priority = input.Priority ?? "normal", IdempotencyKey = key };
        var (received, error) = await TakeInAsync(database, inquiry, links, time.GetUtcNow().UtcDateTime, ct);
        if (error is not null)
        {
            return ApiProblems.Invalid([error]);
        }
        signal.Notify();
        outbox.Notify();
        await using var db = database.CreateDbContext();
        return TypedResults.Created($"/api/v1/tickets/{received!.Ticket!.Id}", await DtoAsync(db, received.Ticket, time.GetUtcNow().UtcDateTime, ct));
    }

    /// <summary>Takes an inquiry in, in its own transaction (the contact form, the API and the mailbox share it).</summary>
    internal static async Task<(Received? Received, FieldError? Error)> TakeInAsync(ClienteleDatabase database, Inquiry inquiry, MailLinks links, DateTime now, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var (received, error) = await SupportDesk.ReceiveAsync(db, inquiry, links, now, ct);
            if (error is not null)
            {
                return (null, error);
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return (received, null);
        }
    }

    internal sealed record ReplyInput(string? Body, bool? Solve, string? Agent);

    internal sealed record NoteInput(string? Body, string? Agent);

    internal sealed record ChangeInput(string? Status, string? Assignee, string? Priority, List<string>? Tags);

    /// <summary>Who acts: the signed-in user, or the <c>agent</c> an API caller names, else the API key's name.</summary>
    private static string Actor(HttpContext http, string? agent) =>
        agent is { Length: > 0 } named ? named.Trim() : http.User.Identity?.Name ?? "api";

    private static async Task<IResult> ReplyAsync(Guid id, HttpContext http, ClienteleDatabase database, OutboxSignal outbox, EventSignal signal, MailLinks links,
        TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<ReplyInput>(http.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (string.IsNullOrWhiteSpace(input!.Body) || input.Body.Length > 50_000)
        {
            return ApiProblems.Invalid("/body", "The reply, 1 to 50,000 characters.");
        }
        var key = http.Request.Headers["Idempotency-Key"].FirstOrDefault() is { Length: > 0 } given ? $"api:{id:N}:{given}" : null;
        var (result, error) = await ChangeAsync(database, id, time, (db, ticket, now) =>
            SupportDesk.ReplyAsync(db, ticket, Actor(http, input.Agent), input.Body!, input.Solve == true, key, links, now, ct), ct);
        if (result is null)
        {
            return error is null ? ApiProblems.NotFound($"There is no ticket {id}.") : ApiProblems.Invalid([error]);
        }
        outbox.Notify();
        signal.Notify();
        await using var read = database.CreateDbContext();
        return TypedResults.Ok(await DtoAsync(read, result, time.GetUtcNow().UtcDateTime, ct));
    }

    private static async Task<IResult> NoteAsync(Guid id, HttpContext http, ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<NoteInput>(http.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (string.IsNullOrWhiteSpace(input!.Body) || input.Body.Length > 50_000)
        {
            return ApiProblems.Invalid("/body", "The note, 1 to 50,000 characters.");
        }
        var (result, _) = await ChangeAsync(database, id, time, (db, ticket, now) =>
            Task.FromResult<(TicketMessage?, FieldError?)>((SupportDesk.Note(db, ticket, Actor(http, input.Agent), input.Body!, now), null)), ct);
        if (result is null)
        {
            return ApiProblems.NotFound($"There is no ticket {id}.");
        }
        await using var read = database.CreateDbContext();
        return TypedResults.Ok(await DtoAsync(read, result, time.GetUtcNow().UtcDateTime, ct));
    }

    private static async Task<IResult> PatchAsync(Guid id, HttpContext http, ClienteleDatabase database, OutboxSignal outbox, EventSignal signal, MailLinks links,
        TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<ChangeInput>(http.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new List<FieldError>();
        TicketStatus? status = null;
        if (input!.Status is { } s)
        {
            if (Enum.TryParse<TicketStatus>(s, ignoreCase: true, out var parsed) && !int.TryParse(s, out _))
            {
                status = parsed;
            }
            else
            {
                errors.Add(new("/status", $"\"{s}\" is not a status: open, pending or solved."));
            }
        }
        if (input.Priority is { } p && !Priorities.Contains(p))
        {
            errors.Add(new("/priority", "The priority is low, normal, high or urgent."));
        }
        if (input.Assignee is { Length: > 320 })
        {
            errors.Add(new("/assignee", "An assignee is a user's e-mail address."));
        }
        for (var i = 0; i < (input.Tags?.Count ?? 0); i++)
        {
            if (input.Tags![i] is not { Length: > 0 and <= 50 })
            {
                errors.Add(new($"/tags/{i}", "A tag is 1 to 50 characters."));
            }
        }
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        var (result, _) = await ChangeAsync(database, id, time, async (db, ticket, now) =>
        {
            await ApplyAsync(db, ticket, Actor(http, null), status, input.Assignee, input.Priority, input.Tags, links, now, ct);
            return ((TicketMessage?)null, (FieldError?)null);
        }, ct);
        if (result is null)
        {
            return ApiProblems.NotFound($"There is no ticket {id}.");
        }
        outbox.Notify();
        signal.Notify();
        await using var read = database.CreateDbContext();
        return TypedResults.Ok(await DtoAsync(read, result, time.GetUtcNow().UtcDateTime, ct));
    }

    /// <summary>Changes status, assignee (empty: nobody), priority and tags; solving asks for satisfaction, a solved ticket set open is reopened.</summary>
    internal static async Task ApplyAsync(ClienteleDb db, Ticket ticket, string by, TicketStatus? status, string? assignee, string? priority, List<string>? tags,
        MailLinks links, DateTime now, CancellationToken ct)
    {
        if (assignee is not null)
        {
            ticket.Assignee = assignee.Trim().Length == 0 ? null : assignee.Trim();
        }
        if (priority is not null)
        {
            ticket.Priority = priority;
        }
        if (tags is not null)
        {
            ticket.Tags = tags.Select(t => t.Trim()).Where(t => t.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        }
        if (status == TicketStatus.Solved)
        {
            await SupportDesk.SolveAsync(db, ticket, by, links, now, ct);
        }
        else if (status is { } next && next != ticket.Status)
        {
            if (ticket.Status == TicketStatus.Solved)
            {
                db.Events.Add(Event.Recorded(ticket.ContactId, "ticket.reopened", "support", $"ticket.reopened:{ticket.Id:N}:{now.Ticks}", new { ticketId = ticket.Id, by }, now, null));
                ticket.SolvedAt = null;
            }
            ticket.Status = next;
        }
        ticket.UpdatedAt = now;
    }

    /// <summary>Loads the ticket for change, runs <paramref name="change"/> and saves in one transaction; null when there is no such ticket or the change was refused.</summary>
    internal static async Task<(Ticket? Ticket, FieldError? Error)> ChangeAsync(ClienteleDatabase database, Guid id, TimeProvider time,
        Func<ClienteleDb, Ticket, DateTime, Task<(TicketMessage? Message, FieldError? Error)>> change, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            if (await db.Tickets.FirstOrDefaultAsync(t => t.Id == id, ct) is not { } ticket)
            {
                return (null, null);
            }
            var (_, error) = await change(db, ticket, time.GetUtcNow().UtcDateTime);
            if (error is not null)
            {
                return (null, error);
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return (ticket, null);
        }
    }

    private static async Task<TicketDto> DtoAsync(ClienteleDb db, Ticket t, DateTime now, CancellationToken ct)
    {
        var policy = await SettingsStore.LoadAsync(db, SlaPolicy.Key, SlaPolicy.Default, ct);
        var messages = await db.TicketMessages.AsNoTracking().Where(m => m.TicketId == t.Id).OrderBy(m => m.CreatedAt)
            .Select(m => new MessageDto(m.Direction, m.From, m.Body, m.CreatedAt)).ToListAsync(ct);
        return Dto(t, policy, now, messages);
    }

    private static TicketDto Dto(Ticket t, SlaPolicy policy, DateTime now, List<MessageDto> messages) =>
        new(t.Id, t.ContactId, t.Subject, t.Status.ToApi(), t.Priority, t.Assignee, t.Channel, t.Tags, t.CreatedAt, t.FirstResponseDue,
            t.BreachAt ?? t.CreatedAt.AddHours(policy.LimitHours), t.FirstRespondedAt, t.FirstResponder, t.SolvedAt, Sla.State(t, policy, now), messages);

    private static async Task<IResult> GetAsync(Guid id, ClienteleDb db, TimeProvider time, CancellationToken ct) =>
        await db.Tickets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, ct) is { } t
            ? TypedResults.Ok(await DtoAsync(db, t, time.GetUtcNow().UtcDateTime, ct))
            : ApiProblems.NotFound($"There is no ticket {id}.");

    private static async Task<IResult> ListAsync(string? status, string? sla, string? assignee, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var policy = await SettingsStore.LoadAsync(db, SlaPolicy.Key, SlaPolicy.Default, ct);
        var (tickets, problem) = await TicketQuery.ListAsync(db, status, sla, assignee, policy, now, 500, ct);
        if (problem is not null)
        {
            return ApiProblems.BadRequest(problem.Message, problem.Field);
        }
        return TypedResults.Ok(tickets!.Select(t => Dto(t, policy, now, [])).ToList());
    }
}
