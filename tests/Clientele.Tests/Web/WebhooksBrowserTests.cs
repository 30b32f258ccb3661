using Clientele.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Clientele.Tests.Web;

/// <summary>Settings → Webhooks in Debian's chromium: an owner subscribes a receiver to events, is told what is wrong first, pauses and removes it.</summary>
public sealed class WebhooksBrowserTests() : RunningApp("clientele-webhooks-")
{
    private protected override void Seed(ClienteleDb db, DateTime time)
    {
    }

    [Fact]
    public async Task An_owner_subscribes_a_receiver_to_orders_and_tickets_pauses_it_and_removes_it()
    {
        var page = await SignedInAsync("/settings/webhooks");
        await Expect(page.GetByText("No receivers yet.")).ToBeVisibleAsync();

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Shop CRM");
        await page.GetByLabel("Address (https://…)").FillAsync("http://127.0.0.1:8080/hook");
        await page.Locator("[data-test=add-subscription]").ClickAsync();
        await Expect(page.Locator("[data-test=subscription-errors]")).ToContainTextAsync("Name at least one event type");
        await Expect(page.Locator("[data-test=subscription-errors]")).ToContainTextAsync("127.0.0.1");

        await page.GetByLabel("Address (https://…)").FillAsync("https://crm.example.com/hook");
        await page.GetByLabel("order.* — an order placed, updated, cancelled or refunded").CheckAsync();
        await page.GetByLabel("ticket.* — a support ticket opened, replied to, solved or reopened").CheckAsync();
        await page.Locator("[data-test=add-subscription]").ClickAsync();
        var row = page.Locator("[data-test=subscriptions] tbody tr").First;
        await Expect(row).ToContainTextAsync("Shop CRM");
        await Expect(row).ToContainTextAsync("order.*, ticket.*");
        await Expect(row.Locator("td[data-label=State]")).ToHaveTextAsync("active");

        await page.GetByRole(AriaRole.Button, new() { Name = "Pause Shop CRM" }).ClickAsync();
        await Expect(row.Locator("td[data-label=State]")).ToHaveTextAsync("paused");
        await using (var db = NewDb())
        {
            var saved = await db.WebhookSubscriptions.AsNoTracking().SingleAsync();
            Assert.Equal(["order.*", "ticket.*"], saved.Events.Order());
            Assert.False(saved.Active);
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Remove Shop CRM" }).ClickAsync();
        await Expect(page.GetByText("No receivers yet.")).ToBeVisibleAsync();
    }
}
