using Clientele.Journeys;

namespace Clientele.Tests.Journeys;

public sealed class JourneyDefinitionTests
{
    private static readonly HashSet<string> Templates = ["Welcome", "Nudge"];
    private static readonly HashSet<string> Segments = new(["Buyers"], StringComparer.OrdinalIgnoreCase);

    private static JourneyDefinition Parse(string json) => JourneyDefinition.Parse(json).Definition!;

    private static List<(string Field, string Message)> Problems(string json) =>
        Parse(json).Validate(Templates, Segments).Select(e => (e.Field, e.Message)).ToList();

    [Fact]
    public void A_welcome_series_with_a_wait_and_a_branch_is_ready_to_publish()
    {
        var problems = Problems("""
            {"trigger": {"event": "account.created"}, "goal": "orders.count() > 0",
             "steps": [
               {"id": "hello", "type": "email", "template": "Welcome"},
               {"id": "pause", "type": "wait", "days": 3},
               {"id": "bought", "type": "branch", "condition": "orders.count() > 0", "then": "done", "else": "nudge"},
               {"id": "nudge", "type": "email", "template": "Nudge", "next": "done"},
               {"id": "done", "type": "exit"}]}
            """);
        Assert.Empty(problems);
    }

    [Fact]
    public void Steps_that_cannot_be_reached_are_named()
    {
        var problems = Problems("""
            {"trigger": {"event": "x"}, "steps": [
               {"id": "a", "type": "email", "template": "Welcome"},
               {"id": "b", "type": "exit"},
               {"id": "lost", "type": "email", "template": "Nudge"}]}
            """);
        var problem = Assert.Single(problems);
        Assert.Equal("/steps/2", problem.Field);
        Assert.Contains("\"lost\" cannot be reached", problem.Message);
    }

    [Fact]
    public void A_missing_template_and_an_unknown_next_step_are_reported_where_they_are()
    {
        var problems = Problems("""
            {"trigger": {"event": "x"}, "steps": [
               {"id": "a", "type": "email", "template": "Goodbye", "next": "nowhere"}]}
            """);
        Assert.Contains(("/steps/0/template", "There is no template \"Goodbye\"."), problems);
        Assert.Contains(("/steps/0/next", "There is no step \"nowhere\"."), problems);
    }

    [Fact]
    public void A_loop_without_a_wait_is_refused_and_one_with_a_wait_is_allowed()
    {
        var endless = Problems("""
            {"trigger": {"event": "x"}, "steps": [
               {"id": "a", "type": "email", "template": "Welcome"},
               {"id": "b", "type": "branch", "condition": "orders.count() > 0", "then": "a"}]}
            """);
        Assert.Contains(endless, p => p.Message.Contains("a → b → a") && p.Message.Contains("no wait"));

        var cadence = Problems("""
            {"trigger": {"event": "x"}, "steps": [
               {"id": "a", "type": "email", "template": "Welcome"},
               {"id": "w", "type": "wait", "days": 120},
               {"id": "b", "type": "branch", "condition": "orders.count() >= 0", "then": "a"}]}
            """);
        Assert.Empty(cadence);
    }

    [Fact]
    public void A_condition_that_does_not_read_says_where()
    {
        var problems = Problems("""
            {"trigger": {"event": "x"}, "goal": "orders.count() >", "steps": [{"id": "a", "type": "exit"}]}
            """);
        var problem = Assert.Single(problems);
        Assert.Equal("/goal", problem.Field);
        Assert.StartsWith("Line 1, column", problem.Message);
    }

    [Theory]
    [InlineData("""{"steps": [{"id": "a", "type": "exit"}]}""", "/trigger")]
    [InlineData("""{"trigger": {"event": "x", "segment": "Buyers"}, "steps": [{"id": "a", "type": "exit"}]}""", "/trigger")]
    [InlineData("""{"trigger": {"segment": "Nobody"}, "steps": [{"id": "a", "type": "exit"}]}""", "/trigger/segment")]
    [InlineData("""{"trigger": {"stage": "royalty"}, "steps": [{"id": "a", "type": "exit"}]}""", "/trigger/stage")]
    [InlineData("""{"trigger": {"event": "x"}, "steps": []}""", "/steps")]
    [InlineData("""{"trigger": {"event": "x"}, "steps": [{"id": "a", "type": "wait"}]}""", "/steps/0")]
    [InlineData("""{"trigger": {"event": "x"}, "steps": [{"id": "a", "type": "waitUntil", "time": "9am"}]}""", "/steps/0/time")]
    [InlineData("""{"trigger": {"event": "x"}, "steps": [{"id": "a", "type": "teleport"}]}""", "/steps/0/type")]
    [InlineData("""{"trigger": {"event": "x"}, "steps": [{"id": "a", "type": "exit"}, {"id": "a", "type": "exit"}]}""", "/steps/1/id")]
    [InlineData("""{"trigger": {"event": "x"}, "holdout": 80, "steps": [{"id": "a", "type": "exit"}]}""", "/holdout")]
    [InlineData("""{"trigger": {"event": "x"}, "steps": [{"id": "a", "type": "waitForEvent", "days": 3, "then": "a"}]}""", "/steps/0/event")]
    [InlineData("""{"trigger": {"event": "x"}, "steps": [{"id": "a", "type": "waitForEvent", "event": "order.placed", "then": "a"}]}""", "/steps/0")]
    [InlineData("""{"trigger": {"event": "x"}, "steps": [{"id": "a", "type": "waitForEvent", "event": "o", "days": 1, "timeout": "b"}]}""", "/steps/0/timeout")]
    [InlineData("""{"trigger": {"event": "x"}, "steps": [{"id": "a", "type": "split", "paths": [{"percent": 60, "next": "a"}, {"percent": 30}]}]}""", "/steps/0/paths")]
    [InlineData("""{"trigger": {"event": "x"}, "steps": [{"id": "a", "type": "split", "paths": [{"percent": 50, "next": "zz"}, {"percent": 50}]}]}""", "/steps/0/paths/0/next")]
    [InlineData("""{"trigger": {"event": "x"}, "steps": [{"id": "a", "type": "update"}]}""", "/steps/0")]
    [InlineData("""{"trigger": {"anniversary": "wedding"}, "steps": [{"id": "a", "type": "exit"}]}""", "/trigger/anniversary")]
    [InlineData("""{"trigger": {"dates": ["12-24", "24.12."]}, "steps": [{"id": "a", "type": "exit"}]}""", "/trigger/dates/1")]
    [InlineData("""{"trigger": {"anniversary": "birthday", "time": "9 o'clock"}, "steps": [{"id": "a", "type": "exit"}]}""", "/trigger/time")]
    [InlineData("""{"trigger": {"every": {"days": 0}}, "steps": [{"id": "a", "type": "exit"}]}""", "/trigger/every/days")]
    [InlineData("""{"trigger": {"inactiveDays": 30, "event": "x"}, "steps": [{"id": "a", "type": "exit"}]}""", "/trigger")]
    [InlineData("""{"trigger": {"event": "x"}, "entry": {"repeat": "period"}, "steps": [{"id": "a", "type": "exit"}]}""", "/entry/periodDays")]
    public void Each_mistake_points_at_its_place(string json, string field) =>
        Assert.Contains(Problems(json), p => p.Field == field);

    [Fact]
    public void Json_that_does_not_read_is_one_clear_error()
    {
        var (definition, error) = JourneyDefinition.Parse("""{"steps": [{"id": 1,}]}""");
        Assert.Null(definition);
        Assert.Equal("/definition", error!.Field);
    }

    [Fact]
    public void A_stored_definition_holds_what_was_written_and_nothing_derived_from_it()
    {
        var json = Parse("""
            {"trigger": {"segment": "Buyers"}, "steps": [
               {"id": "a", "type": "email", "template": "Welcome"},
               {"id": "b", "type": "wait", "days": 2}]}
            """).ToJson();
        Assert.DoesNotContain("eventType", json);
        Assert.DoesNotContain("duration", json);
        Assert.DoesNotContain("waits", json);
        var again = Parse(json);
        Assert.Equal("segment.entered", again.Trigger.EventType);
        Assert.Equal(TimeSpan.FromDays(2), again.Steps[1].Duration);
    }

    [Fact]
    public void The_control_group_takes_about_the_share_asked_for_and_always_the_same_runs()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => Guid.NewGuid()).ToList();
        var held = ids.Count(id => JourneyEntry.InControlGroup(id, 10));
        Assert.InRange(held, 850, 1150);
        Assert.All(ids.Take(100), id => Assert.Equal(JourneyEntry.InControlGroup(id, 10), JourneyEntry.InControlGroup(id, 10)));
        Assert.DoesNotContain(ids, id => JourneyEntry.InControlGroup(id, 0));
    }
}
