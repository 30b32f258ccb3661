using Clientele.Contacts;
using Clientele.Data;
using Clientele.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Clientele.Tests.Web;

/// <summary>
/// Text a customer or a user typed is shown as text and never runs, in Debian's chromium: names, a ticket's subject and
/// message, a template's body. Each payload would set <c>window.pwned</c> if it ran.
/// </summary>
public sealed class XssBrowserTests() : RunningApp("clientele-xss-")
{
    private const string ImagePayload = "<img src=x onerror=\"window.pwned=1\">";
    private const string ScriptPayload = "<script>window.pwned=1</script>";
    private const string SvgPayload = "<svg onload=\"window.pwned=1\"></svg>";
    private static readonly Guid Mallory = Guid.CreateVersion7();
    private static readonly Guid TicketId = Guid.CreateVersion7();

    private protected override void Seed(ClienteleDb db, DateTime time)
    {
        db.Contacts.Add(new Contact
        {
            Id = Mallory,
            Email = "mallory@example.com",
            EmailNormalized = "mallory@example.com",
            FirstName = ImagePayload,
            LastName = ScriptPayload,
            Tags = [SvgPayload],
            CreatedAt = time,
            UpdatedAt = time,
        });
        db.Tickets.Add(new Ticket
        {
            Id = TicketId,
            ContactId = Mallory,
            Subject = "Help " + SvgPayload,
            Status = TicketStatus.Open,
            Channel = "email",
            CreatedAt = time,
            UpdatedAt = time,
            FirstResponseDue = time.AddHours(24),
            BreachAt = time.AddHours(48),
        });
        db.TicketMessages.Add(new TicketMessage
        {
            Id = Guid.CreateVersion7(),
            TicketId = TicketId,
            Direction = "in",
            From = "mallory@example.com",
            Body = "My order " + ScriptPayload + " " + ImagePayload,
            CreatedAt = time,
        });
    }

    private static async Task AssertNothingRanAsync(IPage page)
    {
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.pwned"));
        foreach (var frame in page.Frames)
        {
            var inline = await frame.Locator("script:not([src])").EvaluateAllAsync<string[]>("els => els.map(e => e.outerHTML)");
            Assert.True(inline.Length == 0, "inline scripts on " + frame.Url + ": " + string.Join(" | ", inline));
        }
    }

    [Fact]
    public async Task Names_tickets_and_templates_with_markup_show_as_text_and_run_nothing()
    {
        var page = await SignedInAsync("/contacts");
        await Expect(page.GetByText(ImagePayload).First).ToBeVisibleAsync();
        await AssertNothingRanAsync(page);

        await page.GotoAsync($"{Url}/contacts/{Mallory}");
        await Expect(page.Locator("h1")).ToContainTextAsync(ImagePayload);
        await Expect(page.GetByText(SvgPayload).First).ToBeVisibleAsync();
        await AssertNothingRanAsync(page);

        await page.GotoAsync($"{Url}/support/tickets/{TicketId}");
        await Expect(page.GetByText("Help " + SvgPayload).First).ToBeVisibleAsync();
        await Expect(page.GetByText(ScriptPayload, new() { Exact = false }).First).ToBeVisibleAsync();
        await AssertNothingRanAsync(page);

        await page.GotoAsync($"{Url}/support");
        await Expect(page.GetByText("Help " + SvgPayload).First).ToBeVisibleAsync();
        await AssertNothingRanAsync(page);

        // A template's preview: the merge field is filled with the hostile name as text, in a sandboxed frame.
        await page.GotoAsync($"{Url}/templates");
        await BrowserTests.LiveAsync(page);
        await page.GetByLabel("Name").FillAsync("Sneaky");
        await page.GetByLabel("Subject").FillAsync("Hello {{ contact.first_name }}");
        await page.GetByLabel("Body").FillAsync("Hi {{ contact.first_name }}!\n\n" + ScriptPayload + "\n\n" + ImagePayload);
        await page.GetByLabel("Contact's e-mail (for preview and test)").FillAsync("mallory@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("As mallory@example.com would get it.");
        var preview = page.FrameLocator("[data-test=template-preview-html]");
        await Expect(preview.Locator("body")).ToContainTextAsync("Hi <img src=x");
        // The author's own markup is cleaned: no script, no event handler.
        await Expect(preview.Locator("script")).ToHaveCountAsync(0);
        await Expect(preview.Locator("[onerror], [onload]")).ToHaveCountAsync(0);
        await AssertNothingRanAsync(page);
    }
}
