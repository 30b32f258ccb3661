using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;
using Clientele.Segments;
using Clientele.Templates;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Journeys;

/// <summary>A ready journey with its e-mails (and the segment it starts from, if any), installed in one step and then editable.</summary>
internal sealed record Playbook(string Name, string Title, string Purpose, JourneyDefinition Definition,
    IReadOnlyList<Playbook.Mail> Templates, Playbook.SegmentToMake? Segment = null)
{
    internal sealed record Mail(string Name, string Subject, string Body);

    internal sealed record SegmentToMake(string Name, string Query);
}

/// <summary>The playbooks and <c>/api/v1/playbooks</c>.</summary>
internal static class Playbooks
{
    private static JourneyStep Email(string id, string template, string topic = "newsletter") => new() { Id = id, Type = "email", Template = template, Topic = topic };

    private static JourneyStep Service(string id, string template) => new() { Id = id, Type = "email", Template = template, Topic = "service" };

    private static JourneyStep Wait(string id, int days) => new() { Id = id, Type = "wait", Days = days };

    private const string Signature = "\n\nWarm regards,  \n{{ business.name }}";

    public static readonly IReadOnlyList<Playbook> All =
    [
        new("welcome", "Welcome series", "Greets every new lead, shows what you offer and nudges towards a first purchase; stops when they buy.",
            new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Stage = "capture" },
                Goal = "orders.count() >= 1",
                Steps = [Email("welcome", "Welcome"), Wait("two-days", 2), Email("best-of", "Our most loved"), Wait("four-days", 4), Email("first-order", "A reason to start")],
            },
            [
                new("Welcome", "Welcome, {{ contact.first_name | default: 'friend' }}!", "Hi {{ contact.first_name | default: 'there' }},\n\nthank you for joining us. Over the next days we will send you a few short notes on what we do best." + Signature),
                new("Our most loved", "What our customers love most", "Hi {{ contact.first_name | default: 'there' }},\n\nthese are the things our customers come back for. Have a look, and reply if you have a question — a person reads every answer." + Signature),
                new("A reason to start", "Ready when you are", "Hi {{ contact.first_name | default: 'there' }},\n\nif you have been waiting for the right moment, this is it. We are here if you need help choosing." + Signature),
            ]),
        new("trial-conversion", "Trial conversion", "Helps trial users get value fast and reminds them before the trial ends; stops when they buy.",
            new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Stage = "trial" },
                Goal = "orders.count() >= 1",
                Steps =
                [
                    Service("start", "Trial: getting started"), Wait("week", 7),
                    new JourneyStep { Id = "bought?", Type = "waitForEvent", Event = "order.placed", Days = 5, Timeout = "ending" },
                    Service("ending", "Trial: ending soon"),
                ],
            },
            [
                new("Trial: getting started", "Your trial has started", "Hi {{ contact.first_name | default: 'there' }},\n\nhere is how to get the most from your trial in the first days." + Signature),
                new("Trial: ending soon", "Your trial ends soon", "Hi {{ contact.first_name | default: 'there' }},\n\nyour trial ends in a couple of days. Keep everything you set up by choosing a plan now." + Signature),
            ]),
        new("thank-you", "Thank you after the first purchase", "Thanks every first-time buyer, helps them get started and asks for a review.",
            new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Stage = "purchase" },
                Steps = [Service("thanks", "Thank you"), Wait("three-days", 3), Service("onboarding", "Getting the most from it"), Wait("two-weeks", 14), Service("review", "Would you leave a review?")],
            },
            [
                new("Thank you", "Thank you for your order, {{ contact.first_name | default: 'friend' }}", "Hi {{ contact.first_name | default: 'there' }},\n\nthank you for choosing us. It means a lot to a small business." + Signature),
                new("Getting the most from it", "A few tips for your purchase", "Hi {{ contact.first_name | default: 'there' }},\n\nhere are a few tips to get the most from what you bought." + Signature),
                new("Would you leave a review?", "How do you like it?", "Hi {{ contact.first_name | default: 'there' }},\n\nwould you tell others what you think? A short review helps them choose — and helps us." + Signature),
            ]),
        new("repurchase-reminder", "Re-purchase reminder", "Reminds a customer when they are likely to need more, unless they have already ordered again.",
            new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Event = "order.placed" },
                Entry = new EntryRule { Repeat = "always", Key = "orderId" },
                Steps =
                [
                    // Three days before the next purchase the customer's own rhythm predicts (30 days when not yet predicted).
                    new JourneyStep { Id = "due", Type = "waitUntil", Field = "nextPurchase", DaysBefore = 3, Time = "10:00", Days = 30 },
                    new JourneyStep { Id = "ordered-again?", Type = "branch", Condition = "orders.last(within: 14d)", Then = "done", Else = "remind" },
                    new JourneyStep { Id = "done", Type = "exit" },
                    Email("remind", "Time to restock?", "offers"),
                ],
            },
            [new("Time to restock?", "Running low, {{ contact.first_name | default: 'friend' }}?", "Hi {{ contact.first_name | default: 'there' }},\n\nyou may be running low about now. Shall we send the same again?" + Signature)]),
        new("cross-sell", "Cross-sell", "A week after a purchase, suggests what other customers bought with it.",
            new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Event = "order.placed" },
                Entry = new EntryRule { Repeat = "period", PeriodDays = 30 },
                Steps = [Wait("week", 7), Email("suggest", "You might also like", "offers")],
            },
            [new("You might also like", "Picked for you", "Hi {{ contact.first_name | default: 'there' }},\n\ncustomers who bought what you did also liked these:\n\n{% for item in recommendations %}\n- {% if item.url %}[{{ item.name }}]({{ item.url }}){% else %}{{ item.name }}{% endif %}, {{ item.price | money: item.currency }}\n{% endfor %}\n" + Signature)]),
        new("loyalty-referral", "Loyalty: referral and testimonial", "Thanks loyal customers, invites them to refer a friend and asks for a testimonial.",
            new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Stage = "loyalty" },
                Steps = [Email("refer", "Refer a friend"), Wait("two-weeks", 14), Email("testimonial", "Would you share your story?")],
            },
            [
                new("Refer a friend", "A thank-you for a regular", "Hi {{ contact.first_name | default: 'there' }},\n\nyou have been with us for a while — thank you. If a friend would like what we do, send them our way." + Signature),
                new("Would you share your story?", "Would you share your story?", "Hi {{ contact.first_name | default: 'there' }},\n\na few words from you about why you come back would mean the world to us. Just reply to this e-mail." + Signature),
            ]),
        new("win-back", "Win-back", "Reaches out to customers who are slipping away (their chance of still being a customer has fallen below 30 %).",
            new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Segment = "Slipping away" },
                Entry = new EntryRule { Repeat = "period", PeriodDays = 180 },
                Goal = "orders.last(within: 14d)",
                Steps = [Email("miss-you", "We miss you", "offers"), Wait("ten-days", 10), Email("last-try", "Still there?", "offers")],
            },
            [
                new("We miss you", "We miss you, {{ contact.first_name | default: 'friend' }}", "Hi {{ contact.first_name | default: 'there' }},\n\nit has been a while. Here is what is new since your last visit." + Signature),
                new("Still there?", "Should we keep in touch?", "Hi {{ contact.first_name | default: 'there' }},\n\nwe would love to see you again — and if now is not the time, that is fine too." + Signature),
            ],
            new Playbook.SegmentToMake("Slipping away", "pAlive < 0.3 and orders.count() >= 1")),
        new("birthday", "Birthday greeting", "Wishes every contact with a known birthday a happy birthday at nine in the morning, their time.",
            new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Anniversary = "birthday", Time = "09:00" },
                Steps = [Email("greet", "Happy birthday", "offers")],
            },
            [new("Happy birthday", "Happy birthday, {{ contact.first_name | default: 'friend' }}!", "Hi {{ contact.first_name | default: 'there' }},\n\neveryone here wishes you a wonderful birthday. Treat yourself — you deserve it." + Signature)]),
        new("holiday-greetings", "Holiday greetings", "Season's greetings on 24 December and a happy new year on 1 January, at ten in the morning, each contact's time.",
            new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Dates = ["12-24", "01-01"], Time = "10:00" },
                Entry = new EntryRule { Repeat = "always" },
                Steps = [Email("greet", "Season's greetings")],
            },
            [new("Season's greetings", "Warm wishes from {{ business.name }}", "Hi {{ contact.first_name | default: 'there' }},\n\nthank you for being part of our year. We wish you and yours a wonderful holiday." + Signature)]),
        new("stay-in-touch", "Stay in touch", "Keeps in touch with everyone you have not written to in 90 days, so nobody forgets you.",
            new JourneyDefinition
            {
                Trigger = new JourneyTrigger { InactiveDays = 90, Time = "10:00" },
                Entry = new EntryRule { Repeat = "always" },
                Steps = [Email("note", "Thinking of you")],
            },
            [new("Thinking of you", "A quick hello from {{ business.name }}", "Hi {{ contact.first_name | default: 'there' }},\n\nit has been a little while, so here is a short hello and what we have been up to." + Signature)]),
        new("plan-review", "Plan review", "Invites customers to review their plan or order with you every quarter.",
            new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Every = new Cadence { Days = 91 }, Time = "10:00" },
                Entry = new EntryRule { Repeat = "always" },
                Goal = "orders.count() = 0",
                Steps = [Service("review", "Time for a plan review")],
            },
            [new("Time for a plan review", "Shall we review your plan?", "Hi {{ contact.first_name | default: 'there' }},\n\nevery few months we check that what you have still fits. Reply with a time that suits you and we will go through it together." + Signature)]),
        new("hows-my-doing", "How'm I doing?", "Asks every customer three weeks after an order how you are doing, and every four months after that.",
            new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Event = "order.placed" },
                Entry = new EntryRule { Repeat = "period", PeriodDays = 120 },
                Steps = [Wait("three-weeks", 21), Service("ask", "How am I doing?")],
            },
            [new("How am I doing?", "How are we doing, {{ contact.first_name | default: 'friend' }}?", "Hi {{ contact.first_name | default: 'there' }},\n\nhow are we doing? Reply with one line — what we do well, or what we could do better. Every answer is read." + Signature)]),
        new("promoter-ask", "Promoter: review and referral ask", "The day after a customer says they would recommend you (a promoter's survey answer), thanks them and asks for a review — and, while the referral programme is on, to pass on their link.",
            new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Event = "feedback.promoter" },
                Entry = new EntryRule { Repeat = "period", PeriodDays = 180 },
                Steps = [Wait("next-day", 1), Service("ask", "Would you write us a review?")],
            },
            [
                // The referral paragraph shows while the referral programme is on; until then it stays out.
                new("Would you write us a review?", "Thank you, {{ contact.first_name | default: 'friend' }}!",
                    "Hi {{ contact.first_name | default: 'there' }},\n\nthank you for your kind words about us — they made our day.\n\n"
                    + "Would you say it in a short review? It takes a minute and helps others choose.\n\n[Write a review]({{ review.link }}){.button}\n\n"
                    + "{% if referral %}\nAnd if a friend would like what we do, here is your own link to pass on: [{{ referral.link }}]({{ referral.link }})\n{% endif %}" + Signature),
            ]),
    ];

    public static RouteGroupBuilder MapPlaybooks(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/playbooks").WithTags("Journeys");
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("Ready journeys, and whether each is installed");
        group.MapPost("/{name}/install", InstallAsync).RequireAuthorization(ApiKeys.WritePolicy)
            .WithSummary("Install a playbook with its templates (and segment): {\"publish\": true} also starts it");
        return api;
    }

    internal sealed record PlaybookDto(string Name, string Title, string Purpose, string Trigger, List<string> Templates, Guid? JourneyId, string? Status);

    internal sealed record InstallInput(bool? Publish);

    internal sealed record Installed(Guid JourneyId, string Name, string Status, int Version, List<string> TemplatesCreated, List<string> TemplatesKept, string? SegmentCreated);

    internal static async Task<IResult> ListAsync(ClienteleDb db, CancellationToken ct)
    {
        var installed = await db.Journeys.AsNoTracking().Where(j => j.Playbook != null).Select(j => new { j.Playbook, j.Id, j.Status }).ToListAsync(ct);
        return TypedResults.Ok(All.Select(p =>
        {
            var journey = installed.FirstOrDefault(j => j.Playbook == p.Name);
            return new PlaybookDto(p.Name, p.Title, p.Purpose, JourneyOutline.Trigger(p.Definition.Trigger), [.. p.Templates.Select(t => t.Name)], journey?.Id, journey?.Status.ToApi());
        }).ToList());
    }

    internal static async Task<IResult> InstallAsync(string name, HttpRequest request, ClienteleDatabase database, JourneyEntry entry, SegmentRebuilds rebuilds,
        TimeProvider time, CancellationToken ct)
    {
        InstallInput? input = new(false);
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            (input, var problem) = await JsonBody.ReadAsync<InstallInput>(request, ct);
            if (problem is not null)
            {
                return problem;
            }
        }
        var (installed, failure) = await InstallCoreAsync(name, input?.Publish == true, database, entry, rebuilds, time.GetUtcNow().UtcDateTime, ct);
        return failure ?? TypedResults.Created($"/api/v1/journeys/{installed!.JourneyId}", installed);
    }

    /// <summary>Installs a playbook (and publishes it when asked): the journey, its missing templates and its segment, in one transaction.</summary>
    /// <param name="entry">Told to reload its journeys; null when no server runs yet (the demo seed).</param>
    /// <param name="rebuilds">Asked to build the playbook's new segment; null when no server runs yet.</param>
    internal static async Task<(Installed? Installed, IResult? Problem)> InstallCoreAsync(string name, bool publish, ClienteleDatabase database, JourneyEntry? entry,
        SegmentRebuilds? rebuilds, DateTime now, CancellationToken ct)
    {
        if (All.FirstOrDefault(p => p.Name == name) is not { } playbook)
        {
            return (null, ApiProblems.NotFound($"There is no playbook \"{name}\". There are: {string.Join(", ", All.Select(p => p.Name))}."));
        }
        await using var db = database.CreateDbContext();
        using var gate = await database.EnterWriteAsync(ct);
        if (await db.Journeys.AsNoTracking().FirstOrDefaultAsync(j => j.Playbook == name || j.Name == playbook.Title, ct) is { } existing)
        {
            return (null, ApiProblems.Conflict($"\"{playbook.Title}\" is installed already (journey {existing.Id}); edit it there."));
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var names = playbook.Templates.Select(t => t.Name).ToList();
        var kept = await db.Templates.Where(t => names.Contains(t.Name)).Select(t => t.Name).ToListAsync(ct);
        var created = new List<string>();
        foreach (var t in playbook.Templates.Where(t => !kept.Contains(t.Name)))
        {
            // The owner's own template of the same name is kept as it is.
            db.Templates.Add(new Template { Id = Guid.CreateVersion7(), Name = t.Name, Subject = t.Subject, Body = t.Body, Format = "markdown", CreatedAt = now, UpdatedAt = now });
            created.Add(t.Name);
        }
        Segment? segment = null;
        if (playbook.Segment is { } wanted && !await db.Segments.AnyAsync(s => s.Name == wanted.Name, ct))
        {
            segment = new Segment { Id = Guid.CreateVersion7(), Name = wanted.Name, Query = wanted.Query, CreatedAt = now, UpdatedAt = now };
            db.Segments.Add(segment);
        }
        var journey = new Journey
        {
            Id = Guid.CreateVersion7(),
            Name = playbook.Title,
            Description = playbook.Purpose,
            Status = JourneyStatus.Draft,
            Draft = playbook.Definition.ToJson(),
            Playbook = playbook.Name,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Journeys.Add(journey);
        await db.SaveChangesAsync(ct);
        if (publish && (await JourneysApi.PublishInAsync(db, journey, now, ct)).Problem is { } refused)
        {
            await tx.RollbackAsync(ct);
            return (null, refused);
        }
        await tx.CommitAsync(ct);
        if (segment is not null)
        {
            rebuilds?.Request(segment.Id);
        }
        entry?.Invalidate();
        return (new Installed(journey.Id, journey.Name, journey.Status.ToApi(), journey.Version, created, kept, segment?.Name), null);
    }
}
