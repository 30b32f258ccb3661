using Clientele.Contacts;
using Clientele.Data;
using Clientele.Outbox;
using Clientele.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Clientele.Tests.Web;

/// <summary>The support inbox and a ticket in Debian's chromium: the SLA clock on the list, an answer from the ticket page, the settings.</summary>
public sealed class SupportBrowserTests() : RunningApp("clientele-support-")
{
    private static readonly Guid Late = Guid.CreateVersion7();
    private static readonly Guid Fresh = Guid.CreateVersion7();

    private protected override void Seed(ClienteleDb db, DateTime time)
    {
        foreach (var (id, email, subject, age) in new[] { (Late, "lena@example.com", "Parcel never arrived", 30), (Fresh, "omar@example.com", "Gift wrapping?", 1) })
        {
            var contact = Guid.CreateVersion7();
            db.Contacts.Add(new Contact { Id = contact, Email = email, EmailNormalized = email, FirstName = email[..4], CreatedAt = time, UpdatedAt = time });
            var at = time.AddHours(-age);
            db.Tickets.Add(new Ticket
            {
                Id = id,
                ContactId = contact,
                Subject = subject,
                Channel = "email",
                CreatedAt = at,
                UpdatedAt = at,
                FirstResponseDue = at.AddHours(24),
                BreachAt = at.AddHours(48),
            });
            db.TicketMessages.Add(new TicketMessage { Id = Guid.CreateVersion7(), TicketId = id, Direction = "in", From = email, Body = subject + ", please help.", CreatedAt = at });
        }
    }

    [Fact]
    public async Task An_agent_sees_the_late_ticket_first_answers_it_and_the_customer_gets_the_reply()
    {
        var page = await SignedInAsync("/support");

        await Expect(page.Locator("[data-test=late-count]")).ToHaveTextAsync("1 past target");
        var rows = page.Locator("[data-test=tickets] tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.First).ToContainTextAsync("Parcel never arrived");
        await Expect(rows.First.Locator("[data-test=sla]")).ToContainTextAsync("late · breach in 17 h");
        await Expect(rows.Nth(1).Locator("[data-test=sla]")).ToContainTextAsync("due in 22 h");

        await rows.First.GetByRole(AriaRole.Link, new() { Name = "Parcel never arrived" }).ClickAsync();
        await Expect(page.Locator("[data-test=ticket-subject]")).ToHaveTextAsync("Parcel never arrived");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.GetByLabel("Your answer (sent by e-mail on the same thread)").FillAsync("Sorry, Lena: a new parcel leaves today.");
        await page.Locator("[data-test=send-reply]").ClickAsync();

        await Expect(page.Locator("[data-test=message-out]")).ToContainTextAsync("a new parcel leaves today");
        await Expect(page.Locator("[data-test=ticket-status]")).ToHaveTextAsync("pending");
        await Expect(page.Locator("[data-test=sla]")).ToHaveTextAsync("answered");
        await using var db = NewDb();
        var sent = await db.OutboxMessages.AsNoTracking().SingleAsync(m => m.Kind == "support-reply");
        Assert.Equal(("lena@example.com", "Re: Parcel never arrived", Late), (sent.To, sent.Subject, sent.TicketId!.Value));
        var ticket = await db.Tickets.AsNoTracking().SingleAsync(t => t.Id == Late);
        Assert.Equal("owner@shop.test", ticket.FirstResponder);
    }

    [Fact]
    public async Task An_owner_sets_the_support_phone_and_a_business_hours_target_and_finds_them_kept()
    {
        var page = await SignedInAsync("/support");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Settings" }).ClickAsync();
        await page.GetByLabel("Phone number, shown in every acknowledgement").FillAsync("+44 117 496 0000");
        await page.GetByLabel("Support address (customers' answers come back here)").FillAsync("not an address");
        await page.Locator("[data-test=save-support]").ClickAsync();
        await Expect(page.Locator("[data-test=errors]")).ToContainTextAsync("The support address is an e-mail address.");

        await page.GetByLabel("Support address (customers' answers come back here)").FillAsync("help@harbour.test");
        await page.GetByLabel("Target (hours)").FillAsync("8");
        await page.Locator("[data-test=save-support]").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Saved.");

        await using var db = NewDb();
        var settings = await SettingsStore.LoadAsync(db, SupportSettings.Key, SupportSettings.Default, CancellationToken.None);
        Assert.Equal(("help@harbour.test", "+44 117 496 0000"), (settings.Address, settings.Phone));
        Assert.Equal(8, (await SettingsStore.LoadAsync(db, SlaPolicy.Key, SlaPolicy.Default, CancellationToken.None)).TargetHours);
    }
}
