using System.Net;
using Clientele.Accounts;
using Clientele.Tests.Infrastructure;

namespace Clientele.Tests.Web;

public sealed class RoleTests
{
    [Fact]
    public async Task A_support_agent_sees_home_contacts_and_support_and_cannot_open_api_keys()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var agent = await app.SignedInAsync(Role.Agent);

        var home = await agent.GetAsync("/");
        Assert.Equal(["Home", "Contacts", "Support"], BackOffice.NavEntries(await home.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/contacts")).StatusCode);

        foreach (var path in new[] { "/settings/api-keys", "/settings/users", "/settings", "/segments", "/journeys", "/insights", "/forms", "/offers", "/referrals", "/knowledge", "/feedback" })
        {
            var response = await agent.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/denied", response.Location());
        }
        var denied = await agent.GetAsync("/denied");
        Assert.Contains("You do not have access to this page", await denied.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_marketer_sees_everything_but_users_and_api_keys()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var marketer = await app.SignedInAsync(Role.Marketer);

        var home = await marketer.GetAsync("/");
        Assert.Equal(BackOffice.Navigation, BackOffice.NavEntries(await home.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.OK, (await marketer.GetAsync("/settings/system")).StatusCode);
        Assert.Contains("No segments yet", await (await marketer.GetAsync("/segments")).Content.ReadAsStringAsync());

        var settings = await (await marketer.GetAsync("/settings")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("/settings/api-keys", settings);
        Assert.Equal(HttpStatusCode.Redirect, (await marketer.GetAsync("/settings/api-keys")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await marketer.GetAsync("/settings/users")).StatusCode);
    }

    [Fact]
    public async Task An_owner_can_open_every_settings_page()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var owner = await app.SignedInAsync(Role.Owner);

        foreach (var path in new[] { "/settings", "/settings/users", "/settings/api-keys", "/settings/system" })
        {
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(path)).StatusCode);
        }
        var users = await (await owner.GetAsync("/settings/users")).Content.ReadAsStringAsync();
        Assert.Contains("owner@shop.test", users);
    }

    [Fact]
    public async Task An_api_key_does_not_open_the_back_office()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        string key;
        await using (var db = app.NewDb())
        {
            key = await ApiKeys.CreateAsync(db, "shop", ApiScope.Admin, app.Time.GetUtcNow().UtcDateTime, CancellationToken.None);
        }
        var client = app.Browser();
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);

        var response = await client.GetAsync("/settings/api-keys");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/login", response.Location());
    }
}
