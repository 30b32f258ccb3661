using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Segments;

public sealed class SegmentMembershipTests
{
    private static object Order(string email, string id, string category, DateTimeOffset at) => new
    {
        type = "order.placed",
        email,
        occurredAt = at,
        properties = new { orderId = id, total = 20, currency = "EUR", items = new[] { new { sku = category + "-1", category, quantity = 1, price = 20 } } },
    };

    private static async Task<JsonElement> WaitRebuiltAsync(HttpClient client, string location)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var segment = await (await client.GetAsync(location)).ReadJsonAsync();
            if (segment.GetProperty("rebuiltAt").ValueKind != JsonValueKind.Null && segment.GetProperty("rebuildProgress").ValueKind == JsonValueKind.Null)
            {
                return segment;
            }
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), $"The segment was not rebuilt: {segment}");
            await Task.Delay(100);
        }
    }

    private static async Task<List<string>> MembersAsync(HttpClient client, string location)
    {
        var page = await (await client.GetAsync(location + "/members")).ReadJsonAsync();
        return page.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("email").GetString()!).Order(StringComparer.Ordinal).ToList();
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_segment_is_built_in_the_background_then_kept_current_by_events_with_enter_and_exit_on_the_log(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var client = await app.ApiClientAsync("write");
        var now = app.Time.GetUtcNow();
        await client.PostJsonAsync("/api/v1/events", new
        {
            events = new object[]
            {
                Order("ann@example.com", "A1", "Coffee", now.AddDays(-3)),
                new { type = "page.viewed", email = "bob@example.com", occurredAt = now.AddDays(-1), properties = new { url = "/" } },
            },
        });
        await app.DrainAsync();

        var created = await client.PostJsonAsync("/api/v1/segments", new { name = "Coffee buyers", query = """bought(category: "Coffee")""" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var location = created.Headers.Location!.ToString();
        var built = await WaitRebuiltAsync(client, location);
        Assert.Equal(1, built.GetProperty("memberCount").GetInt32());
        Assert.Equal(["ann@example.com"], await MembersAsync(client, location));
        var followers = (await client.PostJsonAsync("/api/v1/segments", new { name = "Followers", query = """segment(name: "Coffee buyers")""" })).Headers.Location!.ToString();
        await WaitRebuiltAsync(client, followers);
        Assert.Equal(["ann@example.com"], await MembersAsync(client, followers));

        // Bob buys coffee: he enters, caused by his order. Ann's order is refunded: she leaves.
        await client.PostJsonAsync("/api/v1/events", new { events = new[] { Order("bob@example.com", "B1", "Coffee", now) } });
        await app.DrainAsync();
        await client.PostJsonAsync("/api/v1/events", new { events = new[] { new { type = "order.refunded", email = "ann@example.com", occurredAt = now, properties = new { orderId = "A1" } } } });
        await app.DrainAsync();

        Assert.Equal(["bob@example.com"], await MembersAsync(client, location));
        Assert.Equal(1, (await (await client.GetAsync(location)).ReadJsonAsync()).GetProperty("memberCount").GetInt32());
        Assert.Equal(["bob@example.com"], await MembersAsync(client, followers)); // follows the other segment's moves
        await using var data = app.NewDb();
        var moves = (await data.Events.AsNoTracking().Where(e => e.Type.StartsWith("segment.")).OrderBy(e => e.Id).ToListAsync())
            .Where(e => e.Properties.Contains("Coffee buyers", StringComparison.Ordinal)).ToList();
        Assert.Equal(["segment.entered", "segment.entered", "segment.exited"], moves.Select(m => m.Type));
        var bobEntered = moves[1];
        var cause = await data.Events.AsNoTracking().SingleAsync(e => e.Id == bobEntered.CauseEventId);
        Assert.Equal("order.placed", cause.Type);
    }

    [Fact]
    public async Task Bad_or_duplicate_segments_are_refused_and_members_page_with_a_cursor()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var client = await app.ApiClientAsync("write");
        await client.PostJsonAsync("/api/v1/events", new
        {
            events = Enumerable.Range(0, 3).Select(i => new { type = "page.viewed", email = $"p{i}@example.com", properties = new { url = "/" } }).ToArray(),
        });
        await app.DrainAsync();

        var bad = await client.PostJsonAsync("/api/v1/segments", new { name = "Broken", query = "stage >=" });
        var created = await client.PostJsonAsync("/api/v1/segments", new { name = "Everyone", query = "stage >= Lead" });
        var duplicate = await client.PostJsonAsync("/api/v1/segments", new { name = "Everyone", query = "score > 1" });
        var location = created.Headers.Location!.ToString();
        await WaitRebuiltAsync(client, location);
        var first = await (await client.GetAsync(location + "/members?limit=2")).ReadJsonAsync();
        var second = await (await client.GetAsync($"{location}/members?limit=2&cursor={first.GetProperty("next").GetString()}")).ReadJsonAsync();
        var renamed = await client.PutAsJsonAsync(location, new { name = "All contacts" });

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.ReadJsonAsync();
        Assert.Equal(1, problem.GetProperty("line").GetInt32());
        Assert.Equal(9, problem.GetProperty("column").GetInt32());
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(2, first.GetProperty("items").GetArrayLength());
        Assert.Equal(1, second.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);
        Assert.Equal("All contacts", (await renamed.ReadJsonAsync()).GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(location)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(location)).StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_static_list_takes_contacts_by_hand_reports_unknown_ones_and_refuses_to_edit_a_dynamic_segment(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var client = await app.ApiClientAsync("write");
        var ingest = await (await client.PostJsonAsync("/api/v1/events", new
        {
            events = new[] { "ann", "bob" }.Select(n => new { type = "page.viewed", email = n + "@example.com", properties = new { url = "/" } }).ToArray(),
        })).ReadJsonAsync();
        var ids = ingest.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("contactId").GetString()!).ToList();
        var list = (await client.PostJsonAsync("/api/v1/segments", new { name = "Trade show", @static = true })).Headers.Location!.ToString();
        var dynamic = (await client.PostJsonAsync("/api/v1/segments", new { name = "Leads", query = "stage = Lead" })).Headers.Location!.ToString();

        var added = await (await client.PostJsonAsync(list + "/members", new { contactIds = new[] { ids[0], "00000000-0000-0000-0000-000000000009", ids[1], ids[0] } })).ReadJsonAsync();
        var removed = await client.DeleteAsync($"{list}/members/{ids[1]}");
        var refused = await client.PostJsonAsync(dynamic + "/members", new { contactIds = new[] { ids[0] } });

        Assert.Equal(2, added.GetProperty("added").GetInt32());
        Assert.Equal(1, added.GetProperty("alreadyMembers").GetInt32());
        Assert.Equal("/contactIds/1", added.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal(["ann@example.com"], await MembersAsync(client, list));
        Assert.Equal(1, (await (await client.GetAsync(list)).ReadJsonAsync()).GetProperty("memberCount").GetInt32());

        // A CSV file: every row is accounted for, errors by data row; the trend ends at today's count.
        var csv = new StringContent("email,name\nBOB@example.com,Bob\nann@example.com,Ann\nzed@example.com,Zed\n,Nobody\n", System.Text.Encoding.UTF8, "text/csv");
        var report = await (await client.PostAsync(list + "/members/csv", csv)).ReadJsonAsync();
        var noColumn = await client.PostAsync(list + "/members/csv", new StringContent("name\nAnn\n", System.Text.Encoding.UTF8, "text/csv"));

        Assert.Equal(4, report.GetProperty("rows").GetInt32());
        Assert.Equal(1, report.GetProperty("added").GetInt32());
        Assert.Equal(1, report.GetProperty("alreadyMembers").GetInt32());
        Assert.Equal([3, 4], report.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("row").GetInt32()));
        Assert.Equal(HttpStatusCode.BadRequest, noColumn.StatusCode);
        Assert.Contains("no column named email or id", (await noColumn.ReadJsonAsync()).ToString());
        var segment = await (await client.GetAsync(list)).ReadJsonAsync();
        var trend = segment.GetProperty("trend").EnumerateArray().ToList();
        Assert.Equal(30, trend.Count);
        Assert.Equal(2, trend[^1].GetProperty("members").GetInt32());
        Assert.Equal(0, trend[0].GetProperty("members").GetInt32());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Survey_answers_and_tickets_move_contacts_in_and_out_as_they_happen(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var client = await app.ApiClientAsync("write");
        object Answer(string email, int score) => new { type = "survey.answered", email, properties = new { kind = "nps", score } };
        await client.PostJsonAsync("/api/v1/events", new { events = new[] { Answer("ann@example.com", 8), Answer("bob@example.com", 9) } });
        await app.DrainAsync();
        var detractors = (await client.PostJsonAsync("/api/v1/segments", new { name = "Detractors", query = "nps.category = detractor" })).Headers.Location!.ToString();
        var waiting = (await client.PostJsonAsync("/api/v1/segments", new { name = "Waiting for us", query = "tickets.open > 0" })).Headers.Location!.ToString();
        await WaitRebuiltAsync(client, detractors);
        await WaitRebuiltAsync(client, waiting);
        Assert.Empty(await MembersAsync(client, detractors));

        // Ann changes her mind to a 2 and writes in: she enters both. Bob stays a promoter.
        await client.PostJsonAsync("/api/v1/events", new { events = new[] { Answer("ann@example.com", 2) } });
        var ticket = await client.PostJsonAsync("/api/v1/tickets", new { email = "ann@example.com", subject = "Broken", body = "It broke." });
        Assert.Equal(HttpStatusCode.Created, ticket.StatusCode);
        await app.DrainAsync();
        Assert.Equal(["ann@example.com"], await MembersAsync(client, detractors));
        Assert.Equal(["ann@example.com"], await MembersAsync(client, waiting));

        await client.PostJsonAsync("/api/v1/events", new { events = new[] { Answer("ann@example.com", 10) } });
        await app.DrainAsync();
        Assert.Empty(await MembersAsync(client, detractors));
        await using var data = app.NewDb();
        var exit = (await data.Events.AsNoTracking().Where(e => e.Type == "segment.exited").ToListAsync()).Single(e => e.Properties.Contains("Detractors", StringComparison.Ordinal));
        Assert.Equal("survey.answered", (await data.Events.AsNoTracking().SingleAsync(e => e.Id == exit.CauseEventId)).Type);
    }
}
