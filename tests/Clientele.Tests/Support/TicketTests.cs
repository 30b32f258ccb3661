using System.Net;
using Clientele.Support;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Journeys;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Support;

public sealed class TicketTests
{
    private static readonly DateTime Opened = new(2026, 11, 24, 9, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(23, "on-time")]
    [InlineData(24, "on-time")]
    [InlineData(30, "late")]
    [InlineData(48, "late")]
    [InlineData(49, "breached")]
    public void The_first_response_clock_is_on_time_for_a_day_late_for_the_second_and_breached_after(int hours, string state) =>
        Assert.Equal(state, Sla.State(Waiting(), SlaPolicy.Default, Opened.AddHours(hours)));

    private static Ticket Waiting() => new() { CreatedAt = Opened, FirstResponseDue = Sla.FirstResponseDue(Opened, SlaPolicy.Default), BreachAt = Sla.BreachAt(Opened, SlaPolicy.Default) };

    [Fact]
    public void An_answered_ticket_says_whether_the_answer_came_within_the_limit()
    {
        Assert.Equal("answered", Sla.State(new Ticket { CreatedAt = Opened, FirstRespondedAt = Opened.AddHours(30) }, SlaPolicy.Default, Opened.AddDays(9)));
        Assert.Equal("answered-late", Sla.State(new Ticket { CreatedAt = Opened, FirstRespondedAt = Opened.AddHours(60) }, SlaPolicy.Default, Opened.AddDays(9)));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_inquiry_through_the_api_opens_a_ticket_due_in_24_hours_on_the_contacts_timeline(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync();
        var created = await api.PostJsonAsync("/api/v1/tickets", new { email = "New.Person@example.com", subject = "Where is my order?", body = "I ordered on Monday." });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var ticket = await created.ReadJsonAsync();
        var id = ticket.GetProperty("id").GetGuid();
        Assert.Equal("open", ticket.GetProperty("status").GetString());
        Assert.Equal("on-time", ticket.GetProperty("sla").GetString());
        Assert.Equal(app.Time.GetUtcNow().UtcDateTime.AddHours(24), ticket.GetProperty("firstResponseDue").GetDateTime(), TimeSpan.FromSeconds(1));
        Assert.Equal("I ordered on Monday.", ticket.GetProperty("messages")[0].GetProperty("body").GetString());

        app.Time.Advance(TimeSpan.FromHours(30));
        Assert.Equal("late", (await (await api.GetAsync($"/api/v1/tickets/{id}")).ReadJsonAsync()).GetProperty("sla").GetString());
        app.Time.Advance(TimeSpan.FromHours(19));
        Assert.Equal("breached", (await (await api.GetAsync($"/api/v1/tickets/{id}")).ReadJsonAsync()).GetProperty("sla").GetString());

        await app.DrainAsync();
        await using var db = app.NewDb();
        var contact = await db.Contacts.AsNoTracking().SingleAsync(c => c.EmailNormalized == "new.person@example.com");
        Assert.Equal(ticket.GetProperty("contactId").GetGuid(), contact.Id);
        Assert.Equal(1, await db.Events.CountAsync(e => e.ContactId == contact.Id && e.Type == "ticket.opened"));

        var bad = await api.PostJsonAsync("/api/v1/tickets", new { email = "not an address", subject = "", priority = "asap" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problems = await bad.Content.ReadAsStringAsync();
        foreach (var field in new[] { "/email", "/subject", "/body", "/priority" })
        {
            Assert.Contains(field, problems);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/v1/tickets/{Guid.NewGuid()}")).StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_task_step_opens_one_ticket_per_run_for_the_person_named(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        var ann = await JourneyFlowTests.ContactAsync(api, "ann@example.com");
        await JourneyFlowTests.JourneyAsync(api, "Big spender", new
        {
            trigger = new { @event = "vip.flagged" },
            steps = new object[] { new { id = "call", type = "task", subject = "Call to say thank you", message = "A big first order.", assignee = "owner@shop.example", priority = "high" } },
        });
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "vip.flagged");
        await JourneyFlowTests.RunDueAsync(app);
        await JourneyFlowTests.RunDueAsync(app);

        var tickets = (await (await api.GetAsync("/api/v1/tickets?status=open")).ReadJsonAsync()).EnumerateArray().ToList();
        var task = Assert.Single(tickets);
        Assert.Equal(ann, task.GetProperty("contactId").GetGuid());
        Assert.Equal("Call to say thank you", task.GetProperty("subject").GetString());
        Assert.Equal("owner@shop.example", task.GetProperty("assignee").GetString());
        Assert.Equal("high", task.GetProperty("priority").GetString());
        Assert.Equal("journey", task.GetProperty("channel").GetString());
        var full = await (await api.GetAsync($"/api/v1/tickets/{task.GetProperty("id").GetGuid()}")).ReadJsonAsync();
        Assert.StartsWith("A big first order.", full.GetProperty("messages")[0].GetProperty("body").GetString());
        Assert.Equal("note", full.GetProperty("messages")[0].GetProperty("direction").GetString());
    }
}
