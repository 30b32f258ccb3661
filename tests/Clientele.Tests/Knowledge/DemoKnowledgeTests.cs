using System.Net;
using System.Text.RegularExpressions;
using Clientele.Demo;
using Clientele.Knowledge;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Knowledge;

/// <summary>The demo roaster's help centre, and what its customers' e-mails find there.</summary>
public sealed partial class DemoKnowledgeTests
{
    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_demo_help_centre_answers_what_the_roasters_customers_write_about(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        await DemoSeed.SeedAsync(app.Database, app.Time, CancellationToken.None);
        await using var db = app.NewDb();
        var browser = app.CreateClient();

        var articles = await db.KnowledgeArticles.AsNoTracking().ToListAsync();
        Assert.InRange(articles.Count, 6, 10);
        Assert.All(articles, a => Assert.True(a.Published));
        var index = await browser.GetStringAsync("/kb");
        foreach (var category in new[] { "Account", "Equipment", "Orders", "Shipping", "Subscriptions" })
        {
            Assert.Contains($"<h2>{category}</h2>", index);
        }
        // Every article shows, and the links between them lead somewhere.
        foreach (var article in articles)
        {
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/kb/" + article.Slug)).StatusCode);
            foreach (Match link in KbLink().Matches(article.Body))
            {
                Assert.Contains(articles, a => a.Slug == link.Groups[1].Value);
            }
        }

        async Task<List<string>> Found(string email) =>
            [.. (await KnowledgeBase.SearchAsync(db, email, 3, CancellationToken.None)).Select(h => h.Title)];

        Assert.Equal("How do I track my order?", (await Found(
            "Hello, I ordered two bags of coffee five days ago and they have not arrived yet. Where is my parcel? Could you send me the tracking number? Thanks, Ann"))[0]);
        Assert.Equal("Returns and refunds", (await Found(
            "Hi team, I'd like to return the Gooseneck Kettle I bought, it's still unused in its box. Can I get a refund? Regards, Cleo"))[0]);
        Assert.Equal("How do I reset my password?", (await Found(
            "I forgot my password and can't log in to my account, and the reset e-mail never came. Help!"))[0]);
        Assert.Equal("Pause, skip or cancel your subscription", (await Found(
            "Dear Northwind, I will be travelling in August — can I pause my Coffee Club for a month? Best, Dan"))[0]);
        Assert.Equal("How fresh is the coffee, and how should I store it?", (await Found(
            "Quick question: should I keep the beans in the fridge once the bag is open? And how long do they stay fresh?"))[0]);
        Assert.Equal(["How to clean your Burr Grinder Pro", "Warranty on brewing equipment"], (await Found(
            "Hi, my Burr Grinder Pro makes a weird noise and has stopped grinding. Is this covered? Thanks, Bob")).Take(2).Order());
        // Nothing in the help centre is about it.
        Assert.Empty(await Found("Hello, do you sell gift vouchers? My sister's birthday is coming up and she adores surprises."));
    }

    [GeneratedRegex(@"\]\(/kb/([a-z0-9-]+)\)")]
    private static partial Regex KbLink();
}
