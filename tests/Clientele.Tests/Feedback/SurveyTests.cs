using System.Net;
using System.Text.Json;
using Clientele.Feedback;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Journeys;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Clientele.Tests.Feedback;

public sealed class SurveyTests
{
    [Fact]
    public void The_net_promoter_score_is_promoters_less_detractors()
    {
        Assert.Equal(0, SurveyRules.NetPromoterScore([10, 9, 8, 7, 6, 0]));
        Assert.Equal(50, SurveyRules.NetPromoterScore([10, 10, 9, 3]));
        Assert.Null(SurveyRules.NetPromoterScore([]));
        Assert.Equal(75, SurveyRules.Satisfied([5, 4, 4, 2]));
        Assert.Equal((0, 10), SurveyRules.Scale("nps"));
        Assert.Equal((1, 5), SurveyRules.Scale("rating"));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_feedback_email_is_answered_with_one_click_then_a_comment_and_a_scanner_changes_nothing(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        var ann = await JourneyFlowTests.ContactAsync(api, "ann@example.com");
        var created = await api.PostJsonAsync("/api/v1/surveys", new { name = "NPS", kind = "nps", question = "How likely are you to recommend Northwind to a friend?" });
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
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "vip.flagged");
        await JourneyFlowTests.RunDueAsync(app);
        await Clientele.Tests.Outbox.MailFlowTests.Until(async () =>
        {
            await using var check = app.NewDb();
            return await check.LocalMail.CountAsync() == 1;
        }, "the feedback request was sent");

        Guid messageId;
        string html;
        await using (var db = app.NewDb())
        {
            var local = await db.LocalMail.AsNoTracking().SingleAsync();
            messageId = local.MessageId;
            html = WebUtility.HtmlDecode(MimeKit.MimeMessage.Load(new MemoryStream(local.Raw)).HtmlBody ?? "");
        }
        var links = app.Services.GetRequiredService<MailLinks>();
        Assert.Contains("How likely are you to recommend Northwind to a friend?", html);
        for (var score = 0; score <= 10; score++)
        {
            Assert.Contains(Uri.EscapeDataString(links.Answer(messageId, survey, score)), html); // each score's link, behind click tracking
        }
        string Path(int score) => new Uri(links.Answer(messageId, survey, score)).PathAndQuery;

        app.Time.Advance(TimeSpan.FromMinutes(30));
        var reader = app.CreateClient(new() { AllowAutoRedirect = false });
        reader.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Thunderbird/128.0");
        var first = await reader.GetAsync(Path(9));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("We have your answer: <strong>9</strong>", await first.Content.ReadAsStringAsync());
        Assert.Contains("What is the main reason for your score?", await first.Content.ReadAsStringAsync());
        await reader.GetAsync(Path(9)); // the same click again records nothing new
        await reader.GetAsync(Path(3)); // a change of mind
        var comment = await reader.PostAsync(Path(3), new FormUrlEncodedContent([new("comment", "Delivery took two weeks.")]));
        Assert.Contains("we read every comment", await comment.Content.ReadAsStringAsync());

        // A link scanner follows every score: it is asked to confirm and nothing changes until someone does.
        var scanner = app.CreateClient(new() { AllowAutoRedirect = false });
        scanner.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (compatible; Mimecast URL Protect)");
        Assert.Contains("Send my answer", await (await scanner.GetAsync(Path(10))).Content.ReadAsStringAsync());
        var tampered = await reader.GetAsync(Path(10).Replace("-10", "-11"));
        Assert.Equal(HttpStatusCode.BadRequest, tampered.StatusCode);

        await using (var db = app.NewDb())
        {
            var answer = await db.SurveyAnswers.AsNoTracking().SingleAsync();
            Assert.Equal(3, answer.Score);
            Assert.Equal("Delivery took two weeks.", answer.Comment);
            Assert.Equal(ann, answer.ContactId);
            var answered = (await db.Events.AsNoTracking().Where(e => e.Type == "survey.answered").OrderBy(e => e.Id).Select(e => e.Properties).ToListAsync())
                .Select(p => JsonDocument.Parse(p).RootElement).ToList();
            Assert.Equal([9, 3], answered.Select(p => p.GetProperty("score").GetInt32()));
            Assert.All(answered, p => Assert.Equal("nps", p.GetProperty("kind").GetString()));
            Assert.Equal(1, await db.Events.CountAsync(e => e.Type == "survey.commented"));
        }

        var confirmed = await scanner.PostAsync(Path(10), new FormUrlEncodedContent([new("confirm", "1")]));
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        var report = await (await api.GetAsync($"/api/v1/surveys/{survey}")).ReadJsonAsync();
        Assert.Equal(1, report.GetProperty("answers").GetInt32());
        Assert.Equal(100, report.GetProperty("nps").GetDouble()); // one promoter
        Assert.Equal("Delivery took two weeks.", report.GetProperty("comments")[0].GetProperty("comment").GetString());
    }

    [Fact]
    public async Task A_survey_and_a_feedback_step_are_checked()
    {
        await using var app = await JourneyFlowTests.StartAsync(Db.Sqlite);
        var api = await app.ApiClientAsync();
        var bad = await api.PostJsonAsync("/api/v1/surveys", new { name = "", kind = "stars" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var body = await bad.Content.ReadAsStringAsync();
        Assert.Contains("/name", body);
        Assert.Contains("/kind", body);
        Assert.Contains("/question", body);
        var journey = await api.PostJsonAsync("/api/v1/journeys", new
        {
            name = "Ask",
            definition = new { trigger = new { @event = "vip.flagged" }, steps = new object[] { new { id = "ask", type = "feedback", survey = "Nope", template = "Nope" } } },
        });
        var problems = await journey.Content.ReadAsStringAsync();
        Assert.Contains("There is no survey", problems);
        Assert.Contains("There is no template", problems);
    }
}
