using System.Text.RegularExpressions;
using Clientele.Data;
using Clientele.Knowledge;
using Clientele.Tests.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Clientele.Tests.Knowledge;

/// <summary>Writing, previewing, publishing and deleting an article in the back office, in Debian's chromium.</summary>
public sealed partial class KnowledgeBrowserTests() : RunningApp("clientele-kb-")
{
    private protected override void Seed(ClienteleDb db, DateTime time) => db.KnowledgeArticles.Add(new Article
    {
        Id = Guid.CreateVersion7(),
        Slug = "returns-and-refunds",
        Title = "Returns and refunds",
        Category = "Orders",
        Body = "Unused equipment can be returned within 30 days.",
        Published = true,
        CreatedAt = time,
        UpdatedAt = time,
    });

    [Fact]
    public async Task An_owner_writes_an_article_previews_it_publishes_it_and_a_visitor_finds_it()
    {
        var page = await SignedInAsync("/knowledge");
        await Expect(page.Locator("[data-test=articles] tbody tr")).ToHaveCountAsync(1);

        await page.GetByRole(AriaRole.Link, new() { Name = "New article" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(Url + "/knowledge/new");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.GetByLabel("Title", new() { Exact = true }).FillAsync("How do I descale the kettle?");
        await page.GetByLabel("Category", new() { Exact = true }).FillAsync("Equipment");
        await page.GetByLabel("Text (Markdown)").FillAsync("Fill it with **one part vinegar**, two parts water.\n\n<script>alert(1)</script>");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Preview" }).ClickAsync();
        await Expect(page.Locator("[data-test=article-preview] strong")).ToHaveTextAsync("one part vinegar");
        await Expect(page.Locator("[data-test=article-preview] script")).ToHaveCountAsync(0);

        // Saved as a draft first: not public.
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(IdPath());
        await Expect(page.Locator("[data-test=article-saved]")).ToContainTextAsync("It is a draft");
        await using (var db = NewDb())
        {
            var draft = await db.KnowledgeArticles.AsNoTracking().SingleAsync(a => a.Slug == "how-do-i-descale-the-kettle");
            Assert.False(draft.Published);
            Assert.Equal("owner@shop.test", draft.UpdatedBy);
        }

        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.GetByLabel("Published").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("[data-test=article-saved]")).ToContainTextAsync("/kb/how-do-i-descale-the-kettle");

        // A visitor searches the help centre and reads it.
        var visitor = await Browser.NewPageAsync();
        await visitor.GotoAsync(Url + "/kb");
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Name = "Equipment" })).ToBeVisibleAsync();
        await visitor.GetByLabel("Search the help centre").FillAsync("descaling");
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await visitor.GetByRole(AriaRole.Link, new() { Name = "How do I descale the kettle?" }).ClickAsync();
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("How do I descale the kettle?");
        await Expect(visitor.Locator("article strong")).ToHaveTextAsync("one part vinegar");

        // The list finds it; deleting asks first.
        await page.GotoAsync(Url + "/knowledge");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.GetByLabel("Search").FillAsync("vinegar");
        var rows = page.Locator("[data-test=articles] tbody tr");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("Published");
        await rows.First.GetByRole(AriaRole.Link, new() { Name = "How do I descale the kettle?" }).ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync("switch off Published instead");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(Url + "/knowledge");
        await Expect(page.Locator("[data-test=articles] tbody tr")).ToHaveCountAsync(1);
        Assert.Equal(404, (await visitor.GotoAsync(Url + "/kb/how-do-i-descale-the-kettle"))!.Status);
    }

    [GeneratedRegex("/knowledge/[0-9a-f-]{36}$")]
    private static partial Regex IdPath();
}
