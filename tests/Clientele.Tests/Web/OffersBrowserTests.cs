using Clientele.Contacts;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Clientele.Tests.Web;

/// <summary>The Offers page in Debian's chromium: an offer made from the form, given to a customer by hand, refused by the fatigue guard.</summary>
public sealed class OffersBrowserTests() : RunningApp("clientele-offers-")
{
    private protected override void Seed(ClienteleDb db, DateTime time) =>
        db.Contacts.Add(new Contact { Id = Guid.CreateVersion7(), Email = "ria@example.com", EmailNormalized = "ria@example.com", FirstName = "Ria", CreatedAt = time, UpdatedAt = time });

    [Fact]
    public async Task A_marketer_creates_an_offer_gives_it_to_a_customer_and_the_guard_refuses_a_second_one()
    {
        var page = await SignedInAsync("/offers");
        await Expect(page.GetByText("No offers yet.")).ToBeVisibleAsync();

        await page.Locator("[data-test=create-offer]").ClickAsync();
        await Expect(page.Locator("[data-test=offer-errors]")).ToContainTextAsync("A name of 1 to 200 characters.");

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Thank you");
        await page.GetByLabel("Title the customer reads").FillAsync("10 % off your next bag");
        await page.GetByLabel("Per cent").FillAsync("10");
        await page.GetByLabel("Prefix of each code (optional)").FillAsync("THX-");
        await page.Locator("[data-test=create-offer]").ClickAsync();
        var row = page.Locator("[data-test=offers] tbody tr").First;
        await Expect(row).ToContainTextAsync("Thank you");
        await Expect(row).ToContainTextAsync("10 %");

        await page.GetByRole(AriaRole.Button, new() { Name = "Give Thank you to a contact" }).ClickAsync();
        await page.GetByLabel("Contact's e-mail").FillAsync("ria@example.com");
        await page.Locator("[data-test=give]").ClickAsync();
        await Expect(page.Locator("[data-test=give-note]")).ToContainTextAsync("Given: THX-");
        await Expect(row.Locator("td[data-label=Issued]")).ToHaveTextAsync("1");

        // The guard allows two offers in 30 days by default: a third is refused with the reason.
        await page.GetByRole(AriaRole.Button, new() { Name = "Give Thank you to a contact" }).ClickAsync();
        await page.GetByLabel("Contact's e-mail").FillAsync("ria@example.com");
        await page.Locator("[data-test=give]").ClickAsync();
        await Expect(page.Locator("[data-test=give-note]")).ToContainTextAsync("Given: THX-");
        await page.GetByRole(AriaRole.Button, new() { Name = "Give Thank you to a contact" }).ClickAsync();
        await page.GetByLabel("Contact's e-mail").FillAsync("ria@example.com");
        await page.Locator("[data-test=give]").ClickAsync();
        await Expect(page.Locator("[data-test=give-note]")).ToContainTextAsync("offers");
        await Expect(row.Locator("td[data-label=Issued]")).ToHaveTextAsync("2");

        await using var db = NewDb();
        Assert.Equal(2, await db.Coupons.CountAsync(c => c.Source == "hand"));
    }
}
