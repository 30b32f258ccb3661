using System.Text;
using System.Text.Json;
using Clientele.Api;
using Clientele.Journeys;

namespace Clientele.Tests.Journeys;

/// <summary>The journey drawn as a flow of cards, and the flow editor's edits, as pure functions of the definition.</summary>
public sealed class JourneyFlowEditingTests
{
    private static JourneyDefinition Parse(string json) => JourneyDefinition.Parse(json).Definition!;

    private static JourneyDefinition Steps(string steps) => Parse($$"""{"trigger": {"event": "x"}, "steps": [{{steps}}]}""");

    /// <summary>The layout as indented lines: a card per step by id, a lane by its label, and how each lane ends.</summary>
    private static string Sketch(FlowLayout layout)
    {
        var text = new StringBuilder();
        void Lane(FlowLane lane, string indent)
        {
            foreach (var node in lane.Nodes)
            {
                text.Append(indent).Append(node.Step.Id).Append('\n');
                foreach (var sub in node.Lanes)
                {
                    text.Append(indent).Append("  [").Append(sub.Label).Append("]\n");
                    Lane(sub, indent + "    ");
                }
            }
            var end = lane.End.Kind switch
            {
                FlowEndKind.End => "end",
                FlowEndKind.GoTo => "go to " + lane.End.Id,
                FlowEndKind.Missing => "missing " + lane.End.Id,
                FlowEndKind.Below => "continues below",
                _ => null,
            };
            if (end is not null)
            {
                text.Append(indent).Append("→ ").Append(end).Append('\n');
            }
        }
        Lane(layout.Main, "");
        foreach (var lane in layout.Unreached)
        {
            text.Append("not reached:\n");
            Lane(lane, "  ");
        }
        return text.ToString().TrimEnd();
    }

    private static string Sketch(JourneyDefinition definition) => Sketch(JourneyFlow.Layout(definition));

    /// <summary>Where each step leads, by id, as the runner follows the links: what an edit must keep.</summary>
    private static Dictionary<string, string> Edges(JourneyDefinition definition) =>
        definition.Steps.ToDictionary(s => s.Id, s => string.Join(",", definition.Successors(s).DefaultIfEmpty("end")));

    private static readonly JourneyDefinition Welcome = Steps("""
        {"id": "welcome", "type": "email", "template": "Welcome"},
        {"id": "week", "type": "wait", "days": 7},
        {"id": "bought", "type": "branch", "condition": "orders.count() >= 1", "then": "thanks", "else": "nudge"},
        {"id": "nudge", "type": "email", "template": "Still thinking?", "next": "done"},
        {"id": "thanks", "type": "tag", "add": ["customer"]},
        {"id": "done", "type": "exit"}
        """);

    [Fact]
    public void A_straight_series_is_one_lane_of_cards_in_order_ending_the_run()
    {
        var layout = JourneyFlow.Layout(Steps("""
            {"id": "hello", "type": "email", "template": "Welcome"},
            {"id": "pause", "type": "wait", "days": 3},
            {"id": "tips", "type": "email", "template": "Tips"}
            """));
        Assert.Equal("hello\npause\ntips\n→ end", Sketch(layout));
        Assert.Empty(layout.Unreached);
        Assert.Equal(new FlowLink(2, "next"), layout.Main.End.Via);
        Assert.Equal(FlowLink.Start, layout.Main.From);
    }

    [Fact]
    public void The_ways_out_of_a_branch_are_lanes_side_by_side_and_where_they_meet_again_is_drawn_once_below_them()
    {
        Assert.Equal("""
            welcome
            week
            bought
              [If it holds]
                thanks
                → continues below
              [Otherwise]
                nudge
                → continues below
            done
            """.ReplaceLineEndings("\n"), Sketch(Welcome));
    }

    [Fact]
    public void A_way_back_to_a_step_drawn_already_reads_go_to_so_a_loop_is_readable()
    {
        var layout = JourneyFlow.Layout(Steps("""
            {"id": "remind", "type": "email", "template": "Restock"},
            {"id": "listen", "type": "waitForEvent", "event": "order.placed", "days": 30, "then": "thanks", "timeout": "remind"},
            {"id": "thanks", "type": "email", "template": "Thanks"}
            """));
        Assert.Equal("""
            remind
            listen
              [When order.placed comes]
                thanks
                → end
              [If it does not come in time]
                → go to remind
            """.ReplaceLineEndings("\n"), Sketch(layout));
        var timeout = layout.Main.Nodes[1].Lanes[1];
        Assert.Equal((FlowEndKind.GoTo, 0, new FlowLink(1, "timeout")), (timeout.End.Kind, timeout.End.Target, timeout.End.Via));
    }

    [Fact]
    public void A_split_has_a_lane_per_path_with_its_share_and_a_branch_ending_on_one_side_keeps_the_rest_in_its_lane()
    {
        Assert.Equal("""
            coin
              [Path 1 · 30 %]
                → continues below
              [Path 2 · 70 %]
                short
                → continues below
            ask
              [If it holds]
                → end
              [Otherwise]
                later
                → end
            """.ReplaceLineEndings("\n"), Sketch(Steps("""
            {"id": "coin", "type": "split", "paths": [{"percent": 30, "next": "ask"}, {"percent": 70, "next": "short"}]},
            {"id": "short", "type": "wait", "days": 1},
            {"id": "ask", "type": "branch", "condition": "orders.count() >= 1", "else": "later"},
            {"id": "later", "type": "email", "template": "Later"}
            """)));
    }

    [Fact]
    public void Steps_no_path_reaches_and_links_to_missing_steps_are_shown_not_hidden()
    {
        var layout = JourneyFlow.Layout(Steps("""
            {"id": "a", "type": "email", "template": "A", "next": "nowhere"},
            {"id": "b", "type": "wait", "days": 1},
            {"id": "c", "type": "exit"}
            """));
        Assert.Equal("""
            a
            → missing nowhere
            not reached:
              b
              c
            """.ReplaceLineEndings("\n"), Sketch(layout));
        Assert.Null(layout.Unreached[0].From);
    }

    [Fact]
    public void An_empty_journey_is_a_lane_that_ends_at_once_where_the_first_step_can_be_added()
    {
        var layout = JourneyFlow.Layout(Steps(""));
        Assert.Equal("→ end", Sketch(layout));
        Assert.Equal(FlowLink.Start, layout.Main.End.Via);

        var (one, id) = JourneyFlow.Insert(Steps(""), FlowLink.Start, "email");
        Assert.Equal("email", id);
        Assert.Equal("""{"id":"email","type":"email"}""", JsonSerializer.Serialize(one.Steps.Single(), JourneyDefinition.Json));
    }

    [Fact]
    public void A_step_added_after_another_goes_on_to_where_that_one_went_without_links_written_where_the_order_says_them()
    {
        var (definition, id) = JourneyFlow.Insert(Welcome, new FlowLink(0, "next"), "wait");
        Assert.Equal("wait", id);
        Assert.Equal(["welcome", "wait", "week", "bought", "nudge", "thanks", "done"], definition.Steps.Select(s => s.Id));
        Assert.Null(definition.Steps[0].Next);
        Assert.Null(definition.Steps[1].Next);
        Assert.Equal(1, definition.Steps[1].Days);
        Assert.Equal("week", definition.NextOf(definition.Steps[1]));

        // Added at the top, it becomes the first step.
        var (first, _) = JourneyFlow.Insert(Welcome, FlowLink.Start, "email");
        Assert.Equal(["email", "welcome"], first.Steps.Take(2).Select(s => s.Id));
        Assert.Equal("welcome", first.NextOf(first.Steps[0]));
    }

    [Fact]
    public void A_step_added_in_a_lane_goes_on_where_the_lane_went_and_a_new_branch_sends_both_ways_on_until_they_get_steps()
    {
        var (definition, id) = JourneyFlow.Insert(Welcome, new FlowLink(2, "else"), "email");
        Assert.Equal("email", id);
        Assert.Equal("email", definition.Step("bought")!.Else);
        Assert.Equal("nudge", definition.NextOf(definition.Step("email")!));
        Assert.Contains("""
              [Otherwise]
                email
                nudge
                → continues below
            """.ReplaceLineEndings("\n"), Sketch(definition));

        var (branched, branch) = JourneyFlow.Insert(Welcome, new FlowLink(0, "next"), "branch");
        Assert.Equal(("week", "week"), (branched.Step(branch)!.Then, branched.Step(branch)!.Else));
        Assert.StartsWith("""
            welcome
            branch
              [If it holds]
                → continues below
              [Otherwise]
                → continues below
            week
            """.ReplaceLineEndings("\n"), Sketch(branched));
    }

    [Fact]
    public void A_second_path_that_ends_is_led_to_an_exit_step_since_only_the_last_step_listed_ends_by_itself()
    {
        // The marketer's flow: an e-mail, a wait, a branch with an e-mail on one side; then an e-mail on the other side.
        var definition = Steps("");
        (definition, _) = JourneyFlow.Insert(definition, FlowLink.Start, "email");
        (definition, _) = JourneyFlow.Insert(definition, new FlowLink(0, "next"), "wait");
        (definition, _) = JourneyFlow.Insert(definition, new FlowLink(1, "next"), "branch");
        (definition, var tips) = JourneyFlow.Insert(definition, new FlowLink(2, "then"), "email");
        Assert.Equal("""
            email
            wait
            branch
              [If it holds]
                email-2
                → end
              [Otherwise]
                → end
            """.ReplaceLineEndings("\n"), Sketch(definition));
        Assert.Equal("email-2", tips);

        (definition, _) = JourneyFlow.Insert(definition, new FlowLink(2, "else"), "email");
        Assert.Equal("""
            email
            wait
            branch
              [If it holds]
                email-2
                → end
              [Otherwise]
                email-3
                end
            """.ReplaceLineEndings("\n"), Sketch(definition));
        Assert.Equal(["email", "wait", "branch", "email-3", "end", "email-2"], definition.Steps.Select(s => s.Id));
        Assert.Equal("exit", definition.Step("end")!.Type);
        Assert.All(definition.Steps, s => Assert.Null(s.Next));
        // What is left to fill in is the templates and the condition; the flow itself holds together.
        Assert.All(definition.Validate(new HashSet<string>(), new HashSet<string>()),
            p => Assert.True(p.Field.EndsWith("/template", StringComparison.Ordinal) || p.Field.EndsWith("/condition", StringComparison.Ordinal), p.Field));
    }

    [Fact]
    public void Deleting_a_step_sends_its_links_on_to_where_it_went()
    {
        var definition = JourneyFlow.Delete(Welcome, 3); // nudge, which went to done
        Assert.Equal("done", definition.Step("bought")!.Else);
        Assert.DoesNotContain(definition.Steps, s => s.Id == "nudge");

        var week = JourneyFlow.Delete(Welcome, 1);
        Assert.Equal(["welcome", "bought", "nudge", "thanks", "done"], week.Steps.Select(s => s.Id));
        Assert.Equal("bought", week.NextOf(week.Steps[0]));
        Assert.Null(week.Steps[0].Next);

        // A step whose predecessor relied on the order gets its link written out.
        var thanks = JourneyFlow.Delete(Steps("""
            {"id": "a", "type": "email", "template": "A"},
            {"id": "b", "type": "email", "template": "B", "next": "d"},
            {"id": "c", "type": "exit"},
            {"id": "d", "type": "wait", "days": 1}
            """), 1);
        Assert.Equal("d", thanks.Steps[0].Next);
    }

    [Fact]
    public void Deleting_a_branch_keeps_the_way_chosen_and_what_only_the_others_reached_is_reached_no_more()
    {
        var kept = JourneyFlow.Delete(Welcome, 2, keep: 1); // keep "otherwise": nudge
        Assert.Equal("nudge", kept.NextOf(kept.Step("week")!));
        Assert.Contains(kept.Validate(new HashSet<string>(["Welcome", "Still thinking?"]), new HashSet<string>()),
            p => p.Message == "Step \"thanks\" cannot be reached from the first step.");
        Assert.Contains("not reached:\n  thanks", Sketch(kept));
    }

    [Fact]
    public void Deleting_the_first_step_makes_the_step_it_went_to_the_first()
    {
        var definition = JourneyFlow.Delete(Steps("""
            {"id": "a", "type": "email", "template": "A", "next": "c"},
            {"id": "b", "type": "exit"},
            {"id": "c", "type": "wait", "days": 1, "next": "b"}
            """), 0);
        Assert.Equal(["c", "b"], definition.Steps.Select(s => s.Id));
        Assert.Equal("b", definition.NextOf(definition.Steps[0]));
    }

    [Fact]
    public void Deleting_the_exit_two_paths_went_to_leaves_one_ending_by_itself_and_the_other_at_a_new_exit()
    {
        var definition = JourneyFlow.Delete(Welcome, 5);
        // Only the last step listed ends a run without an exit: "thanks" does, "nudge" is led to a new one.
        Assert.Equal(["welcome", "week", "bought", "nudge", "end", "thanks"], definition.Steps.Select(s => s.Id));
        Assert.Equal("exit", definition.Step("end")!.Type);
        Assert.Equal("end", definition.NextOf(definition.Step("nudge")!));
        Assert.Null(definition.NextOf(definition.Step("thanks")!));
        Assert.Empty(definition.Validate(new HashSet<string>(["Welcome", "Still thinking?"]), new HashSet<string>()));
    }

    [Fact]
    public void Renaming_a_step_takes_every_link_to_it_along()
    {
        var (definition, error) = JourneyFlow.Rename(Welcome, 5, "finish");
        Assert.Null(error);
        Assert.Equal("finish", definition.Steps[5].Id);
        Assert.Equal("finish", definition.Step("nudge")!.Next);
        Assert.Equal("finish", definition.NextOf(definition.Step("thanks")!));
        Assert.Null(definition.Step("thanks")!.Next); // still said by the order

        (definition, error) = JourneyFlow.Rename(Welcome, 4, "thank-you");
        Assert.Null(error);
        Assert.Equal("thank-you", definition.Step("bought")!.Then);

        var split = Steps("""{"id": "coin", "type": "split", "paths": [{"percent": 50, "next": "a"}, {"percent": 50, "next": "b"}]}, {"id": "a", "type": "exit"}, {"id": "b", "type": "exit"}""");
        Assert.Equal(["z", "b"], JourneyFlow.Rename(split, 1, "z").Definition.Steps[0].Paths!.Select(p => p.Next));
    }

    [Theory]
    [InlineData("", "Every step needs an id.")]
    [InlineData("  ", "Every step needs an id.")]
    [InlineData("nudge", "Another step is already called “nudge”.")]
    public void A_new_id_that_is_empty_or_taken_is_refused_and_nothing_changes(string id, string error)
    {
        var (definition, refused) = JourneyFlow.Rename(Welcome, 0, id);
        Assert.Equal(error, refused);
        Assert.Same(Welcome, definition);
    }

    [Fact]
    public void A_step_replaced_with_another_id_is_renamed_with_its_links()
    {
        var (definition, error) = JourneyFlow.Replace(Welcome, 3, Welcome.Steps[3] with { Id = "reminder", Template = "Reminder" });
        Assert.Null(error);
        Assert.Equal("reminder", definition.Step("bought")!.Else);
        Assert.Equal("Reminder", definition.Step("reminder")!.Template);
        Assert.Equal("Another step is already called “week”.", JourneyFlow.Replace(Welcome, 3, Welcome.Steps[3] with { Id = "week" }).Error);
    }

    [Fact]
    public void A_lane_pointed_at_an_earlier_step_becomes_a_loop_shown_as_go_to()
    {
        var definition = JourneyFlow.Relink(Welcome, new FlowLink(3, "next"), "week");
        Assert.Equal("week", definition.Step("nudge")!.Next);
        Assert.Contains("""
                nudge
                → go to week
            """.ReplaceLineEndings("\n"), Sketch(definition));
        // and pointed at nothing, it ends the run
        var ended = JourneyFlow.Relink(Welcome, new FlowLink(2, "then"), null);
        Assert.Null(ended.Step("bought")!.Then);
    }

    public static TheoryData<string> Definitions() => new(
        Welcome.ToJson(),
        """{"trigger": {"event": "x"}, "steps": [{"id": "a", "type": "email", "template": "A"}, {"id": "b", "type": "wait", "days": 1}]}""",
        """
        {"trigger": {"event": "x"}, "steps": [
          {"id": "coin", "type": "split", "paths": [{"percent": 30, "next": "ask"}, {"percent": 70, "next": "short"}]},
          {"id": "short", "type": "wait", "days": 1},
          {"id": "ask", "type": "branch", "condition": "orders.count() >= 1", "else": "later"},
          {"id": "later", "type": "email", "template": "Later", "next": "listen"},
          {"id": "listen", "type": "waitForEvent", "event": "order.placed", "days": 3, "then": "ask", "timeout": "later"}]}
        """);

    [Theory]
    [MemberData(nameof(Definitions))]
    public void Adding_a_step_on_any_link_and_deleting_it_again_leaves_every_step_leading_where_it_led(string json)
    {
        var original = Parse(json);
        var links = new List<FlowLink> { FlowLink.Start };
        for (var i = 0; i < original.Steps.Count; i++)
        {
            var step = original.Steps[i];
            links.AddRange(JourneyFlow.Branches(step) ? JourneyFlow.Ways(step, i).Select(w => w.Link) : step.Type == "exit" ? [] : [new FlowLink(i, "next")]);
        }
        foreach (var link in links)
        {
            foreach (var (type, _) in JourneyFlow.AddableTypes.Where(t => t.Type != "exit"))
            {
                var (added, id) = JourneyFlow.Insert(original, link, type);
                var edges = Edges(added);
                Assert.Equal(JourneyFlow.Target(original, link) ?? "end", edges[id].Split(',')[0]);
                var again = JourneyFlow.Delete(added, added.Steps.FindIndex(s => s.Id == id));
                var before = Edges(original);
                var after = Edges(again);
                // A path that had to be led to an added exit ends there instead of by itself: the same for the contact.
                foreach (var (from, to) in after.Where(e => again.Step(e.Value)?.Type == "exit" && original.Step(e.Value) is null).ToList())
                {
                    after[from] = "end";
                }
                after.Remove("end");
                Assert.Equal(before.OrderBy(e => e.Key), after.OrderBy(e => e.Key));
                Assert.Equal(original.Steps[0].Id, again.Steps[0].Id);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Definitions))]
    public void Renaming_every_step_keeps_every_link(string json)
    {
        var original = Parse(json);
        var renamed = original;
        for (var i = 0; i < original.Steps.Count; i++)
        {
            (renamed, var error) = JourneyFlow.Rename(renamed, i, "n-" + original.Steps[i].Id);
            Assert.Null(error);
        }
        var expected = Edges(original).ToDictionary(e => "n-" + e.Key, e => string.Join(",", e.Value.Split(',').Select(t => t == "end" ? t : "n-" + t)));
        Assert.Equal(expected, Edges(renamed));
        Assert.Equal(original.Steps.Select(s => s.Next is null), renamed.Steps.Select(s => s.Next is null));
    }

    [Fact]
    public void What_the_editor_does_not_know_survives_its_edits_and_is_offered_as_json()
    {
        var definition = Parse("""
            {"trigger": {"event": "x", "channel": "web"}, "notes": "for Ann", "entry": {"repeat": "once", "cooldown": 3},
             "steps": [
               {"id": "a", "type": "email", "template": "A", "colour": "blue"},
               {"id": "ab", "type": "test", "arms": [{"template": "A"}, {"template": "B"}]},
               {"id": "coin", "type": "split", "paths": [{"percent": 50, "label": "x"}, {"percent": 50}]}]}
            """);
        var (edited, _) = JourneyFlow.Insert(definition, new FlowLink(0, "next"), "wait");
        edited = JourneyFlow.Rename(edited, 0, "hello").Definition;
        var json = edited.ToJson();
        foreach (var kept in new[] { "\"colour\":\"blue\"", "\"notes\":\"for Ann\"", "\"channel\":\"web\"", "\"cooldown\":3", "\"arms\":[{\"template\":\"A\"},{\"template\":\"B\"}]", "\"label\":\"x\"" })
        {
            Assert.Contains(kept, json);
        }
        Assert.Equal(["colour"], JourneyFlow.Unedited(edited.Steps[0]));
        Assert.Empty(JourneyFlow.Unedited(edited.Steps[1]));
        Assert.Equal(["arms"], JourneyFlow.Unedited(edited.Step("ab")!));
        Assert.Equal(["paths"], JourneyFlow.Unedited(edited.Step("coin")!));
        Assert.Equal(["channel"], JourneyFlow.Unedited(edited.Trigger));
        Assert.Empty(JourneyFlow.Unedited(Welcome.Steps[2]));
        Assert.Equal(["next"], JourneyFlow.Unedited(Welcome.Steps[2] with { Next = "x" })); // a branch goes on by its ways, not next

        // A step edited as JSON is read back as it was typed; a mistake says where.
        var (step, error) = JourneyFlow.FromJson<JourneyStep>(JourneyFlow.ToJson(edited.Step("ab")!));
        Assert.Null(error);
        Assert.True(step!.Extra!.ContainsKey("arms"));
        Assert.Equal(JsonSerializer.Serialize(edited.Step("ab"), JourneyDefinition.Json), JsonSerializer.Serialize(step, JourneyDefinition.Json));
        Assert.StartsWith("Not valid JSON at line 1, column", JourneyFlow.FromJson<JourneyStep>("""{"id": "a",}""").Error);
    }

    [Fact]
    public void The_a_b_test_notify_webhook_offer_and_score_and_stage_updates_have_inputs_for_all_they_hold()
    {
        var definition = Steps("""
            {"id": "ab", "type": "abtest", "variants": ["A", "B"], "winBy": "order", "windowDays": 5, "minSends": 50, "maxDays": 10, "topic": "news"},
            {"id": "tell", "type": "notify", "notify": ["owners", "ann@shop.test"], "message": "A big order"},
            {"id": "call", "type": "webhook", "url": "https://example.com/hook", "data": {"list": 3}},
            {"id": "vip", "type": "update", "score": 10, "stage": "loyalty"},
            {"id": "coupon", "type": "offer", "offer": "Ten off"}
            """);
        Assert.All(definition.Steps, s => Assert.Empty(JourneyFlow.Unedited(s)));
        Assert.All(definition.Steps, s => Assert.True(JourneyFlow.Continues(s)));
        Assert.True(JourneyFlow.HasInput(definition.Steps[0], "variants/1"));
        Assert.True(JourneyFlow.HasInput(definition.Steps[1], "notify/0"));
        Assert.False(JourneyFlow.HasInput(definition.Steps[3], ""));
        Assert.True(JourneyFlow.HasInput(new JourneyTrigger { Event = "x" }, "maxAgeHours"));
        Assert.Equal("ab-test", JourneyFlow.Insert(definition, FlowLink.Start, "abtest").Id);
    }

    [Fact]
    public void A_trigger_changed_to_another_kind_keeps_its_time_and_lists_the_properties_of_a_second_kind_as_unedited()
    {
        var birthday = new JourneyTrigger { Anniversary = "birthday", DaysBefore = 3, Time = "10:00" };
        Assert.Equal("""{"daysBefore":3,"dates":[],"time":"10:00"}""", JsonSerializer.Serialize(JourneyFlow.TriggerOfKind("dates", birthday), JourneyDefinition.Json));
        Assert.Equal(["anniversary"], JourneyFlow.TriggerKindsOf(birthday));
        Assert.Empty(JourneyFlow.Unedited(birthday));
        Assert.Equal(["event", "segment"], JourneyFlow.Unedited(new JourneyTrigger { Event = "x", Segment = "y" }));
    }

    [Theory]
    [InlineData("/steps/2/template", "steps", 2, "template")]
    [InlineData("/definition/steps/0/paths/1/next", "steps", 0, "paths/1/next")]
    [InlineData("/steps/3", "steps", 3, "")]
    [InlineData("/steps", "steps", -1, "")]
    [InlineData("/trigger/segment", "trigger", -1, "segment")]
    [InlineData("/definition", "", -1, "")]
    [InlineData("/goal", "goal", -1, "")]
    public void A_problem_is_placed_on_its_card_by_its_pointer(string at, string section, int step, string field)
    {
        var placed = JourneyFlow.Locate(new FieldError(at, "m"));
        Assert.Equal((section, step, field), (placed.Section, placed.Step, placed.Field));
    }

    [Theory]
    [InlineData("12", "12")]
    [InlineData("2.5", "2.5")]
    [InlineData("true", "true")]
    [InlineData("gold", "\"gold\"")]
    [InlineData("01234", "\"01234\"")]
    [InlineData("2026-05-01", "\"2026-05-01\"")]
    public void An_attribute_value_typed_as_a_number_or_truth_is_one_and_anything_else_text(string typed, string json)
    {
        Assert.Equal(json, JourneyFlow.AttributeValue(typed).GetRawText());
        Assert.Equal(typed, JourneyFlow.AttributeText(JourneyFlow.AttributeValue(typed)));
    }

    [Fact]
    public void A_named_value_renamed_to_a_name_in_use_or_to_nothing_keeps_its_name_so_no_row_is_lost()
    {
        List<KeyValuePair<string, string>> filters = [new("channel", "web"), new("country", "DE")];
        Assert.Equal(["source", "country"], JourneyFlow.WithEntry(filters, 0, "source", "web").Keys);
        Assert.Equal(["channel", "country"], JourneyFlow.WithEntry(filters, 0, "country", "web").Keys);
        Assert.Equal(["channel", "country"], JourneyFlow.WithEntry(filters, 0, "", "web").Keys);
        Assert.Equal("shop", JourneyFlow.WithEntry(filters, 0, "channel", "shop")["channel"]);
        Assert.Equal(["channel", "country", "property"], JourneyFlow.WithEntry(filters, 2, "property", "").Keys);
        Assert.Equal(["country"], JourneyFlow.WithoutEntry(filters, 0)!.Keys);
        Assert.Null(JourneyFlow.WithoutEntry(filters.Take(1).ToList(), 0));
    }

    [Fact]
    public void Each_card_says_what_its_step_does_in_words()
    {
        Assert.Equal(
            ["E-mail “Welcome” (topic marketing)", "Wait 7 days", "Branch: orders.count() >= 1", "E-mail “Still thinking?” (topic marketing)", "Update: add “customer”", "Exit: the run ends here"],
            Welcome.Steps.Select(s => JourneyFlow.Heading(s, Welcome)));
        Assert.Equal("Wait up to 3 days for order.placed", JourneyFlow.Heading(new JourneyStep { Type = "waitForEvent", Event = "order.placed", Days = 3 }, Welcome));
        Assert.Equal("Random split: 30 % / 70 %", JourneyFlow.Heading(new JourneyStep { Type = "split", Paths = [new() { Percent = 30 }, new() { Percent = 70 }] }, Welcome));
        Assert.Equal("Wait until 3 days before the birthday, at 10:00 on the contact's clock",
            JourneyFlow.Heading(new JourneyStep { Type = "waitUntil", Field = "birthday", DaysBefore = 3, Time = "10:00" }, Welcome));
    }
}
