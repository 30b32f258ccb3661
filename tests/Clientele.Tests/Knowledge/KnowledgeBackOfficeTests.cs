using System.Net;
using Clientele.Accounts;
using Clientele.Knowledge;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Web;

namespace Clientele.Tests.Knowledge;

/// <summary>The "Knowledge base" page of the back office, as served to a browser without script and through its list query.</summary>
public sealed class KnowledgeBackOfficeTests
{
    [Fact]
    public async Task The_page_says_what_to_write_first_while_there_are_no_articles_and_agents_cannot_open_it()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var marketer = await app.SignedInAsync(Role.Marketer);
        var agent = await app.SignedInAsync(Role.Agent);

        var html = await marketer.GetStringAsync("/knowledge");
        var home = await marketer.GetStringAsync("/");
        var denied = await agent.GetAsync("/knowledge");

        Assert.Contains("No articles yet", html);
        Assert.Contains("href=\"/knowledge/new\"", html);
        Assert.Contains("Knowledge base", BackOffice.NavEntries(home));
        Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
        Assert.StartsWith("/denied", denied.Location());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_list_pages_by_category_and_title_and_its_search_finds_drafts_too(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        foreach (var article in KnowledgeBaseTests.Library)
        {
            await api.PostJsonAsync("/api/v1/kb/articles", article);
        }
        await api.PostJsonAsync("/api/v1/kb/articles", new { title = "Grinder recall notice", body = "Draft: some grinders are recalled." });
        await using var data = app.NewDb();

        var (first, total) = await KnowledgePage.QueryAsync(data, null, 0, 5, CancellationToken.None);
        var (second, _) = await KnowledgePage.QueryAsync(data, null, 1, 5, CancellationToken.None);
        var (found, count) = await KnowledgePage.QueryAsync(data, "grinder", 0, 25, CancellationToken.None);

        Assert.Equal(7, total);
        Assert.Equal(["How do I reset my password?", "Cleaning the burr grinder", "Warranty on brewing equipment", "Returns and refunds", "How do I track my order?"],
            first.Select(r => r.Title));
        Assert.Equal(["How long does shipping take?", "Grinder recall notice"], second.Select(r => r.Title)); // no category: last
        Assert.Equal(3, count);
        Assert.Equal("Grinder recall notice", found[0].Title);
        Assert.False(found[0].Published);
        Assert.Equal("API key test-write", found[0].UpdatedBy);
    }

    [Fact]
    public async Task The_editor_opens_an_article_with_its_fields_and_says_so_when_there_is_none()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var api = await app.ApiClientAsync("write");
        var created = await (await api.PostJsonAsync("/api/v1/kb/articles", new
        {
            title = "How long does shipping take?",
            category = "Shipping",
            body = "Two to **four** days.",
            published = true,
        })).ReadJsonAsync();
        var owner = await app.SignedInAsync(Role.Owner);

        var html = await owner.GetStringAsync($"/knowledge/{created.GetProperty("id").GetGuid()}");
        var missing = await owner.GetStringAsync($"/knowledge/{Guid.NewGuid()}");
        var blank = await owner.GetStringAsync("/knowledge/new");

        Assert.Contains("How long does shipping take?", html);
        Assert.Contains("value=\"Shipping\"", html);
        Assert.Contains("/kb/how-long-does-shipping-take", html);
        Assert.Contains("API key test-write", html);
        Assert.Contains("There is no such article", missing);
        Assert.Contains("New article", blank);
    }
}
