using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Clientele.Api;
using Clientele.Lifecycle;
using Clientele.Segments;

namespace Clientele.Journeys;

/// <summary>A cadence per contact: a run every so many days after the contact was added.</summary>
internal sealed record Cadence
{
    public int Days { get; init; }

    /// <summary>Properties this version does not read, kept so that reading and writing a definition never drops them.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }
}

/// <summary>
/// What starts a run: exactly one of an event (with property filters), entering a segment, reaching a stage — or a
/// date: the yearly anniversary of the birthday or sign-up, fixed calendar dates, a stretch without contact, a cadence.
/// Date triggers start the run at <see cref="Time"/> on the contact's clock.
/// </summary>
internal sealed record JourneyTrigger
{
    /// <summary>An event type, e.g. <c>order.placed</c>.</summary>
    public string? Event { get; init; }

    /// <summary>
    /// Event properties that must equal these values (compared as text, ignoring case). A dotted name reaches into the
    /// properties, and a list matches when any item does: <c>"items.category": "coffee"</c> is an order with a coffee line.
    /// </summary>
    public Dictionary<string, string>? Where { get; init; }

    /// <summary>A segment's name: entering it starts a run.</summary>
    public string? Segment { get; init; }

    /// <summary>A lifecycle stage (lead … retention): reaching it starts a run.</summary>
    public string? Stage { get; init; }

    /// <summary>
    /// <c>birthday</c>, <c>signup</c> or a date attribute (<c>attributes.renewal</c>): once a year on that day (29 February is
    /// kept on 28 February in other years); a date attribute also on the date itself.
    /// </summary>
    public string? Anniversary { get; init; }

    /// <summary>Days before the anniversary or date to start (e.g. 7 for a week ahead).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int DaysBefore { get; init; }

    /// <summary>Calendar dates: <c>MM-dd</c> every year, or <c>yyyy-MM-dd</c> once.</summary>
    public List<string>? Dates { get; init; }

    /// <summary>An iCalendar (.ics) text, e.g. a country's public holidays: a run on each day one of its events falls on.</summary>
    public string? Calendar { get; init; }

    /// <summary>Starts a run for each contact not sent any e-mail in this many days (again after each such stretch).</summary>
    public int? InactiveDays { get; init; }

    public Cadence? Every { get; init; }

    /// <summary>
    /// For event, segment and stage triggers: an event that happened longer ago than this (e.g. an imported old order)
    /// starts nothing. Default 48 hours.
    /// </summary>
    public int? MaxAgeHours { get; init; }

    public const int DefaultMaxAgeHours = 48;

    /// <summary>For date triggers: when on the contact's clock the run starts (<c>HH:mm</c>, default 09:00).</summary>
    public string? Time { get; init; }

    /// <summary>The event type on the log that this trigger listens for; null for date triggers (derived, so never stored).</summary>
    [JsonIgnore]
    public string? EventType => Event ?? (Segment is not null ? "segment.entered" : Stage is not null ? "stage.changed" : null);

    [JsonIgnore]
    public bool IsDated => Anniversary is not null || Dates is not null || Calendar is not null || InactiveDays is not null || Every is not null;

    /// <summary>Properties this version does not read, kept so that reading and writing a definition never drops them.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }
}

/// <summary>Who may enter, and how often.</summary>
internal sealed record EntryRule
{
    /// <summary><c>once</c> (ever, the default), <c>period</c> (once per <see cref="PeriodDays"/>) or <c>always</c>.</summary>
    public string Repeat { get; init; } = "once";

    public int? PeriodDays { get; init; }

    /// <summary>An event property: one run per contact and value (e.g. per order id) instead of per contact.</summary>
    public string? Key { get; init; }

    /// <summary>At most this many runs of the journey at once per contact (default one).</summary>
    public int MaxActive { get; init; } = 1;

    /// <summary>Properties this version does not read, kept so that reading and writing a definition never drops them.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }
}

/// <summary>One way out of a random split: a share of the runs and where they go.</summary>
internal sealed record SplitPath
{
    public int Percent { get; init; }
    public string? Next { get; init; }

    /// <summary>Properties this version does not read, kept so that reading and writing a definition never drops them.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }
}

/// <summary>
/// One step. <c>next</c> defaults to the step listed after it; a step with nothing after it ends the run.
/// Types: <c>email</c> (template, topic, class), <c>wait</c> (days, hours, minutes), <c>waitUntil</c> (time of day
/// in the contact's zone, <c>HH:mm</c>), <c>waitForEvent</c> (event; days / hours / minutes until the timeout; then /
/// timeout), <c>branch</c> (condition in the segment language; then / else), <c>split</c> (paths with percentages),
/// <c>update</c> (add / remove tags, set custom attributes; <c>tag</c> is the same), <c>abtest</c> (an e-mail in two to five
/// variants until one wins on clicks, orders or revenue), <c>notify</c> (tells the business's users about the contact by e-mail),
/// <c>webhook</c> (a signed POST about the contact to another system), <c>offer</c> (issues the contact a coupon), <c>feedback</c> (an e-mail asking a survey's question), <c>task</c>
/// (a ticket for the team about the contact), <c>exit</c>.
/// </summary>
internal sealed record JourneyStep
{
    public string Id { get; init; } = "";
    public string Type { get; init; } = "";
    public string? Next { get; init; }

    public string? Template { get; init; }
    public string? Topic { get; init; }

    /// <summary><c>marketing</c> (the default: needs consent to the topic) or <c>transactional</c>.</summary>
    public string? Class { get; init; }

    public int? Days { get; init; }
    public int? Hours { get; init; }
    public int? Minutes { get; init; }
    public string? Time { get; init; }

    public string? Condition { get; init; }
    public string? Then { get; init; }
    public string? Else { get; init; }

    /// <summary>
    /// For <c>waitUntil</c>: a date on the contact instead of the next time of day — <c>birthday</c> (the next one),
    /// <c>nextPurchase</c> (the last order plus the interval its predicted purchases imply) or <c>attributes.name</c>
    /// (a custom attribute holding a date) — less <see cref="DaysBefore"/>, at <see cref="Time"/> (default 09:00). A contact
    /// without that date waits the step's days / hours instead, or goes straight on without them.
    /// </summary>
    public string? Field { get; init; }

    public int? DaysBefore { get; init; }

    /// <summary>For <c>waitForEvent</c>: the event type that ends the wait early.</summary>
    public string? Event { get; init; }

    /// <summary>For <c>waitForEvent</c>: where to go when the event did not come in time.</summary>
    public string? Timeout { get; init; }

    public List<SplitPath>? Paths { get; init; }

    /// <summary>For <c>abtest</c>: the templates tried against each other, one per run, in equal shares until one wins.</summary>
    public List<string>? Variants { get; init; }

    /// <summary>For <c>abtest</c>: what makes a variant win — <c>click</c> (the default), <c>order</c> or <c>revenue</c>.</summary>
    public string? WinBy { get; init; }

    /// <summary>For <c>abtest</c>: days after each e-mail in which its click or order counts (default 2 for clicks, 7 otherwise).</summary>
    public int? WindowDays { get; init; }

    /// <summary>For <c>abtest</c>: e-mails each variant needs (counted once their window is over) before a winner may be called (default 100).</summary>
    public int? MinSends { get; init; }

    /// <summary>For <c>abtest</c>: days after the first e-mail when the better variant wins even without a clear difference (default 14).</summary>
    public int? MaxDays { get; init; }

    public List<string>? Add { get; init; }
    public List<string>? Remove { get; init; }

    /// <summary>Custom attributes to set (null removes one).</summary>
    public Dictionary<string, JsonElement>? Set { get; init; }

    /// <summary>For <c>notify</c>: who is told — <c>owners</c> (the default), <c>marketers</c>, <c>agents</c> (the users with that role) or e-mail addresses.</summary>
    public List<string>? Notify { get; init; }

    /// <summary>For <c>notify</c>: what to tell them (plain text); the contact's name, address, stage and a link to it follow.</summary>
    public string? Message { get; init; }

    /// <summary>For <c>task</c>: the task's subject; <see cref="Message"/> says what to do, <see cref="Assignee"/> who does it.</summary>
    public string? Subject { get; init; }

    /// <summary>For <c>task</c>: the user who does it (an e-mail); left out, the task waits in the open tickets for anyone.</summary>
    public string? Assignee { get; init; }

    /// <summary>For <c>task</c>: <c>low</c>, <c>normal</c> (the default), <c>high</c> or <c>urgent</c>.</summary>
    public string? Priority { get; init; }

    /// <summary>For <c>feedback</c>: the survey's name; its e-mail (<see cref="Template"/>) carries a one-click link per score.</summary>
    public string? Survey { get; init; }

    /// <summary>For <c>offer</c>: the offer's name; the contact is issued a coupon of it (within the offer's rules and the fatigue guard).</summary>
    public string? Offer { get; init; }

    /// <summary>For <c>webhook</c>: the receiver's address (https://…); it gets a signed POST with the contact and <see cref="Data"/>.</summary>
    public string? Url { get; init; }

    /// <summary>For <c>webhook</c>: any JSON to send along as <c>data</c>.</summary>
    public JsonElement? Data { get; init; }

    /// <summary>For <c>update</c>: points added to (or, negative, taken from) the contact's lead score; they do not fade.</summary>
    public int? Score { get; init; }

    /// <summary>For <c>update</c>: a lifecycle stage that holds whatever the rules say, or <c>auto</c> to hand the stage back to the rules.</summary>
    public string? Stage { get; init; }

    [JsonIgnore]
    public TimeSpan Duration => TimeSpan.FromDays(Days ?? 0) + TimeSpan.FromHours(Hours ?? 0) + TimeSpan.FromMinutes(Minutes ?? 0);

    [JsonIgnore]
    public bool Waits => Type is "wait" or "waitUntil" or "waitForEvent";

    [JsonIgnore]
    public bool Sends => Type is "email" or "abtest" or "feedback";

    [JsonIgnore]
    public string Metric => WinBy ?? "click";

    [JsonIgnore]
    public TimeSpan Window => TimeSpan.FromDays(WindowDays ?? (Metric == "click" ? 2 : 7));

    [JsonIgnore]
    public int SendsNeeded => MinSends ?? 100;

    [JsonIgnore]
    public TimeSpan TestLength => TimeSpan.FromDays(MaxDays ?? 14);

    /// <summary>Properties this version does not read, kept so that reading and writing a definition never drops them.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }
}

/// <summary>A journey's definition: stored as JSON, checked before it is published.</summary>
internal sealed record JourneyDefinition
{
    public JourneyTrigger Trigger { get; init; } = new();
    public EntryRule Entry { get; init; } = new();

    /// <summary>Per cent of entrants kept in a control group that receives nothing (0–50).</summary>
    public int Holdout { get; init; }

    /// <summary>A condition in the segment language: a contact who meets it leaves with the goal reached.</summary>
    public string? Goal { get; init; }

    public List<JourneyStep> Steps { get; init; } = [];

    /// <summary>Properties this version does not read, kept so that reading and writing a definition never drops them.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Who a <c>notify</c> step may name besides addresses: the users with that role.</summary>
    public static readonly string[] NotifyRoles = ["owners", "marketers", "agents"];

    public static readonly string[] StepTypes = ["email", "wait", "waitUntil", "waitForEvent", "branch", "split", "update", "tag", "abtest", "notify", "webhook", "offer", "feedback", "task", "exit"];

    /// <summary>Reads a definition; a JSON mistake is one error at the document's root.</summary>
    public static (JourneyDefinition? Definition, FieldError? Error) Parse(string json)
    {
        try
        {
            return (JsonSerializer.Deserialize<JourneyDefinition>(json, Json) ?? new JourneyDefinition(), null);
        }
        catch (JsonException ex)
        {
            return (null, new FieldError("/definition", $"The definition is not valid JSON here: {ex.Message}"));
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public JourneyStep? Step(string? id) => id is null ? null : Steps.Find(s => s.Id == id);

    /// <summary>Where a step goes next when it does not branch: its <c>next</c>, else the step listed after it.</summary>
    public string? NextOf(JourneyStep step)
    {
        if (step.Next is { Length: > 0 } next)
        {
            return next;
        }
        var at = Steps.IndexOf(step);
        return at >= 0 && at + 1 < Steps.Count ? Steps[at + 1].Id : null;
    }

    /// <summary>The steps a step can lead to.</summary>
    public IEnumerable<string> Successors(JourneyStep step) => step.Type switch
    {
        "exit" => [],
        "branch" => new[] { step.Then, step.Else }.OfType<string>(),
        "waitForEvent" => new[] { step.Then, step.Timeout }.OfType<string>(),
        "split" => (step.Paths ?? []).Select(p => p.Next).OfType<string>(),
        _ => NextOf(step) is { } next ? [next] : [],
    };

    /// <summary>
    /// Everything wrong with the definition, each with the JSON pointer of its place: unknown or missing steps,
    /// unreachable steps, loops that never wait, templates, segments and conditions that do not exist or do not read.
    /// </summary>
    /// <param name="check">Compiles a condition against the database, throwing <see cref="SegmentQueryException"/> for a field
    /// or segment that does not exist; without it, conditions are only parsed.</param>
    /// <param name="privateWebhooks">Whether webhooks may name addresses inside the business's own network.</param>
    /// <param name="offers">The offers' names; null to leave offer steps' names unchecked.</param>
    /// <param name="surveys">The surveys' names; null to leave feedback steps' surveys unchecked.</param>
    public List<FieldError> Validate(IReadOnlySet<string> templates, IReadOnlySet<string> segments, Action<SegmentNode>? check = null, bool privateWebhooks = false,
        IReadOnlySet<string>? offers = null, IReadOnlySet<string>? surveys = null)
    {
        var errors = new List<FieldError>();
        CheckTrigger(errors, segments);
        CheckEntry(errors);
        if (Holdout is < 0 or > 50)
        {
            errors.Add(new("/holdout", "The control group is 0 to 50 per cent of entrants."));
        }
        if (Goal is not null)
        {
            CheckCondition(Goal, "/goal", errors, check);
        }
        if (Steps.Count == 0)
        {
            errors.Add(new("/steps", "A journey needs at least one step."));
            return errors;
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Steps.Count; i++)
        {
            var s = Steps[i];
            var at = $"/steps/{i}";
            if (string.IsNullOrWhiteSpace(s.Id))
            {
                errors.Add(new(at + "/id", "Every step needs an id."));
            }
            else if (!ids.Add(s.Id))
            {
                errors.Add(new(at + "/id", $"Another step is already called \"{s.Id}\"."));
            }
            CheckStep(s, at, errors, templates, check, privateWebhooks, offers, surveys);
        }
        var broken = errors.Count(e => e.Field.EndsWith("/id", StringComparison.Ordinal));
        for (var i = 0; i < Steps.Count; i++)
        {
            var s = Steps[i];
            var links = new[] { ("next", s.Next), ("then", s.Then), ("else", s.Else), ("timeout", s.Timeout) }
                .Concat((s.Paths ?? []).Select((p, k) => ($"paths/{k}/next", p.Next)));
            foreach (var (field, target) in links)
            {
                if (target is { Length: > 0 } && !ids.Contains(target))
                {
                    errors.Add(new($"/steps/{i}/{field}", $"There is no step \"{target}\"."));
                    broken++;
                }
            }
        }
        if (broken > 0)
        {
            return errors; // the flow cannot be followed until its links are mended
        }
        var reachable = Reachable();
        for (var i = 0; i < Steps.Count; i++)
        {
            if (!reachable.Contains(Steps[i].Id))
            {
                errors.Add(new($"/steps/{i}", $"Step \"{Steps[i].Id}\" cannot be reached from the first step."));
            }
        }
        if (LoopWithoutWait() is { } loop)
        {
            errors.Add(new($"/steps/{Steps.FindIndex(s => s.Id == loop[0])}",
                $"The steps {string.Join(" → ", loop)} → {loop[0]} form a loop with no wait: a contact would go round it without end."));
        }
        return errors;
    }

    private void CheckTrigger(List<FieldError> errors, IReadOnlySet<string> segments)
    {
        var t = Trigger;
        var given = new[] { t.Event, t.Segment, t.Stage, t.Anniversary, t.Calendar }.Count(v => !string.IsNullOrWhiteSpace(v))
            + new object?[] { t.Dates, t.InactiveDays, t.Every }.Count(v => v is not null);
        if (given != 1)
        {
            errors.Add(new("/trigger", "The trigger is one of: an event (\"event\"), entering a segment (\"segment\"), reaching a stage (\"stage\"), "
                + "an anniversary (\"anniversary\": \"birthday\" or \"signup\"), calendar dates (\"dates\"), an iCalendar of holidays (\"calendar\"), a stretch without contact (\"inactiveDays\") "
                + "or a cadence (\"every\": {\"days\": N})."));
            return;
        }
        if (t.Anniversary is { } anniversary && anniversary is not ("birthday" or "signup")
            && !(anniversary.StartsWith("attributes.", StringComparison.Ordinal) && anniversary.Length > "attributes.".Length))
        {
            errors.Add(new("/trigger/anniversary", "The anniversary is \"birthday\", \"signup\" or a date attribute (\"attributes.renewal\")."));
        }
        for (var i = 0; i < (t.Dates?.Count ?? 0); i++)
        {
            if (!JourneyCalendar.TryDate(t.Dates![i], out _, out _))
            {
                errors.Add(new($"/trigger/dates/{i}", $"\"{t.Dates[i]}\" is not a date: MM-dd for every year (12-24) or yyyy-MM-dd for once."));
            }
        }
        if (t.Calendar is { } ics && JourneyCalendar.CheckCalendar(ics) is { } icsProblem)
        {
            errors.Add(new("/trigger/calendar", icsProblem));
        }
        if (t.Dates is { Count: 0 })
        {
            errors.Add(new("/trigger/dates", "List at least one date."));
        }
        if (t.InactiveDays is < 1)
        {
            errors.Add(new("/trigger/inactiveDays", "At least one day."));
        }
        if (t.Every is { Days: < 1 })
        {
            errors.Add(new("/trigger/every/days", "At least one day."));
        }
        if (t.Time is { } time && !TryTimeOfDay(time, out _))
        {
            errors.Add(new("/trigger/time", "The time of day is HH:mm, e.g. 09:00."));
        }
        if (t.DaysBefore is < 0 or > 60)
        {
            errors.Add(new("/trigger/daysBefore", "Between 0 and 60 days before."));
        }
        if (t.Segment is { } segment && !segments.Contains(segment))
        {
            errors.Add(new("/trigger/segment", $"There is no segment \"{segment}\"."));
        }
        if (t.Stage is { } stage && !StageNames.TryParse(stage, out _))
        {
            errors.Add(new("/trigger/stage", $"\"{stage}\" is not a stage: {string.Join(", ", Enum.GetValues<Stage>().Select(s => s.ToApi()))}."));
        }
        if (t.MaxAgeHours is < 1 or > 8760)
        {
            errors.Add(new("/trigger/maxAgeHours", "Between 1 hour and 8,760 hours (a year)."));
        }
        if (t.Where is not null && t.Event is null)
        {
            errors.Add(new("/trigger/where", "Property filters apply to an event trigger."));
        }
    }

    private void CheckEntry(List<FieldError> errors)
    {
        if (Entry.Repeat is not ("once" or "period" or "always"))
        {
            errors.Add(new("/entry/repeat", "Entry is \"once\", \"period\" (once per periodDays) or \"always\"."));
        }
        if (Entry.Repeat == "period" && Entry.PeriodDays is not > 0)
        {
            errors.Add(new("/entry/periodDays", "Once per period needs the period in days."));
        }
        if (Entry.MaxActive < 1)
        {
            errors.Add(new("/entry/maxActive", "At least one run at a time."));
        }
    }

    private static void CheckStep(JourneyStep s, string at, List<FieldError> errors, IReadOnlySet<string> templates, Action<SegmentNode>? check, bool privateWebhooks,
        IReadOnlySet<string>? offers, IReadOnlySet<string>? surveys)
    {
        switch (s.Type)
        {
            case "feedback":
                if (string.IsNullOrWhiteSpace(s.Survey))
                {
                    errors.Add(new(at + "/survey", "Name the survey to ask."));
                }
                else if (surveys is not null && !surveys.Contains(s.Survey))
                {
                    errors.Add(new(at + "/survey", $"There is no survey \"{s.Survey}\"."));
                }
                goto case "email";
            case "email":
                if (string.IsNullOrWhiteSpace(s.Template))
                {
                    errors.Add(new(at + "/template", "An e-mail step names the template it sends."));
                }
                else if (!templates.Contains(s.Template))
                {
                    errors.Add(new(at + "/template", $"There is no template \"{s.Template}\"."));
                }
                if (s.Class is not (null or "marketing" or "transactional"))
                {
                    errors.Add(new(at + "/class", "The class is \"marketing\" or \"transactional\"."));
                }
                break;
            case "abtest":
                CheckTest(s, at, errors, templates);
                break;
            case "offer":
                if (string.IsNullOrWhiteSpace(s.Offer))
                {
                    errors.Add(new(at + "/offer", "Name the offer to issue."));
                }
                else if (offers is not null && !offers.Contains(s.Offer))
                {
                    errors.Add(new(at + "/offer", $"There is no offer \"{s.Offer}\"."));
                }
                break;
            case "webhook":
                if (Clientele.Webhooks.WebhookGuard.Check(s.Url, privateWebhooks) is { } wrong)
                {
                    errors.Add(new(at + "/url", wrong));
                }
                if (s.Data is { } data && data.GetRawText().Length > 16_000)
                {
                    errors.Add(new(at + "/data", "At most 16,000 characters of data."));
                }
                break;
            case "task":
                if (string.IsNullOrWhiteSpace(s.Subject) || s.Subject.Length > 300)
                {
                    errors.Add(new(at + "/subject", "A task needs a subject (up to 300 characters), e.g. \"Call to say thank you\"."));
                }
                if (s.Priority is { } priority && !Clientele.Support.TicketsApi.Priorities.Contains(priority))
                {
                    errors.Add(new(at + "/priority", "The priority is low, normal, high or urgent."));
                }
                if (s.Assignee is { } assignee && !Events.EventRules.IsValidEmail(assignee))
                {
                    errors.Add(new(at + "/assignee", "The assignee is a user's e-mail address."));
                }
                break;
            case "notify":
                if (string.IsNullOrWhiteSpace(s.Message))
                {
                    errors.Add(new(at + "/message", "Say what to tell them (\"message\")."));
                }
                else if (s.Message.Length > 2000)
                {
                    errors.Add(new(at + "/message", "At most 2,000 characters."));
                }
                for (var k = 0; k < (s.Notify?.Count ?? 0); k++)
                {
                    var who = s.Notify![k];
                    if (!NotifyRoles.Contains(who) && !Events.EventRules.IsValidEmail(who))
                    {
                        errors.Add(new($"{at}/notify/{k}", $"\"{who}\" is neither owners, marketers, agents nor an e-mail address."));
                    }
                }
                break;
            case "wait":
                if (s.Duration <= TimeSpan.Zero)
                {
                    errors.Add(new(at, "A wait needs days, hours or minutes."));
                }
                break;
            case "waitUntil":
                if (s.Field is { } field)
                {
                    if (field is not ("birthday" or "nextPurchase") && !(field.StartsWith("attributes.", StringComparison.Ordinal) && field.Length > 11))
                    {
                        errors.Add(new(at + "/field", "The date to wait for is birthday, nextPurchase or attributes.<name>."));
                    }
                    if (s.Time is not null && !TryTimeOfDay(s.Time, out _))
                    {
                        errors.Add(new(at + "/time", "The time of day is HH:mm, e.g. 09:30."));
                    }
                    if (s.DaysBefore is < 0 or > 365)
                    {
                        errors.Add(new(at + "/daysBefore", "Between 0 and 365 days before."));
                    }
                }
                else if (!TryTimeOfDay(s.Time, out _))
                {
                    errors.Add(new(at + "/time", "The time of day is HH:mm, e.g. 09:30 (or wait for a date: \"field\")."));
                }
                break;
            case "branch":
                if (string.IsNullOrWhiteSpace(s.Condition))
                {
                    errors.Add(new(at + "/condition", "A branch needs a condition."));
                }
                else
                {
                    CheckCondition(s.Condition, at + "/condition", errors, check);
                }
                if (s.Then is null && s.Else is null)
                {
                    errors.Add(new(at, "A branch says where to go: \"then\", \"else\" or both (a missing one ends the run)."));
                }
                break;
            case "waitForEvent":
                if (string.IsNullOrWhiteSpace(s.Event))
                {
                    errors.Add(new(at + "/event", "Name the event to wait for, e.g. order.placed."));
                }
                if (s.Duration <= TimeSpan.Zero)
                {
                    errors.Add(new(at, "Say how long to wait for it (days, hours or minutes) before the timeout."));
                }
                if (s.Then is null && s.Timeout is null)
                {
                    errors.Add(new(at, "Say where to go: \"then\" when the event comes, \"timeout\" when it does not (a missing one ends the run)."));
                }
                break;
            case "split":
                if (s.Paths is not { Count: >= 2 } paths)
                {
                    errors.Add(new(at + "/paths", "A split has at least two paths."));
                }
                else if (paths.Any(p => p.Percent <= 0) || paths.Sum(p => p.Percent) != 100)
                {
                    errors.Add(new(at + "/paths", $"Each path takes a share above 0 and the shares add up to 100 (they add up to {paths.Sum(p => p.Percent)})."));
                }
                break;
            case "update" or "tag":
                if ((s.Add?.Count ?? 0) + (s.Remove?.Count ?? 0) + (s.Set?.Count ?? 0) == 0 && s.Score is null && s.Stage is null)
                {
                    errors.Add(new(at, "An update adds or removes a tag, sets an attribute, changes the score or sets the stage."));
                }
                if (s.Score is { } points && (points == 0 || Math.Abs(points) > 1000))
                {
                    errors.Add(new(at + "/score", "Points to add (or take away, negative): −1000 to 1000, not 0."));
                }
                if (s.Stage is { } stage && stage != "auto" && !StageNames.TryParse(stage, out _))
                {
                    errors.Add(new(at + "/stage", $"\"{stage}\" is not a stage: {string.Join(", ", Enum.GetValues<Stage>().Select(x => x.ToApi()))}, or \"auto\" to let the rules decide again."));
                }
                break;
            case "exit":
                break;
            default:
                errors.Add(new(at + "/type", $"\"{s.Type}\" is not a step type: {string.Join(", ", StepTypes)}."));
                break;
        }
    }

    private static void CheckTest(JourneyStep s, string at, List<FieldError> errors, IReadOnlySet<string> templates)
    {
        if (s.Variants is not { Count: >= 2 and <= 5 } variants)
        {
            errors.Add(new(at + "/variants", "An A/B test tries two to five templates (\"variants\")."));
        }
        else
        {
            for (var k = 0; k < variants.Count; k++)
            {
                if (!templates.Contains(variants[k]))
                {
                    errors.Add(new($"{at}/variants/{k}", $"There is no template \"{variants[k]}\"."));
                }
                else if (variants.IndexOf(variants[k]) < k)
                {
                    errors.Add(new($"{at}/variants/{k}", $"\"{variants[k]}\" is already a variant of this test."));
                }
            }
        }
        if (s.Template is not null)
        {
            errors.Add(new(at + "/template", "An A/B test sends its variants; list the templates under \"variants\" instead."));
        }
        if (s.WinBy is not (null or "click" or "order" or "revenue"))
        {
            errors.Add(new(at + "/winBy", "A variant wins by \"click\", \"order\" or \"revenue\"."));
        }
        if (s.Class is not (null or "marketing" or "transactional"))
        {
            errors.Add(new(at + "/class", "The class is \"marketing\" or \"transactional\"."));
        }
        if (s.WindowDays is < 1 or > 30)
        {
            errors.Add(new(at + "/windowDays", "A click or order counts for 1 to 30 days after its e-mail."));
        }
        if (s.MinSends is < 10 or > 1_000_000)
        {
            errors.Add(new(at + "/minSends", "Each variant needs at least 10 e-mails before a winner is called."));
        }
        if (s.MaxDays is < 1 or > 365)
        {
            errors.Add(new(at + "/maxDays", "The test ends 1 to 365 days after its first e-mail."));
        }
        else if (s.TestLength <= s.Window)
        {
            errors.Add(new(at + "/maxDays", $"The test must last longer than the {s.Window.TotalDays:0} days in which a {s.Metric} counts, or no e-mail would be measured."));
        }
    }

    private static void CheckCondition(string condition, string at, List<FieldError> errors, Action<SegmentNode>? check)
    {
        try
        {
            var node = SegmentParser.Parse(condition);
            check?.Invoke(node);
        }
        catch (SegmentQueryException ex)
        {
            errors.Add(new(at, $"Line {ex.Line}, column {ex.Column}: {ex.Message}"));
        }
    }

    public static bool TryTimeOfDay(string? text, out TimeOnly time) =>
        TimeOnly.TryParseExact(text, ["HH:mm", "H:mm"], CultureInfo.InvariantCulture, DateTimeStyles.None, out time);

    private HashSet<string> Reachable()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var todo = new Stack<string>([Steps[0].Id]);
        while (todo.TryPop(out var id))
        {
            if (seen.Add(id) && Step(id) is { } step)
            {
                foreach (var next in Successors(step))
                {
                    todo.Push(next);
                }
            }
        }
        return seen;
    }

    /// <summary>A cycle made only of steps that do not wait, as the list of its steps; null when there is none.</summary>
    private List<string>? LoopWithoutWait()
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 on the path, 2 done
        var path = new List<string>();
        List<string>? Visit(string id)
        {
            state[id] = 1;
            path.Add(id);
            var step = Step(id)!;
            if (!step.Waits)
            {
                foreach (var next in Successors(step))
                {
                    if (state.GetValueOrDefault(next) == 1 && !Step(next)!.Waits)
                    {
                        return path[path.IndexOf(next)..];
                    }
                    if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } found)
                    {
                        return found;
                    }
                }
            }
            path.RemoveAt(path.Count - 1);
            state[id] = 2;
            return null;
        }
        foreach (var s in Steps)
        {
            if (state.GetValueOrDefault(s.Id) == 0 && Visit(s.Id) is { } loop)
            {
                return loop;
            }
        }
        return null;
    }
}
