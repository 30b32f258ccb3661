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
    public async Task An_owner_creates_a_welcome_series_sees_its_flow_and_publishes_it()
    {
        var page = await SignedInAsync("/journeys");

        await Expect(page.GetByText("No journeys yet.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create a journey" }).ClickAsync();

        // The example welcome series, drawn as its flow.
        await Expect(page.Locator("[data-test=flow-trigger] [data-test=card-heading]")).ToHaveTextAsync("Starts on event account.created");
        await Expect(page.Locator("[data-test=flow-entry] [data-test=card-heading]")).ToHaveTextAsync("Once per contact; a contact who meets the goal leaves");
        await Expect(page.Locator("[data-test=flow-step] [data-test=card-heading]"))
            .ToHaveTextAsync(["1. E-mail “Welcome” (topic newsletter)", "2. Wait 3 days", "3. E-mail “Tips” (topic newsletter)"]);
        await Expect(page.Locator("[data-test=flow-end]")).ToHaveTextAsync("End of the journey");

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
        await page.GetByRole(AriaRole.Button, new() { Name = "Advanced: JSON" }).ClickAsync();
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
        // Each is shown on its card in the flow too.
        await Expect(page.Locator("[data-test=flow-trigger]")).ToContainTextAsync("There is no segment “Lapsed”.");
        await Expect(page.Locator("[data-test=flow-step][data-step=nudge]")).ToContainTextAsync("There is no template “Goodbye”.");
        await Expect(page.Locator("[data-test=flow-step][data-step=miss-you]")).Not.ToContainTextAsync("There is no");

        // A definition that does not read is not saved; what was typed stays to be mended.
        var broken = "{\n  \"trigger\": { \"event\": \"order.placed\" }\n  \"steps\": []\n}";
        await definition.FillAsync(broken);
        await Expect(page.Locator("[data-test=outline]")).ToHaveTextAsync("The outline appears once the definition reads as JSON.");
        await Expect(page.Locator("[data-test=flow-unreadable]")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();
        await Expect(page.GetByText("The definition is not valid JSON at line 3, column 3:")).ToBeVisibleAsync();
        await Expect(definition).ToHaveValueAsync(broken);
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-test=publish-blocked]")).ToHaveTextAsync("Save the draft first: publishing uses the saved draft.");
        await Expect(publish).ToBeDisabledAsync();

        // After a reload the saved draft is as it was.
        await page.ReloadAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Expect(Card(page, "nudge").GetByRole(AriaRole.Combobox, new() { Name = "Template" })).ToHaveTextAsync("Goodbye");
        await page.GetByRole(AriaRole.Button, new() { Name = "Advanced: JSON" }).ClickAsync();
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

    private static ILocator Card(IPage page, string id) => page.Locator($"[data-test=flow-step][data-step='{id}']");

    private static ILocator Headings(IPage page) => page.Locator("[data-test=flow-step] [data-test=card-heading]");

    /// <summary>Types into a field and leaves it, as a person does: the flow takes the value when the field is left.</summary>
    private static async Task TypeAsync(ILocator field, string text)
    {
        await field.FillAsync(text);
        await field.BlurAsync();
    }

    /// <summary>Opens a picker by its label and chooses an option by its text.</summary>
    private static async Task PickAsync(IPage page, ILocator scope, string label, string option)
    {
        await scope.GetByRole(AriaRole.Combobox, new() { Name = label }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = option, Exact = true }).ClickAsync();
        // The list closes a moment after the click; what is typed next must not go to it.
        await Expect(page.GetByRole(AriaRole.Listbox)).ToHaveCountAsync(0);
    }

    /// <summary>Adds a step of a kind through the "Add step" menu at a place, e.g. "after step 1 (“email”)".</summary>
    private static async Task AddStepAsync(IPage page, string where, string kind)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Add step " + where, Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = kind, Exact = true }).ClickAsync();
    }

    [Fact]
    public async Task A_marketer_builds_a_journey_with_the_flow_editor_alone_publishes_it_and_finds_it_drawn_the_same_after_a_reload()
    {
        var page = await SignedInAsync("/journeys");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create a journey" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("Order follow-up");

        // It starts on an order, with no goal.
        var trigger = page.Locator("[data-test=flow-trigger]");
        await TypeAsync(trigger.GetByLabel("Event type"), "order.placed");
        await Expect(trigger.Locator("[data-test=card-heading]")).ToHaveTextAsync("Starts on event order.placed");
        await TypeAsync(page.Locator("[data-test=flow-entry]").GetByLabel("Goal"), "");
        await Expect(page.Locator("[data-test=flow-entry] [data-test=card-heading]")).ToHaveTextAsync("Once per contact");

        // The example's steps go, last first; then the flow ends at once.
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete step 3 (“tips”)" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete step 2 (“three-days”)" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete step 1 (“welcome”)" }).ClickAsync();
        await Expect(page.Locator("[data-test=flow-step]")).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-test=flow-end]")).ToHaveTextAsync("End of the journey");

        // An e-mail with a saved template, a wait of two days, and a branch with an e-mail where its condition holds.
        await AddStepAsync(page, "at the start", "E-mail");
        await PickAsync(page, Card(page, "email"), "Template", "Welcome");
        // The wait is added with the keyboard: Enter opens the menu, the arrows choose, and the focus returns to its button.
        var addAfterEmail = page.GetByRole(AriaRole.Button, new() { Name = "Add step after step 1 (“email”)", Exact = true });
        await addAfterEmail.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Menuitem, new() { Name = "E-mail", Exact = true })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("ArrowDown");
        await page.Keyboard.PressAsync("Enter");
        await Expect(Card(page, "wait").Locator("[data-test=card-heading]")).ToHaveTextAsync("2. Wait 1 day");
        await Expect(addAfterEmail).ToBeFocusedAsync();
        await TypeAsync(Card(page, "wait").GetByLabel("Days"), "2");
        await AddStepAsync(page, "after step 2 (“wait”)", "Branch on a condition");
        await TypeAsync(Card(page, "branch").GetByLabel("Condition"), "orders.count() >= 2");
        await AddStepAsync(page, "at the start of the path “If it holds” of step 3 (“branch”)", "E-mail");
        await PickAsync(page, Card(page, "email-2"), "Template", "Tips");

        string[] drawn = ["1. E-mail “Welcome” (topic marketing)", "2. Wait 2 days", "3. Branch: orders.count() >= 2", "4. E-mail “Tips” (topic marketing)"];
        await Expect(Headings(page)).ToHaveTextAsync(drawn);
        var holds = page.Locator("[data-test=flow-lane][data-lane=then]");
        var otherwise = page.Locator("[data-test=flow-lane][data-lane=else]");
        await Expect(holds).ToContainTextAsync("If it holds");
        await Expect(holds.Locator("[data-test=card-heading]")).ToHaveTextAsync(["4. E-mail “Tips” (topic marketing)"]);
        await Expect(holds.Locator("[data-test=flow-end]")).ToHaveTextAsync("End of the journey");
        await Expect(otherwise).ToContainTextAsync("Otherwise");
        await Expect(otherwise.Locator("[data-test=flow-step]")).ToHaveCountAsync(0);
        await Expect(otherwise.Locator("[data-test=flow-end]")).ToHaveTextAsync("End of the journey");
        await Expect(page.Locator("[data-test=card-problems]")).ToHaveCountAsync(0);

        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/journeys/[0-9a-f-]{36}$"));
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Saved.");
        await Expect(page.Locator("[data-test=no-problems]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-test=card-problems]")).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Button, new() { Name = "Publish" }).ClickAsync();
        await Expect(page.Locator("[data-test=status]")).ToHaveTextAsync("active");
        await Expect(page.Locator("[data-test=version]")).ToHaveTextAsync("version 1");

        await page.ReloadAsync();
        await Expect(Headings(page)).ToHaveTextAsync(drawn);
        await Expect(trigger.Locator("[data-test=card-heading]")).ToHaveTextAsync("Starts on event order.placed");
        await Expect(holds.Locator("[data-test=card-heading]")).ToHaveTextAsync(["4. E-mail “Tips” (topic marketing)"]);
        await Expect(otherwise.Locator("[data-test=flow-end]")).ToHaveTextAsync("End of the journey");
        await Expect(Card(page, "email").GetByRole(AriaRole.Combobox, new() { Name = "Template" })).ToHaveTextAsync("Welcome");
        await Expect(Card(page, "wait").GetByLabel("Days")).ToHaveValueAsync("2");

        await using var db = NewDb();
        var saved = await db.Journeys.AsNoTracking().SingleAsync();
        Assert.Equal((JourneyStatus.Active, 1, "order.placed"), (saved.Status, saved.Version, saved.TriggerEvent));
        var definition = JourneyDefinition.Parse(saved.Draft).Definition!;
        Assert.Equal([("email", "Welcome", (int?)null), ("wait", null, 2), ("branch", null, null), ("email", "Tips", null)], definition.Steps.Select(s => (s.Type, s.Template, s.Days)));
        Assert.Equal(("email-2", null, null), (definition.Step("branch")!.Then, definition.Step("branch")!.Else, definition.Goal));
    }

    [Fact]
    public async Task A_branch_whose_condition_does_not_read_shows_the_problem_on_its_own_card()
    {
        var page = await SignedInAsync("/journeys");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create a journey" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("Nudge");
        await AddStepAsync(page, "after step 2 (“three-days”)", "Branch on a condition");
        var branch = Card(page, "branch");
        await Expect(branch.Locator("[data-test=card-heading]")).ToHaveTextAsync("3. Branch (no condition yet)");
        await Expect(branch).ToContainTextAsync("A branch needs a condition.");

        await TypeAsync(branch.GetByLabel("Condition"), "orders.count( >= 1");
        await Expect(branch).ToContainTextAsync(new Regex("Line 1, column \\d+: "));
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();

        // Saved, the problem is listed under Publishing and stays on the branch's card, and on no other.
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Saved.");
        await Expect(page.Locator("[data-test=problems] li")).ToHaveTextAsync([new Regex("^Step 3 \\(“branch”\\), condition: Line 1, column \\d+: ")]);
        await Expect(branch).ToContainTextAsync(new Regex("Line 1, column \\d+: "));
        await Expect(Card(page, "welcome")).Not.ToContainTextAsync("Line 1");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Publish" })).ToBeDisabledAsync();

        // Mended on the card, the problem goes at once; saved, nothing stops publishing.
        await TypeAsync(branch.GetByLabel("Condition"), "orders.count() >= 1");
        await Expect(branch).Not.ToContainTextAsync("Line 1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();
        await Expect(page.Locator("[data-test=no-problems]")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Publish" })).ToBeEnabledAsync();
    }

    [Fact]
    public async Task Json_typed_under_advanced_redraws_the_flow_and_what_the_flow_has_no_input_for_survives_its_edits()
    {
        var page = await SignedInAsync("/journeys");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create a journey" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("Restock");
        var advanced = page.GetByRole(AriaRole.Button, new() { Name = "Advanced: JSON" });
        await advanced.ClickAsync();
        var definition = page.GetByLabel("Definition (JSON)");
        await definition.FillAsync("""
            {
              "trigger": { "event": "order.placed" },
              "steps": [
                { "id": "listen", "type": "waitForEvent", "event": "order.placed", "days": 30, "then": "thanks", "timeout": "remind" },
                { "id": "remind", "type": "email", "template": "Tips", "next": "listen", "note": "ask Ann first" },
                { "id": "thanks", "type": "email", "template": "Welcome" }
              ]
            }
            """);

        // The wait for an order has a lane for each outcome; the reminder loops back to it.
        await Expect(Headings(page)).ToHaveTextAsync(["1. Wait up to 30 days for order.placed", "3. E-mail “Welcome” (topic marketing)", "2. E-mail “Tips” (topic marketing)"]);
        var comes = page.Locator("[data-test=flow-lane][data-lane=then]");
        var timeout = page.Locator("[data-test=flow-lane][data-lane=timeout]");
        await Expect(comes).ToContainTextAsync("When order.placed comes");
        await Expect(comes.Locator("[data-test=flow-end]")).ToHaveTextAsync("End of the journey");
        await Expect(timeout).ToContainTextAsync("If it does not come in time");
        await Expect(timeout.Locator("[data-test=flow-goto]")).ToHaveTextAsync("Go to step 1 (“listen”)");

        // The reminder's note has no input: it is offered as the step's JSON.
        var remind = Card(page, "remind");
        await Expect(remind.Locator("[data-test=unedited]")).ToContainTextAsync("(note)");
        await Expect(remind.GetByLabel("Step 2 (“remind”) as JSON")).ToHaveValueAsync(new Regex("\"note\": \"ask Ann first\""));

        // Renamed in the flow, the links follow and the note stays.
        await TypeAsync(remind.GetByLabel("Step id"), "reminder");
        await Expect(definition).ToHaveValueAsync(new Regex("\"timeout\": \"reminder\""));
        await Expect(definition).ToHaveValueAsync(new Regex("\"note\": \"ask Ann first\""));
        await Expect(Card(page, "reminder")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Saved.");
        await using var db = NewDb();
        var saved = await db.Journeys.AsNoTracking().SingleAsync();
        Assert.Contains("\"note\":\"ask Ann first\"", saved.Draft);
        Assert.Equal("reminder", JourneyDefinition.Parse(saved.Draft).Definition!.Step("listen")!.Timeout);
    }

    [Fact]
    public async Task The_trigger_and_who_may_enter_are_chosen_on_their_cards()
    {
        var page = await SignedInAsync("/journeys");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create a journey" }).ClickAsync();
        var trigger = page.Locator("[data-test=flow-trigger]");
        var heading = trigger.Locator("[data-test=card-heading]");

        await PickAsync(page, trigger, "Starts when", "A yearly anniversary");
        await Expect(heading).ToHaveTextAsync("Starts on each birthday at 09:00 on the contact's clock");
        await PickAsync(page, trigger, "Anniversary of", "The day the contact was added");
        await TypeAsync(trigger.GetByLabel("Days before"), "3");
        await TypeAsync(trigger.GetByLabel("Time of day"), "10:30");
        await Expect(heading).ToHaveTextAsync("Starts on 3 days before each signup anniversary at 10:30 on the contact's clock");

        await PickAsync(page, trigger, "Starts when", "The contact reaches a stage");
        await PickAsync(page, trigger, "Stage", "Loyalty");
        await Expect(heading).ToHaveTextAsync("Starts on reaching stage loyalty");

        await PickAsync(page, trigger, "Starts when", "An event is recorded");
        await TypeAsync(trigger.GetByLabel("Event type"), "order.placed");
        await trigger.GetByRole(AriaRole.Button, new() { Name = "Add a filter" }).ClickAsync();
        await TypeAsync(trigger.GetByRole(AriaRole.Textbox, new() { Name = "Property", Exact = true }), "channel");
        await TypeAsync(trigger.GetByRole(AriaRole.Textbox, new() { Name = "Value", Exact = true }), "web");
        await Expect(heading).ToHaveTextAsync("Starts on event order.placed where channel = web");

        var entry = page.Locator("[data-test=flow-entry]");
        await PickAsync(page, entry, "A contact enters", "At most once per period");
        await TypeAsync(entry.GetByLabel("Period in days"), "14");
        await TypeAsync(entry.GetByLabel("Control group (%)"), "60"); // kept within 0 to 50
        await Expect(entry.Locator("[data-test=card-heading]"))
            .ToHaveTextAsync("At most once every 14 days per contact; a contact who meets the goal leaves; 50 % are a control group");

        await page.GetByRole(AriaRole.Button, new() { Name = "Advanced: JSON" }).ClickAsync();
        await Expect(page.GetByLabel("Definition (JSON)")).ToHaveValueAsync(
            new Regex("\"trigger\": \\{ \"event\": \"order.placed\", \"where\": \\{ \"channel\": \"web\" \\} \\}"));
    }

    [Fact]
    public async Task An_a_b_test_and_a_note_to_the_team_are_set_up_on_their_cards()
    {
        var page = await SignedInAsync("/journeys");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create a journey" }).ClickAsync();

        await AddStepAsync(page, "after step 3 (“tips”)", "A/B test of e-mails");
        var test = Card(page, "ab-test");
        await Expect(test).ToContainTextAsync("An A/B test tries two to five templates");
        await test.GetByRole(AriaRole.Combobox, new() { Name = "Variants (templates)" }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Welcome", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Tips", Exact = true }).ClickAsync();
        await page.Keyboard.PressAsync("Escape");
        await PickAsync(page, test, "The winner has the most", "Orders");
        await Expect(test.Locator("[data-test=card-heading]")).ToContainTextAsync("4. A/B test: “Welcome” or “Tips” in equal shares until one wins on orders");
        await Expect(test).Not.ToContainTextAsync("An A/B test tries");

        await AddStepAsync(page, "after step 4 (“ab-test”)", "Tell the team");
        var tell = Card(page, "notify");
        await TypeAsync(tell.GetByLabel("Who is told"), "owners, ann@shop.test");
        await TypeAsync(tell.GetByLabel("Message"), "Tested both welcomes");
        await Expect(tell.Locator("[data-test=card-heading]")).ToHaveTextAsync("5. Tell owners, ann@shop.test by e-mail: “Tested both welcomes”");

        await page.GetByLabel("Name").FillAsync("Welcome test");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();
        await Expect(page.Locator("[data-test=no-problems]")).ToBeVisibleAsync();
        await using var db = NewDb();
        var definition = JourneyDefinition.Parse((await db.Journeys.AsNoTracking().SingleAsync()).Draft).Definition!;
        Assert.Equal(["Welcome", "Tips"], definition.Step("ab-test")!.Variants!);
        Assert.Equal(("order", "Tested both welcomes"), (definition.Step("ab-test")!.WinBy, definition.Step("notify")!.Message));
    }
}
