using Clientele.Contacts;
using Clientele.Lifecycle;

namespace Clientele.Segments;

/// <summary>
/// The visual builder's model: groups of conditions joined by all/any, each item optionally negated.
/// <see cref="From"/> and <see cref="ToNode"/> are exact inverses on the parsed tree, so text → builder → text
/// gives the same text (in the canonical form of <see cref="SegmentFormat"/>).
/// </summary>
public sealed class BuilderGroup
{
    /// <summary>True: any item may match (or); false: all must (and).</summary>
    public bool Any { get; set; }

    public List<BuilderItem> Items { get; set; } = [];

    /// <summary>The builder for a parsed query (or an empty group for none).</summary>
    internal static BuilderGroup From(SegmentNode? node) => node switch
    {
        null => new BuilderGroup(),
        SegmentNode.And or SegmentNode.Or => GroupOf(node),
        _ => new BuilderGroup { Items = [BuilderItem.From(node)] },
    };

    internal static BuilderGroup GroupOf(SegmentNode node)
    {
        // "a and b and c" parses as ((a and b) and c): the left spine is the group, a right-nested one is a subgroup.
        var any = node is SegmentNode.Or;
        var items = new List<BuilderItem>();
        var current = node;
        while (true)
        {
            if (!any && current is SegmentNode.And a)
            {
                items.Add(BuilderItem.From(a.Right));
                current = a.Left;
            }
            else if (any && current is SegmentNode.Or o)
            {
                items.Add(BuilderItem.From(o.Right));
                current = o.Left;
            }
            else
            {
                items.Add(BuilderItem.From(current));
                break;
            }
        }
        items.Reverse();
        return new BuilderGroup { Any = any, Items = items };
    }

    /// <summary>The tree this group stands for; null when it holds no condition. Throws <see cref="SegmentQueryException"/> for a value that is not one.</summary>
    internal SegmentNode? ToNode()
    {
        SegmentNode? result = null;
        foreach (var item in Items)
        {
            if (item.ToNode() is not { } node)
            {
                continue;
            }
            result = result is null ? node : Any ? new SegmentNode.Or(result, node) : new SegmentNode.And(result, node);
        }
        return result;
    }
}

/// <summary>One line of a group: a condition or a subgroup, optionally with "not".</summary>
public sealed class BuilderItem
{
    public bool Not { get; set; }
    public BuilderCondition? Condition { get; set; }
    public BuilderGroup? Group { get; set; }

    internal static BuilderItem From(SegmentNode node)
    {
        switch (node)
        {
            case SegmentNode.Not n:
                {
                    var inner = From(n.Inner);
                    if (!inner.Not)
                    {
                        inner.Not = true;
                        return inner;
                    }
                    // "not not …": the inner negation keeps its own line.
                    return new BuilderItem { Not = true, Group = new BuilderGroup { Items = [inner] } };
                }
            case SegmentNode.And or SegmentNode.Or:
                return new BuilderItem { Group = BuilderGroup.GroupOf(node) };
            default:
                return new BuilderItem { Condition = BuilderCondition.From(node) };
        }
    }

    internal SegmentNode? ToNode()
    {
        var node = Condition?.ToNode() ?? Group?.ToNode();
        return node is null ? null : Not ? new SegmentNode.Not(node) : node;
    }
}

/// <summary>How a value was written: the builder keeps it, so a value edited in place keeps its form.</summary>
public enum BuilderValueKind
{
    Text,
    Number,
    Duration,
    Word,
}

public sealed class BuilderValue
{
    public BuilderValueKind Kind { get; set; }

    /// <summary>As the user edits it: text without quotes, a number, a duration such as 30d, or a bare word.</summary>
    public string Raw { get; set; } = "";

    internal static BuilderValue From(SegmentValue v) => v switch
    {
        { Text: { } t } => new() { Kind = BuilderValueKind.Text, Raw = t },
        { Number: { } n } => new() { Kind = BuilderValueKind.Number, Raw = SegmentFormat.Number(n) },
        { Duration: { } d } => new() { Kind = BuilderValueKind.Duration, Raw = SegmentFormat.Duration(d) },
        _ => new() { Kind = BuilderValueKind.Word, Raw = v.Word ?? "" },
    };

    internal SegmentValue ToValue(string what)
    {
        if (Kind == BuilderValueKind.Text)
        {
            return new SegmentValue(Raw, null, null, null, 1, 1);
        }
        SegmentValue parsed;
        try
        {
            parsed = SegmentParser.ParseValue(Raw);
        }
        catch (SegmentQueryException)
        {
            throw new SegmentQueryException($"{what}: \"{Raw}\" is not {Describe(Kind)}.", 1, 1);
        }
        var fits = Kind switch
        {
            BuilderValueKind.Number => parsed.Number is not null,
            BuilderValueKind.Duration => parsed.Duration is not null,
            _ => parsed.Word is not null,
        };
        return fits ? parsed : throw new SegmentQueryException($"{what}: \"{Raw}\" is not {Describe(Kind)}.", 1, 1);
    }

    private static string Describe(BuilderValueKind kind) => kind switch
    {
        BuilderValueKind.Number => "a number",
        BuilderValueKind.Duration => "a duration such as 30d, 12h or 4w",
        _ => "a name",
    };
}

public sealed class BuilderArg
{
    public string Key { get; set; } = "";
    public BuilderValue Value { get; set; } = new();
}

/// <summary>One condition: <c>field op value</c>, <c>name(args) [op value]</c> or <c>field within duration</c>.</summary>
public sealed class BuilderCondition
{
    /// <summary>The field or function as written, e.g. <c>stage</c>, <c>consent.newsletter</c>, <c>orders.count</c>.</summary>
    public string Field { get; set; } = "stage";

    public BuilderShape Shape { get; set; } = BuilderShape.Compare;

    /// <summary>Empty for a function used alone (bought, opened, …) and for "within".</summary>
    public string Op { get; set; } = ">=";

    public BuilderValue Value { get; set; } = new() { Kind = BuilderValueKind.Word, Raw = "Purchase" };
    public List<BuilderArg> Args { get; set; } = [];

    internal static BuilderCondition From(SegmentNode node) => node switch
    {
        SegmentNode.Compare c => new() { Shape = BuilderShape.Compare, Field = c.Field, Op = c.Op, Value = BuilderValue.From(c.Value) },
        SegmentNode.Call c => new()
        {
            Shape = BuilderShape.Call,
            Field = c.Name,
            Op = c.Op ?? "",
            Value = c.Value is null ? new() { Kind = BuilderValueKind.Number } : BuilderValue.From(c.Value),
            Args = [.. c.Args.Select(a => new BuilderArg { Key = a.Key, Value = BuilderValue.From(a.Value) })],
        },
        SegmentNode.Within w => new() { Shape = BuilderShape.Within, Field = w.Field, Op = "", Value = new() { Kind = BuilderValueKind.Duration, Raw = SegmentFormat.Duration(w.Span) } },
        _ => throw new ArgumentOutOfRangeException(nameof(node)),
    };

    internal SegmentNode ToNode()
    {
        if (string.IsNullOrWhiteSpace(Field))
        {
            throw new SegmentQueryException("Pick a field for every condition.", 1, 1);
        }
        switch (Shape)
        {
            case BuilderShape.Within:
                return new SegmentNode.Within(Field, Value.ToValue(Field).Duration!.Value, 1, 1);
            case BuilderShape.Call:
                {
                    var args = new Dictionary<string, SegmentValue>(StringComparer.OrdinalIgnoreCase);
                    foreach (var a in Args.Where(a => a.Key.Length > 0))
                    {
                        args[a.Key] = a.Value.ToValue($"{Field} {a.Key}");
                    }
                    return Op.Length == 0
                        ? new SegmentNode.Call(Field, args, null, null, 1, 1)
                        : new SegmentNode.Call(Field, args, Op, Value.ToValue(Field), 1, 1);
                }
            default:
                return new SegmentNode.Compare(Field, Op, Value.ToValue(Field), 1, 1);
        }
    }
}

public enum BuilderShape
{
    Compare,
    Call,
    Within,
}

/// <summary>A field the builder offers: how it is written and which editors it takes.</summary>
public sealed record BuilderField(string Key, string Label, string Section, BuilderShape Shape, string[] Ops, BuilderValueKind Kind,
    string[] Choices, string[] Args, string? Sub = null)
{
    /// <summary>A new condition on this field, with sensible starting values.</summary>
    public BuilderCondition NewCondition() => new()
    {
        Field = Sub is null ? Key : Key + "." + Sub,
        Shape = Shape,
        Op = Ops.Length > 0 ? Ops[0] : "",
        Value = new BuilderValue
        {
            Kind = Kind,
            Raw = Choices.Length > 0 ? Choices[0] : Kind switch { BuilderValueKind.Number => "1", BuilderValueKind.Duration => "30d", _ => "" },
        },
        Args = [.. Args.Take(1).Select(a => new BuilderArg
        {
            Key = a,
            Value = a == "within" ? new() { Kind = BuilderValueKind.Duration, Raw = "90d" } : new() { Kind = BuilderValueKind.Text },
        })],
    };
}

/// <summary>What the builder's field picker lists, by section.</summary>
public static class BuilderFields
{
    private static readonly string[] Ordered = [">=", ">", "<=", "<", "=", "!="];
    private static readonly string[] Equality = ["=", "!="];
    private static readonly string[] TextOps = ["=", "!=", "contains"];
    private static readonly string[] None = [];

    public static readonly IReadOnlyList<BuilderField> All =
    [
        new("stage", "Stage", "Lifecycle", BuilderShape.Compare, Ordered, BuilderValueKind.Word, [.. Enum.GetValues<Stage>().Select(s => s.Display())], None),
        new("score", "Lead score", "Lifecycle", BuilderShape.Compare, Ordered, BuilderValueKind.Number, None, None),
        new("health", "Health", "Lifecycle", BuilderShape.Compare, Equality, BuilderValueKind.Word, [.. Enum.GetValues<Health>().Select(h => h.ToApi())], None),
        new("tag", "Tag", "Contact", BuilderShape.Compare, Equality, BuilderValueKind.Text, None, None),
        new("email", "E-mail", "Contact", BuilderShape.Compare, TextOps, BuilderValueKind.Text, None, None),
        new("firstName", "First name", "Contact", BuilderShape.Compare, TextOps, BuilderValueKind.Text, None, None),
        new("lastName", "Last name", "Contact", BuilderShape.Compare, TextOps, BuilderValueKind.Text, None, None),
        new("locale", "Locale", "Contact", BuilderShape.Compare, TextOps, BuilderValueKind.Text, None, None),
        new("timeZone", "Time zone", "Contact", BuilderShape.Compare, TextOps, BuilderValueKind.Text, None, None),
        new("source", "Source", "Contact", BuilderShape.Compare, TextOps, BuilderValueKind.Text, None, None),
        new("utmSource", "UTM source", "Contact", BuilderShape.Compare, TextOps, BuilderValueKind.Text, None, None),
        new("utmCampaign", "UTM campaign", "Contact", BuilderShape.Compare, TextOps, BuilderValueKind.Text, None, None),
        new("attributes", "Custom attribute", "Contact", BuilderShape.Compare, TextOps, BuilderValueKind.Text, None, None, Sub: "name"),
        new("consent", "Consent", "Contact", BuilderShape.Compare, Equality, BuilderValueKind.Word, ["subscribed", "unsubscribed", "pending"], None, Sub: ConsentProjection.DefaultTopic),
        new("birthday", "Birthday within", "Dates", BuilderShape.Within, None, BuilderValueKind.Duration, None, None),
        new("createdAt", "Created within", "Dates", BuilderShape.Within, None, BuilderValueKind.Duration, None, None),
        new("lastActivity", "Active within", "Dates", BuilderShape.Within, None, BuilderValueKind.Duration, None, None),
        new("orders.count", "Number of orders", "Orders", BuilderShape.Call, Ordered, BuilderValueKind.Number, None, ["within"]),
        new("orders.revenue", "Revenue", "Orders", BuilderShape.Call, Ordered, BuilderValueKind.Number, None, ["within"]),
        new("orders.first", "First order within", "Orders", BuilderShape.Call, None, BuilderValueKind.Number, None, ["within"]),
        new("orders.last", "Last order within", "Orders", BuilderShape.Call, None, BuilderValueKind.Number, None, ["within"]),
        new("bought", "Bought", "Orders", BuilderShape.Call, None, BuilderValueKind.Number, None, ["category", "sku", "within"]),
        new("events.count", "Number of events", "Activity", BuilderShape.Call, Ordered, BuilderValueKind.Number, None, ["type", "within"]),
        new("events.first", "First event within", "Activity", BuilderShape.Call, None, BuilderValueKind.Number, None, ["type", "within"]),
        new("events.last", "Last event within", "Activity", BuilderShape.Call, None, BuilderValueKind.Number, None, ["type", "within"]),
        new("sent", "Was sent an e-mail", "E-mail", BuilderShape.Call, None, BuilderValueKind.Number, None, ["within"]),
        new("opened", "Opened an e-mail", "E-mail", BuilderShape.Call, None, BuilderValueKind.Number, None, ["within"]),
        new("clicked", "Clicked in an e-mail", "E-mail", BuilderShape.Call, None, BuilderValueKind.Number, None, ["within"]),
        new("pAlive", "P(alive)", "Predictions", BuilderShape.Compare, Ordered, BuilderValueKind.Number, None, None),
        new("expectedPurchases90", "Expected purchases, 90 days", "Predictions", BuilderShape.Compare, Ordered, BuilderValueKind.Number, None, None),
        new("expectedPurchases365", "Expected purchases, 365 days", "Predictions", BuilderShape.Compare, Ordered, BuilderValueKind.Number, None, None),
        new("clv", "Predicted value (CLV)", "Predictions", BuilderShape.Compare, Ordered, BuilderValueKind.Number, None, None),
        new("rfm", "RFM cell", "Predictions", BuilderShape.Compare, Equality, BuilderValueKind.Text, None, None),
        new("nps", "NPS score (latest answer)", "Feedback", BuilderShape.Compare, Ordered, BuilderValueKind.Number, None, None),
        new("nps.category", "NPS category (latest answer)", "Feedback", BuilderShape.Compare, Equality, BuilderValueKind.Word, ["detractor", "passive", "promoter"], None),
        new("survey.answered", "Answered a survey", "Feedback", BuilderShape.Call, None, BuilderValueKind.Number, None, ["within", "survey", "kind"]),
        new("survey.score", "Survey score (latest answer)", "Feedback", BuilderShape.Call, Ordered, BuilderValueKind.Number, None, ["within", "kind", "survey"]),
        new("tickets.open", "Open tickets", "Support", BuilderShape.Compare, Ordered, BuilderValueKind.Number, None, None),
        new("tickets.breached", "Tickets past the response limit", "Support", BuilderShape.Compare, Ordered, BuilderValueKind.Number, None, None),
        new("tickets.count", "Number of tickets", "Support", BuilderShape.Call, Ordered, BuilderValueKind.Number, None, ["within", "channel"]),
        new("segment", "In segment", "Segments", BuilderShape.Call, None, BuilderValueKind.Number, None, ["name"]),
    ];

    /// <summary>The picker entry for a condition's field (consent.newsletter → consent); null for one the builder does not know.</summary>
    public static BuilderField? Of(BuilderCondition c)
    {
        var exact = All.FirstOrDefault(f => f.Sub is null && string.Equals(f.Key, c.Field, StringComparison.OrdinalIgnoreCase) && f.Shape == c.Shape);
        if (exact is not null)
        {
            return exact;
        }
        var dot = c.Field.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 ? All.FirstOrDefault(f => f.Sub is not null && string.Equals(f.Key, c.Field[..dot], StringComparison.OrdinalIgnoreCase)) : null;
    }

    /// <summary>The part after the dot of consent.&lt;topic&gt; and attributes.&lt;name&gt;.</summary>
    public static string SubOf(BuilderCondition c) => c.Field.IndexOf('.', StringComparison.Ordinal) is var dot and > 0 ? c.Field[(dot + 1)..] : "";
}
