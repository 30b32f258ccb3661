using System.Net;
using Clientele.Tests.Infrastructure;

namespace Clientele.Tests.Api;

public sealed class ApiDocsTests
{
    [Fact]
    public async Task The_api_reference_and_its_OpenAPI_document_are_served_without_a_key()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var client = app.CreateClient();

        var document = await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        var docs = await client.GetAsync("/docs/");
        var unknown = await client.GetAsync("/api/v1/nothing-here");

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/v1/events", paths);
        Assert.Contains("/api/v1/contacts/{id}/timeline", paths);
        Assert.Contains("/api/v1/orders", paths);
        Assert.Contains("/api/v1/scoring/runs", paths);
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("apiKey");
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        Assert.True(document.GetProperty("security")[0].TryGetProperty("apiKey", out _));
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Contains("Clientele API", await docs.Content.ReadAsStringAsync());
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }
}
