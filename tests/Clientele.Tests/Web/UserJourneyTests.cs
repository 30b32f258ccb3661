using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Clientele.Tests.Web;

/// <summary>
/// What people do with Clientele, end to end in Debian's chromium, on one server holding the demo business
/// (<see cref="DemoApp"/>): the owner in the back office, visitors on the public pages. Each journey checks what the
/// person sees, and leaves a screenshot of the pages it passed through.
/// </summary>
[Collection(DemoCollection.Name)]
public sealed partial class UserJourneyTests(DemoApp demo)
{
    [Fact]
    public async Task The_owner_signs_in_with_the_demo_login_and_reads_the_dashboard_figures_and_charts()
    {
        var page = await demo.VisitorPageAsync();
        await page.GotoAsync(demo.Url + "/");
        await Expect(page).ToHaveURLAsync(demo.Url + "/login?ReturnUrl=%2F");
        await demo.ScreenshotAsync(page, "login");
        await demo.SignInAsync(page, "/");
        await BrowserTests.LiveAsync(page);

        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Home");
        await Expect(page.Locator("[data-test=kpi-customers] [data-test=value]")).ToHaveTextAsync(Number());
        await Expect(page.Locator("[data-test=kpi-repeat-rate] [data-test=value]")).ToHaveTextAsync(new Regex(@"^\d+ %$"));
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = "Contacts per stage" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-test=chart-stages] [data-test=summary]")).ToContainTextAsync("contacts:");
        await Expect(page.Locator("[data-test=chart-revenue] [data-test=summary]")).ToContainTextAsync("from repeat orders");
        await demo.ScreenshotAsync(page, "dashboard", readme: true);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_owner_searches_a_customer_and_reads_their_timeline()
    {
        var customer = await CustomerWithOrdersAsync();
        var page = await demo.OwnerPageAsync("/contacts");
        await demo.ScreenshotAsync(page, "contacts");

        await page.GetByLabel("Search").FillAsync(customer.Email);
        var rows = page.Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync(customer.Name);
        await rows.First.GetByRole(AriaRole.Link, new() { Name = customer.Name }).ClickAsync();

        await Expect(page).ToHaveURLAsync(demo.Url + "/contacts/" + customer.Id);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(customer.Name);
        var timeline = page.Locator("[data-test=timeline]");
        await Expect(timeline.GetByRole(AriaRole.Heading, new() { Name = "Timeline" })).ToBeVisibleAsync();
        await Expect(timeline).ToContainTextAsync("order.placed");
        await Expect(page.Locator("[data-test=orders]")).ToContainTextAsync(customer.LastOrder);
        await timeline.EvaluateAsync("e => { e.scrollIntoView({ block: 'start' }); window.scrollBy(0, -64); }");
        await demo.ScreenshotAsync(page, "contact-timeline", readme: true);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_owner_builds_a_segment_in_the_visual_builder_sees_its_count_and_saves_it()
    {
        var page = await demo.OwnerPageAsync("/segments");
        var editor = page.Locator("[data-test=editor]");

        await page.GetByRole(AriaRole.Tab, new() { Name = "Builder" }).ClickAsync();
        await page.Locator("[data-test=add-condition]").First.ClickAsync();
        await Expect(page.Locator("[data-test=builder-text]")).ToHaveTextAsync("stage >= Lead");
        await editor.GetByRole(AriaRole.Combobox, new() { Name = "Value" }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Loyalty", Exact = true }).ClickAsync();

        await Expect(page.Locator("[data-test=builder-text]")).ToHaveTextAsync("stage >= Loyalty");
        var count = page.Locator("[data-test=live-count]");
        await Expect(count).ToHaveTextAsync(new Regex(@"^[1-9][\d,]* contacts match, e\.g\. "));
        var matching = (await count.Locator("b").TextContentAsync())!;
        await demo.ScreenshotAsync(page, "segments");

        await editor.GetByLabel("Name").FillAsync("Loyal and beyond");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save segment" }).ClickAsync();
        var row = page.Locator("[data-test=segments] tbody tr").Filter(new() { HasText = "Loyal and beyond" });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("stage >= Loyalty");
        await page.ReloadAsync();
        await Expect(row.Locator("td[data-label=Members]")).ToHaveTextAsync(matching, new() { Timeout = 30_000 });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_owner_installs_a_playbook_as_a_draft_and_publishes_it()
    {
        var page = await demo.OwnerPageAsync("/journeys");
        await demo.ScreenshotAsync(page, "journeys");

        var playbook = page.Locator("[data-test=playbook-stay-in-touch]");
        await Expect(playbook).ToContainTextAsync("Stay in touch");
        await playbook.GetByRole(AriaRole.Button, new() { Name = "Install", Exact = true }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/journeys/[0-9a-f-]{36}$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Stay in touch");
        await Expect(page.Locator("[data-test=status]")).ToHaveTextAsync("draft");
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Installed as a draft");
        await demo.ScreenshotAsync(page, "journey-editor", readme: true);

        await page.GetByRole(AriaRole.Button, new() { Name = "Publish", Exact = true }).ClickAsync();
        await Expect(page.Locator("[data-test=status]")).ToHaveTextAsync("active");
        await Expect(page.Locator("[data-test=version]")).ToHaveTextAsync("version 1");
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Published as version 1: contacts enter from now on.");

        await page.GetByRole(AriaRole.Link, new() { Name = "Journeys", Exact = true }).First.ClickAsync();
        var row = page.Locator("[data-test=journeys] tbody tr").Filter(new() { HasText = "Stay in touch" });
        await Expect(row.Locator("td[data-label=Status]")).ToHaveTextAsync("active");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_owner_previews_a_template_sends_a_test_and_opens_it_in_the_local_outbox()
    {
        var customer = await CustomerWithOrdersAsync();
        var page = await demo.OwnerPageAsync("/templates");

        var template = page.Locator("[data-test=templates] tbody tr").Filter(new() { HasText = "We miss you" });
        await template.GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        await Expect(page.GetByLabel("Subject")).ToHaveValueAsync("We miss you, {{ contact.first_name | default: 'friend' }}");
        await page.GetByLabel("Contact's e-mail (for preview and test)").FillAsync(customer.Email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"As {customer.Email} would get it.");
        await Expect(page.GetByText($"“We miss you, {customer.First}”")).ToBeVisibleAsync();
        await Expect(page.FrameLocator("[data-test=template-preview-html]").Locator("body")).ToContainTextAsync($"Hi {customer.First},");
        await demo.ScreenshotAsync(page, "templates");

        await page.GetByRole(AriaRole.Button, new() { Name = "Send test" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"Test queued to {customer.Email}; see the Outbox.");

        await page.GetByRole(AriaRole.Link, new() { Name = "Outbox", Exact = true }).First.ClickAsync();
        await Expect(page).ToHaveURLAsync(demo.Url + "/outbox");
        var message = page.Locator("[data-test=outbox] tbody tr").Filter(new() { HasText = $"[Test] We miss you, {customer.First}" });
        await MailPagesBrowserTests.ReloadUntilAsync(page, message.Locator("td[data-label=State]"), "sent");
        await Expect(message.Locator("td[data-label=To]")).ToHaveTextAsync(customer.Email);
        await BrowserTests.LiveAsync(page);
        await message.GetByText($"[Test] We miss you, {customer.First}").ClickAsync();
        await Expect(message.Locator("pre")).ToContainTextAsync("it has been a while");
        await demo.ScreenshotAsync(page, "outbox");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_visitor_signs_up_on_the_hosted_form_and_the_owner_finds_the_new_contact()
    {
        var visitor = await demo.VisitorPageAsync();
        await visitor.GotoAsync(demo.Url + "/f/newsletter");
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Fresh roasts, first");
        await demo.ScreenshotAsync(visitor, "hosted-form");
        await visitor.GetByLabel("E-mail").FillAsync("ines.moreau@example.net");
        await visitor.GetByLabel("First name").FillAsync("Ines");
        await visitor.GetByLabel("How do you brew?").SelectOptionAsync("Moka pot");
        await visitor.GetByLabel("Yes, send me the Northwind Roasters newsletter").CheckAsync();
        await Task.Delay(2500); // people take a moment; faster counts as a bot
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(visitor.GetByRole(AriaRole.Status)).ToContainTextAsync("Thanks! Check your inbox to confirm.");
        await visitor.Context.CloseAsync();

        var page = await demo.OwnerPageAsync("/contacts");
        await page.GetByLabel("Search").FillAsync("ines.moreau");
        var rows = page.Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("Ines");
        await Expect(rows.First).ToContainTextAsync("ines.moreau@example.net");
        await rows.First.GetByRole(AriaRole.Link, new() { Name = "Ines" }).ClickAsync();
        await Expect(page.Locator("[data-test=timeline]")).ToContainTextAsync("form.submitted");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_visitor_asks_through_the_contact_form_and_the_owner_answers_the_ticket()
    {
        var visitor = await demo.VisitorPageAsync();
        await visitor.GotoAsync(demo.Url + "/contact");
        await demo.ScreenshotAsync(visitor, "contact-form");
        await visitor.GetByLabel("Your name").FillAsync("Tomas Berg");
        await visitor.GetByLabel("Your e-mail").FillAsync("tomas.berg@example.net");
        await visitor.GetByLabel("Subject").FillAsync("Which grind for a moka pot?");
        await visitor.GetByLabel("Your message").FillAsync("Hello, I just bought the Ethiopia Guji. Which grind should I ask for?");
        await Task.Delay(2500); // people take a moment; faster counts as a bot
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(visitor.GetByRole(AriaRole.Status)).ToBeVisibleAsync();
        await visitor.Context.CloseAsync();

        var page = await demo.OwnerPageAsync("/support");
        var row = page.Locator("[data-test=tickets] tbody tr").Filter(new() { HasText = "Which grind for a moka pot?" });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.Locator("[data-test=sla]")).ToContainTextAsync("due in");
        await demo.ScreenshotAsync(page, "support-inbox", readme: true);

        await row.GetByRole(AriaRole.Link, new() { Name = "Which grind for a moka pot?" }).ClickAsync();
        await Expect(page.Locator("[data-test=ticket-subject]")).ToHaveTextAsync("Which grind for a moka pot?");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.GetByLabel("Your answer (sent by e-mail on the same thread)").FillAsync("Hi Tomas, ask for a fine grind, a little coarser than espresso.");
        await page.Locator("[data-test=send-reply]").ClickAsync();

        await Expect(page.Locator("[data-test=message-out]")).ToContainTextAsync("a little coarser than espresso");
        await Expect(page.Locator("[data-test=ticket-status]")).ToHaveTextAsync("pending");
        await Expect(page.Locator("[data-test=sla]")).ToHaveTextAsync("answered");
        await demo.ScreenshotAsync(page, "ticket");
        await page.Context.CloseAsync();
    }

    /// <summary>A demo customer with a name and orders (the same one each run), and their latest order's number.</summary>
    private async Task<(Guid Id, string Email, string First, string Name, string LastOrder)> CustomerWithOrdersAsync()
    {
        demo.SkipUnlessChromium();
        await using var db = demo.NewDb();
        var c = await db.Contacts.AsNoTracking()
            .Where(c => c.FirstName != null && c.LastName != null && c.Email != null && db.Orders.Any(o => o.ContactId == c.Id))
            .OrderBy(c => c.EmailNormalized)
            .Select(c => new { c.Id, c.Email, c.FirstName, c.LastName })
            .FirstAsync();
        var order = await db.Orders.AsNoTracking().Where(o => o.ContactId == c.Id).OrderByDescending(o => o.PlacedAt).Select(o => o.ExternalId).FirstAsync();
        return (c.Id, c.Email!, c.FirstName!, c.FirstName + " " + c.LastName, order);
    }

    [GeneratedRegex(@"^[1-9][\d,]*$")]
    private static partial Regex Number();
}
