using Clientele.Support;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Clientele.Tests.Web;

/// <summary>
/// The main pages of the demo business scanned with axe-core in Debian's chromium: none may show a serious or
/// critical violation; and the login and a main page work from the keyboard alone.
/// </summary>
[Collection(DemoCollection.Name)]
public sealed class AccessibilityTests(DemoApp demo)
{
    /// <summary>The back-office pages, signed in as the owner (those with an id are filled in from the demo data).</summary>
    private static readonly string[] BackOffice =
    [
        "/", "/contacts", "/contacts/{contact}", "/segments", "/journeys", "/journeys/{journey}", "/broadcasts", "/templates",
        "/forms", "/support", "/support/tickets/{ticket}", "/knowledge", "/knowledge/{article}", "/settings", "/outbox",
        "/insights", "/insights/value", "/insights/calculator", "/insights/acquisition",
    ];

    /// <summary>The pages a visitor sees, nobody signed in.</summary>
    private static readonly string[] Public = ["/login", "/kb", "/contact", "/f/newsletter"];

    [Fact]
    public async Task The_main_pages_show_no_serious_or_critical_accessibility_violation()
    {
        demo.SkipUnlessChromium();
        var ids = await IdsAsync();
        var found = new List<string>();

        var visitor = await demo.VisitorPageAsync();
        foreach (var path in Public)
        {
            await visitor.GotoAsync(demo.Url + path);
            await visitor.WaitForLoadStateAsync(LoadState.NetworkIdle);
            found.AddRange(await ScanAsync(visitor, path));
            await demo.ScreenshotAsync(visitor, ScreenshotName(path), settle: false);
        }
        await visitor.Context.CloseAsync();

        var page = await demo.OwnerPageAsync("/");
        foreach (var template in BackOffice)
        {
            var path = ids.Aggregate(template, (p, id) => p.Replace("{" + id.Key + "}", id.Value.ToString(), StringComparison.Ordinal));
            await page.GotoAsync(demo.Url + path);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await BrowserTests.LiveAsync(page);
            found.AddRange(await ScanAsync(page, path));
            await demo.ScreenshotAsync(page, ScreenshotName(template), settle: false);
        }
        await page.Context.CloseAsync();

        Assert.True(found.Count == 0, $"{found.Count} serious or critical accessibility violation(s):\n" + string.Join("\n", found));
    }

    [Fact]
    public async Task The_login_and_a_main_page_work_from_the_keyboard_alone()
    {
        // Signing in: the e-mail field has the focus, Tab leads to the password and then to the button.
        var page = await demo.VisitorPageAsync();
        await page.GotoAsync(demo.Url + "/login?ReturnUrl=%2Fjourneys");
        await Expect(page.GetByLabel("E-mail")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync(DemoApp.Email);
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.GetByLabel("Password")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync(DemoApp.Password);
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign in" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(demo.Url + "/journeys");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await BrowserTests.LiveAsync(page);

        // The page's heading has the focus on arrival, so Tab goes on to the page's own actions; from the top of the
        // page, the first stop is the skip link, which leads past the menu to the same place.
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1, Name = "Journeys" })).ToBeFocusedAsync();
        var skip = page.GetByRole(AriaRole.Link, new() { Name = "Skip to main content" });
        for (var i = 0; i < 40 && !await IsFocusedAsync(skip); i++)
        {
            await page.Keyboard.PressAsync("Shift+Tab");
        }
        await Expect(skip).ToBeFocusedAsync();
        await Expect(skip).ToBeInViewportAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("main#main-content")).ToBeFocusedAsync();
        var create = page.GetByRole(AriaRole.Button, new() { Name = "New journey" });
        var reached = new List<string>();
        for (var i = 0; i < 15 && !await IsFocusedAsync(create); i++)
        {
            await page.Keyboard.PressAsync("Tab");
            reached.Add(await page.EvaluateAsync<string>("() => (document.activeElement?.innerText || document.activeElement?.getAttribute('aria-label') || document.activeElement?.tagName || '').trim()"));
        }
        Assert.True(await IsFocusedAsync(create), "Tab from the main content reached: " + string.Join(" | ", reached));
        Assert.DoesNotContain("Contacts", reached); // the menu was skipped

        // The focused action works with Enter: it opens a new journey's editor.
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("[data-test=flow-trigger]")).ToBeVisibleAsync();
        await page.Context.CloseAsync();

        static Task<bool> IsFocusedAsync(ILocator locator) => locator.EvaluateAsync<bool>("e => e === document.activeElement");
    }

    /// <summary>A screenshot's file name for a page, e.g. "contacts-contact" for /contacts/{contact}.</summary>
    private static string ScreenshotName(string path) =>
        path == "/" ? "home" : path.Trim('/').Replace("{", "", StringComparison.Ordinal).Replace("}", "", StringComparison.Ordinal).Replace('/', '-');

    /// <summary>The serious and critical violations axe finds on what <paramref name="page"/> shows, one line per element.</summary>
    private static async Task<List<string>> ScanAsync(IPage page, string path)
    {
        // Only the violations are wanted in full; the passed checks need not be listed.
        var result = await page.RunAxe(new AxeRunOptions { ResultTypes = [ResultType.Violations] });
        return result.Violations
            .Where(v => v.Impact is "serious" or "critical")
            .SelectMany(v => v.Nodes.Select(n => $"{path}: {v.Id} ({v.Impact}) at {n.Target}: {v.Help} — {Shorten(n.Html)}"))
            .ToList();

        static string Shorten(string html) => html.Length <= 160 ? html : html[..160] + "…";
    }

    /// <summary>A contact, a journey, a ticket and an article of the demo business (a ticket is opened if there is none).</summary>
    private async Task<Dictionary<string, Guid>> IdsAsync()
    {
        await using var db = demo.NewDb();
        var ticket = await db.Tickets.Select(t => (Guid?)t.Id).FirstOrDefaultAsync();
        if (ticket is null)
        {
            var contact = await db.Contacts.OrderBy(c => c.Id).Select(c => new { c.Id, c.Email }).FirstAsync();
            var at = TimeProvider.System.GetUtcNow().UtcDateTime;
            var id = Guid.CreateVersion7();
            db.Tickets.Add(new Ticket
            {
                Id = id,
                ContactId = contact.Id,
                Subject = "Grinder arrived without its burr",
                Channel = "email",
                CreatedAt = at,
                UpdatedAt = at,
                FirstResponseDue = at.AddHours(24),
                BreachAt = at.AddHours(48),
            });
            db.TicketMessages.Add(new TicketMessage { Id = Guid.CreateVersion7(), TicketId = id, Direction = "in", From = contact.Email ?? "", Body = "The burr is missing from the box.", CreatedAt = at });
            await db.SaveChangesAsync();
            ticket = id;
        }
        return new()
        {
            ["contact"] = await db.Contacts.Where(c => c.FirstName != null).OrderBy(c => c.Id).Select(c => c.Id).FirstAsync(),
            ["journey"] = await db.Journeys.OrderBy(j => j.Id).Select(j => j.Id).FirstAsync(),
            ["ticket"] = ticket.Value,
            ["article"] = await db.KnowledgeArticles.OrderBy(a => a.Id).Select(a => a.Id).FirstAsync(),
        };
    }
}
