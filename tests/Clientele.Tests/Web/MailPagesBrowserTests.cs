using System.Text.RegularExpressions;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Outbox;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Clientele.Tests.Web;

/// <summary>
/// The e-mail pages of the back office (brand, sending rules, templates, broadcasts) in Debian's chromium, against the
/// app on a real Kestrel port with its real clock and background senders, mail kept by the local outbox.
/// </summary>
public sealed partial class MailPagesBrowserTests() : RunningApp("clientele-mail-pages-")
{
    private protected override void Seed(ClienteleDb db, DateTime time)
    {
        // Three newsletter subscribers and one contact who never subscribed.
        foreach (var (first, last, subscribed) in new[] { ("Ann", "Baker", true), ("Bob", "Carter", true), ("Cleo", "Diaz", true), ("Dan", "Evans", false) })
        {
            var id = Guid.CreateVersion7();
            var email = first.ToLowerInvariant() + "@example.com";
            db.Contacts.Add(new Contact
            {
                Id = id,
                Email = email,
                EmailNormalized = email,
                FirstName = first,
                LastName = last,
                CreatedAt = time,
                UpdatedAt = time,
                Consents = subscribed ? [new ContactConsent { ContactId = id, Topic = "newsletter", Status = ConsentStatus.Subscribed, At = time, Source = "test" }] : [],
            });
        }
    }

    [Fact]
    public async Task An_owner_sets_the_business_profile_and_brand_colour_and_finds_them_kept_after_a_reload()
    {
        var page = await SignedInAsync("/settings/brand");

        await page.GetByLabel("Business name").FillAsync("Harbour Roasters");
        await page.GetByLabel("Sender address").FillAsync("hello@harbour.test");
        await page.GetByLabel("Postal address").FillAsync("12 Quay Street, Bristol BS1 4AB");

        // The picker opens at the colour the field shows, and a colour typed in it lands in the field.
        var primary = page.GetByRole(AriaRole.Textbox, new() { Name = "Primary colour" });
        await Expect(primary).ToHaveValueAsync("#3558d8");
        await primary.ClickAsync();
        var picker = page.GetByRole(AriaRole.Dialog, new() { Name = "Primary colour" });
        await Expect(picker.GetByRole(AriaRole.Spinbutton)).ToHaveCountAsync(3);
        await Expect(picker.GetByRole(AriaRole.Spinbutton).Nth(0)).ToHaveValueAsync("53");
        await Expect(picker.GetByRole(AriaRole.Spinbutton).Nth(1)).ToHaveValueAsync("88");
        await Expect(picker.GetByRole(AriaRole.Spinbutton).Nth(2)).ToHaveValueAsync("216");
        await picker.GetByRole(AriaRole.Button, new() { Name = "Switch mode" }).ClickAsync();
        await picker.GetByRole(AriaRole.Button, new() { Name = "Switch mode" }).ClickAsync();
        var hex = picker.GetByRole(AriaRole.Textbox);
        await hex.FillAsync("#2e7d32");
        await hex.PressAsync("Enter");
        await page.GetByLabel("Website").ClickAsync();
        await Expect(picker).ToBeHiddenAsync();
        await Expect(primary).ToHaveValueAsync("#2e7d32");

        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Saved: the next message carries it.");

        await page.ReloadAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Expect(page.GetByLabel("Business name")).ToHaveValueAsync("Harbour Roasters");
        await Expect(page.GetByLabel("Sender address")).ToHaveValueAsync("hello@harbour.test");
        await Expect(page.GetByLabel("Postal address")).ToHaveValueAsync("12 Quay Street, Bristol BS1 4AB");
        await Expect(primary).ToHaveValueAsync("#2e7d32");
    }

    [Fact]
    public async Task A_sender_address_that_is_not_an_e_mail_address_is_refused_and_nothing_is_saved()
    {
        var page = await SignedInAsync("/settings/brand");

        await page.GetByLabel("Business name").FillAsync("Harbour Roasters");
        await page.GetByLabel("Postal address").FillAsync("12 Quay Street, Bristol BS1 4AB");
        await page.GetByLabel("Sender address").FillAsync("harbour roasters");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        await Expect(page.Locator("[data-test=problems]")).ToHaveTextAsync("The sender address must be an e-mail address.");
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveCountAsync(0);

        await page.ReloadAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Expect(page.GetByLabel("Business name")).ToHaveValueAsync("Our shop");
        await Expect(page.GetByLabel("Sender address")).ToHaveValueAsync("hello@example.com");
        await Expect(page.GetByLabel("Postal address")).ToHaveValueAsync("");
    }

    [Fact]
    public async Task A_marketer_writes_a_template_previews_it_for_a_contact_and_sends_a_test_to_the_outbox()
    {
        var page = await SignedInAsync("/templates");

        await page.GetByLabel("Name").FillAsync("Welcome");
        await page.GetByLabel("Subject").FillAsync("Welcome, {{ contact.first_name }}");
        await page.GetByLabel("Body").FillAsync("Hello **{{ contact.first_name }}**, thank you for joining.");
        await page.GetByLabel("Contact's e-mail (for preview and test)").FillAsync("bob@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("As bob@example.com would get it.");
        await Expect(page.GetByText("“Welcome, Bob”")).ToBeVisibleAsync();
        var preview = page.FrameLocator("[data-test=template-preview-html]");
        await Expect(preview.Locator("strong").Filter(new() { HasTextRegex = new Regex("^Bob$") })).ToHaveCountAsync(1);
        await Expect(preview.Locator("body")).ToContainTextAsync("Hello Bob, thank you for joining.");

        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Saved.");
        var rows = page.Locator("[data-test=templates] tbody tr");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First.Locator("td[data-label=Name]")).ToHaveTextAsync("Welcome");

        await page.GetByRole(AriaRole.Button, new() { Name = "Send test" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Test queued to bob@example.com; see the Outbox.");

        // The test message is in the outbox, sent by the local transport, and reads as the preview did.
        await page.GotoAsync(Url + "/outbox");
        var message = page.Locator("[data-test=outbox] tbody tr").Filter(new() { HasText = "[Test] Welcome, Bob" });
        await ReloadUntilAsync(page, message.Locator("td[data-label=State]"), "sent");
        await Expect(message.Locator("td[data-label=To]")).ToHaveTextAsync("bob@example.com");
        await Expect(message.Locator("td[data-label=Kind]")).ToHaveTextAsync("test");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await message.GetByText("[Test] Welcome, Bob").ClickAsync();
        await Expect(message.Locator("pre")).ToContainTextAsync("Hello Bob, thank you for joining.");
        await Expect(message.GetByRole(AriaRole.Link, new() { Name = "Download .eml" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_template_with_an_unclosed_tag_shows_where_the_mistake_is_and_is_not_saved()
    {
        var page = await SignedInAsync("/templates");

        await page.GetByLabel("Name").FillAsync("Birthday");
        await page.GetByLabel("Subject").FillAsync("Happy birthday");
        await page.GetByLabel("Body").FillAsync("Hello,\n\n{% if contact.first_name %}Dear {{ contact.first_name }}!\n\nEnjoy your day.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        var error = page.Locator("[data-test=template-error]");
        await Expect(error).ToHaveTextAsync("Body, line 5, column 16: '{% endif %}' was expected");
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveCountAsync(0);
        await Expect(page.GetByText("No templates yet.")).ToBeVisibleAsync();

        // The preview says the same; once the tag is closed the template saves.
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview" }).ClickAsync();
        await Expect(error).ToHaveTextAsync("Body, line 5, column 16: '{% endif %}' was expected");
        await page.ReloadAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Expect(page.GetByText("No templates yet.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_broadcast_sent_now_to_the_newsletter_subscribers_finishes_with_every_message_sent()
    {
        SkipUnlessChromium();
        await using (var db = NewDb())
        {
            // No quiet hours or caps: the real clock's hour must not hold the broadcast back.
            await SettingsStore.SaveAsync(db, SendingRules.Key,
                SendingRules.Default with { QuietFrom = null, QuietUntil = null, MinHoursBetweenMarketing = 0, MaxMarketingPerWeek = 0 },
                TimeProvider.System.GetUtcNow().UtcDateTime, CancellationToken.None);
        }
        var page = await SignedInAsync("/broadcasts");

        await Expect(page.Locator("[data-test=audience]")).ToHaveTextAsync("3 subscribers would receive it now.");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Spring news");
        await page.GetByLabel("Subject", new() { Exact = true }).FillAsync("Spring is here, {{ contact.first_name }}");
        await page.GetByLabel("Body (Markdown with {{ contact.first_name }} and other fields)")
            .FillAsync("Hi {{ contact.first_name }},\n\nthe **spring roasts** are in.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview" }).ClickAsync();
        await Expect(page.GetByText(PreviewHeading())).ToBeVisibleAsync();
        await Expect(page.FrameLocator("[data-test=preview-html]").Locator("strong").Filter(new() { HasTextRegex = new Regex("^spring roasts$") }))
            .ToHaveCountAsync(1);

        await page.GetByRole(AriaRole.Button, new() { Name = "Send now" }).ClickAsync();
        var row = page.Locator("[data-test=broadcasts] tbody tr").First;
        await Expect(row.Locator("td[data-label=Name]")).ToContainTextAsync("Spring news");
        await Expect(row.Locator("[data-test=status]")).ToHaveTextAsync(new Regex("^(scheduled|sending|finished)$"));

        // The list follows the sending by itself, to the end.
        await Expect(row.Locator("[data-test=status]")).ToHaveTextAsync("finished", new() { Timeout = 40_000 });
        await Expect(row.Locator("td[data-label=Progress]")).ToContainTextAsync("3 sent · 0 failed · 0 suppressed of 3");
        await Expect(row.GetByRole(AriaRole.Progressbar)).ToHaveAttributeAsync("aria-valuenow", "100");
        await Expect(page.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync("");

        // After a reload the report still counts them, and the outbox holds one message for each subscriber.
        await page.ReloadAsync();
        await Expect(page.Locator("[data-test=broadcasts] tbody tr")).ToHaveCountAsync(1);
        await Expect(row.Locator("td[data-label=Progress]")).ToContainTextAsync("3 sent · 0 failed · 0 suppressed of 3");
        await page.GotoAsync(Url + "/outbox");
        var messages = page.Locator("[data-test=outbox] tbody tr");
        await Expect(messages).ToHaveCountAsync(3);
        foreach (var name in new[] { "Ann", "Bob", "Cleo" })
        {
            var message = messages.Filter(new() { HasText = name.ToLowerInvariant() + "@example.com" });
            await Expect(message.Locator("td[data-label=State]")).ToHaveTextAsync("sent");
            await Expect(message.Locator("td[data-label=Subject] summary")).ToHaveTextAsync($"Spring is here, {name}");
        }
        await Expect(messages.Filter(new() { HasText = "dan@example.com" })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task An_owner_changes_quiet_hours_and_frequency_caps_and_finds_them_kept_after_a_reload()
    {
        var page = await SignedInAsync("/settings/sending");

        var hours = page.GetByLabel("Hours between two marketing e-mails (0: no limit)");
        var perWeek = page.GetByLabel("Most marketing e-mails per 7 days (0: no limit)");
        var from = page.GetByLabel("From", new() { Exact = true });
        var until = page.GetByLabel("Until", new() { Exact = true });
        var zone = page.GetByLabel("Time zone of contacts without one");
        await Expect(hours).ToHaveValueAsync("16");
        await Expect(perWeek).ToHaveValueAsync("3");
        await Expect(from).ToHaveValueAsync("21:00");
        await Expect(until).ToHaveValueAsync("08:00");

        await hours.FillAsync("24");
        await perWeek.FillAsync("2");
        await from.FillAsync("22:30");
        await until.FillAsync("07:15");
        await zone.FillAsync("Europe/Berlin");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Saved.");

        await page.ReloadAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Expect(hours).ToHaveValueAsync("24");
        await Expect(perWeek).ToHaveValueAsync("2");
        await Expect(from).ToHaveValueAsync("22:30");
        await Expect(until).ToHaveValueAsync("07:15");
        await Expect(zone).ToHaveValueAsync("Europe/Berlin");

        // Turning quiet hours off is kept too.
        await page.GetByLabel("Quiet hours in the contact's time zone").UncheckAsync();
        await Expect(from).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Saved.");
        await page.ReloadAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Expect(page.GetByLabel("Quiet hours in the contact's time zone")).Not.ToBeCheckedAsync();
        await Expect(hours).ToHaveValueAsync("24");
    }

    [Fact]
    public async Task A_time_zone_that_does_not_exist_is_refused_where_the_rules_are_and_nothing_is_saved()
    {
        var page = await SignedInAsync("/settings/sending");

        await page.GetByLabel("Hours between two marketing e-mails (0: no limit)").FillAsync("24");
        await page.GetByLabel("Time zone of contacts without one").FillAsync("Mars/Olympus");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        var rules = page.Locator("[data-test=rules]");
        await Expect(rules.GetByText("\"Mars/Olympus\" is not a time zone; use an IANA name such as Europe/Berlin.")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveCountAsync(0);

        await page.ReloadAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Expect(page.GetByLabel("Hours between two marketing e-mails (0: no limit)")).ToHaveValueAsync("16");
        await Expect(page.GetByLabel("Time zone of contacts without one")).ToHaveValueAsync("UTC");
    }

    /// <summary>The preview's heading, for whichever subscriber the page picked.</summary>
    [GeneratedRegex("^As (ann|bob|cleo)@example.com would get it: “Spring is here, (Ann|Bob|Cleo)”$")]
    private static partial Regex PreviewHeading();

    /// <summary>
    /// Reloads a page that does not update by itself until <paramref name="locator"/> shows <paramref name="text"/>, as
    /// a person would: bounded by the expectation timeout.
    /// </summary>
    internal static async Task ReloadUntilAsync(IPage page, ILocator locator, string text)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await Expect(locator).ToHaveTextAsync(text, new() { Timeout = 2_000 });
                return;
            }
            catch (PlaywrightException) when (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await page.ReloadAsync();
            }
        }
    }
}
