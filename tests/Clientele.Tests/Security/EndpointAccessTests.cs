using Clientele.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Clientele.Tests.Security;

public sealed class EndpointAccessTests
{
    [Fact]
    public async Task Every_endpoint_states_who_may_use_it()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();

        var unstated = endpoints
            .Where(e => e.Metadata.GetMetadata<IAuthorizeData>() is null && e.Metadata.GetMetadata<IAllowAnonymous>() is null)
            .Select(e => e.RoutePattern.RawText ?? e.DisplayName ?? "?")
            // Static files (styles, icons, scripts) are public by nature.
            .Where(p => !p.StartsWith('_') && !p.StartsWith("/_", StringComparison.Ordinal) && p != "{**path:file}" && !IsFile(p))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(endpoints.Count > 100, $"only {endpoints.Count} endpoints found");
        Assert.True(unstated.Count == 0, "Endpoints that neither require a policy nor say they are public:\n" + string.Join("\n", unstated));
    }

    private static bool IsFile(string pattern) => !pattern.Contains('/', StringComparison.Ordinal) && !pattern.Contains('{', StringComparison.Ordinal) && pattern.Contains('.', StringComparison.Ordinal);
}
