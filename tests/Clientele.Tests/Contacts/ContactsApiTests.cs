using System.Net;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Contacts;

public sealed class ContactsApiTests
{
    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Posting_a_contact_twice_with_differently_cased_emails_updates_one_contact(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");

        var created = await api.PostJsonAsync("/api/v1/contacts", new
        {
            email = "Ann@Example.com",
            firstName = "Ann",
            tags = new[] { "vip" },
            timeZone = "Europe/Berlin",
            attributes = new { company = "Acme", seats = 5 },
            consent = new { newsletter = "subscribed" },
        });
        var updated = await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@EXAMPLE.com", lastName = "Lee", attributes = new { seats = 7 } });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var contact = await updated.ReadJsonAsync();
        Assert.Equal((await created.ReadJsonAsync()).GetProperty("id").GetString(), contact.GetProperty("id").GetString());
        Assert.Equal("Ann", contact.GetProperty("firstName").GetString());
        Assert.Equal("Lee", contact.GetProperty("lastName").GetString());
        Assert.Equal("Acme", contact.GetProperty("attributes").GetProperty("company").GetString());
        Assert.Equal(7, contact.GetProperty("attributes").GetProperty("seats").GetInt32());
        Assert.Equal("subscribed", contact.GetProperty("consent").GetProperty("newsletter").GetProperty("status").GetString());
        Assert.Equal("api", contact.GetProperty("consent").GetProperty("newsletter").GetProperty("source").GetString());
        await using var data = app.NewDb();
        Assert.Equal(1, await data.Contacts.CountAsync());
        Assert.Equal(1, await data.Events.CountAsync(e => e.Type == "consent.given"));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_contact_who_unsubscribed_is_not_resubscribed_by_an_upsert(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com", consent = new { newsletter = "subscribed" } });
        await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com", consent = new { newsletter = "unsubscribed" } });

        var again = await (await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com", consent = new { newsletter = "subscribed" } })).ReadJsonAsync();

        Assert.Equal("unsubscribed", again.GetProperty("consent").GetProperty("newsletter").GetProperty("status").GetString());
        Assert.Contains("withdrew consent", again.GetProperty("warnings")[0].GetString());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Invalid_fields_are_reported_by_pointer_and_nothing_is_stored(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");

        var response = await api.PostRawAsync("/api/v1/contacts",
            """{"email": "ann@", "timeZone": "Mars/Olympus", "birthday": "31/12/1990", "tags": [1], "firstName": 5}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        foreach (var field in new[] { "/email", "/timeZone", "/birthday", "/tags", "/firstName" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"expected an error for {field}");
        }
        await using var data = app.NewDb();
        Assert.Equal(0, await data.Contacts.CountAsync());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_list_pages_with_a_cursor_and_finds_people_by_name_or_email_prefix(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        for (var i = 0; i < 7; i++)
        {
            await api.PostJsonAsync("/api/v1/contacts", new { email = $"person{i}@shop.example", firstName = i == 3 ? "Zoë" : "Sam", tags = i % 2 == 0 ? new[] { "vip" } : [] });
            app.Time.Advance(TimeSpan.FromMinutes(1));
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await (await api.GetAsync("/api/v1/contacts?limit=3" + (cursor is null ? "" : "&cursor=" + cursor))).ReadJsonAsync();
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("email").GetString()!));
            cursor = page.GetProperty("next").GetString();
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Reverse().Select(i => $"person{i}@shop.example"), seen);
        var byName = await (await api.GetAsync("/api/v1/contacts?q=zoe")).ReadJsonAsync();
        Assert.Equal("person3@shop.example", Assert.Single(byName.GetProperty("items").EnumerateArray()).GetProperty("email").GetString());
        var byPrefix = await (await api.GetAsync("/api/v1/contacts?q=person5")).ReadJsonAsync();
        Assert.Single(byPrefix.GetProperty("items").EnumerateArray());
        var vip = await (await api.GetAsync("/api/v1/contacts?tag=vip&limit=100")).ReadJsonAsync();
        Assert.Equal(4, vip.GetProperty("items").GetArrayLength());
        var byEmail = await (await api.GetAsync("/api/v1/contacts?email=PERSON6@shop.example")).ReadJsonAsync();
        Assert.Single(byEmail.GetProperty("items").EnumerateArray());
        var badStage = await api.GetAsync("/api/v1/contacts?stage=golden");
        Assert.Equal(HttpStatusCode.BadRequest, badStage.StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_deleted_contact_disappears_from_the_api_but_keeps_its_history(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        var id = (await (await api.PostJsonAsync("/api/v1/events", new { events = new[] { new { type = "page.viewed", email = "ann@example.com" } } })).ReadJsonAsync())
            .GetProperty("results")[0].GetProperty("contactId").GetString();

        var deleted = await api.DeleteAsync($"/api/v1/contacts/{id}");
        var get = await api.GetAsync($"/api/v1/contacts/{id}");
        var list = await (await api.GetAsync("/api/v1/contacts")).ReadJsonAsync();
        var again = await api.DeleteAsync($"/api/v1/contacts/{id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal("application/problem+json", get.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        await using var data = app.NewDb();
        Assert.Equal(1, await data.Events.CountAsync(e => e.CauseEventId == null)); // what was sent, not what was derived from it
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Patching_an_unknown_contact_is_a_404_problem(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");

        var response = await api.PatchAsync($"/api/v1/contacts/{Guid.NewGuid()}", new StringContent("""{"firstName": "X"}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("No contact", (await response.ReadJsonAsync()).GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task New_activity_from_a_deleted_contact_brings_them_back_with_everything_they_had(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        var created = await (await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com", firstName = "Ann", tags = new[] { "vip" } })).ReadJsonAsync();
        var id = created.GetProperty("id").GetString();
        await api.DeleteAsync($"/api/v1/contacts/{id}");

        var events = await (await api.PostJsonAsync("/api/v1/events", new
        {
            events = new object[]
            {
                new { type = "page.viewed", email = "ANN@example.com" },
                new { type = "page.viewed", externalId = "shop-7", email = "bob@example.com" },
                new { type = "page.viewed", externalId = "shop-7" },
            },
        })).ReadJsonAsync();

        Assert.Equal(id, events.GetProperty("results")[0].GetProperty("contactId").GetString());
        var back = await (await api.GetAsync($"/api/v1/contacts/{id}")).ReadJsonAsync();
        Assert.Equal("Ann", back.GetProperty("firstName").GetString());
        Assert.Equal("vip", back.GetProperty("tags")[0].GetString());
        var bob = events.GetProperty("results")[1].GetProperty("contactId").GetString();
        Assert.Equal(bob, events.GetProperty("results")[2].GetProperty("contactId").GetString());
        var bobContact = await (await api.GetAsync($"/api/v1/contacts/{bob}")).ReadJsonAsync();
        Assert.Equal("shop-7", bobContact.GetProperty("externalId").GetString());
    }
}
