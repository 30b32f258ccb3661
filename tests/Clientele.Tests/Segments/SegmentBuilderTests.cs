using Clientele.Segments;

namespace Clientele.Tests.Segments;

public sealed class SegmentBuilderTests
{
    [Theory]
    [InlineData("""stage >= Purchase and orders.count(within: 90d) >= 2 and not bought(category: "Accessories") and pAlive < 0.5 and tag = "vip" and birthday within 7d""")]
    [InlineData("""(tag = "vip" or score > 40) and not (health = at-risk or health = lapsed)""")]
    [InlineData("""a = 1 and (b = 2 and c = 3)""")]
    [InlineData("""a = 1 or (b = 2 or c = 3) or d = 4""")]
    [InlineData("""not not tag = "x\"y" and events.count(type: "page.viewed", path: "/pricing", within: 12h) >= 3""")]
    [InlineData("""consent.newsletter = subscribed or attributes.role contains "own" or segment(name: "VIP")""")]
    [InlineData("""clv >= 100.25 and lastActivity within 28d and opened(within: 14d)""")]
    [InlineData("""nps.category = detractor and tickets.open = 0 or nps <= 6 and not tickets.breached > 0""")]
    [InlineData("""survey.answered(survey: "NPS \"2026\"", within: 30d) and survey.score(kind: "csat", within: 12h) <= 2 or tickets.count(channel: "survey", within: 90d) >= 1""")]
    public void Text_goes_through_the_builder_and_back_unchanged(string query)
    {
        var node = SegmentParser.Parse(query);
        var builder = BuilderGroup.From(node);
        var back = SegmentFormat.Format(builder.ToNode()!);

        Assert.Equal(query, back);
        Assert.True(Same(node, SegmentParser.Parse(back)));
    }

    [Fact]
    public void Non_canonical_text_is_rewritten_to_an_equivalent_canonical_form()
    {
        var node = SegmentParser.Parse("  STAGE>=Purchase\n  and orders.count( within : 4w )>=2 ");

        Assert.Equal("STAGE >= Purchase and orders.count(within: 28d) >= 2", SegmentFormat.Format(node));
    }

    [Fact]
    public void Random_trees_survive_text_and_builder_round_trips()
    {
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var tree = RandomTree(random, depth: 4);
            var text = SegmentFormat.Format(tree);
            var parsed = SegmentParser.Parse(text);
            Assert.True(Same(tree, parsed), text);
            Assert.Equal(text, SegmentFormat.Format(BuilderGroup.From(parsed).ToNode()!));
        }
    }

    [Fact]
    public void The_builder_groups_an_and_chain_and_nests_an_or_inside_it()
    {
        var builder = BuilderGroup.From(SegmentParser.Parse("""stage >= Purchase and (tag = "a" or tag = "b") and not score > 5"""));

        Assert.False(builder.Any);
        Assert.Equal(3, builder.Items.Count);
        Assert.Equal("stage", builder.Items[0].Condition!.Field);
        Assert.True(builder.Items[1].Group!.Any);
        Assert.Equal(2, builder.Items[1].Group!.Items.Count);
        Assert.True(builder.Items[2].Not);
    }

    [Fact]
    public void Conditions_added_in_the_builder_write_valid_text()
    {
        var group = new BuilderGroup();
        foreach (var field in BuilderFields.All)
        {
            group.Items.Add(new BuilderItem { Condition = field.NewCondition() });
        }
        var text = SegmentFormat.Format(group.ToNode()!);
        var parsed = SegmentParser.Parse(text);

        Assert.Equal(text, SegmentFormat.Format(parsed));
        Assert.Contains("stage >= Lead", text);
        Assert.Contains("orders.count(within: 90d) >= 1", text);
        Assert.Contains("consent.marketing = subscribed", text);
        Assert.Contains("birthday within 30d", text);
        Assert.Contains("nps >= 1", text);
        Assert.Contains("nps.category = detractor", text);
        Assert.Contains("survey.answered(within: 90d)", text);
        Assert.Contains("survey.score(within: 90d) >= 1", text);
        Assert.Contains("tickets.open >= 1", text);
        Assert.Contains("tickets.breached >= 1", text);
        Assert.Contains("tickets.count(within: 90d) >= 1", text);
    }

    [Theory]
    [InlineData("opened(within: 12h) and stage >= Lead", true)]
    [InlineData("lastActivity within 1d or score > 3", true)]
    [InlineData("not events.count(type: \"page.viewed\", within: 36h) >= 2", true)]
    [InlineData("orders.count(within: 90d) >= 2 and birthday within 7d", false)]
    [InlineData("stage >= Purchase", false)]
    [InlineData("nps.category = detractor and not tickets.breached > 0", true)]
    [InlineData("nps.category = detractor and tickets.open > 0", false)]
    [InlineData("stage >=", false)]
    public void Segments_with_windows_shorter_than_two_days_are_rebuilt_hourly(string query, bool hourly)
    {
        Assert.Equal(hourly, SegmentWindowService.Due(query));
    }

    [Theory]
    [InlineData("nps >= 9", "survey.answered", true)]
    [InlineData("nps.category = detractor", "survey.commented", false)]
    [InlineData("survey.score(kind: \"csat\") <= 2", "survey.answered", true)]
    [InlineData("survey.answered(within: 30d)", "survey.answered", true)]
    [InlineData("tickets.open > 0", "ticket.opened", true)]
    [InlineData("tickets.breached > 0", "ticket.solved", true)]
    [InlineData("tickets.count(within: 30d) >= 1", "ticket.opened", true)]
    [InlineData("tickets.open > 0", "survey.answered", false)]
    public void Survey_answers_and_ticket_events_are_among_the_events_that_move_contacts(string query, string eventType, bool moves)
    {
        Assert.Equal(moves, SegmentDependencies.CanChange(SegmentParser.Parse(query), eventType));
    }

    [Theory]
    [InlineData("nps <= 6", "NPS score (latest answer)")]
    [InlineData("nps.category = promoter", "NPS category (latest answer)")]
    [InlineData("survey.score(kind: \"csat\") <= 2", "Survey score (latest answer)")]
    [InlineData("tickets.breached > 0", "Tickets past the response limit")]
    [InlineData("tickets.count(channel: \"survey\") >= 1", "Number of tickets")]
    public void The_field_picker_knows_the_feedback_and_support_fields(string query, string label)
    {
        var condition = BuilderGroup.From(SegmentParser.Parse(query)).Items[0].Condition!;

        Assert.Equal(label, BuilderFields.Of(condition)?.Label);
    }

    [Fact]
    public void A_value_that_is_not_what_the_field_takes_is_reported()
    {
        var group = new BuilderGroup { Items = [new BuilderItem { Condition = new BuilderCondition { Field = "score", Op = ">", Value = new BuilderValue { Kind = BuilderValueKind.Number, Raw = "lots" } } }] };

        var ex = Assert.Throws<SegmentQueryException>(() => group.ToNode());
        Assert.Contains("\"lots\" is not a number", ex.Message);
    }

    private static readonly string[] Fields = ["stage", "score", "tag", "email", "consent.news", "attributes.role"];
    private static readonly string[] Ops = ["=", "!=", "<", "<=", ">", ">=", "contains"];
    private static readonly string[] Words = ["Purchase", "Re-Purchase", "at-risk", "subscribed"];

    private static SegmentNode RandomTree(Random r, int depth)
    {
        var pick = depth == 0 ? r.Next(3, 6) : r.Next(0, 6);
        return pick switch
        {
            0 => new SegmentNode.And(RandomTree(r, depth - 1), RandomTree(r, depth - 1)),
            1 => new SegmentNode.Or(RandomTree(r, depth - 1), RandomTree(r, depth - 1)),
            2 => new SegmentNode.Not(RandomTree(r, depth - 1)),
            3 => new SegmentNode.Compare(Fields[r.Next(Fields.Length)], Ops[r.Next(Ops.Length)], RandomValue(r), 1, 1),
            4 => new SegmentNode.Call("events.count", new Dictionary<string, SegmentValue> { ["type"] = Text("page.viewed"), ["within"] = Span(r) }, r.Next(2) == 0 ? null : ">=", null, 1, 1) is var c && c.Op is not null
                ? c with { Value = new SegmentValue(null, r.Next(0, 9), null, null, 1, 1) }
                : c,
            _ => new SegmentNode.Within("birthday", TimeSpan.FromDays(r.Next(1, 60)), 1, 1),
        };
    }

    private static SegmentValue Text(string s) => new(s, null, null, null, 1, 1);

    private static SegmentValue Span(Random r) => new(null, null, r.Next(2) == 0 ? TimeSpan.FromDays(r.Next(1, 400)) : TimeSpan.FromHours(r.Next(1, 23)), null, 1, 1);

    private static SegmentValue RandomValue(Random r) => r.Next(4) switch
    {
        0 => Text(new string([.. Enumerable.Range(0, r.Next(0, 6)).Select(_ => "ab \"\\é"[r.Next(6)])])),
        1 => new SegmentValue(null, Math.Round(r.NextDouble() * 1000 - 500, r.Next(0, 4)), null, null, 1, 1),
        2 => Span(r),
        _ => new SegmentValue(null, null, null, Words[r.Next(Words.Length)], 1, 1),
    };

    /// <summary>Structural equality of two trees, ignoring where in the text each part was.</summary>
    private static bool Same(SegmentNode a, SegmentNode b) => (a, b) switch
    {
        (SegmentNode.And x, SegmentNode.And y) => Same(x.Left, y.Left) && Same(x.Right, y.Right),
        (SegmentNode.Or x, SegmentNode.Or y) => Same(x.Left, y.Left) && Same(x.Right, y.Right),
        (SegmentNode.Not x, SegmentNode.Not y) => Same(x.Inner, y.Inner),
        (SegmentNode.Compare x, SegmentNode.Compare y) => x.Field == y.Field && x.Op == y.Op && SameValue(x.Value, y.Value),
        (SegmentNode.Within x, SegmentNode.Within y) => x.Field == y.Field && x.Span == y.Span,
        (SegmentNode.Call x, SegmentNode.Call y) => x.Name == y.Name && x.Op == y.Op
            && (x.Value is null ? y.Value is null : y.Value is not null && SameValue(x.Value, y.Value))
            && x.Args.Count == y.Args.Count && x.Args.Zip(y.Args).All(p => p.First.Key == p.Second.Key && SameValue(p.First.Value, p.Second.Value)),
        _ => false,
    };

    private static bool SameValue(SegmentValue a, SegmentValue b) => a.Text == b.Text && a.Number == b.Number && a.Duration == b.Duration && a.Word == b.Word;
}
