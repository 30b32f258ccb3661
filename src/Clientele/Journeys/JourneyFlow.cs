using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Clientele.Api;

namespace Clientele.Journeys;

/// <summary>
/// Where a link leaves from: a step's <c>next</c>, <c>then</c>, <c>else</c>, <c>timeout</c> or <c>paths/k</c> (by the step's
/// place in the list), or the start of the journey, which leads to the first step.
/// </summary>
internal readonly record struct FlowLink(int Step, string Field)
{
    public static readonly FlowLink Start = new(-1, "start");

    public bool IsStart => Step < 0;
}

internal enum FlowEndKind
{
    /// <summary>The run ends here: the link leads nowhere.</summary>
    End,

    /// <summary>The path goes on at a step drawn elsewhere (a loop, or a path joining another).</summary>
    GoTo,

    /// <summary>The link names a step that does not exist.</summary>
    Missing,

    /// <summary>The path joins the other ways out of its step, below them.</summary>
    Below,

    /// <summary>Nothing follows: the lane stopped at an exit, or goes on in the lanes of a step that branches.</summary>
    None,
}

/// <summary>How a lane ends: <see cref="Via"/> is the link it ends with (where a step can be added or the link changed),
/// <see cref="Target"/> the place of the step it goes to, <see cref="Id"/> the step it names.</summary>
internal sealed record FlowEnd(FlowEndKind Kind, FlowLink? Via = null, int Target = -1, string? Id = null);

/// <summary>A step drawn at its place; a step that branches carries a lane for each way out.</summary>
internal sealed record FlowNode(int Index, JourneyStep Step, IReadOnlyList<FlowLane> Lanes);

/// <summary>A path of cards: from the trigger, one way out of a step that branches, or steps the first step never leads to.
/// <see cref="From"/> is the link that leads into it.</summary>
internal sealed record FlowLane(string Key, string Label, FlowLink? From, IReadOnlyList<FlowNode> Nodes, FlowEnd End);

/// <summary>The journey as drawn: the flow from the first step, and what no path from it reaches.</summary>
internal sealed record FlowLayout(FlowLane Main, IReadOnlyList<FlowLane> Unreached);

/// <summary>One way out of a step that branches: its link, where it leads, and its label.</summary>
internal sealed record FlowWay(string Key, string Label, FlowLink Link, string? Target);

/// <summary>A problem from the checks placed in the flow: its section (<c>trigger</c>, <c>entry</c>, <c>goal</c>,
/// <c>holdout</c>, <c>steps</c>, or empty for the whole), the step's place, and the field within it.</summary>
internal sealed record FlowProblem(string Section, int Step, string Field, FieldError Error);

/// <summary>
/// The journey as a flow of cards, and the edits the flow editor makes, as pure functions of the definition.
/// <para>
/// Layout: the first step's path is drawn top-down; a step that branches gets a lane per way out. Where two or more lanes
/// lead on to the same step, that step is drawn once below them and the lanes end with "continues below"; a link to a
/// step drawn already reads "go to" it, so loops and merges stay readable and every link is shown exactly once.
/// </para>
/// <para>
/// Edits keep what each run does: links follow a renamed step, a deleted step's links go on to where it went, and since a
/// step without <c>next</c> goes to the one listed after it, links are written out wherever the order no longer says them.
/// Only the last step listed can end a run without an exit step, so a second path that ends is led to an exit.
/// </para>
/// </summary>
internal static class JourneyFlow
{
    /// <summary>The step types the editor offers when adding a step, with their names in words.</summary>
    public static readonly (string Type, string Label)[] AddableTypes =
    [
        ("email", "E-mail"),
        ("wait", "Wait"),
        ("waitUntil", "Wait until a time or date"),
        ("waitForEvent", "Wait for an event"),
        ("branch", "Branch on a condition"),
        ("split", "Random split"),
        ("abtest", "A/B test of e-mails"),
        ("update", "Update tags, attributes, score or stage"),
        ("offer", "Issue an offer"),
        ("notify", "Tell the team"),
        ("webhook", "Call another system (webhook)"),
        ("exit", "Exit"),
    ];

    /// <summary>Whether the flow draws lanes for a step: its ways out are its own links, not <c>next</c>.</summary>
    public static bool Branches(JourneyStep step) => step.Type is "branch" or "waitForEvent" or "split";

    /// <summary>Whether a step goes on with <c>next</c> (or the step listed after it).</summary>
    public static bool Continues(JourneyStep step) => step.Type != "exit" && !Branches(step);

    /// <summary>The ways out of a step that branches, in the order they are drawn.</summary>
    public static List<FlowWay> Ways(JourneyStep step, int index) => step.Type switch
    {
        "branch" =>
        [
            new("then", "If it holds", new(index, "then"), step.Then),
            new("else", "Otherwise", new(index, "else"), step.Else),
        ],
        "waitForEvent" =>
        [
            new("then", $"When {(string.IsNullOrWhiteSpace(step.Event) ? "the event" : step.Event)} comes", new(index, "then"), step.Then),
            new("timeout", "If it does not come in time", new(index, "timeout"), step.Timeout),
        ],
        "split" => (step.Paths ?? [])
            .Select((p, k) => new FlowWay($"paths/{k}", $"Path {k + 1} · {p.Percent} %", new(index, $"paths/{k}"), p.Next)).ToList(),
        _ => [],
    };

    /// <summary>Where a link leads now: a step's id, or null for the end of the run.</summary>
    public static string? Target(JourneyDefinition definition, FlowLink link)
    {
        if (link.IsStart)
        {
            return definition.Steps.Count > 0 ? definition.Steps[0].Id : null;
        }
        var step = definition.Steps[link.Step];
        return link.Field switch
        {
            "next" => definition.NextOf(step),
            "then" => step.Then,
            "else" => step.Else,
            "timeout" => step.Timeout,
            _ when PathIndex(link.Field) is { } k && k < (step.Paths?.Count ?? 0) => step.Paths![k].Next,
            _ => null,
        };
    }

    private static int? PathIndex(string field) =>
        field.StartsWith("paths/", StringComparison.Ordinal) && int.TryParse(field.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var k) ? k : null;

    /// <summary>A step with one of its branching links (<c>then</c>, <c>else</c>, <c>timeout</c>, <c>paths/k</c>) set.</summary>
    private static JourneyStep Relink(JourneyStep step, string field, string? target) => field switch
    {
        "then" => step with { Then = target },
        "else" => step with { Else = target },
        "timeout" => step with { Timeout = target },
        _ when PathIndex(field) is { } k && k < (step.Paths?.Count ?? 0) =>
            step with { Paths = step.Paths!.Select((p, i) => i == k ? p with { Next = target } : p).ToList() },
        _ => step,
    };

    // ------------------------------------------------------------------------------------------------ layout

    /// <summary>The journey as lanes of cards (see the class summary).</summary>
    public static FlowLayout Layout(JourneyDefinition definition)
    {
        var walker = new Walker(definition);
        var main = walker.Walk("start", "", FlowLink.Start, definition.Steps.Count > 0 ? 0 : -1, null, FlowLink.Start, -1);
        var unreached = new List<FlowLane>();
        for (var i = 0; i < definition.Steps.Count; i++)
        {
            if (!walker.Placed[i])
            {
                unreached.Add(walker.Walk("unreached", "", null, i, null, null, -1));
            }
        }
        return new FlowLayout(main, unreached);
    }

    private sealed class Walker(JourneyDefinition definition)
    {
        private readonly List<JourneyStep> _steps = definition.Steps;
        private readonly HashSet<int> _reserved = [];

        public bool[] Placed { get; } = new bool[definition.Steps.Count];

        /// <summary>A link leads to the first step of that id, as the runner follows it.</summary>
        private int Resolve(string id) => _steps.FindIndex(s => s.Id == id);

        private bool Free(int index) => index >= 0 && !Placed[index] && !_reserved.Contains(index);

        /// <summary>
        /// Draws a lane from step <paramref name="start"/> (or the step <paramref name="target"/> names) until it ends, meets
        /// a step drawn already, or reaches <paramref name="below"/>, the step its lanes join at.
        /// </summary>
        public FlowLane Walk(string key, string label, FlowLink? from, int start, string? target, FlowLink? via, int below)
        {
            var nodes = new List<FlowNode>();
            var at = start;
            FlowEnd end;
            while (true)
            {
                if (at < 0)
                {
                    if (string.IsNullOrEmpty(target))
                    {
                        end = new(FlowEndKind.End, via);
                        break;
                    }
                    at = Resolve(target);
                    if (at < 0)
                    {
                        end = new(FlowEndKind.Missing, via, -1, target);
                        break;
                    }
                }
                if (at == below)
                {
                    end = new(FlowEndKind.Below, via, at, _steps[at].Id);
                    break;
                }
                if (!Free(at))
                {
                    end = new(FlowEndKind.GoTo, via, at, _steps[at].Id);
                    break;
                }
                Placed[at] = true;
                var step = _steps[at];
                if (step.Type == "exit")
                {
                    nodes.Add(new(at, step, []));
                    end = new(FlowEndKind.None);
                    break;
                }
                if (Branches(step))
                {
                    var ways = Ways(step, at);
                    var join = Join(at, ways);
                    if (join >= 0)
                    {
                        _reserved.Add(join);
                    }
                    var lanes = ways.Select(w => Walk(w.Key, w.Label, w.Link, -1, w.Target, w.Link, join)).ToList();
                    nodes.Add(new(at, step, lanes));
                    if (join < 0)
                    {
                        end = new(FlowEndKind.None);
                        break;
                    }
                    _reserved.Remove(join);
                    at = join;
                    via = null;
                    continue;
                }
                nodes.Add(new(at, step, []));
                via = new FlowLink(at, "next");
                target = definition.NextOf(step);
                at = -1;
            }
            return new FlowLane(key, label, from, nodes, end);
        }

        /// <summary>
        /// Where the ways out of a step meet again: the nearest step not yet drawn that every way leading on to such steps
        /// reaches — when at least two do. -1 when they do not meet.
        /// </summary>
        private int Join(int fork, List<FlowWay> ways)
        {
            var live = ways.Select(w => w.Target is { Length: > 0 } t ? Resolve(t) : -1).Where(i => Free(i) && i != fork).ToList();
            if (live.Count < 2)
            {
                return -1;
            }
            var reaches = live.Select(i => Reach(i, fork)).ToList();
            var others = reaches.Skip(1).Select(r => r.ToHashSet()).ToList();
            foreach (var candidate in reaches[0])
            {
                if (others.All(r => r.Contains(candidate)))
                {
                    return candidate;
                }
            }
            return -1;
        }

        /// <summary>The steps not yet drawn reachable from one, nearest first, not passing through <paramref name="fork"/>.</summary>
        private List<int> Reach(int from, int fork)
        {
            var order = new List<int> { from };
            var seen = new HashSet<int> { from };
            for (var k = 0; k < order.Count; k++)
            {
                var step = _steps[order[k]];
                IEnumerable<string?> next = Branches(step) ? Ways(step, order[k]).Select(w => w.Target)
                    : step.Type == "exit" ? [] : [definition.NextOf(step)];
                foreach (var id in next)
                {
                    if (id is { Length: > 0 } && Resolve(id) is var i && Free(i) && i != fork && seen.Add(i))
                    {
                        order.Add(i);
                    }
                }
            }
            return order;
        }
    }

    // ------------------------------------------------------------------------------------------------ edits

    /// <summary>A step while the list is rearranged: where it goes on to (for a step that continues, resolved, null for the
    /// end of the run) and whether its <c>next</c> was written out.</summary>
    private sealed class Item(JourneyStep step, string? to, bool written)
    {
        public JourneyStep Step { get; set; } = step;
        public string? To { get; set; } = to;
        public bool Written { get; set; } = written;
    }

    private static List<Item> Items(JourneyDefinition definition) => definition.Steps
        .Select(s => Continues(s) ? new Item(s, definition.NextOf(s), s.Next is { Length: > 0 }) : new Item(s, null, false))
        .ToList();

    /// <summary>Points one link of an item at <paramref name="target"/>.</summary>
    private static void Point(Item item, string field, string? target)
    {
        if (field == "next")
        {
            item.To = target;
            item.Written = false;
        }
        else
        {
            item.Step = Relink(item.Step, field, target);
        }
    }

    /// <summary>Every link to <paramref name="from"/> leads to <paramref name="to"/> instead.</summary>
    private static void Repoint(List<Item> items, string from, string? to, bool keepWritten)
    {
        foreach (var item in items)
        {
            if (Continues(item.Step))
            {
                if (item.To == from)
                {
                    item.To = to;
                    item.Written = keepWritten && item.Written;
                }
            }
            else if (Branches(item.Step))
            {
                var s = item.Step;
                item.Step = s with
                {
                    Then = s.Then == from ? to : s.Then,
                    Else = s.Else == from ? to : s.Else,
                    Timeout = s.Timeout == from ? to : s.Timeout,
                    Paths = s.Paths?.Select(p => p.Next == from ? p with { Next = to } : p).ToList(),
                };
            }
        }
    }

    /// <summary>
    /// The steps again from items whose links are all known: <c>next</c> is left out where it is the step listed after (unless
    /// it was written so), and written where it is not. Only the last step can end a run by having nothing after it: one
    /// other step that ends moves there when the last step does not end so, and any more go on to an exit step.
    /// </summary>
    private static JourneyDefinition Rebuild(JourneyDefinition definition, List<Item> items)
    {
        static bool Ends(Item i) => Continues(i.Step) && i.To is null;
        if (items.Count > 1 && !Ends(items[^1]) && items.Skip(1).LastOrDefault(Ends) is { } mover)
        {
            items.Remove(mover); // never the first step: runs begin there
            items.Add(mover);
        }
        var stranded = items.Take(items.Count - 1).Where(Ends).ToList();
        if (stranded.Count > 0)
        {
            var exit = items.Find(i => i.Step.Type == "exit" && i.Step.Id.Length > 0);
            if (exit is null)
            {
                exit = new Item(new JourneyStep { Id = FreeId(items.Select(i => i.Step.Id), "end"), Type = "exit" }, null, false);
                items.Insert(items.IndexOf(stranded[0]) + 1, exit);
            }
            foreach (var item in stranded)
            {
                item.To = exit.Step.Id;
                item.Written = false;
            }
        }
        var steps = new List<JourneyStep>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (!Continues(item.Step))
            {
                steps.Add(item.Step);
                continue;
            }
            var following = i + 1 < items.Count ? items[i + 1].Step.Id : null;
            var implied = item.To is null || (item.To == following && !item.Written);
            steps.Add(item.Step with { Next = implied ? null : item.To });
        }
        return definition with { Steps = steps };
    }

    /// <summary>An id not taken yet: <paramref name="stem"/>, or it with the first free number, e.g. <c>email-2</c>.</summary>
    public static string FreeId(IEnumerable<string> taken, string stem)
    {
        var ids = taken.ToHashSet(StringComparer.Ordinal);
        if (!ids.Contains(stem))
        {
            return stem;
        }
        for (var n = 2; ; n++)
        {
            var id = string.Create(CultureInfo.InvariantCulture, $"{stem}-{n}");
            if (!ids.Contains(id))
            {
                return id;
            }
        }
    }

    private static string Stem(string type) => type switch
    {
        "waitUntil" => "wait-until",
        "waitForEvent" => "wait-for-event",
        "abtest" => "ab-test",
        _ => type,
    };

    /// <summary>A new step of a type, going on to <paramref name="target"/>: a step that branches sends every way there, so
    /// adding it changes nothing until its lanes get steps of their own.</summary>
    public static JourneyStep NewStep(string type, string id, string? target) => type switch
    {
        "wait" => new() { Id = id, Type = type, Days = 1 },
        "waitUntil" => new() { Id = id, Type = type, Time = "09:00" },
        "waitForEvent" => new() { Id = id, Type = type, Days = 7, Then = target, Timeout = target },
        "branch" => new() { Id = id, Type = type, Then = target, Else = target },
        "split" => new() { Id = id, Type = type, Paths = [new() { Percent = 50, Next = target }, new() { Percent = 50, Next = target }] },
        _ => new() { Id = id, Type = type },
    };

    /// <summary>Adds a new step of <paramref name="type"/> on a link: the link leads to it and it leads on to where the link
    /// led. It is listed right after the step the link leaves from (first, for the start). Returns the new step's id.</summary>
    public static (JourneyDefinition Definition, string Id) Insert(JourneyDefinition definition, FlowLink link, string type)
    {
        var target = Target(definition, link);
        var id = FreeId(definition.Steps.Select(s => s.Id), Stem(type));
        var step = NewStep(type, id, target);
        var items = Items(definition);
        items.Insert(link.IsStart ? 0 : link.Step + 1, new Item(step, Continues(step) ? target : null, false));
        if (!link.IsStart)
        {
            Point(items[link.Step], link.Field, id);
        }
        return (Rebuild(definition, items), id);
    }

    /// <summary>Points a link at another step, or at the end of the run (<paramref name="target"/> null).</summary>
    public static JourneyDefinition Relink(JourneyDefinition definition, FlowLink link, string? target)
    {
        if (link.IsStart || link.Step >= definition.Steps.Count)
        {
            return definition;
        }
        var items = Items(definition);
        Point(items[link.Step], link.Field, string.IsNullOrEmpty(target) ? null : target);
        return Rebuild(definition, items);
    }

    /// <summary>
    /// Removes the step at <paramref name="index"/>; the links to it go on to where it went — for a step that branches, to
    /// where its way <paramref name="keep"/> went (the other ways' steps are then reached no more, and the checks say so),
    /// for an exit, to the end of the run. Removing the first step makes the step it went to the first.
    /// </summary>
    public static JourneyDefinition Delete(JourneyDefinition definition, int index, int keep = 0)
    {
        var gone = definition.Steps[index];
        string? onward = gone.Type == "exit" ? null
            : Branches(gone) ? Ways(gone, index).ElementAtOrDefault(keep)?.Target
            : definition.NextOf(gone);
        if (onward == gone.Id)
        {
            onward = null;
        }
        var linked = definition.Steps.FindIndex(s => s.Id == gone.Id) == index;
        var items = Items(definition);
        items.RemoveAt(index);
        if (linked)
        {
            Repoint(items, gone.Id, onward, keepWritten: false);
        }
        if (index == 0 && onward is not null && items.FindIndex(i => i.Step.Id == onward) is > 0 and var first)
        {
            var entry = items[first];
            items.RemoveAt(first);
            items.Insert(0, entry);
        }
        return Rebuild(definition, items);
    }

    /// <summary>Gives the step at <paramref name="index"/> a new id; the links to it follow. An empty id or one another
    /// step has is refused with the reason.</summary>
    public static (JourneyDefinition Definition, string? Error) Rename(JourneyDefinition definition, int index, string id)
    {
        id = id.Trim();
        if (id.Length == 0)
        {
            return (definition, "Every step needs an id.");
        }
        if (definition.Steps.Where((s, i) => i != index).Any(s => s.Id == id))
        {
            return (definition, $"Another step is already called “{id}”.");
        }
        var old = definition.Steps[index].Id;
        if (old == id)
        {
            return (definition, null);
        }
        var linked = definition.Steps.FindIndex(s => s.Id == old) == index;
        var items = Items(definition);
        items[index].Step = items[index].Step with { Id = id };
        if (linked && old.Length > 0)
        {
            Repoint(items, old, id, keepWritten: true);
        }
        return (Rebuild(definition, items), null);
    }

    /// <summary>Replaces the step at <paramref name="index"/> (e.g. as edited in its JSON); a changed id is a rename, so the
    /// links to the step follow it.</summary>
    public static (JourneyDefinition Definition, string? Error) Replace(JourneyDefinition definition, int index, JourneyStep step)
    {
        if (step.Id != definition.Steps[index].Id)
        {
            var (renamed, error) = Rename(definition, index, step.Id);
            if (error is not null)
            {
                return (definition, error);
            }
            definition = renamed;
        }
        var steps = definition.Steps.ToList();
        steps[index] = step;
        return (definition with { Steps = steps }, null);
    }

    // ------------------------------------------------------------------------------------------------ words and places

    /// <summary>What a step does, in words, as its card's heading (the lanes say where it goes).</summary>
    public static string Heading(JourneyStep step, JourneyDefinition definition) => step.Type switch
    {
        "branch" => string.IsNullOrWhiteSpace(step.Condition) ? "Branch (no condition yet)" : $"Branch: {step.Condition}",
        "waitForEvent" => $"Wait up to {JourneyOutline.Duration(step)} for {(string.IsNullOrWhiteSpace(step.Event) ? "an event (none named yet)" : step.Event)}",
        "split" => "Random split: " + string.Join(" / ", (step.Paths ?? []).Select(p => $"{p.Percent} %")),
        "exit" => "Exit: the run ends here",
        _ => JourneyOutline.Step(step, definition),
    };

    /// <summary>A step by number and id, as in the outline and the problems: <c>step 3 (“bought”)</c>.</summary>
    public static string Name(JourneyDefinition definition, int index) =>
        definition.Steps[index].Id is { Length: > 0 } id ? $"step {index + 1} (“{id}”)" : $"step {index + 1}";

    /// <summary>Where a problem's JSON pointer (with or without the API's <c>/definition</c> prefix) is in the flow.</summary>
    public static FlowProblem Locate(FieldError error)
    {
        var path = error.Field.StartsWith("/definition", StringComparison.Ordinal) ? error.Field["/definition".Length..] : error.Field;
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            return new("", -1, "", error);
        }
        if (parts[0] == "steps" && parts.Length > 1 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var i))
        {
            return new("steps", i, string.Join('/', parts.Skip(2)), error);
        }
        return new(parts[0], -1, string.Join('/', parts.Skip(1)), error);
    }

    /// <summary>The properties each step type's card has inputs for (besides id, type and, for steps that continue, next).</summary>
    private static readonly Dictionary<string, string[]> Edited = new(StringComparer.Ordinal)
    {
        ["email"] = ["template", "topic", "class"],
        ["abtest"] = ["variants", "winBy", "windowDays", "minSends", "maxDays", "topic", "class"],
        ["notify"] = ["notify", "message"],
        ["offer"] = ["offer"],
        ["webhook"] = ["url", "data"],
        ["wait"] = ["days", "hours", "minutes"],
        ["waitUntil"] = ["time", "field", "daysBefore", "days", "hours"],
        ["waitForEvent"] = ["event", "days", "hours", "minutes", "then", "timeout"],
        ["branch"] = ["condition", "then", "else"],
        ["split"] = ["paths"],
        ["update"] = ["add", "remove", "set", "score", "stage"],
        ["tag"] = ["add", "remove", "set", "score", "stage"],
        ["exit"] = [],
    };

    /// <summary>
    /// The properties of a step its card has no input for — all of them for a type the editor does not know — so the card
    /// offers the step as JSON and nothing written is hidden.
    /// </summary>
    public static List<string> Unedited(JourneyStep step)
    {
        var known = Edited.GetValueOrDefault(step.Type);
        var json = JsonSerializer.SerializeToNode(step, JourneyDefinition.Json)!.AsObject();
        var left = json.Select(p => p.Key)
            .Where(k => known is null ? k is not ("id" or "type") : !(k is "id" or "type" || (k == "next" && Continues(step)) || known.Contains(k)))
            .ToList();
        if (known is not null && step.Paths?.Any(p => p.Extra is { Count: > 0 }) == true && !left.Contains("paths"))
        {
            left.Add("paths");
        }
        return left;
    }

    /// <summary>Whether a step's card has an input for the field a problem names (<c>variants/1</c> is the variants' input);
    /// the card lists the other problems itself.</summary>
    public static bool HasInput(JourneyStep step, string field) => Head(field) is var head
        && (head == "id" || (Edited.TryGetValue(step.Type, out var known) && known.Contains(head) && head is not ("then" or "else" or "timeout")));

    /// <summary>The property a problem's field is in: <c>variants</c> for <c>variants/1</c>.</summary>
    public static string Head(string field) => field.Split('/')[0];

    /// <summary>The kinds of trigger, each with its name in words and the property that names it.</summary>
    public static readonly (string Kind, string Label)[] TriggerKinds =
    [
        ("event", "An event is recorded"),
        ("segment", "The contact enters a segment"),
        ("stage", "The contact reaches a stage"),
        ("anniversary", "A yearly anniversary"),
        ("dates", "Calendar dates"),
        ("calendar", "A holiday calendar (.ics)"),
        ("inactiveDays", "Nothing sent for a while"),
        ("every", "Every so many days"),
    ];

    /// <summary>The kinds a trigger has set (one for a trigger that reads).</summary>
    public static List<string> TriggerKindsOf(JourneyTrigger t) => new (string Kind, bool Set)[]
    {
        ("event", t.Event is not null), ("segment", t.Segment is not null), ("stage", t.Stage is not null),
        ("anniversary", t.Anniversary is not null), ("dates", t.Dates is not null), ("calendar", t.Calendar is not null),
        ("inactiveDays", t.InactiveDays is not null), ("every", t.Every is not null),
    }.Where(k => k.Set).Select(k => k.Kind).ToList();

    /// <summary>A trigger of another kind, keeping the time and days before where that kind has them.</summary>
    public static JourneyTrigger TriggerOfKind(string kind, JourneyTrigger old) => kind switch
    {
        "event" => new() { Event = "", MaxAgeHours = old.MaxAgeHours },
        "segment" => new() { Segment = "", MaxAgeHours = old.MaxAgeHours },
        "stage" => new() { Stage = "purchase", MaxAgeHours = old.MaxAgeHours },
        "anniversary" => new() { Anniversary = "birthday", DaysBefore = old.DaysBefore, Time = old.Time },
        "dates" => new() { Dates = [], DaysBefore = old.DaysBefore, Time = old.Time },
        "calendar" => new() { Calendar = "", DaysBefore = old.DaysBefore, Time = old.Time },
        "inactiveDays" => new() { InactiveDays = 90, Time = old.Time },
        "every" => new() { Every = new() { Days = 30 }, Time = old.Time },
        _ => old,
    };

    /// <summary>The properties of a trigger its card has no inputs for: those of a second kind, and any the app does not know.</summary>
    public static List<string> Unedited(JourneyTrigger trigger)
    {
        var known = TriggerFields(trigger);
        var json = JsonSerializer.SerializeToNode(trigger, JourneyDefinition.Json)!.AsObject();
        var left = json.Select(p => p.Key).Where(k => !known.Contains(k)).ToList();
        if (trigger.Every?.Extra is { Count: > 0 } && !left.Contains("every"))
        {
            left.Add("every");
        }
        return left;
    }

    /// <summary>The properties the trigger's card has inputs for: those of its kind (none when it has not exactly one).</summary>
    private static string[] TriggerFields(JourneyTrigger trigger)
    {
        var kinds = TriggerKindsOf(trigger);
        return kinds.Count != 1 ? [] : kinds[0] switch
        {
            "event" => ["event", "where", "maxAgeHours"],
            "segment" or "stage" => [kinds[0], "maxAgeHours"],
            "inactiveDays" or "every" => [kinds[0], "time"],
            _ => [kinds[0], "time", "daysBefore"],
        };
    }

    /// <summary>Whether the trigger's card has an input for the field a problem names (<c>dates/1</c> is the dates' input).</summary>
    public static bool HasInput(JourneyTrigger trigger, string field) => TriggerFields(trigger).Contains(Head(field));

    /// <summary>A part of the definition as JSON to edit on its own (one line when it is short).</summary>
    public static string ToJson<T>(T part) => JourneyOutline.Pretty(JsonSerializer.Serialize(part, JourneyDefinition.Json));

    /// <summary>Reads a part of the definition typed as JSON; a mistake is its line, column and what was expected.</summary>
    public static (T? Part, string? Error) FromJson<T>(string json) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, JourneyDefinition.Json) is { } part ? (part, null) : (null, "Write a JSON object.");
        }
        catch (JsonException ex)
        {
            var what = ex.Message;
            var cut = what.IndexOf(" Path:", StringComparison.Ordinal);
            return (null, $"Not valid JSON at line {(ex.LineNumber ?? 0) + 1}, column {(ex.BytePositionInLine ?? 0) + 1}: {(cut >= 0 ? what[..cut] : what).Trim()}");
        }
    }

    /// <summary>A value typed for an attribute: a number, true or false as such, anything else as text.</summary>
    public static JsonElement AttributeValue(string text)
    {
        try
        {
            using var typed = JsonDocument.Parse(text.Trim());
            if (typed.RootElement.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
            {
                return typed.RootElement.Clone();
            }
        }
        catch (JsonException)
        {
            // text, kept as it is below
        }
        return JsonSerializer.SerializeToElement(text);
    }

    /// <summary>An attribute's value as typed back: text without quotes, anything else as written.</summary>
    public static string AttributeText(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    /// <summary>
    /// Named values (event filters, attributes to set) with the one at <paramref name="at"/> set — or added, at the end. A new
    /// name that is empty or in use already would lose a row, so the row keeps its old name.
    /// </summary>
    public static Dictionary<string, T> WithEntry<T>(IReadOnlyList<KeyValuePair<string, T>> entries, int at, string key, T value)
    {
        var list = entries.ToList();
        if (at < list.Count)
        {
            if (key != list[at].Key && (key.Length == 0 || list.Exists(p => p.Key == key)))
            {
                key = list[at].Key;
            }
            list[at] = new(key, value);
        }
        else
        {
            list.Add(new(key, value));
        }
        return list.ToDictionary();
    }

    /// <summary>Named values without the one at <paramref name="at"/>; null when none are left.</summary>
    public static Dictionary<string, T>? WithoutEntry<T>(IReadOnlyList<KeyValuePair<string, T>> entries, int at) =>
        entries.Where((_, i) => i != at).ToDictionary() is { Count: > 0 } left ? left : null;

    /// <summary>A list typed with commas, e.g. tags: each item trimmed, empty ones left out.</summary>
    public static List<string> CommaList(string? text) =>
        (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
