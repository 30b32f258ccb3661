using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;
using Clientele.Outbox;
using Clientele.Segments;
using Clientele.Templates;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Broadcasts;

/// <summary><c>POST /api/v1/broadcasts</c> and <c>GET /api/v1/broadcasts/{id}</c>: one-off sends and their progress.</summary>
internal static class BroadcastsApi
{
    public static RouteGroupBuilder MapBroadcasts(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/broadcasts").WithTags("Broadcasts");
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<BroadcastInput>("application/json")
            .WithSummary("Send to a segment (or every subscriber of the topic), now or at sendAt; a bad template or query is a 400 with line and column");
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("Broadcasts, newest first, with their counts");
        group.MapGet("/{id:guid}", GetAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Status (scheduled, sending, finished) and counts per message state, opens, clicks, unsubscribes and revenue");
        group.MapPost("/{id:guid}/cancel", CancelAsync).RequireAuthorization(ApiKeys.WritePolicy)
            .WithSummary("Stop a broadcast: messages not yet sent are suppressed");
        return api;
    }

    internal sealed record AbTestInput(string? Subject, string? Body, int? Percent, string? Metric, int? Hours);

    internal sealed record BroadcastInput(string? Name, string? Segment, string? Topic, string? Subject, string? Body, string? Format,
        string? Preheader, DateTime? SendAt, bool? LocalTime, AbTestInput? AbTest, int? RevenueDays, Guid? TemplateId = null, Guid? OfferId = null);

    internal sealed record Created(Guid Id);

    /// <summary>Builds a broadcast from the input, or says what is wrong and where.</summary>
    internal static (Broadcast? Broadcast, IResult? Problem) Validate(BroadcastInput input, ClienteleDb db, DateTime now)
    {
        if (input.TemplateId is { } templateId)
        {
            // The saved template's content, unless the request gives its own.
            if (db.Templates.AsNoTracking().FirstOrDefault(t => t.Id == templateId) is not { } template)
            {
                return (null, ApiProblems.Invalid("/templateId", $"There is no template {templateId}."));
            }
            input = input with
            {
                Subject = input.Subject ?? template.Subject,
                Body = input.Body ?? template.Body,
                Format = input.Format ?? template.Format,
                Preheader = input.Preheader ?? template.Preheader,
            };
        }
        var errors = new List<FieldError>();
        var name = input.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            errors.Add(new("/name", "Give the broadcast a name."));
        }
        var topic = input.Topic?.Trim();
        if (string.IsNullOrEmpty(topic))
        {
            errors.Add(new("/topic", "Say which consent topic this is for (newsletter, offers, …): only its subscribers receive it."));
        }
        var format = Template.CheckContent(input.Subject, input.Body, input.Format, errors);
        var ab = input.AbTest;
        if (ab is not null)
        {
            if (string.IsNullOrWhiteSpace(ab.Subject) && string.IsNullOrWhiteSpace(ab.Body))
            {
                errors.Add(new("/abTest", "An A/B test needs a different subject or body for variant B."));
            }
            if (ab.Percent is < 2 or > 50)
            {
                errors.Add(new("/abTest/percent", "The test sample is between 2 and 50 percent of the audience."));
            }
            if (ab.Metric is not (null or "opens" or "clicks"))
            {
                errors.Add(new("/abTest/metric", "The winner is chosen by \"opens\" or \"clicks\"."));
            }
            if (ab.Hours is < 1 or > 72)
            {
                errors.Add(new("/abTest/hours", "The test runs between 1 and 72 hours."));
            }
        }
        if (input.RevenueDays is < 1 or > 90)
        {
            errors.Add(new("/revenueDays", "Revenue is counted for 1 to 90 days after a message."));
        }
        if (input.OfferId is { } offerId)
        {
            if (db.Offers.AsNoTracking().FirstOrDefault(o => o.Id == offerId) is not { } offer)
            {
                errors.Add(new("/offerId", $"There is no offer {offerId}."));
            }
            else if (offer.Archived)
            {
                errors.Add(new("/offerId", $"The offer \"{offer.Name}\" is archived: it issues no more coupons."));
            }
            else if (!(input.Body ?? "").Contains("offer", StringComparison.Ordinal) && !(input.Subject ?? "").Contains("offer", StringComparison.Ordinal))
            {
                errors.Add(new("/body", "Show the offer in the message, e.g. {{ offer.title }}: use the code {{ offer.code }}."));
            }
        }
        if (errors.Count > 0)
        {
            return (null, ApiProblems.Invalid(errors));
        }
        var segment = string.IsNullOrWhiteSpace(input.Segment) ? null : input.Segment.Trim();
        if (segment is not null)
        {
            try
            {
                SegmentCompiler.Compile(SegmentParser.Parse(segment), db, now);
            }
            catch (SegmentQueryException ex)
            {
                return (null, ApiProblems.BadRequest(ex.Message, "/segment", new Dictionary<string, object?> { ["line"] = ex.Line, ["column"] = ex.Column }));
            }
        }
        var b = new Broadcast
        {
            Id = Guid.CreateVersion7(),
            Name = name!,
            Topic = topic!,
            Segment = segment,
            Subject = input.Subject!.Trim(),
            Body = input.Body!,
            Format = format,
            Preheader = string.IsNullOrWhiteSpace(input.Preheader) ? null : input.Preheader.Trim(),
            SendAt = input.SendAt is { } at ? DateTime.SpecifyKind(input.LocalTime == true ? at : at.ToUniversalTime(), DateTimeKind.Utc) : null,
            LocalTime = input.LocalTime ?? false,
            RevenueDays = input.RevenueDays ?? 5,
            TemplateId = input.TemplateId,
            OfferId = input.OfferId,
            CreatedAt = now,
            Status = BroadcastStatus.Scheduled,
        };
        if (ab is not null)
        {
            b.SubjectB = string.IsNullOrWhiteSpace(ab.Subject) ? b.Subject : ab.Subject.Trim();
            b.BodyB = string.IsNullOrWhiteSpace(ab.Body) ? b.Body : ab.Body;
            b.TestPercent = ab.Percent ?? 20;
            b.TestMetric = ab.Metric ?? "opens";
            b.TestHours = ab.Hours ?? 4;
        }
        if (BroadcastContent.Check(b) is { } templateProblem)
        {
            return (null, ApiProblems.BadRequest(templateProblem.Message, templateProblem.Pointer,
                new Dictionary<string, object?> { ["line"] = templateProblem.Line, ["column"] = templateProblem.Column }));
        }
        return (b, null);
    }

    internal static async Task<IResult> CreateAsync(HttpRequest request, ClienteleDb db, ClienteleDatabase database, BroadcastSignal signal, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<BroadcastInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var now = time.GetUtcNow().UtcDateTime;
        var (broadcast, invalid) = Validate(input!, db, now);
        if (invalid is not null)
        {
            return invalid;
        }
        db.Broadcasts.Add(broadcast!);
        using (await database.EnterWriteAsync(ct))
        {
            await db.SaveChangesAsync(ct);
        }
        signal.Notify();
        return TypedResults.Created($"/api/v1/broadcasts/{broadcast!.Id}", new Created(broadcast.Id));
    }

    internal sealed record Counts(int Queued, int Sending, int Sent, int Deferred, int Failed, int Bounced, int Suppressed,
        int Delivered, int Opened, int Clicked, int Unsubscribed, int Ambiguous);

    internal sealed record Revenue(string Currency, decimal Amount, int Orders);

    internal sealed record VariantReport(string Variant, string Subject, int Sent, int Opened, int Clicked);

    internal sealed record BroadcastDto(Guid Id, string Name, string Status, string Topic, string? Segment, string Subject, DateTime? SendAt,
        bool LocalTime, int Audience, Counts Counts, List<Revenue> Revenue, int RevenueDays, List<VariantReport> Variants, string? Winner,
        DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt, Guid? OfferId, int CouponsIssued);

    /// <summary>The start of the key of each coupon a broadcast issues (then the contact).</summary>
    public static string BroadcastOfferKeyPrefix(Guid broadcastId) => $"broadcast:{broadcastId:N}:";

    /// <summary>The contract's three states, plus draft and cancelled.</summary>
    public static string StatusName(BroadcastStatus s) => s switch
    {
        BroadcastStatus.Scheduled => "scheduled",
        BroadcastStatus.Testing or BroadcastStatus.Sending => "sending",
        BroadcastStatus.Finished => "finished",
        BroadcastStatus.Cancelled => "cancelled",
        _ => "draft",
    };

    internal static async Task<IResult> GetAsync(Guid id, ClienteleDb db, CancellationToken ct)
    {
        if (await db.Broadcasts.AsNoTracking().FirstOrDefaultAsync(b => b.Id == id, ct) is not { } b)
        {
            return ApiProblems.NotFound($"There is no broadcast {id}.");
        }
        return TypedResults.Ok(await ReportAsync(db, b, ct));
    }

    internal static async Task<IResult> ListAsync(ClienteleDb db, CancellationToken ct)
    {
        var list = await db.Broadcasts.AsNoTracking().OrderByDescending(b => b.CreatedAt).Take(200).ToListAsync(ct);
        var result = new List<BroadcastDto>();
        foreach (var b in list)
        {
            result.Add(await ReportAsync(db, b, ct));
        }
        return TypedResults.Ok(result);
    }

    internal static async Task<BroadcastDto> ReportAsync(ClienteleDb db, Broadcast b, CancellationToken ct)
    {
        var messages = db.OutboxMessages.AsNoTracking().Where(m => m.BroadcastId == b.Id);
        // One pass over the broadcast's messages for every count.
        var groups = await messages.GroupBy(m => new { m.Status, m.Variant })
            .Select(g => new
            {
                g.Key.Status,
                g.Key.Variant,
                Count = g.Count(),
                Opened = g.Count(m => m.OpenedAt != null),
                Clicked = g.Count(m => m.ClickedAt != null),
                Ambiguous = g.Count(m => m.Ambiguous),
            })
            .ToListAsync(ct);
        int Of(OutboxStatus s) => groups.Where(g => g.Status == s).Sum(g => g.Count);
        var variants = groups.Where(g => g.Status is OutboxStatus.Sent or OutboxStatus.Bounced).GroupBy(g => g.Variant)
            .Select(v => new { Variant = v.Key, Sent = v.Sum(g => g.Count), Opened = v.Sum(g => g.Opened), Clicked = v.Sum(g => g.Clicked) })
            .ToList();
        var ambiguous = groups.Sum(g => g.Ambiguous);
        var id = b.Id.ToString();
        var unsubscribed = await db.Events.AsNoTracking()
            .CountAsync(e => e.Type == "email.unsubscribed" && ClienteleDb.AttributeText(e.Properties, "broadcastId") == id, ct);
        var days = b.RevenueDays;
        var sentMessages = messages.Where(m => m.SentAt != null);
        var revenue = await db.Orders.AsNoTracking()
            .Where(o => o.Status != Commerce.OrderStatus.Refunded
                && sentMessages.Any(m => m.ContactId == o.ContactId && o.PlacedAt >= m.SentAt && o.PlacedAt <= m.SentAt!.Value.AddDays(days)))
            .GroupBy(o => o.Currency)
            .Select(g => new { Currency = g.Key, Amount = g.Sum(o => o.Total), Orders = g.Count() })
            .ToListAsync(ct);
        var sent = Of(OutboxStatus.Sent) + Of(OutboxStatus.Bounced);
        var counts = new Counts(Of(OutboxStatus.Queued), Of(OutboxStatus.Sending), sent, Of(OutboxStatus.Deferred), Of(OutboxStatus.Failed),
            Of(OutboxStatus.Bounced), Of(OutboxStatus.Suppressed), Of(OutboxStatus.Sent), variants.Sum(v => v.Opened), variants.Sum(v => v.Clicked),
            unsubscribed, ambiguous);
        var variantReports = b.SubjectB is null
            ? []
            : variants.Where(v => v.Variant is not null).OrderBy(v => v.Variant)
                .Select(v => new VariantReport(v.Variant!, v.Variant == "B" ? b.SubjectB : b.Subject, v.Sent, v.Opened, v.Clicked)).ToList();
        return new BroadcastDto(b.Id, b.Name, StatusName(b.Status), b.Topic, b.Segment, b.Subject, b.SendAt, b.LocalTime, b.Audience, counts,
            [.. revenue.Select(r => new Revenue(r.Currency, r.Amount, r.Orders))], b.RevenueDays, variantReports, b.Winner,
            b.CreatedAt, b.StartedAt, b.FinishedAt, b.OfferId,
            b.OfferId is null ? 0 : await db.Coupons.CountAsync(c => c.OfferId == b.OfferId && c.Source == "broadcast" && c.IdempotencyKey.StartsWith(BroadcastOfferKeyPrefix(b.Id)), ct));
    }

    internal static async Task<IResult> CancelAsync(Guid id, ClienteleDb db, ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        if (await db.Broadcasts.FirstOrDefaultAsync(b => b.Id == id, ct) is not { } b)
        {
            return ApiProblems.NotFound($"There is no broadcast {id}.");
        }
        if (b.Status is BroadcastStatus.Finished or BroadcastStatus.Cancelled)
        {
            return ApiProblems.Conflict($"The broadcast is {StatusName(b.Status)} already.");
        }
        var now = time.GetUtcNow().UtcDateTime;
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            b.Status = BroadcastStatus.Cancelled;
            b.FinishedAt = now;
            await db.SaveChangesAsync(ct);
            await db.OutboxMessages.Where(m => m.BroadcastId == id && (m.Status == OutboxStatus.Queued || m.Status == OutboxStatus.Deferred))
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, OutboxStatus.Suppressed)
                    .SetProperty(m => m.LastAnswer, $"The broadcast was cancelled at {now:yyyy-MM-dd HH:mm} UTC."), ct);
            await tx.CommitAsync(ct);
        }
        return TypedResults.Ok(await ReportAsync(db, b, ct));
    }
}
