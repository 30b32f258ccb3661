using System.Net;
using System.Text.Json;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Events;

public sealed class EventIngestApiTests
{
    private static object Order(string email, string orderId, decimal total, string? key = null) => new
    {
        type = "order.placed",
        email,
        occurredAt = "2026-05-01T10:00:00Z",
        properties = new { orderId, total, currency = "USD", items = new[] { new { sku = "A1", category = "Coffee", quantity = 1, price = total } } },
        idempotencyKey = key ?? "order-" + orderId,
    };

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_order_event_for_an_unknown_email_creates_a_purchaser_with_the_order_on_the_timeline(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");

        var response = await api.PostJsonAsync("/api/v1/events", new { events = new[] { Order("Ann@Example.com", "1001", 49m) } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.ReadJsonAsync()).GetProperty("results")[0];
        Assert.Equal("stored", result.GetProperty("status").GetString());
        var contactId = result.GetProperty("contactId").GetString();

        await app.DrainAsync();
        var contact = await (await api.GetAsync($"/api/v1/contacts/{contactId}")).ReadJsonAsync();
        Assert.Equal("purchase", contact.GetProperty("stage").GetString());
        Assert.Equal("Ann@Example.com", contact.GetProperty("email").GetString());

        var timeline = await (await api.GetAsync($"/api/v1/contacts/{contactId}/timeline")).ReadJsonAsync();
        var items = timeline.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["stage.changed", "order.placed"], items.Select(i => i.GetProperty("type").GetString()));
        var item = items[1];
        Assert.Equal(49m, item.GetProperty("order").GetProperty("total").GetDecimal());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_batch_with_bad_items_stores_the_good_ones_and_reports_the_bad_ones_by_index(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");

        var response = await api.PostRawAsync("/api/v1/events", """
            {"events": [
              {"type": "page.viewed", "email": "ann@example.com", "properties": {"url": "/pricing"}},
              {"type": "page.viewed", "email": "not-an-email"},
              {"type": "Page Viewed", "email": "bob@example.com"},
              {"type": "page.viewed"},
              {"type": "page.viewed", "email": "bob@example.com", "occurredAt": "yesterday"},
              {"type": "page.viewed", "email": "bob@example.com", "properties": [1, 2]},
              {"type": "page.viewed", "contactId": "00000000-0000-0000-0000-000000000001"},
              42,
              {"type": "page.viewed", "email": "bob@example.com"}
            ]}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.ReadJsonAsync()).GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(9, results.Count);
        Assert.Equal(["stored", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected", "stored"],
            results.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal("email", results[1].GetProperty("error").GetProperty("field").GetString());
        Assert.Equal("/events/1/email", results[1].GetProperty("error").GetProperty("pointer").GetString());
        Assert.Equal("type", results[2].GetProperty("error").GetProperty("field").GetString());
        Assert.Equal("email", results[3].GetProperty("error").GetProperty("field").GetString());
        Assert.Equal("occurredAt", results[4].GetProperty("error").GetProperty("field").GetString());
        Assert.Equal("properties", results[5].GetProperty("error").GetProperty("field").GetString());
        Assert.Equal("contactId", results[6].GetProperty("error").GetProperty("field").GetString());

        await using var data = app.NewDb();
        Assert.Equal(2, await data.Events.CountAsync(e => e.CauseEventId == null)); // what was sent, not what was derived from it
        Assert.Equal(2, await data.Contacts.CountAsync());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Replaying_an_event_with_the_same_idempotency_key_stores_it_once(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        var batch = new { events = new[] { Order("ann@example.com", "1001", 49m), Order("ann@example.com", "1001", 49m) } };

        var first = (await (await api.PostJsonAsync("/api/v1/events", batch)).ReadJsonAsync()).GetProperty("results");
        var second = (await (await api.PostJsonAsync("/api/v1/events", batch)).ReadJsonAsync()).GetProperty("results");

        Assert.Equal("stored", first[0].GetProperty("status").GetString());
        Assert.Equal("duplicate", first[1].GetProperty("status").GetString());
        Assert.Equal(first[0].GetProperty("eventId").GetString(), first[1].GetProperty("eventId").GetString());
        Assert.All(second.EnumerateArray(), r => Assert.Equal("duplicate", r.GetProperty("status").GetString()));
        Assert.Equal(first[0].GetProperty("eventId").GetString(), second[0].GetProperty("eventId").GetString());
        await app.DrainAsync();
        await using var data = app.NewDb();
        Assert.Equal(1, await data.Events.CountAsync(e => e.Type == "order.placed"));
        Assert.Equal(1, await data.Orders.CountAsync());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Many_requests_at_once_naming_the_same_new_people_create_each_person_once(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        // 40 requests at once, each naming the same 30 new people (by e-mail, in a different order each time) and one of
        // its own; on PostgreSQL several writers store groups side by side.
        var people = Enumerable.Range(0, 30).Select(i => $"p{i:D2}@example.com").ToList();
        var requests = Enumerable.Range(0, 40).Select(r => new
        {
            events = people.Select((email, i) => people[(i + r) % people.Count]).Append($"own{r:D2}@example.com")
                .Select(email => new { type = "page.viewed", email, occurredAt = $"2026-05-01T10:{r:D2}:00Z" }).ToArray(),
        }).ToList();

        var responses = await Task.WhenAll(requests.Select(body => api.PostJsonAsync("/api/v1/events", body)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var results = new List<JsonElement>();
        foreach (var response in responses)
        {
            results.AddRange((await response.ReadJsonAsync()).GetProperty("results").EnumerateArray());
        }
        Assert.All(results, r => Assert.Equal("stored", r.GetProperty("status").GetString()));
        await using var data = app.NewDb();
        var contacts = await data.Contacts.AsNoTracking().Select(c => new { c.Id, c.EmailNormalized, c.LastActivityAt }).ToListAsync();
        Assert.Equal(70, contacts.Count);
        Assert.Equal(70, contacts.Select(c => c.EmailNormalized).Distinct().Count());
        // Every event names the one contact its person has, and each contact's last activity is its latest event.
        var byEmail = contacts.ToDictionary(c => c.EmailNormalized!);
        var events = await data.Events.AsNoTracking().Where(e => e.Type == "page.viewed").Select(e => new { e.ContactId, e.OccurredAt }).ToListAsync();
        Assert.Equal(40 * 31, events.Count);
        Assert.Equal(30 * 40, events.Count(e => people.Any(p => byEmail[p].Id == e.ContactId)));
        await app.DrainAsync();
        var latest = events.GroupBy(e => e.ContactId).ToDictionary(g => g.Key, g => g.Max(e => e.OccurredAt));
        var after = await data.Contacts.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.LastActivityAt);
        Assert.All(latest, l => Assert.Equal(l.Value, after[l.Key]));
        Assert.Equal(new DateTime(2026, 5, 1, 10, 39, 0, DateTimeKind.Utc), after[byEmail["p00@example.com"].Id]);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_retried_request_with_the_same_Idempotency_Key_header_gets_the_first_answer_again(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        var body = """{"events": [{"type": "page.viewed", "email": "ann@example.com"}]}""";

        async Task<HttpResponseMessage> Send(string json)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/events") { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Add("Idempotency-Key", "req-1");
            return await api.SendAsync(request);
        }

        var first = await Send(body);
        var retry = await Send(body);
        var misuse = await Send("""{"events": [{"type": "page.viewed", "email": "bob@example.com"}]}""");

        Assert.Equal(await first.Content.ReadAsStringAsync(), await retry.Content.ReadAsStringAsync());
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, misuse.StatusCode);
        Assert.Equal("application/problem+json", misuse.Content.Headers.ContentType?.MediaType);
        await using var data = app.NewDb();
        Assert.Equal(1, await data.Events.CountAsync(e => e.CauseEventId == null)); // what was sent, not what was derived from it
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Bodies_that_are_not_a_batch_get_a_problem_document_saying_what_and_where(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");

        var malformed = await api.PostRawAsync("/api/v1/events", """{"events": [{"type": "page.viewed",""");
        var notBatch = await api.PostRawAsync("/api/v1/events", """[{"type": "page.viewed"}]""");
        var tooBig = await api.PostJsonAsync("/api/v1/events", new { events = Enumerable.Range(0, 1001).Select(i => new { type = "page.viewed", email = $"p{i}@example.com" }) });

        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        var problem = await malformed.ReadJsonAsync();
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, problem.GetProperty("line").GetInt32());
        Assert.Contains("column", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, notBatch.StatusCode);
        Assert.Equal("/events", (await notBatch.ReadJsonAsync()).GetProperty("pointer").GetString());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Contains("1,001", (await tooBig.ReadJsonAsync()).GetProperty("detail").GetString());
        await using var data = app.NewDb();
        Assert.Equal(0, await data.Events.CountAsync());
    }
}
