using System.Text.Json;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
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
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("Tickets, oldest first (?status=open|pending|solved)");
        return api;
    }

    internal sealed record TicketInput(string? Email, string? Subject, string? Body, string? Priority);

    internal sealed record MessageDto(string Direction, string From, string Body, DateTime CreatedAt);

    internal sealed record TicketDto(Guid Id, Guid ContactId, string Subject, string Status, string Priority, string? Assignee, string Channel,
        DateTime CreatedAt, DateTime FirstResponseDue, DateTime? FirstRespondedAt, string Sla, List<MessageDto> Messages);

    public static readonly string[] Priorities = ["low", "normal", "high", "urgent"];

    public static string ToApi(this TicketStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>
    /// Adds a ticket with its first message and a <c>ticket.opened</c> event for the caller to save; the same idempotency
    /// key gives back the ticket made before.
    /// </summary>
    internal static async Task<(Ticket Ticket, Event? Opened)> OpenAsync(ClienteleDb db, Guid contactId, string subject, string body, string from, string channel,
        string priority, string? assignee, string? key, DateTime now, long? cause, CancellationToken ct)
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
            UpdatedAt = now,
        };
        db.Tickets.Add(ticket);
        db.TicketMessages.Add(new TicketMessage { Id = Guid.CreateVersion7(), TicketId = ticket.Id, Direction = channel == "journey" ? "note" : "in", From = from, Body = body, CreatedAt = now });
        var opened = Event.Recorded(contactId, "ticket.opened", "support", "ticket.opened:" + ticket.Id.ToString("N"),
            new { ticketId = ticket.Id, subject = ticket.Subject, channel, priority, firstResponseDue = ticket.FirstResponseDue }, now, cause);
        return (ticket, opened);
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, ClienteleDatabase database, EventSignal signal, TimeProvider time, CancellationToken ct)
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
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        Ticket ticket;
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var contact = await ContactStore.UpsertAsync(db, new ContactChanges { Email = input.Email }, "ticket", now, ct);
            if (contact.Error is { } wrong)
            {
                return ApiProblems.Invalid([wrong]);
            }
            var key = request.Headers["Idempotency-Key"].FirstOrDefault() is { Length: > 0 } given ? "api:" + given : null;
            (ticket, var opened) = await OpenAsync(db, contact.Contact!.Id, input.Subject!.Trim(), input.Body!, input.Email!.Trim(), "api", input.Priority ?? "normal", null, key, now, null, ct);
            if (opened is not null)
            {
                db.Events.Add(opened);
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        signal.Notify();
        return TypedResults.Created($"/api/v1/tickets/{ticket.Id}", await DtoAsync(db, ticket, now, ct));
    }

    private static async Task<TicketDto> DtoAsync(ClienteleDb db, Ticket t, DateTime now, CancellationToken ct)
    {
        var policy = await SettingsStore.LoadAsync(db, SlaPolicy.Key, SlaPolicy.Default, ct);
        var messages = await db.TicketMessages.AsNoTracking().Where(m => m.TicketId == t.Id).OrderBy(m => m.CreatedAt)
            .Select(m => new MessageDto(m.Direction, m.From, m.Body, m.CreatedAt)).ToListAsync(ct);
        return new TicketDto(t.Id, t.ContactId, t.Subject, t.Status.ToApi(), t.Priority, t.Assignee, t.Channel, t.CreatedAt, t.FirstResponseDue,
            t.FirstRespondedAt, Sla.State(t, policy, now), messages);
    }

    private static async Task<IResult> GetAsync(Guid id, ClienteleDb db, TimeProvider time, CancellationToken ct) =>
        await db.Tickets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, ct) is { } t
            ? TypedResults.Ok(await DtoAsync(db, t, time.GetUtcNow().UtcDateTime, ct))
            : ApiProblems.NotFound($"There is no ticket {id}.");

    private static async Task<IResult> ListAsync(string? status, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        var query = db.Tickets.AsNoTracking();
        if (status is not null)
        {
            if (!Enum.TryParse<TicketStatus>(status, ignoreCase: true, out var s) || int.TryParse(status, out _))
            {
                return ApiProblems.BadRequest($"\"{status}\" is not a status: open, pending or solved.", "/status");
            }
            query = query.Where(t => t.Status == s);
        }
        var now = time.GetUtcNow().UtcDateTime;
        var policy = await SettingsStore.LoadAsync(db, SlaPolicy.Key, SlaPolicy.Default, ct);
        var tickets = await query.OrderBy(t => t.CreatedAt).Take(500).ToListAsync(ct);
        return TypedResults.Ok(tickets.Select(t => new TicketDto(t.Id, t.ContactId, t.Subject, t.Status.ToApi(), t.Priority, t.Assignee, t.Channel, t.CreatedAt,
            t.FirstResponseDue, t.FirstRespondedAt, Sla.State(t, policy, now), [])).ToList());
    }
}
