using Clientele.Api;
using Clientele.Journeys;

namespace Clientele.Tests.Journeys;

public sealed class JourneyOutlineTests
{
    private static JourneyDefinition Parse(string json) => JourneyDefinition.Parse(json).Definition!;

    [Fact]
    public void Each_step_is_told_in_words_with_where_it_goes_when_that_is_not_the_next_one()
    {
        var definition = Parse("""
            {"trigger": {"event": "order.placed", "where": {"channel": "web"}}, "entry": {"repeat": "period", "periodDays": 30, "key": "orderId"},
             "steps": [
               {"id": "thanks", "type": "email", "template": "Thanks", "class": "transactional"},
               {"id": "later", "type": "wait", "days": 1, "hours": 2},
               {"id": "morning", "type": "waitUntil", "time": "09:00", "next": "review"},
               {"id": "skipped", "type": "tag", "add": ["never"]},
               {"id": "review", "type": "branch", "condition": "orders.count() >= 2", "then": "loyal"},
               {"id": "loyal", "type": "tag", "add": ["loyal"], "remove": ["new"]},
               {"id": "ask", "type": "email", "template": "Review", "topic": "reviews"}]}
            """);

        Assert.Equal("event order.placed where channel = web", JourneyOutline.Trigger(definition.Trigger));
        Assert.Equal("at most once every 30 days per contact, one run per orderId", JourneyOutline.Entry(definition.Entry));
        Assert.Equal(
            [
                "E-mail “Thanks” (transactional)",
                "Wait 1 day and 2 hours",
                "Wait until 09:00 on the contact's clock → then step 5 (“review”)",
                "Update: add “never”",
                "Branch: orders.count() >= 2 — then step 6 (“loyal”), else end",
                "Update: add “loyal”; remove “new”",
                "E-mail “Review” (topic reviews) → end",
            ],
            JourneyOutline.Steps(definition));
    }

    [Theory]
    [InlineData("/steps/1/template", "Step 2 (“nudge”), template")]
    [InlineData("/definition/steps/1/template", "Step 2 (“nudge”), template")]
    [InlineData("/steps/7", "Step 8")]
    [InlineData("/trigger/segment", "Trigger, segment")]
    [InlineData("/entry/periodDays", "Entry, period in days")]
    [InlineData("/holdout", "Control group")]
    [InlineData("/definition", "The definition")]
    public void A_problem_s_pointer_is_told_as_its_place(string at, string place) =>
        Assert.Equal(place, JourneyOutline.Place(at, Parse("""{"steps": [{"id": "hello"}, {"id": "nudge"}]}""")));

    [Fact]
    public void A_problem_reads_with_its_place_and_typographic_quotes() =>
        Assert.Equal("Step 2 (“nudge”), template: There is no template “Goodbye”.",
            JourneyOutline.Problem(new FieldError("/steps/1/template", "There is no template \"Goodbye\"."), Parse("""{"steps": [{"id": "hello"}, {"id": "nudge"}]}""")));

    [Fact]
    public void A_saved_definition_is_shown_indented_with_short_parts_on_one_line_and_letters_unescaped()
    {
        var stored = Parse(JourneyOutline.Example).ToJson();
        Assert.Equal(
            """
            {
              "trigger": { "event": "account.created" },
              "entry": { "repeat": "once", "maxActive": 1 },
              "holdout": 0,
              "goal": "orders.count() >= 1",
              "steps": [
                { "id": "welcome", "type": "email", "template": "Welcome", "topic": "newsletter" },
                { "id": "three-days", "type": "wait", "days": 3 },
                { "id": "tips", "type": "email", "template": "Tips", "topic": "newsletter" }
              ]
            }
            """.ReplaceLineEndings("\n"),
            JourneyOutline.Pretty(stored));
        Assert.Equal("{\n  \"steps\": [{ \"id\": \"café\", \"type\": \"exit\" }]\n}", JourneyOutline.Pretty("""{"steps":[{"id":"caf\u00e9","type":"exit"}]}"""));
    }
}
