using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Lifecycle;
using Clientele.Tests.Web;
using Clientele.Value;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Clientele.Tests.Value;

/// <summary>The Insights pages in Debian's chromium: the CLV calculator answering as the owner types, and a report downloaded as CSV.</summary>
public sealed class InsightsBrowserTests() : RunningApp("clientele-insights-")
{
    private protected override void Seed(ClienteleDb db, DateTime time)
    {
        // Two customers this year: three orders of 100, 50 and 30 (60 on average, 1.5 per customer).
        Customer("ann@example.com", "google", 900m, [(-90, 100m), (-30, 50m)]);
        Customer("bob@example.com", "=cmd|' /C calc'!A0", 300m, [(-60, 30m)]);

        void Customer(string email, string source, decimal value, (int DaysAgo, decimal Total)[] orders)
        {
            var id = Guid.CreateVersion7();
            db.Contacts.Add(new Contact
            {
                Id = id,
                Email = email,
                EmailNormalized = email,
                UtmSource = source,
                Stage = orders.Length > 1 ? Stage.RePurchase : Stage.Purchase,
                Health = Health.Active,
                CreatedAt = time.AddDays(orders[0].DaysAgo),
                UpdatedAt = time,
                Value = new ContactValueScores { ProbabilityAlive = 0.9, PredictedValue = value, Currency = "EUR", RfmCell = "444", ScoredAt = time },
            });
            foreach (var (ago, total) in orders)
            {
                db.Orders.Add(new Order
                {
                    Id = Guid.CreateVersion7(),
                    ContactId = id,
                    ExternalId = $"{email}-{ago}",
                    Total = total,
                    Currency = "EUR",
                    PlacedAt = time.AddDays(ago),
                    Status = OrderStatus.Placed,
                    CreatedAt = time,
                    UpdatedAt = time,
                });
            }
        }
    }

    [Fact]
    public async Task An_owner_changes_the_order_value_in_the_calculator_sees_the_value_follow_and_downloads_value_by_source_as_csv()
    {
        SkipUnlessChromium();
        CalculatorDefaults defaults;
        await using (var db = NewDb())
        {
            defaults = await CalculatorDefaults.LoadAsync(db, TimeProvider.System.GetUtcNow().UtcDateTime, CancellationToken.None);
        }
        string Clv(double aov) => Clientele.Web.Format.Money((decimal)Math.Round(ClvCalculator.Compute(
            new CalculatorInput(aov, 1.5, defaults.MarginPercent.Value, false, defaults.RetentionPercent.Value, null, defaults.DiscountPercent.Value))!.Value, 2), "EUR");

        var page = await SignedInAsync("/insights/calculator");

        var aov = page.GetByLabel("Average order value (EUR)");
        await Expect(aov).ToHaveValueAsync("60");
        await Expect(page.GetByText("From the average of your 3 orders in EUR in the last 12 months.")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-test=clv]")).ToHaveTextAsync(Clv(60));
        await aov.FillAsync("120");
        await Expect(page.Locator("[data-test=clv]")).ToHaveTextAsync(Clv(120));
        await Expect(page.Locator("[data-test=chart-what-if] [data-test=summary]")).ToContainTextAsync($"the value is {Clv(120)} (marked ▲)");
        var retention = page.GetByLabel("Retention: customers who buy again the next year (%)");
        await retention.FillAsync("100");
        await Expect(page.GetByText("Retention is a percentage from 0 to under 100")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-test=clv]")).ToHaveTextAsync("—");

        await page.GotoAsync(Url + "/insights/value");
        await BrowserTests.LiveAsync(page);
        await Expect(page.Locator("[data-test=chart-value-source] [data-test=summary]")).ToContainTextAsync("Highest: google (900.00 EUR over 1 customers)");
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("[data-test=value-source-csv]").ClickAsync());
        var csv = await File.ReadAllTextAsync(await download.PathAsync());

        Assert.Equal("value-by-source-all.csv", download.SuggestedFilename);
        Assert.Equal(
            "source,customers,total_predicted_value,average_predicted_value,currency\r\ngoogle,1,900,900,EUR\r\n\"'=cmd|' /c calc'!a0\",1,300,300,EUR\r\n",
            csv);
    }
}
