using Clientele.Accounts;
using Clientele.Api;
using Clientele.Broadcasts;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Templates;

/// <summary><c>/api/v1/templates</c>: saved messages, their preview with any contact, a test send and their report.</summary>
internal static class TemplatesApi
{
    public static RouteGroupBuilder MapTemplates(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/templates").WithTags("Templates");
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("Saved templates with what their broadcasts achieved");
        group.MapGet("/{id:guid}", GetAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("One template and its report");
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<TemplateInput>("application/json")
            .WithSummary("Save a template: {\"name\", \"subject\", \"body\", \"format\": \"markdown\" | \"html\", \"preheader\"}; a mistake is a 400 with line and column");
        group.MapPut("/{id:guid}", UpdateAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<TemplateInput>("application/json");
        group.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(ApiKeys.WritePolicy);
        group.MapPost("/{id:guid}/preview", PreviewAsync).RequireAuthorization(ApiKeys.ReadPolicy).Accepts<ContactRef>("application/json")
            .WithSummary("The message as one contact would get it: {\"email\"} or {\"contactId\"} → {\"subject\", \"html\", \"text\"}");
        group.MapPost("/{id:guid}/test", TestAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<ContactRef>("application/json")
            .WithSummary("Send the template once to a contact, marked as a test: {\"email\"} → {\"messageId\"}");
        return api;
    }

    internal sealed record TemplateInput(string? Name, string? Subject, string? Body, string? Format, string? Preheader);

    internal sealed record ContactRef(string? Email, Guid? ContactId);

    internal sealed record Report(int Broadcasts, int Sent, int Delivered, int Opened, int Clicked, int Unsubscribed, int Bounced, List<BroadcastsApi.Revenue> Revenue);

    internal sealed record TemplateDto(Guid Id, string Name, string Subject, string Body, string Format, string? Preheader, DateTime UpdatedAt, Report Report);

    /// <summary>The template from the input, or what is wrong with it and where.</summary>
    internal static (Template? Template, IResult? Problem) Validate(TemplateInput input, Template? into, DateTime now)
    {
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(input.Name))
        {
            errors.Add(new("/name", "Give the template a name."));
        }
        var format = Template.CheckContent(input.Subject, input.Body, input.Format, errors);
        if (errors.Count > 0)
        {
            return (null, ApiProblems.Invalid(errors));
        }
        var t = into ?? new Template { Id = Guid.CreateVersion7(), CreatedAt = now };
        t.Name = input.Name!.Trim();
        t.Subject = input.Subject!.Trim();
        t.Body = input.Body!;
        t.Format = format;
        t.Preheader = string.IsNullOrWhiteSpace(input.Preheader) ? null : input.Preheader.Trim();
        t.UpdatedAt = now;
        if (!MessageTemplate.TryCompile(t.Source(), new Brand(), out _, out var error))
        {
            return (null, ApiProblems.BadRequest(error.ToString(), "/" + error.Part,
                new Dictionary<string, object?> { ["line"] = error.Line, ["column"] = error.Column }));
        }
        return (t, null);
    }

    internal static async Task<Report> ReportAsync(ClienteleDb db, Guid templateId, CancellationToken ct)
    {
        var reports = new List<BroadcastsApi.BroadcastDto>();
        foreach (var b in await db.Broadcasts.AsNoTracking().Where(b => b.TemplateId == templateId).ToListAsync(ct))
        {
            reports.Add(await BroadcastsApi.ReportAsync(db, b, ct));
        }
        return new Report(reports.Count, reports.Sum(r => r.Counts.Sent), reports.Sum(r => r.Counts.Delivered), reports.Sum(r => r.Counts.Opened),
            reports.Sum(r => r.Counts.Clicked), reports.Sum(r => r.Counts.Unsubscribed), reports.Sum(r => r.Counts.Bounced),
            [.. reports.SelectMany(r => r.Revenue).GroupBy(r => r.Currency).Select(g => new BroadcastsApi.Revenue(g.Key, g.Sum(r => r.Amount), g.Sum(r => r.Orders)))]);
    }

    private static async Task<TemplateDto> DtoAsync(ClienteleDb db, Template t, CancellationToken ct) =>
        new(t.Id, t.Name, t.Subject, t.Body, t.Format, t.Preheader, t.UpdatedAt, await ReportAsync(db, t.Id, ct));

    internal static async Task<IResult> ListAsync(ClienteleDb db, CancellationToken ct)
    {
        var list = new List<TemplateDto>();
        foreach (var t in await db.Templates.AsNoTracking().OrderBy(t => t.Name).ToListAsync(ct))
        {
            list.Add(await DtoAsync(db, t, ct));
        }
        return TypedResults.Ok(list);
    }

    internal static async Task<IResult> GetAsync(Guid id, ClienteleDb db, CancellationToken ct) =>
        await db.Templates.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, ct) is { } t
            ? TypedResults.Ok(await DtoAsync(db, t, ct))
            : ApiProblems.NotFound($"There is no template {id}.");

    internal static async Task<IResult> CreateAsync(HttpRequest request, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<TemplateInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (template, invalid) = Validate(input!, null, time.GetUtcNow().UtcDateTime);
        if (invalid is not null)
        {
            return invalid;
        }
        if (await db.Templates.AnyAsync(t => t.Name == template!.Name, ct))
        {
            return ApiProblems.Conflict($"A template named \"{template!.Name}\" exists already.", "/name");
        }
        db.Templates.Add(template!);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/templates/{template!.Id}", await DtoAsync(db, template, ct));
    }

    internal static async Task<IResult> UpdateAsync(Guid id, HttpRequest request, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        if (await db.Templates.FirstOrDefaultAsync(t => t.Id == id, ct) is not { } existing)
        {
            return ApiProblems.NotFound($"There is no template {id}.");
        }
        var (input, problem) = await JsonBody.ReadAsync<TemplateInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (template, invalid) = Validate(input!, existing, time.GetUtcNow().UtcDateTime);
        if (invalid is not null)
        {
            return invalid;
        }
        if (await db.Templates.AnyAsync(t => t.Name == template!.Name && t.Id != id, ct))
        {
            return ApiProblems.Conflict($"A template named \"{template!.Name}\" exists already.", "/name");
        }
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(await DtoAsync(db, template!, ct));
    }

    internal static async Task<IResult> DeleteAsync(Guid id, ClienteleDb db, CancellationToken ct) =>
        await db.Templates.Where(t => t.Id == id).ExecuteDeleteAsync(ct) == 0
            ? ApiProblems.NotFound($"There is no template {id}.")
            : TypedResults.NoContent();

    private static async Task<(Contact? Contact, IResult? Problem)> ContactOfAsync(HttpRequest request, ClienteleDb db, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<ContactRef>(request, ct);
        if (problem is not null)
        {
            return (null, problem);
        }
        var email = Contact.Normalize(input!.Email);
        var contact = input.ContactId is { } id
            ? await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id && c.DeletedAt == null, ct)
            : email is null ? null : await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.EmailNormalized == email && c.DeletedAt == null, ct);
        return contact is null
            ? (null, ApiProblems.Invalid(input.ContactId is null ? "/email" : "/contactId", "No contact with that e-mail or id."))
            : (contact, null);
    }

    /// <summary>Renders a template for one contact with the brand; links point at <paramref name="messageId"/> when given.</summary>
    internal static async Task<RenderedMessage> RenderAsync(TemplateSource source, Contact contact, OutboxContent content, MailLinks links, Guid? messageId, DateTime now, CancellationToken ct)
    {
        var compiled = MessageTemplate.Compile(source, await content.BrandAsync(ct));
        return compiled.Render(new MessageModel
        {
            Contact = OutboxContent.ModelOf(contact),
            Links = new MessageLinks
            {
                Unsubscribe = messageId is { } m ? links.Unsubscribe(m) : "#unsubscribe",
                Preferences = links.Preferences(contact.Id),
            },
            Recommendations = await content.RecommendationsAsync(compiled, contact.Id, ct),
            Offer = await content.OfferAsync(compiled, contact.Id, now, ct),
            Referral = await content.ReferralAsync(compiled, contact.Id, now, ct),
            Review = compiled.ReadsReview ? new MessageReview(links.Review(contact.Id)) : null,
            Now = new DateTimeOffset(DateTime.SpecifyKind(now, DateTimeKind.Utc)),
        });
    }

    internal static async Task<IResult> PreviewAsync(Guid id, HttpRequest request, ClienteleDb db, OutboxContent content, MailLinks links, TimeProvider time, CancellationToken ct)
    {
        if (await db.Templates.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, ct) is not { } t)
        {
            return ApiProblems.NotFound($"There is no template {id}.");
        }
        var (contact, problem) = await ContactOfAsync(request, db, ct);
        if (problem is not null)
        {
            return problem;
        }
        try
        {
            return TypedResults.Ok(await RenderAsync(t.Source(), contact!, content, links, null, time.GetUtcNow().UtcDateTime, ct));
        }
        catch (TemplateRenderException ex)
        {
            return ApiProblems.BadRequest($"The template does not render for {contact!.Email}: {ex.Message}", "/body");
        }
    }

    internal sealed record TestSent(Guid MessageId);

    /// <summary>Queues the template, rendered for <paramref name="contact"/>, as a test message; returns its id.</summary>
    internal static async Task<Guid> QueueTestAsync(ClienteleDb db, ClienteleDatabase database, Template t, Contact contact, OutboxContent content, MailLinks links,
        DateTime now, CancellationToken ct)
    {
        var messageId = Guid.CreateVersion7();
        var rendered = await RenderAsync(t.Source(), contact, content, links, messageId, now, ct);
        db.OutboxMessages.Add(new OutboxMessage
        {
            Id = messageId,
            ContactId = contact.Id,
            To = contact.Email!,
            Subject = "[Test] " + rendered.Subject,
            HtmlBody = rendered.Html,
            TextBody = rendered.Text,
            Kind = "test",
            // A test goes to the address the owner chose whatever its consent: they asked for it now.
            Class = MessageClass.Transactional,
            IdempotencyKey = $"test:{t.Id:N}:{messageId:N}",
            Status = OutboxStatus.Queued,
            DueAt = now,
            CreatedAt = now,
        });
        using (await database.EnterWriteAsync(ct))
        {
            await db.SaveChangesAsync(ct);
        }
        return messageId;
    }

    internal static async Task<IResult> TestAsync(Guid id, HttpRequest request, ClienteleDb db, ClienteleDatabase database, OutboxContent content, MailLinks links,
        OutboxSignal signal, TimeProvider time, CancellationToken ct)
    {
        if (await db.Templates.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, ct) is not { } t)
        {
            return ApiProblems.NotFound($"There is no template {id}.");
        }
        var (contact, problem) = await ContactOfAsync(request, db, ct);
        if (problem is not null)
        {
            return problem;
        }
        Guid messageId;
        try
        {
            messageId = await QueueTestAsync(db, database, t, contact!, content, links, time.GetUtcNow().UtcDateTime, ct);
        }
        catch (TemplateRenderException ex)
        {
            return ApiProblems.BadRequest($"The template does not render for {contact!.Email}: {ex.Message}", "/body");
        }
        signal.Notify();
        return TypedResults.Ok(new TestSent(messageId));
    }
}
