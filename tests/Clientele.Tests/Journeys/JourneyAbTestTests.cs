using System.Net;
using Clientele.Journeys;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Clientele.Tests.Journeys;

/// <summary>A/B test steps: variants in equal shares until one is called the winner, then the winner for everyone.</summary>
public sealed class JourneyAbTestTests
{
    [Fact]
    public void No_winner_is_called_before_every_variant_has_its_measured_emails()
    {
        VariantResult[] results = [new("a", 150, 10), new("b", 40, 30)];
        Assert.Null(AbTest.Decide(results, "click", minSends: 100, timeUp: false));
    }

    [Fact]
    public void A_clearly_better_variant_wins_as_soon_as_there_are_enough_emails()
    {
        var verdict = AbTest.Decide([new("plain", 200, 20), new("bold", 200, 50)], "click", minSends: 100, timeUp: false);
        Assert.NotNull(verdict);
        Assert.Equal("bold", verdict.Winner);
        Assert.Contains("clear difference", verdict.Reason);
        Assert.Contains("25.0 % clicked", verdict.Reason);
    }

    [Fact]
    public void A_small_difference_waits_for_the_end_of_the_test_then_the_better_variant_wins_and_says_it_was_not_clear()
    {
        VariantResult[] results = [new("a", 120, 10), new("b", 120, 13)];
        Assert.Null(AbTest.Decide(results, "order", minSends: 100, timeUp: false));
        var verdict = AbTest.Decide(results, "order", minSends: 100, timeUp: true);
        Assert.NotNull(verdict);
        Assert.Equal("b", verdict.Winner);
        Assert.Contains("without a clear difference", verdict.Reason);
    }

    [Fact]
    public void A_tie_at_the_end_keeps_the_first_variant_and_a_test_nobody_got_waits()
    {
        var tie = AbTest.Decide([new("first", 50, 5), new("second", 50, 5)], "click", minSends: 100, timeUp: true);
        Assert.Equal("first", tie?.Winner);
        Assert.Contains("no difference", tie!.Reason);
        Assert.Null(AbTest.Decide([new("first", 0, 0), new("second", 0, 0)], "click", minSends: 10, timeUp: true));
    }

    [Fact]
    public void More_variants_need_a_bigger_lead_for_the_same_confidence()
    {
        // 13 % against 10 % of 1,000 is a clear lead over one other variant (z ≈ 2.1) but not over two at once (needs ≈ 2.24).
        Assert.Equal("b", AbTest.Decide([new("a", 1000, 100), new("b", 1000, 130)], "click", 100, false)?.Winner);
        Assert.Null(AbTest.Decide([new("a", 1000, 100), new("b", 1000, 130), new("c", 1000, 80)], "click", 100, false));
    }

    [Fact]
    public void One_big_order_does_not_make_a_revenue_winner_but_steady_revenue_does()
    {
        // "big": one order of 1,500 among 100 e-mails; "steady": 40 orders of 25.
        var big = new VariantResult("big", 100, 1, 1500, 1500.0 * 1500);
        var steady = new VariantResult("steady", 100, 40, 1000, 40 * 25.0 * 25);
        Assert.Null(AbTest.Decide([big, steady], "revenue", minSends: 100, timeUp: false));
        var few = new VariantResult("few", 100, 10, 250, 10 * 25.0 * 25);
        var verdict = AbTest.Decide([few, steady], "revenue", minSends: 100, timeUp: false);
        Assert.Equal("steady", verdict?.Winner);
        Assert.Contains("10.00 per e-mail", verdict!.Reason);
    }

    [Fact]
    public void A_test_step_is_checked_before_publishing()
    {
        var definition = new JourneyDefinition
        {
            Trigger = new JourneyTrigger { Event = "account.created" },
            Steps =
            [
                new JourneyStep { Id = "one", Type = "abtest", Variants = ["A"] },
                new JourneyStep { Id = "two", Type = "abtest", Variants = ["A", "Nope", "A"], WinBy = "opens", WindowDays = 7, MaxDays = 7, Template = "A" },
            ],
        };
        var errors = definition.Validate(new HashSet<string> { "A" }, new HashSet<string>());
        Assert.Contains(errors, e => e.Field == "/steps/0/variants");
        Assert.Contains(errors, e => e.Field == "/steps/1/variants/1" && e.Message.Contains("no template"));
        Assert.Contains(errors, e => e.Field == "/steps/1/variants/2" && e.Message.Contains("already"));
        Assert.Contains(errors, e => e.Field == "/steps/1/winBy");
        Assert.Contains(errors, e => e.Field == "/steps/1/maxDays");
        Assert.Contains(errors, e => e.Field == "/steps/1/template");
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Contacts_get_the_variants_in_equal_shares_until_the_one_people_click_wins_then_everyone_gets_it(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "Plain");
        await JourneyFlowTests.TemplateAsync(api, "Bold");
        var journey = await JourneyFlowTests.JourneyAsync(api, "Tested welcome", new
        {
            trigger = new { @event = "account.created" },
            steps = new object[]
            {
                new { id = "hello", type = "abtest", variants = new[] { "Plain", "Bold" }, winBy = "click", minSends = 10, windowDays = 1, maxDays = 10, topic = "newsletter" },
                new { id = "mark", type = "tag", add = new[] { "greeted" } },
            },
        });
        for (var i = 0; i < 60; i++)
        {
            await JourneyFlowTests.ContactAsync(api, $"c{i}@example.com");
            await JourneyFlowTests.SignalAsync(api, $"c{i}@example.com");
        }
        await JourneyFlowTests.RunDueAsync(app);
        await Clientele.Tests.Outbox.MailFlowTests.Until(async () =>
        {
            await using var check = app.NewDb();
            return await check.OutboxMessages.CountAsync(m => m.JourneyId == journey && m.SentAt != null) == 60;
        }, "the test's e-mails were sent");

        var first = await VariantsAsync(app, journey);
        Assert.Equal(60, first.Count);
        Assert.Equal(60, first.Select(m => m.To).Distinct().Count()); // one variant per contact
        var plain = first.Count(m => m.Template == "Plain");
        Assert.InRange(plain, 15, 45); // equal shares, decided per run

        // Readers click the bold one (a few hours later, in a mail program); nobody clicks the plain one.
        app.Time.Advance(TimeSpan.FromHours(3));
        var links = app.Services.GetRequiredService<MailLinks>();
        var reader = app.CreateClient(new() { AllowAutoRedirect = false });
        reader.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Thunderbird/128.0");
        foreach (var m in first.Where(m => m.Template == "Bold").Take(12))
        {
            var clicked = await reader.GetAsync(new Uri(links.Click(m.Id, "https://shop.example/new")).PathAndQuery);
            Assert.Equal(HttpStatusCode.Redirect, clicked.StatusCode);
        }
        var tests = app.Services.GetRequiredService<JourneyTests>();
        Assert.Empty(await tests.DecideAsync(CancellationToken.None)); // the day in which a click counts is not over yet

        app.Time.Advance(TimeSpan.FromDays(1));
        var winner = Assert.Single(await tests.DecideAsync(CancellationToken.None));
        Assert.Equal("Bold", winner.Winner);
        Assert.Empty(await tests.DecideAsync(CancellationToken.None)); // called once

        // From now on everyone reaching the step gets the winner.
        for (var i = 60; i < 80; i++)
        {
            await JourneyFlowTests.ContactAsync(api, $"c{i}@example.com");
            await JourneyFlowTests.SignalAsync(api, $"c{i}@example.com");
        }
        await JourneyFlowTests.RunDueAsync(app);
        var later = (await VariantsAsync(app, journey)).Where(m => !first.Any(f => f.Id == m.Id)).ToList();
        Assert.Equal(20, later.Count);
        Assert.All(later, m => Assert.Equal("Bold", m.Template));

        var report = await (await api.GetAsync($"/api/v1/journeys/{journey}")).ReadJsonAsync();
        var step = report.GetProperty("steps")[0];
        Assert.Equal("Bold", step.GetProperty("test").GetProperty("winner").GetString());
        var variants = step.GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("template").GetString()!);
        Assert.Equal(12, variants["Bold"].GetProperty("clicked").GetInt32());
        Assert.Equal(0, variants["Plain"].GetProperty("clicked").GetInt32());
        Assert.Equal(plain, variants["Plain"].GetProperty("sent").GetInt32());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task When_time_is_up_without_a_clear_difference_the_better_variant_by_revenue_wins(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "Offer A");
        await JourneyFlowTests.TemplateAsync(api, "Offer B");
        var journey = await JourneyFlowTests.JourneyAsync(api, "Offer test", new
        {
            trigger = new { @event = "account.created" },
            steps = new object[]
            {
                new { id = "offer", type = "abtest", variants = new[] { "Offer A", "Offer B" }, winBy = "revenue", minSends = 500, windowDays = 3, maxDays = 5, @class = "transactional" },
            },
        });
        for (var i = 0; i < 20; i++)
        {
            await JourneyFlowTests.ContactAsync(api, $"c{i}@example.com");
            await JourneyFlowTests.SignalAsync(api, $"c{i}@example.com");
        }
        await JourneyFlowTests.RunDueAsync(app);
        await Clientele.Tests.Outbox.MailFlowTests.Until(async () =>
        {
            await using var check = app.NewDb();
            return await check.OutboxMessages.CountAsync(m => m.JourneyId == journey && m.SentAt != null) == 20;
        }, "the test's e-mails were sent");
        var mail = await VariantsAsync(app, journey);
        var b = mail.Where(m => m.Template == "Offer B").ToList();
        Assert.NotEmpty(b);

        // Someone who got B buys within the window; a refunded order and one after the window do not count.
        app.Time.Advance(TimeSpan.FromDays(1));
        await JourneyFlowTests.SignalAsync(api, b[0].To, "order.placed", new { orderId = "B-1", total = 80, currency = "EUR" });
        var tests = app.Services.GetRequiredService<JourneyTests>();
        app.Time.Advance(TimeSpan.FromDays(3));
        await app.DrainAsync();
        Assert.Empty(await tests.DecideAsync(CancellationToken.None)); // 20 e-mails are far from 500 each, and time is not up

        app.Time.Advance(TimeSpan.FromDays(2));
        var winner = Assert.Single(await tests.DecideAsync(CancellationToken.None));
        Assert.Equal("Offer B", winner.Winner);
        Assert.Contains("without a clear difference", winner.Reason);
    }

    private static async Task<List<(Guid Id, string To, string Template)>> VariantsAsync(TestApp app, Guid journey)
    {
        await using var db = app.NewDb();
        var rows = await db.OutboxMessages.AsNoTracking().Where(m => m.JourneyId == journey)
            .Join(db.Templates, m => m.TemplateId, t => t.Id, (m, t) => new { m.Id, m.To, t.Name }).ToListAsync();
        return rows.Select(r => (r.Id, r.To, r.Name)).ToList();
    }
}
