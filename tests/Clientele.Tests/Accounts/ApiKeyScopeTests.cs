using System.Net;
using System.Net.Http.Headers;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Accounts;

public sealed class ApiKeyScopeTests
{
    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Each_scope_allows_only_what_it_names(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var read = await app.ApiClientAsync("read");
        var write = await app.ApiClientAsync("write");
        var admin = await app.ApiClientAsync("admin");
        var events = new { events = new[] { new { type = "page.viewed", email = "ann@example.com" } } };

        Assert.Equal(HttpStatusCode.OK, (await read.GetAsync("/api/v1/contacts")).StatusCode);
        var readPost = await read.PostJsonAsync("/api/v1/events", events);
        Assert.Equal(HttpStatusCode.Forbidden, readPost.StatusCode);
        Assert.Equal("application/problem+json", readPost.Content.Headers.ContentType?.MediaType);
        Assert.Contains("'read' scope", (await readPost.ReadJsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await write.PostJsonAsync("/api/v1/events", events)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await write.PostJsonAsync("/api/v1/apikeys", new { name = "x", scope = "read" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJsonAsync("/api/v1/apikeys", new { name = "x", scope = "read" })).StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Requests_without_a_valid_key_get_401_problems(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var anonymous = app.CreateClient();
        var forged = app.CreateClient();
        forged.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "clt_0123456789_notarealsecretnotarealsecretnotareal");
        var garbage = app.CreateClient();
        garbage.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "hello");

        foreach (var client in new[] { anonymous, forged, garbage })
        {
            var response = await client.GetAsync("/api/v1/contacts");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_revoked_key_stops_working_at_once_and_keys_are_stored_only_as_hashes(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var admin = await app.ApiClientAsync("admin");
        var created = await (await admin.PostJsonAsync("/api/v1/apikeys", new { name = "shop", scope = "write" })).ReadJsonAsync();
        var key = created.GetProperty("key").GetString()!;
        var shop = app.CreateClient();
        shop.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await shop.GetAsync("/api/v1/contacts")).StatusCode);

        await using (var data = app.NewDb())
        {
            var row = await data.ApiKeys.SingleAsync(k => k.Name == "shop");
            Assert.DoesNotContain(key, System.Text.Encoding.UTF8.GetString(row.Hash));
            Assert.Equal(32, row.Hash.Length);
            var revoke = await admin.DeleteAsync($"/api/v1/apikeys/{row.Id}");
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await shop.GetAsync("/api/v1/contacts")).StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Health_answers_when_the_database_does(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var response = await app.CreateClient().GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
