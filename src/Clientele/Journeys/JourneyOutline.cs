using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Clientele.Api;
using Clientele.Contacts;

namespace Clientele.Journeys;

/// <summary>
/// A journey's definition in words for the Journeys page: its trigger, entry rule and steps as a readable outline,
/// and each problem's JSON pointer as the place a shop owner recognises ("Step 2 (“nudge”), template").
/// </summary>
internal static partial class JourneyOutline
{
    /// <summary>What a new journey starts from: a welcome series that stops once the contact buys.</summary>
    public const string Example = """
        {
          "trigger": { "event": "account.created" },
          "entry": { "repeat": "once" },
          "goal": "orders.count() >= 1",
          "steps": [
            { "id": "welcome", "type": "email", "template": "Welcome", "topic": "newsletter" },
            { "id": "three-days", "type": "wait", "days": 3 },
            { "id": "tips", "type": "email", "template": "Tips", "topic": "newsletter" }
          ]
        }
        """;

    private static readonly JsonSerializerOptions Letters = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Lines longer than this are broken up; shorter objects and arrays stay on one line.</summary>
    private const int Width = 100;

    /// <summary>
    /// Stored JSON laid out for editing: the document indented, each part that fits on a line (a trigger, a step) kept on
    /// one, and letters such as é and “ as they are rather than escaped. Text that is not JSON is returned as it is.
    /// </summary>
    public static string Pretty(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var text = new StringBuilder();
            Write(doc.RootElement, text, 0, 0, root: true);
            return text.ToString();
        }
        catch (JsonException)
        {
            return json;
        }
    }

    private static void Write(JsonElement value, StringBuilder text, int indent, int used, bool root = false)
    {
        var flat = Flat(value);
        if (value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array) || (!root && used + flat.Length <= Width) || flat.Length <= 2)
        {
            text.Append(flat);
            return;
        }
        var inner = new string(' ', indent + 2);
        var first = true;
        text.Append(value.ValueKind == JsonValueKind.Object ? '{' : '[');
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in value.EnumerateObject())
            {
                text.Append(first ? "\n" : ",\n").Append(inner);
                var name = Quote(property.Name) + ": ";
                text.Append(name);
                Write(property.Value, text, indent + 2, indent + 2 + name.Length);
                first = false;
            }
        }
        else
        {
            foreach (var item in value.EnumerateArray())
            {
                text.Append(first ? "\n" : ",\n").Append(inner);
                Write(item, text, indent + 2, indent + 2);
                first = false;
            }
        }
        text.Append('\n').Append(' ', indent).Append(value.ValueKind == JsonValueKind.Object ? '}' : ']');
    }

    private static string Flat(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object when value.EnumerateObject().Any() =>
            "{ " + string.Join(", ", value.EnumerateObject().Select(p => Quote(p.Name) + ": " + Flat(p.Value))) + " }",
        JsonValueKind.Object => "{}",
        JsonValueKind.Array => "[" + string.Join(", ", value.EnumerateArray().Select(Flat)) + "]",
        JsonValueKind.String => Quote(value.GetString()!),
        _ => value.GetRawText(),
    };

    private static string Quote(string text) => JsonSerializer.Serialize(text, Letters);

    /// <summary>The trigger in words, e.g. <c>event order.placed where channel = web</c>, <c>entering segment “VIP”</c>.</summary>
    public static string Trigger(JourneyTrigger trigger)
    {
        if (!string.IsNullOrWhiteSpace(trigger.Event))
        {
            var where = trigger.Where is { Count: > 0 } w ? " where " + string.Join(" and ", w.Select(p => $"{p.Key} = {p.Value}")) : "";
            return $"event {trigger.Event}{where}";
        }
        if (!string.IsNullOrWhiteSpace(trigger.Segment))
        {
            return $"entering segment “{trigger.Segment}”";
        }
        if (!string.IsNullOrWhiteSpace(trigger.Stage))
        {
            return $"reaching stage {trigger.Stage}";
        }
        var at = $" at {trigger.Time ?? "09:00"} on the contact's clock";
        var ahead = trigger.DaysBefore > 0 ? $"{Quantity(trigger.DaysBefore, "day")} before " : "";
        return trigger switch
        {
            { Anniversary: "birthday" } => $"{ahead}each birthday{at}",
            { Anniversary: { } a } when a.StartsWith("attributes.", StringComparison.Ordinal) => $"{ahead}the contact's {a["attributes.".Length..]} date and each year after{at}",
            { Anniversary: { } a } => $"{ahead}each {a} anniversary{at}",
            { Dates: { } dates } => $"{ahead}on {string.Join(", ", dates)}{at}",
            { Calendar: not null } => $"{ahead}on each day of the holiday calendar{at}",
            { InactiveDays: { } days } => $"nothing sent for {Quantity(days, "day")}",
            { Every: { } every } => $"every {Quantity(every.Days, "day")} after the contact was added",
            _ => "no trigger yet",
        };
    }

    /// <summary>Who may enter, in words.</summary>
    public static string Entry(EntryRule entry)
    {
        var text = entry.Repeat switch
        {
            "period" => entry.PeriodDays is { } days ? $"at most once every {Quantity(days, "day")} per contact" : "once per period",
            "always" => "on every matching event",
            _ => "once per contact",
        };
        if (entry.Key is { Length: > 0 } key)
        {
            text += $", one run per {key}";
        }
        if (entry.MaxActive > 1)
        {
            text += $", up to {entry.MaxActive} runs at a time";
        }
        return text;
    }

    /// <summary>Each step in words, in the order listed, saying where it goes when that is not simply the next one.</summary>
    public static List<string> Steps(JourneyDefinition definition)
    {
        var lines = new List<string>();
        for (var i = 0; i < definition.Steps.Count; i++)
        {
            var step = definition.Steps[i];
            var text = Step(step, definition);
            if (step.Type is not ("branch" or "exit" or "split" or "waitForEvent"))
            {
                var next = definition.NextOf(step);
                var following = i + 1 < definition.Steps.Count ? definition.Steps[i + 1].Id : null;
                if (next is null)
                {
                    text += " → end";
                }
                else if (next != following)
                {
                    text += " → then " + Target(next, definition);
                }
            }
            lines.Add(text);
        }
        return lines;
    }

    /// <summary>One step in words, e.g. <c>E-mail “Welcome” (topic newsletter)</c>, <c>Wait 3 days</c>.</summary>
    public static string Step(JourneyStep step, JourneyDefinition definition) => step.Type switch
    {
        "email" => (string.IsNullOrWhiteSpace(step.Template) ? "E-mail (no template yet)" : $"E-mail “{step.Template}”")
            + (step.Class == "transactional" ? " (transactional)" : $" (topic {step.Topic ?? ConsentProjection.DefaultTopic})"),
        "abtest" => $"A/B test: {string.Join(" or ", (step.Variants ?? []).Select(v => $"“{v}”"))} in equal shares until one wins on "
            + (step.Metric switch { "order" => "orders", "revenue" => "revenue", _ => "clicks" })
            + $" within {Quantity((int)step.Window.TotalDays, "day")} of each e-mail (at least {Quantity(step.SendsNeeded, "e-mail")} each; the better one after {Quantity((int)step.TestLength.TotalDays, "day")})"
            + (step.Class == "transactional" ? " (transactional)" : $" (topic {step.Topic ?? ConsentProjection.DefaultTopic})"),
        "notify" => $"Tell {string.Join(", ", step.Notify is { Count: > 0 } who ? who : ["owners"])} by e-mail: “{step.Message}”",
        "webhook" => $"Call {step.Url} with the contact" + (step.Data is null ? "" : " and data"),
        "offer" => $"Issue the offer “{step.Offer}”",
        "task" => $"Open a task for {step.Assignee ?? "the team"}: “{step.Subject}”",
        "feedback" => $"Ask “{step.Survey}” in the e-mail “{step.Template}”",
        "wait" => "Wait " + Duration(step),
        "waitUntil" when step.Field is { Length: > 0 } field =>
            $"Wait until {(step.DaysBefore is int days and > 0 ? Quantity(days, "day") + " before " : "")}{DateOf(field)}, at {step.Time ?? "09:00"} on the contact's clock",
        "waitUntil" => $"Wait until {step.Time} on the contact's clock",
        "branch" => $"Branch: {step.Condition} — then {Target(step.Then, definition)}, else {Target(step.Else, definition)}",
        "waitForEvent" => $"Wait up to {Duration(step)} for {step.Event} — then {Target(step.Then, definition)}, if it does not come {Target(step.Timeout, definition)}",
        "split" => "Random split: " + string.Join(", ", (step.Paths ?? []).Select(p => $"{p.Percent} % to {Target(p.Next, definition)}")),
        "tag" or "update" => "Update: " + string.Join("; ", new[]
        {
            step.Add is { Count: > 0 } add ? "add " + string.Join(", ", add.Select(t => $"“{t}”")) : null,
            step.Remove is { Count: > 0 } remove ? "remove " + string.Join(", ", remove.Select(t => $"“{t}”")) : null,
            step.Set is { Count: > 0 } set ? "set " + string.Join(", ", set.Select(kv => $"{kv.Key} = {kv.Value.GetRawText()}")) : null,
            step.Score is { } points ? (points > 0 ? $"add {Quantity(points, "point")} to the score" : $"take {Quantity(-points, "point")} from the score") : null,
            step.Stage is "auto" ? "let the rules decide the stage again" : step.Stage is { } stage ? $"set the stage to {stage} (the rules no longer move it)" : null,
        }.OfType<string>()),
        "exit" => "Exit",
        _ => $"“{step.Type}” (not a step type)",
    };

    /// <summary>A date of the contact a step can wait for, in words.</summary>
    private static string DateOf(string field) => field switch
    {
        "birthday" => "the birthday",
        "nextPurchase" => "the predicted next purchase",
        _ when field.StartsWith("attributes.", StringComparison.Ordinal) => $"the date in {field["attributes.".Length..]}",
        _ => field,
    };

    /// <summary>A step's days, hours and minutes in words, e.g. <c>1 day and 2 hours</c>.</summary>
    public static string Duration(JourneyStep step)
    {
        var parts = new[] { (step.Days, "day"), (step.Hours, "hour"), (step.Minutes, "minute") }
            .Where(p => p.Item1 is not (null or 0)).Select(p => Quantity(p.Item1!.Value, p.Item2)).ToList();
        return parts.Count == 0 ? "nothing" : string.Join(" and ", parts);
    }

    private static string Quantity(int n, string unit) => n.ToString(CultureInfo.InvariantCulture) + " " + unit + (n == 1 ? "" : "s");

    /// <summary>Where a link goes: a step by number and id, the end of the run, or a step that does not exist.</summary>
    private static string Target(string? id, JourneyDefinition definition)
    {
        if (string.IsNullOrEmpty(id))
        {
            return "end";
        }
        var at = definition.Steps.FindIndex(s => s.Id == id);
        return at < 0 ? $"“{id}” (no such step)" : $"step {at + 1} (“{id}”)";
    }

    /// <summary>A problem as the owner reads it: its place in words, then the message with typographic quotes.</summary>
    public static string Problem(FieldError error, JourneyDefinition? definition) => $"{Place(error.Field, definition)}: {Quoted(error.Message)}";

    /// <summary>
    /// A JSON pointer into the definition (with or without the API's <c>/definition</c> prefix) in words:
    /// <c>/steps/1/template</c> is "Step 2 (“nudge”), template".
    /// </summary>
    public static string Place(string pointer, JourneyDefinition? definition)
    {
        var path = pointer.StartsWith("/definition", StringComparison.Ordinal) ? pointer["/definition".Length..] : pointer;
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            return "The definition";
        }
        var head = parts[0] switch
        {
            "steps" when parts.Length > 1 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var i) => StepName(i, definition),
            "steps" => "Steps",
            "trigger" => "Trigger",
            "entry" => "Entry",
            "holdout" => "Control group",
            "goal" => "Goal",
            "name" => "Name",
            var other => other,
        };
        var rest = parts.Skip(parts[0] == "steps" && parts.Length > 1 ? 2 : 1).Select(Field).ToList();
        return rest.Count == 0 ? head : head + ", " + string.Join(", ", rest);
    }

    private static string StepName(int index, JourneyDefinition? definition) =>
        definition is not null && index < definition.Steps.Count && definition.Steps[index].Id is { Length: > 0 } id
            ? $"Step {index + 1} (“{id}”)"
            : $"Step {index + 1}";

    private static string Field(string name) => name switch
    {
        "periodDays" => "period in days",
        "maxActive" => "runs at a time",
        "time" => "time of day",
        _ => name,
    };

    /// <summary>Straight double quotes around a name become typographic ones.</summary>
    public static string Quoted(string message) => QuotedName().Replace(message, "“$1”");

    [GeneratedRegex("\"([^\"]*)\"")]
    private static partial Regex QuotedName();
}
