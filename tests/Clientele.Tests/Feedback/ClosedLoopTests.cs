using System.Net;
using System.Text.Json;
using Clientele.Feedback;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Journeys;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Clientele.Tests.Feedback;

public sealed class ClosedLoopTests
{
    private const string Question = "How likely are you to recommend Northwind to a friend?";

    /// <summary>Sends the NPS survey e-mail to each contact through a journey's feedback step; returns the survey and each one's message.</summary>
    internal static async Task<(Guid Survey, Dictionary<string, Guid> Messages)> AskAsync(TestApp app, HttpClient api, params string[] emails)
    {
        var created = await api.PostJsonAsync("/api/v1/surveys", new { name = "NPS", kind = "nps", question = Question });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var survey = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        var template = await api.PostJsonAsync("/api/v1/templates", new
        {
            name = "How are we doing",
            subject = "A quick question",
            body = "{{ survey.question }}\n\n{% for l in survey.links %}[{{ l.score }}]({{ l.url }}) {% endfor %}",
        });
        Assert.Equal(HttpStatusCode.Created, template.StatusCode);
        await JourneyFlowTests.JourneyAsync(api, "How'm I doing", new
        {
            trigger = new { @event = "vip.flagged" },
            steps = new object[] { new { id = "ask", type = "feedback", survey = "NPS", template = "How are we doing", @class = "transactional" } },
        });
        foreach (var email in emails)
        {
            await JourneyFlowTests.ContactAsync(api, email);
            await JourneyFlowTests.SignalAsync(api, email, "vip.flagged");
        }
        await JourneyFlowTests.RunDueAsync(app);
        await Clientele.Tests.Outbox.MailFlowTests.Until(async () =>
        {
            await using var check = app.NewDb();
            return await check.LocalMail.CountAsync() == emails.Length;
        }, "the survey e-mails were sent");
        await using var db = app.NewDb();
        var messages = await db.LocalMail.AsNoTracking().ToDictionaryAsync(m => m.To, m => m.MessageId);
        app.Time.Advance(TimeSpan.FromMinutes(30)); // people click a while after delivery; scanners at once
        return (survey, messages);
    }

    /// <summary>A person's mail program following links.</summary>
    internal static HttpClient Reader(TestApp app)
    {
        var reader = app.CreateClient(new() { AllowAutoRedirect = false });
        reader.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Thunderbird/128.0");
        return reader;
    }

    internal static string Path(TestApp app, Guid message, Guid survey, int score) =>
        new Uri(app.Services.GetRequiredService<MailLinks>().Answer(message, survey, score)).PathAndQuery;

    private static async Task<List<JsonElement>> TicketsAsync(HttpClient api)
    {
        var list = await (await api.GetAsync("/api/v1/tickets")).ReadJsonAsync();
        var tickets = new List<JsonElement>();
        foreach (var t in list.EnumerateArray())
        {
            tickets.Add(await (await api.GetAsync($"/api/v1/tickets/{t.GetProperty("id").GetGuid()}")).ReadJsonAsync());
        }
        return tickets;
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_detractors_click_opens_a_ticket_with_the_score_and_their_later_comment_joins_it(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        var (survey, messages) = await AskAsync(app, api, "ann@example.com");
        var reader = Reader(app);
        var path = Path(app, messages["ann@example.com"], survey, 3);

        var clicked = await reader.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, clicked.StatusCode);
        await app.DrainAsync();

        var ticket = Assert.Single(await TicketsAsync(api));
        Assert.Equal("NPS 3 from ann", ticket.GetProperty("subject").GetString());
        Assert.Equal("survey", ticket.GetProperty("channel").GetString());
        Assert.Equal("high", ticket.GetProperty("priority").GetString());
        Assert.Equal("open", ticket.GetProperty("status").GetString());
        var first = Assert.Single(ticket.GetProperty("messages").EnumerateArray());
        Assert.StartsWith($"Answered 3 of 10 to \"{Question}\" (survey \"NPS\").", first.GetProperty("body").GetString());
        await using (var db = app.NewDb())
        {
            var detractor = await db.Events.AsNoTracking().SingleAsync(e => e.Type == "feedback.detractor");
            Assert.Equal(ticket.GetProperty("id").GetGuid(), JsonDocument.Parse(detractor.Properties).RootElement.GetProperty("ticketId").GetGuid());
            var opened = await db.Events.AsNoTracking().SingleAsync(e => e.Type == "ticket.opened");
            Assert.Equal("survey.answered", (await db.Events.AsNoTracking().SingleAsync(e => e.Id == opened.CauseEventId)).Type);
        }

        // The comment comes a minute later: it joins the same ticket, and a detractor is not offered to publish it.
        app.Time.Advance(TimeSpan.FromMinutes(1));
        var commented = await reader.PostAsync(path, new FormUrlEncodedContent([new("comment", "Delivery took two weeks.")]));
        Assert.DoesNotContain("May we share your words?", await commented.Content.ReadAsStringAsync());
        await app.DrainAsync();
        ticket = Assert.Single(await TicketsAsync(api));
        var thread = ticket.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(2, thread.Count);
        Assert.Equal("Delivery took two weeks.", thread[1].GetProperty("body").GetString());
        Assert.Equal("in", thread[1].GetProperty("direction").GetString());
        Assert.Equal("ann@example.com", thread[1].GetProperty("from").GetString());

        // The answer and the open ticket are fields for segments.
        var segment = await (await api.PostJsonAsync("/api/v1/segments/preview", new { query = "nps.category = detractor and tickets.open > 0" })).ReadJsonAsync();
        Assert.Equal(1, segment.GetProperty("count").GetInt32());

        // She changes her mind: the team reads it on the same ticket, and no second one is opened.
        app.Time.Advance(TimeSpan.FromMinutes(1));
        await reader.GetAsync(Path(app, messages["ann@example.com"], survey, 9));
        await app.DrainAsync();
        ticket = Assert.Single(await TicketsAsync(api));
        Assert.Equal("The answer was changed to 9 (promoter).", ticket.GetProperty("messages").EnumerateArray().Last().GetProperty("body").GetString());
        Assert.Equal("note", ticket.GetProperty("messages").EnumerateArray().Last().GetProperty("direction").GetString());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_promoter_may_publish_their_comment_as_a_review_and_the_promoter_ask_playbook_asks_for_one(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        var installed = await api.PostJsonAsync("/api/v1/playbooks/promoter-ask/install", new { publish = true });
        Assert.Equal(HttpStatusCode.Created, installed.StatusCode);
        var journey = (await installed.ReadJsonAsync()).GetProperty("journeyId").GetGuid();
        var (survey, messages) = await AskAsync(app, api, "bob@example.com");
        var reader = Reader(app);
        // The review ask is a service e-mail: it goes to those who take them.
        var subscribed = await api.PostJsonAsync("/api/v1/contacts", new { email = "bob@example.com", consent = new { service = "subscribed" } });
        Assert.True(subscribed.IsSuccessStatusCode, await subscribed.Content.ReadAsStringAsync());
        var path = Path(app, messages["bob@example.com"], survey, 10);

        await reader.GetAsync(path);
        await JourneyFlowTests.RunDueAsync(app); // enters the journey and starts waiting a day

        Assert.Empty(await TicketsAsync(api));
        Guid bob;
        await using (var db = app.NewDb())
        {
            var promoter = await db.Events.AsNoTracking().SingleAsync(e => e.Type == "feedback.promoter");
            bob = promoter.ContactId;
            Assert.Equal(10, JsonDocument.Parse(promoter.Properties).RootElement.GetProperty("score").GetInt32());
            Assert.True(await db.JourneyRuns.AnyAsync(r => r.JourneyId == journey && r.ContactId == bob), "the promoter entered the promoter-ask journey");
        }

        // The comment page offers publishing it, with a box the customer has to tick.
        var commented = await (await reader.PostAsync(path, new FormUrlEncodedContent([new("comment", "Lovely coffee, <b>fast</b> delivery.")]))).Content.ReadAsStringAsync();
        Assert.Contains("May we share your words?", commented);
        Assert.Contains("Lovely coffee, &lt;b&gt;fast&lt;/b&gt; delivery.", commented);
        Assert.Contains("<input type=\"checkbox\" id=\"consent\" name=\"consent\" value=\"yes\">", commented);
        Assert.Contains("I agree that Our shop may publish this review", commented);
        var publish = path.Replace("?a=", "/publish?a=", StringComparison.Ordinal);
        var unticked = await reader.PostAsync(publish, new FormUrlEncodedContent([new("name", "full")]));
        Assert.Equal(HttpStatusCode.BadRequest, unticked.StatusCode);
        Assert.Contains("tick the box", await unticked.Content.ReadAsStringAsync());
        Assert.Empty((await (await api.GetAsync("/api/v1/reviews")).ReadJsonAsync()).GetProperty("items").EnumerateArray());

        var ticked = await reader.PostAsync(publish, new FormUrlEncodedContent([new("name", "first"), new("consent", "yes")]));
        Assert.Equal(HttpStatusCode.OK, ticked.StatusCode);
        await reader.PostAsync(publish, new FormUrlEncodedContent([new("name", "first"), new("consent", "yes")])); // pressed twice: one review
        var review = Assert.Single((await (await api.GetAsync("/api/v1/reviews?status=pending")).ReadJsonAsync()).GetProperty("items").EnumerateArray());
        Assert.Equal("survey", review.GetProperty("source").GetString());
        Assert.Equal(5, review.GetProperty("rating").GetInt32());
        Assert.Equal("Lovely coffee, <b>fast</b> delivery.", review.GetProperty("text").GetString());
        Assert.Equal("bob", review.GetProperty("displayName").GetString());
        Assert.True(review.GetProperty("consent").GetProperty("given").GetBoolean());
        Assert.StartsWith("I agree that Our shop may publish", review.GetProperty("consent").GetProperty("wording").GetString());
        Assert.Equal(app.Time.GetUtcNow().UtcDateTime, review.GetProperty("consent").GetProperty("at").GetDateTime().ToUniversalTime());

        // The next day the playbook's e-mail asks for a review with bob's own link, and for referrals now the programme is on.
        var programme = await api.PutAsync("/api/v1/referrals/program", JsonContent(new { enabled = true, landing = "https://shop.example.com/welcome", allowedHosts = new[] { "shop.example.com" } }));
        Assert.Equal(HttpStatusCode.OK, programme.StatusCode);
        app.Time.Advance(TimeSpan.FromDays(1));
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Equal([("bob@example.com", "ask")], await JourneyFlowTests.JourneyMailAsync(app, journey));
        await Clientele.Tests.Outbox.MailFlowTests.Until(async () =>
        {
            await using var check = app.NewDb();
            return await check.LocalMail.CountAsync() == 2;
        }, "the review ask was sent");
        await using (var db = app.NewDb())
        {
            var mail = await db.LocalMail.AsNoTracking().SingleAsync(m => m.Subject == "Thank you, bob!");
            var html = WebUtility.HtmlDecode(MimeKit.MimeMessage.Load(new MemoryStream(mail.Raw)).HtmlBody ?? "");
            Assert.Contains(Uri.EscapeDataString(app.Services.GetRequiredService<MailLinks>().Review(bob)), html);
            Assert.Contains("your own link to pass on", html);
            var code = (await db.ReferralCodes.AsNoTracking().SingleAsync(r => r.ContactId == bob)).Code;
            Assert.Contains($"/r/{code}", html);
        }
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_poor_answer_to_the_satisfaction_question_after_a_solved_ticket_names_that_ticket(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync();
        var opened = await (await api.PostJsonAsync("/api/v1/tickets", new { email = "ann@example.com", subject = "Broken grinder", body = "It stopped." })).ReadJsonAsync();
        var first = opened.GetProperty("id").GetGuid();
        var solved = await api.PatchAsync($"/api/v1/tickets/{first}", JsonContent(new { status = "solved" }));
        Assert.True(solved.IsSuccessStatusCode, await solved.Content.ReadAsStringAsync());
        Guid message, survey;
        await using (var db = app.NewDb())
        {
            var asked = await db.OutboxMessages.AsNoTracking().SingleAsync(m => m.TicketId == first && m.SurveyId != null);
            (message, survey) = (asked.Id, asked.SurveyId!.Value);
        }
        app.Time.Advance(TimeSpan.FromMinutes(30));

        Assert.Equal(HttpStatusCode.OK, (await Reader(app).GetAsync(Path(app, message, survey, 1))).StatusCode);
        // On PostgreSQL the answer's event can wait a moment behind an earlier one still being committed (the sent
        // survey's), so the follow-up is looked for until it is there rather than after one pass of the consumers.
        var tickets = new List<JsonElement>();
        await Clientele.Tests.Outbox.MailFlowTests.Until(async () =>
        {
            await app.DrainAsync();
            tickets = await TicketsAsync(api);
            return tickets.Count >= 2;
        }, "the poor answer opened a ticket");
        Assert.Equal(2, tickets.Count);
        var loop = tickets.Single(t => t.GetProperty("channel").GetString() == "survey");
        Assert.Equal("CSAT 1 from ann@example.com", loop.GetProperty("subject").GetString());
        Assert.Contains($"Asked after the ticket \"Broken grinder\" ({first}) was solved.", loop.GetProperty("messages")[0].GetProperty("body").GetString());
    }

    [Fact]
    public void Detractors_and_promoters_are_told_apart_by_the_configurable_limits()
    {
        var settings = FeedbackSettings.Default;
        Assert.Equal("detractor", FeedbackRules.Category(settings, "nps", 6));
        Assert.Null(FeedbackRules.Category(settings, "nps", 7));
        Assert.Null(FeedbackRules.Category(settings, "nps", 8));
        Assert.Equal("promoter", FeedbackRules.Category(settings, "nps", 9));
        Assert.Equal("detractor", FeedbackRules.Category(settings, "csat", 2));
        Assert.Null(FeedbackRules.Category(settings, "csat", 4));
        Assert.Equal("promoter", FeedbackRules.Category(settings, "rating", 5));
        Assert.Null(FeedbackRules.Category(settings, "poll", 1));
        var strict = settings with { Detractor = new ScoreLimits(7, 3, 3), Promoter = new ScoreLimits(10, 5, 5) };
        Assert.Equal("detractor", FeedbackRules.Category(strict, "nps", 7));
        Assert.Null(FeedbackRules.Category(strict, "nps", 9));
        Assert.Equal("detractor", FeedbackRules.Category(strict, "rating", 3));
        Assert.NotEmpty((settings with { Promoter = new ScoreLimits(5, 5, 5) }).Check());
        Assert.Empty(settings.Check());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_detractors_answer_sent_by_a_shop_opens_a_ticket_with_its_comment_and_the_limits_are_settings(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync();
        var refused = await api.PutAsync("/api/v1/feedback/settings", JsonContent(new { detractor = new { nps = 6, csat = 2, rating = 9 }, promoter = new { nps = 9, csat = 5, rating = 5 } }));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("/detractor/rating", await refused.Content.ReadAsStringAsync());
        var saved = await api.PutAsync("/api/v1/feedback/settings", JsonContent(new
        {
            detractor = new { nps = 7, csat = 2, rating = 2 },
            promoter = new { nps = 10, csat = 5, rating = 5 },
            ticketPriority = "urgent",
            consentWording = "Fine by me, {business}.",
        }));
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);

        await api.PostJsonAsync("/api/v1/events", new
        {
            events = new object[]
            {
                new { type = "survey.answered", email = "cleo@example.com", properties = new { kind = "nps", score = 7, comment = "Too pricey." } },
                new { type = "survey.answered", email = "dan@example.com", properties = new { kind = "nps", score = 9 } },
                // An old answer imported now opens nothing.
                new { type = "survey.answered", email = "eve@example.com", occurredAt = app.Time.GetUtcNow().AddDays(-30), properties = new { kind = "nps", score = 0 } },
            },
        });
        await app.DrainAsync();

        var ticket = Assert.Single(await TicketsAsync(api));
        Assert.Equal("NPS 7 from cleo@example.com", ticket.GetProperty("subject").GetString());
        Assert.Equal("urgent", ticket.GetProperty("priority").GetString());
        Assert.Contains("Too pricey.", ticket.GetProperty("messages")[0].GetProperty("body").GetString());
        await using var db = app.NewDb();
        Assert.Equal(0, await db.Events.CountAsync(e => e.Type == "feedback.promoter")); // 9 is not enough now
    }

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body, HttpJson.Options), System.Text.Encoding.UTF8, "application/json");
}
