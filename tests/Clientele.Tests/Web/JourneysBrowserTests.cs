using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Clientele.Accounts;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Journeys;
using Clientele.Outbox;
using Clientele.Templates;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Clientele.Tests.Web;

/// <summary>
/// The Journeys page in Debian's chromium, against the app on a real Kestrel port with its real clock, event dispatcher,
/// journey worker and senders, mail kept by the local outbox.
/// </summary>
public sealed class JourneysBrowserTests() : RunningApp("clientele-journeys-")
{
    private protected override void Seed(ClienteleDb db, DateTime time)
    {
        var ann = Guid.CreateVersion7();
        db.Contacts.Add(new Contact
        {
            Id = ann,
            Email = "ann@example.com",
            EmailNormalized = "ann@example.com",
            FirstName = "Ann",
            LastName = "Baker",
            CreatedAt = time,
            UpdatedAt = time,
            Consents = [new ContactConsent { ContactId = ann, Topic = "newsletter", Status = ConsentStatus.Subscribed, At = time, Source = "test" }],
        });
        // The two templates the page's example welcome series sends.
        foreach (var name in new[] { "Welcome", "Tips" })
        {
            db.Templates.Add(new Template
            {
                Id = Guid.CreateVersion7(),
                Name = name,
                Subject = name + ", {{ contact.first_name }}",
                Body = "Hello {{ contact.first_name }}.",
                CreatedAt = time,
                UpdatedAt = time,
            });
        }
    }

    /// <summary>A published journey, saved and published through the same code the page and the API use.</summary>
    private async Task<Guid> PublishedAsync(string name)
    {
        var database = Services.GetRequiredService<ClienteleDatabase>();
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        using var definition = JsonDocument.Parse(JourneyOutline.Example);
        var (journey, problem) = await JourneysApi.SaveDraftAsync(null, new JourneysApi.JourneyInput(name, null, definition.RootElement), database, now, CancellationToken.None);
        Assert.Null(problem);
        var (version, refused) = await JourneysApi.PublishDraftAsync(journey!.Id, database, Services.GetRequiredService<JourneyEntry>(), now, CancellationToken.None);
        Assert.Null(refused);
        Assert.Equal(1, version);
        return journey.Id;
    }

    [Fact]
    public async Task An_owner_creates_a_welcome_series_sees_its_outline_and_publishes_it()
    {
        var page = await SignedInAsync("/journeys");

        await Expect(page.GetByText("No journeys yet.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create a journey" }).ClickAsync();

        // The example welcome series, and its flow in words above it.
        var steps = page.Locator("[data-test=outline-steps] li");
        await Expect(steps).ToHaveTextAsync(["E-mail “Welcome” (topic newsletter)", "Wait 3 days", "E-mail “Tips” (topic newsletter) → end"]);
        await Expect(page.Locator("[data-test=outline]")).ToContainTextAsync("Starts on event account.created, once per contact.");
        await Expect(page.Locator("[data-test=outline]")).ToContainTextAsync("Goal: orders.count() >= 1");

        await page.GetByLabel("Name").FillAsync("Welcome series");
        await page.GetByLabel("Description").FillAsync("For everyone who opens an account");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/journeys/[0-9a-f-]{36}$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Welcome series");
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Saved.");
        await Expect(page.Locator("[data-test=status]")).ToHaveTextAsync("draft");
        await Expect(page.Locator("[data-test=no-problems]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-test=problems]")).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-test=report]")).ToHaveCountAsync(0);

        var publish = page.GetByRole(AriaRole.Button, new() { Name = "Publish" });
        await Expect(publish).ToBeEnabledAsync();
        await publish.ClickAsync();
        await Expect(page.Locator("[data-test=status]")).ToHaveTextAsync("active");
        await Expect(page.Locator("[data-test=version]")).ToHaveTextAsync("version 1");
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Published as version 1: contacts enter from now on.");
        await Expect(page.Locator("[data-test=counts] td[data-label=Entered]")).ToHaveTextAsync("0");
        await Expect(page.Locator("[data-test=step-report] tbody tr")).ToHaveCountAsync(3);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Publish" })).ToBeDisabledAsync();
        await Expect(page.Locator("[data-test=publish-blocked]")).ToHaveTextAsync("Version 1 runs this draft already; change it to publish a new version.");

        // The list shows it active, on version 1, with its trigger in words.
        await page.GetByRole(AriaRole.Link, new() { Name = "Journeys", Exact = true }).First.ClickAsync();
        var row = page.Locator("[data-test=journeys] tbody tr");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.Locator("td[data-label=Name]")).ToHaveTextAsync("Welcome series");
        await Expect(row.Locator("td[data-label=Status]")).ToHaveTextAsync("active");
        await Expect(row.Locator("td[data-label=Version]")).ToHaveTextAsync("1");
        await Expect(row.Locator("td[data-label=Trigger]")).ToHaveTextAsync("Event account.created");
        await Expect(row.Locator("td[data-label=Entered]")).ToHaveTextAsync("0");

        await using var db = NewDb();
        var saved = await db.Journeys.AsNoTracking().SingleAsync();
        Assert.Equal((JourneyStatus.Active, 1, "account.created", "For everyone who opens an account"), (saved.Status, saved.Version, saved.TriggerEvent, saved.Description));
    }

    [Fact]
    public async Task A_journey_naming_a_template_that_does_not_exist_cannot_be_published_and_json_that_does_not_read_is_kept_as_typed()
    {
        var page = await SignedInAsync("/journeys");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create a journey" }).ClickAsync();

        await page.GetByLabel("Name").FillAsync("Win-back");
        var definition = page.GetByLabel("Definition (JSON)");
        await definition.FillAsync("""
            {
              "trigger": { "segment": "Lapsed" },
              "steps": [
                { "id": "miss-you", "type": "email", "template": "Welcome", "topic": "newsletter" },
                { "id": "week", "type": "wait", "days": 7 },
                { "id": "bought", "type": "branch", "condition": "orders.count(within: 7d) >= 1", "then": "done", "else": "nudge" },
                { "id": "nudge", "type": "email", "template": "Goodbye", "class": "transactional", "next": "done" },
                { "id": "done", "type": "exit" }
              ]
            }
            """);
        var steps = page.Locator("[data-test=outline-steps] li");
        await Expect(steps).ToHaveTextAsync([
            "E-mail “Welcome” (topic newsletter)",
            "Wait 7 days",
            "Branch: orders.count(within: 7d) >= 1 — then step 5 (“done”), else step 4 (“nudge”)",
            "E-mail “Goodbye” (transactional)",
            "Exit",
        ]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();

        // Saved as a draft, with each problem in words at its place; Publish waits for them.
        await Expect(page).ToHaveURLAsync(new Regex("/journeys/[0-9a-f-]{36}$"));
        var problems = page.Locator("[data-test=problems] li");
        await Expect(problems).ToHaveTextAsync([
            "Trigger, segment: There is no segment “Lapsed”.",
            "Step 4 (“nudge”), template: There is no template “Goodbye”.",
        ]);
        var publish = page.GetByRole(AriaRole.Button, new() { Name = "Publish" });
        await Expect(publish).ToBeDisabledAsync();
        await Expect(page.Locator("[data-test=publish-blocked]")).ToHaveTextAsync("Publish once the 2 problems above are fixed.");

        // A definition that does not read is not saved; what was typed stays to be mended.
        var broken = "{\n  \"trigger\": { \"event\": \"order.placed\" }\n  \"steps\": []\n}";
        await definition.FillAsync(broken);
        await Expect(page.Locator("[data-test=outline]")).ToHaveTextAsync("The outline appears once the definition reads as JSON.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();
        await Expect(page.GetByText("The definition is not valid JSON at line 3, column 3:")).ToBeVisibleAsync();
        await Expect(definition).ToHaveValueAsync(broken);
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-test=publish-blocked]")).ToHaveTextAsync("Save the draft first: publishing uses the saved draft.");
        await Expect(publish).ToBeDisabledAsync();

        // After a reload the saved draft is as it was.
        await page.ReloadAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Expect(definition).ToHaveValueAsync(new Regex("\"template\": \"Goodbye\""));
        await Expect(problems).ToHaveCountAsync(2);
        await using var db = NewDb();
        var saved = await db.Journeys.AsNoTracking().SingleAsync();
        Assert.Equal((JourneyStatus.Draft, 0), (saved.Status, saved.Version));
        Assert.Contains("Goodbye", saved.Draft);
    }

    [Fact]
    public async Task An_owner_installs_the_birthday_playbook_and_starts_it_from_the_page()
    {
        var page = await SignedInAsync("/journeys");
        var row = page.Locator("[data-test=playbook-birthday]");
        await Expect(row).ToContainTextAsync("Birthday greeting");
        await Expect(row).ToContainTextAsync("each birthday at 09:00 on the contact's clock");
        await row.GetByRole(AriaRole.Button, new() { Name = "Install and start" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/journeys/[0-9a-f-]{36}$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Birthday greeting");
        await Expect(page.Locator("[data-test=status]")).ToHaveTextAsync("active");
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Installed and started, with 1 new template(s).");

        await page.GotoAsync(Url + "/journeys");
        await Expect(page.Locator("[data-test=playbook-birthday]").GetByRole(AriaRole.Link, new() { Name = "Installed" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-test=journeys]")).ToContainTextAsync("Birthday greeting");
        await using var db = NewDb();
        Assert.True(await db.Templates.AnyAsync(t => t.Name == "Happy birthday"));
    }

    [Fact]
    public async Task Pausing_and_resuming_change_the_status_shown_and_archiving_asks_first()
    {
        SkipUnlessChromium();
        var id = await PublishedAsync("Welcome series");
        var page = await SignedInAsync("/journeys");
        await page.GetByRole(AriaRole.Link, new() { Name = "Welcome series" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(Url + "/journeys/" + id);

        var status = page.Locator("[data-test=status]");
        await Expect(status).ToHaveTextAsync("active");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Expect(status).ToHaveTextAsync("paused");
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Paused: nobody enters or moves on until it is resumed.");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Pause" })).ToHaveCountAsync(0);

        await page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(status).ToHaveTextAsync("active");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Resume" })).ToHaveCountAsync(0);

        // Archiving asks first; cancelled, nothing changes.
        await page.GetByRole(AriaRole.Button, new() { Name = "Archive" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync("Nobody enters “Welcome series” any more. This cannot be undone.");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);
        await Expect(status).ToHaveTextAsync("active");

        await page.GetByRole(AriaRole.Button, new() { Name = "Archive" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Archive" }).ClickAsync();
        await Expect(status).ToHaveTextAsync("archived");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Publish" })).ToBeDisabledAsync();
        await Expect(page.Locator("[data-test=publish-blocked]")).ToContainTextAsync("An archived journey is not published again");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Archive" })).ToHaveCountAsync(0);

        await page.GotoAsync(Url + "/journeys");
        await Expect(page.Locator("[data-test=journeys] tbody tr td[data-label=Status]")).ToHaveTextAsync("archived");
        await using var db = NewDb();
        Assert.Equal(JourneyStatus.Archived, (await db.Journeys.AsNoTracking().SingleAsync()).Status);
    }

    [Fact]
    public async Task A_contact_who_enters_is_counted_in_the_report_and_its_first_email_as_sent()
    {
        SkipUnlessChromium();
        await using (var db = NewDb())
        {
            // No quiet hours or caps: the real clock's hour must not hold the welcome e-mail back.
            await SettingsStore.SaveAsync(db, SendingRules.Key,
                SendingRules.Default with { QuietFrom = null, QuietUntil = null, MinHoursBetweenMarketing = 0, MaxMarketingPerWeek = 0 },
                TimeProvider.System.GetUtcNow().UtcDateTime, CancellationToken.None);
        }
        var id = await PublishedAsync("Welcome series");
        string key;
        await using (var db = NewDb())
        {
            key = await ApiKeys.CreateAsync(db, "shop", ApiScope.Admin, TimeProvider.System.GetUtcNow().UtcDateTime, CancellationToken.None);
        }
        using var api = new HttpClient { BaseAddress = new Uri(Url) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var posted = await api.PostAsJsonAsync("/api/v1/events", new { events = new[] { new { type = "account.created", email = "ann@example.com", properties = new { } } } });
        Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());

        var page = await OpenPageAsync();
        await BrowserTests.SignInAsync(page, Url, "/journeys/" + id);
        await MailPagesBrowserTests.ReloadUntilAsync(page, page.Locator("[data-test=counts] td[data-label=Entered]"), "1");
        await MailPagesBrowserTests.ReloadUntilAsync(page, page.Locator("[data-test=step-report] tbody tr").First.Locator("td[data-label=Sent]"), "1");
        await Expect(page.Locator("[data-test=counts] td[data-label=Active]")).ToHaveTextAsync("1"); // waiting three days for the next e-mail
        await Expect(page.Locator("[data-test=counts] td[data-label='Control group']")).ToHaveTextAsync("0");

        await page.GotoAsync(Url + "/journeys");
        await Expect(page.Locator("[data-test=journeys] tbody tr td[data-label=Entered]")).ToHaveTextAsync("1");
    }
}
