using Clientele.Contacts;
using Clientele.Data;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Clientele.Tests.Web;

/// <summary>The back office in Debian's chromium, against the app on a real Kestrel port.</summary>
public sealed class BrowserTests() : RunningApp("clientele-browser-")
{
    internal const string Chromium = "/usr/bin/chromium";

    private protected override void Seed(ClienteleDb db, DateTime time)
    {
        foreach (var (first, last, minutes) in new[] { ("Ann", "Baker", 3), ("Bob", "Carter", 2), ("Cleo", "Diaz", 1) })
        {
            var email = first.ToLowerInvariant() + "@example.com";
            db.Contacts.Add(new Contact
            {
                Id = Guid.CreateVersion7(),
                Email = email,
                EmailNormalized = email,
                FirstName = first,
                LastName = last,
                CreatedAt = time.AddMinutes(-minutes),
                UpdatedAt = time,
            });
        }
    }

    [Fact]
    public async Task An_owner_signs_in_and_finds_a_contact_in_the_list()
    {
        var page = await OpenPageAsync();

        await page.GotoAsync(Url + "/contacts");
        await Expect(page).ToHaveURLAsync(Url + "/login?ReturnUrl=%2Fcontacts");
        await page.FillAsync("#email", "owner@shop.test");
        await page.FillAsync("#password", "owner-password-1");
        await page.ClickAsync("button[type=submit]");

        await Expect(page).ToHaveURLAsync(Url + "/contacts");
        var rows = page.Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(3);
        await Expect(rows.First).ToContainTextAsync("cleo@example.com"); // newest first

        await page.GetByLabel("Search").FillAsync("bob");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("Bob Carter");

        await rows.First.ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/contacts/[0-9a-f-]{36}$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Bob Carter");
    }

    [Fact]
    public async Task An_owner_builds_a_form_and_a_visitor_signs_up_through_it_without_script()
    {
        var page = await SignedInAsync("/forms/new");

        await page.GetByLabel("Name (for you)").FillAsync("Spring sign-up");
        await page.GetByLabel("Address").FillAsync("spring");
        await page.GetByLabel("Heading").FillAsync("Spring roasts");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/forms/[0-9a-f-]{36}$"));
        await Expect(page.Locator("[data-test=snippet]")).ToContainTextAsync("/f/spring?embed=1");

        // A visitor, with script turned off, signs up.
        await using var visitor = await Browser.NewContextAsync(new() { JavaScriptEnabled = false });
        var form = await visitor.NewPageAsync();
        await form.GotoAsync(Url + "/f/spring");
        await Expect(form.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Spring roasts");
        await form.Locator("#f-email").FillAsync("dana@example.com");
        await form.GetByLabel("First name").FillAsync("Dana");
        await form.GetByLabel("Yes, send me news").CheckAsync();
        await Task.Delay(2500); // people take a moment; faster counts as a bot
        await form.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(form.GetByRole(AriaRole.Status)).ToContainTextAsync("Thank you!");

        await using var db = NewDb();
        var dana = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.Contacts, c => c.EmailNormalized == "dana@example.com");
        Assert.Equal("Dana", dana.FirstName);
        Assert.Equal("form:spring", dana.Source);
    }

    [Fact]
    public async Task A_marketer_writes_a_segment_sees_the_live_count_and_saves_it()
    {
        var page = await SignedInAsync("/segments");

        await page.GetByRole(AriaRole.Tab, new() { Name = "Text" }).ClickAsync();
        await page.GetByLabel("Who").FillAsync("firstName = \"Ann\" or scroe > 1");
        await Expect(page.GetByText("Did you mean score?")).ToBeVisibleAsync();
        await page.GetByLabel("Who").FillAsync("firstName = \"Ann\" or firstName = \"Bob\"");
        await Expect(page.Locator("[data-test=live-count]")).ToContainTextAsync("2 contacts match");

        // The builder shows the same query, and what is built there is written back as text.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Builder" }).ClickAsync();
        await Expect(page.Locator("[data-test=builder-row]")).ToHaveCountAsync(2);
        await Expect(page.Locator("[data-test=builder-value]").First).ToHaveValueAsync("Ann");
        await page.Locator("[data-test=builder-value]").Nth(1).FillAsync("Cleo");
        await page.Locator("[data-test=builder-value]").Nth(1).BlurAsync();
        await Expect(page.Locator("[data-test=builder-text]")).ToHaveTextAsync("firstName = \"Ann\" or firstName = \"Cleo\"");
        await Expect(page.Locator("[data-test=live-count]")).ToContainTextAsync("2 contacts match");
        await page.Locator("[data-test=add-condition]").First.ClickAsync();
        await Expect(page.Locator("[data-test=builder-text]")).ToHaveTextAsync("firstName = \"Ann\" or firstName = \"Cleo\" or stage >= Lead");
        await Expect(page.Locator("[data-test=live-count]")).ToContainTextAsync("3 contacts match");
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove condition" }).Last.ClickAsync();
        await page.GetByRole(AriaRole.Tab, new() { Name = "Text" }).ClickAsync();
        await Expect(page.GetByLabel("Who")).ToHaveValueAsync("firstName = \"Ann\" or firstName = \"Cleo\"");

        await page.GetByLabel("Name").FillAsync("Ann and Cleo");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save segment" }).ClickAsync();

        var row = page.Locator("[data-test=segments] tbody tr").First;
        await Expect(row).ToContainTextAsync("Ann and Cleo");
        await page.ReloadAsync();
        await Expect(page.Locator("[data-test=segments] tbody tr").First.Locator("td[data-label=Members]")).ToHaveTextAsync("2");
        await Expect(page.Locator("[data-test=segments] tbody tr").First.Locator("[data-test=trend]")).ToHaveTextAsync("+2");

        // Editing loads the segment into the builder.
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        await Expect(page.Locator("[data-test=editor] h2")).ToContainTextAsync("Edit “Ann and Cleo”");
        await Expect(page.Locator("[data-test=builder-row]")).ToHaveCountAsync(2);
    }

    [Fact]
    public async Task A_marketer_fills_a_static_list_by_hand_and_from_a_csv_file()
    {
        var page = await SignedInAsync("/segments");

        await page.GetByLabel("Name").FillAsync("Trade show");
        await page.GetByLabel("Static list").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save segment" }).ClickAsync();
        await Expect(page.Locator("[data-test=segments] tbody tr").First).ToContainTextAsync("(static list)");

        await page.GetByRole(AriaRole.Button, new() { Name = "Members" }).ClickAsync();
        await Expect(page.Locator("[data-test=members]")).ToContainTextAsync("No members yet");
        await page.GetByLabel("Add by e-mail").FillAsync("BOB@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).ClickAsync();
        await Expect(page.Locator("[data-test=list-message]")).ToContainTextAsync("BOB@example.com added.");

        var csv = Path.Combine(Dir, "show.csv");
        await File.WriteAllTextAsync(csv, "name,email\nAnn,ann@example.com\nBob,bob@example.com\nZed,zed@example.com\nNobody,\n");
        await page.Locator("[data-test=csv]").SetInputFilesAsync(csv);
        var message = page.Locator("[data-test=list-message]");
        await Expect(message).ToContainTextAsync("show.csv: 1 added, 1 already on the list, 2 not added.");
        await Expect(message).ToContainTextAsync("Row 3: No contact has the e-mail zed@example.com.");
        await Expect(message).ToContainTextAsync("Row 4: The row names no contact (empty).");
        await Expect(page.Locator("[data-test=member-rows] tr")).ToHaveCountAsync(2);

        await page.GetByRole(AriaRole.Button, new() { Name = "Remove bob@example.com" }).ClickAsync();
        await Expect(page.Locator("[data-test=member-rows] tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-test=segments] tbody tr").First.Locator("td[data-label=Members]")).ToHaveTextAsync("1");
    }

    internal static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new()
    {
        ExecutablePath = Chromium,
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });

    /// <summary>Waits until the page is live (a back-office page's events reach the server), so what a test types stays.</summary>
    internal static Task LiveAsync(IPage page) =>
        page.Locator("[data-interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });

    internal static async Task<IPage> NewPageAsync(IBrowser browser)
    {
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        SetDefaultExpectTimeout(20_000);
        return page;
    }

    /// <summary>Signs owner@shop.test (password owner-password-1) in to the app at <paramref name="url"/>, landing on
    /// <paramref name="path"/>.</summary>
    internal static async Task SignInAsync(IPage page, string url, string path)
    {
        await page.GotoAsync(url + "/login?ReturnUrl=" + Uri.EscapeDataString(path));
        await page.FillAsync("#email", "owner@shop.test");
        await page.FillAsync("#password", "owner-password-1");
        await page.ClickAsync("button[type=submit]");
        await Expect(page).ToHaveURLAsync(url + path);
    }
}
