using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Clientele.Accounts;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Clientele.Tests.Accounts;

public sealed class BreachedPasswordTests
{
    private const string Breached = "marmalade sky 1967";

    /// <summary>A Pwned Passwords range service on loopback that lists <see cref="Breached"/> among padding.</summary>
    private sealed class RangeService : IAsyncDisposable
    {
        private readonly WebApplication _app;

        public ConcurrentQueue<string> Asked { get; } = new();

        private RangeService(WebApplication app) => _app = app;

        public string Url => _app.Urls.First() + "/range/";

        public static async Task<RangeService> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var service = new RangeService(app);
            var (prefix, suffix) = PasswordPolicy.RangeKey(Breached);
            app.MapGet("/range/{prefix}", (string prefix, HttpRequest request) =>
            {
                service.Asked.Enqueue(request.Path + " padding=" + request.Headers["Add-Padding"]);
                var lines = new List<string> { "0018A45C4D1DEF81644B54AB7F969B88D65:1", "00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0" };
                if (prefix == PasswordPolicy.RangeKey(Breached).Prefix)
                {
                    lines.Add(suffix + ":37615");
                }
                lines.Add("FFFFF6E8FA6EECAD2A3AA415EEC418D38EC:0");
                return string.Join("\r\n", lines);
            });
            await app.StartAsync();
            return service;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    [Fact]
    public void The_range_key_is_the_sha1_split_after_five_characters_and_padding_lines_do_not_count()
    {
        Assert.Equal(("5BAA6", "1E4C9B93F3F0682250B6CF8331B7EE68FD8"), PasswordPolicy.RangeKey("password"));
        var answer = "1E4C9B93F3F0682250B6CF8331B7EE68FD8:10434004\r\n011053FD0102E94D6AE2F8B83D76FAF94F6:0\r\n";
        Assert.True(PasswordPolicy.FoundInRange(answer, "1e4c9b93f3f0682250b6cf8331b7ee68fd8"));
        Assert.False(PasswordPolicy.FoundInRange(answer, "011053FD0102E94D6AE2F8B83D76FAF94F6"));
        Assert.False(PasswordPolicy.FoundInRange(answer, "011053FD0102E94D6AE2F8B83D76FAF94F7"));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task With_the_service_set_a_password_it_lists_is_refused_and_only_a_hash_prefix_is_sent(string db)
    {
        await using var service = await RangeService.StartAsync();
        await using var app = await TestApp.StartAsync(db, settings: new() { [BreachedPasswords.Setting] = service.Url });
        var browser = app.Browser();

        var refused = await SetUpAsync(browser, Breached);
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("This password has appeared in a data breach", await refused.Content.ReadAsStringAsync());
        await using (var data = app.NewDb())
        {
            Assert.False(await data.Users.AnyAsync());
        }

        var created = await SetUpAsync(browser, "marmalade sky 1968");
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        Assert.Equal(
            [$"/range/{PasswordPolicy.RangeKey(Breached).Prefix} padding=true", $"/range/{PasswordPolicy.RangeKey("marmalade sky 1968").Prefix} padding=true"],
            service.Asked.ToArray());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_service_that_does_not_answer_does_not_block_setup_and_the_built_in_list_still_applies(string db)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop(); // nothing listens there now
        await using var app = await TestApp.StartAsync(db, settings: new() { [BreachedPasswords.Setting] = $"http://127.0.0.1:{port}/range/" });
        var browser = app.Browser();

        Assert.Contains("common or breached passwords", await (await SetUpAsync(browser, "Password2026!")).Content.ReadAsStringAsync());
        var created = await SetUpAsync(browser, Breached);

        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        await using var data = app.NewDb();
        Assert.Equal("owner@shop.test", (await data.Users.SingleAsync()).Email);
    }

    private static Task<HttpResponseMessage> SetUpAsync(HttpClient browser, string password) =>
        browser.SubmitAsync("/setup", "setup", new()
        {
            ["Input.Email"] = "owner@shop.test",
            ["Input.Password"] = password,
            ["Input.ConfirmPassword"] = password,
        });
}
