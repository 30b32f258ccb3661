using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Dashboard;
using Clientele.Data;
using Clientele.Journeys;
using Clientele.Lifecycle;
using Clientele.Segments;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Clientele.Tests.Web;

/// <summary>The owner's dashboard in Debian's chromium: the figures, the charts' text alternatives, and one click to win a customer back.</summary>
public sealed class DashboardBrowserTests() : RunningApp("clientele-dashboard-")
{
    private static readonly Guid Ann = Guid.CreateVersion7();

    private protected override void Seed(ClienteleDb db, DateTime time)
    {
        // Four customers: two slipping away (Ann worth more than Bob), one loyal, one gone; three of them bought again.
        Customer(Ann, "Ann", "Lee", Health.AtRisk, 0.45, 900m, Stage.RePurchase, [-200, -100]);
        Customer(Guid.CreateVersion7(), "Bob", "Stone", Health.AtRisk, 0.5, 400m, Stage.RePurchase, [-150, -90]);
        Customer(Guid.CreateVersion7(), "Cleo", "Diaz", Health.Active, 0.95, 1_200m, Stage.Loyalty, [-60, -20, -5]);
        Customer(Guid.CreateVersion7(), "Dan", "Fox", Health.Lapsed, 0.1, 50m, Stage.Purchase, [-500]);

        void Customer(Guid id, string first, string last, Health health, double alive, decimal value, Stage stage, int[] daysAgo)
        {
            var email = first.ToLowerInvariant() + "@example.com";
            db.Contacts.Add(new Contact
            {
                Id = id,
                Email = email,
                EmailNormalized = email,
                FirstName = first,
                LastName = last,
                Stage = stage,
                Health = health,
                UtmSource = "google",
                CreatedAt = time.AddDays(daysAgo[0]),
                UpdatedAt = time,
                Value = new ContactValueScores { ProbabilityAlive = alive, PredictedValue = value, Currency = "EUR", RfmCell = "333", ScoredAt = time },
                Consents = [new ContactConsent { ContactId = id, Topic = "offers", Status = ConsentStatus.Subscribed, At = time, Source = "test" }],
            });
            foreach (var (ago, i) in daysAgo.Select((d, i) => (d, i)))
            {
                db.Orders.Add(new Order
                {
                    Id = Guid.CreateVersion7(),
                    ContactId = id,
                    ExternalId = $"{first}-{i}",
                    Total = 40,
                    Currency = "EUR",
                    PlacedAt = time.AddDays(ago),
                    CreatedAt = time,
                    UpdatedAt = time,
                });
            }
        }
    }

    [Fact]
    public async Task An_owner_reads_the_figures_and_charts_and_puts_the_most_valuable_customer_at_risk_into_win_back_with_one_click()
    {
        SkipUnlessChromium();
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        var (installed, problem) = await Playbooks.InstallCoreAsync("win-back", true, Services.GetRequiredService<ClienteleDatabase>(),
            Services.GetRequiredService<JourneyEntry>(), Services.GetRequiredService<SegmentRebuilds>(), now, CancellationToken.None);
        Assert.Null(problem);
        await Services.GetRequiredService<DashboardRollup>().BuildAsync(CancellationToken.None);

        var page = await SignedInAsync("/");

        await Expect(page.Locator("[data-test=kpi-customers] [data-test=value]")).ToHaveTextAsync("4");
        await Expect(page.Locator("[data-test=kpi-repeat-rate] [data-test=value]")).ToHaveTextAsync("75 %");
        await Expect(page.Locator("[data-test=kpi-at-risk] [data-test=value]")).ToHaveTextAsync("2");
        await Expect(page.Locator("[data-test=kpi-average-clv] [data-test=value]")).ToHaveTextAsync("637.50 EUR");
        await Expect(page.Locator("[data-test=kpi-back-end] [data-test=value]")).ToHaveTextAsync("80.00 EUR"); // Cleo's two orders of the last 30 days
        await Expect(page.Locator("[data-test=chart-stages] [data-test=summary]")).ToHaveTextAsync("4 contacts: 1 Purchase, 2 Re-Purchase, 1 Loyalty.");
        await Expect(page.Locator("[data-test=chart-pareto] [data-test=summary]")).ToContainTextAsync("The best 20 % of customers brought");
        await Expect(page.Locator("[data-test=chart-clv] [data-test=summary]")).ToContainTextAsync("4 customers, 637.50 EUR on average");
        await Expect(page.Locator("[data-test=chart-revenue] [data-test=summary]")).ToContainTextAsync("from repeat orders");
        // Each chart is a picture named by its title and summary, and its numbers are a switch away, from the keyboard too.
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = "Contacts per stage" })).ToHaveCountAsync(1);
        await page.Locator("[data-test=chart-stages] input[type=checkbox]").FocusAsync();
        await page.Keyboard.PressAsync("Space");
        await Expect(page.Locator("[data-test=chart-stages] [data-test=table]")).ToContainTextAsync("Re-Purchase");
        await Expect(page.Locator("[data-test=chart-stages] [data-test=table] a", new() { HasText = "Loyalty" })).ToHaveAttributeAsync("href", "/contacts?stage=loyalty");

        var rows = page.Locator("[data-test=at-risk-row]");
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.First).ToContainTextAsync("Ann Lee");
        await Expect(rows.Nth(1)).ToContainTextAsync("Bob Stone");
        await rows.First.GetByRole(AriaRole.Button, new() { Name = "Enroll Ann Lee in Win-back" }).ClickAsync();

        await Expect(page.Locator("[data-test=enroll-note]")).ToHaveTextAsync("Ann Lee is now in Win-back.");
        await Expect(rows.First.Locator("[data-test=enrolled]")).ToContainTextAsync("In Win-back since");
        await Expect(rows.Nth(1).Locator("[data-test=enroll]")).ToBeVisibleAsync();
        await using var db = NewDb();
        var run = await db.JourneyRuns.AsNoTracking().SingleAsync(r => r.JourneyId == installed!.JourneyId && r.ContactId == Ann);
        Assert.Equal(RunStatus.Active, run.Status);
    }
}
