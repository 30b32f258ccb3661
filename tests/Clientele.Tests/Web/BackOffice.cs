using System.Net;
using System.Text.RegularExpressions;
using Clientele.Accounts;
using Clientele.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Clientele.Tests.Web;

/// <summary>Drives the back office the way a browser without JavaScript does: GET a form, POST it back with its antiforgery token.</summary>
internal static partial class BackOffice
{
    public static readonly string[] Navigation =
        ["Home", "Contacts", "Segments", "Journeys", "Broadcasts", "Templates", "Forms &amp; pages", "Offers", "Referrals", "Feedback", "Support", "Knowledge base", "Insights", "Outbox", "Settings"];

    /// <summary>A client that keeps cookies and shows redirects instead of following them.</summary>
    public static HttpClient Browser(this TestApp app)
    {
        // The client's cookie jar judges expiry by the wall clock, so the app's clock must not lag behind it.
        var wall = TimeProvider.System.GetUtcNow();
        if (app.Time.GetUtcNow() < wall)
        {
            app.Time.SetUtcNow(wall);
        }
        return app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
    }

    public static async Task<string> AntiforgeryTokenAsync(this HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var match = TokenInput().Match(await response.Content.ReadAsStringAsync());
        Assert.True(match.Success, $"{path} has no antiforgery token");
        return match.Groups[1].Value;
    }

    /// <summary>Submits the server-rendered form <paramref name="handler"/> on <paramref name="path"/>.</summary>
    public static async Task<HttpResponseMessage> SubmitAsync(this HttpClient client, string path, string handler, Dictionary<string, string> fields, bool withToken = true)
    {
        var form = new Dictionary<string, string>(fields) { ["_handler"] = handler };
        if (withToken)
        {
            form["__RequestVerificationToken"] = await client.AntiforgeryTokenAsync(path);
        }
        return await client.PostAsync(path, new FormUrlEncodedContent(form));
    }

    public static Task<HttpResponseMessage> LogInAsync(this HttpClient client, string email, string password, string path = "/login") =>
        client.SubmitAsync(path, "login", new() { ["Input.Email"] = email, ["Input.Password"] = password });

    public static async Task AddUserAsync(this TestApp app, string email, Role role, string password)
    {
        await using var db = app.NewDb();
        await Users.AddAsync(db, email, role, password, app.Time.GetUtcNow().UtcDateTime, CancellationToken.None);
    }

    /// <summary>A client signed in as a new user with <paramref name="role"/>.</summary>
    public static async Task<HttpClient> SignedInAsync(this TestApp app, Role role)
    {
        var email = role.ToString().ToLowerInvariant() + "@shop.test";
        await app.AddUserAsync(email, role, "a-long-password-1");
        var client = app.Browser();
        var response = await client.LogInAsync(email, "a-long-password-1");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    public static string Location(this HttpResponseMessage response) =>
        response.Headers.Location is { } l ? (l.IsAbsoluteUri ? l.PathAndQuery : l.OriginalString) : "";

    /// <summary>The navigation entries a page shows, in order.</summary>
    public static List<string> NavEntries(string html) =>
        NavLink().Matches(html).Select(m => m.Groups[1].Value).ToList();

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenInput();

    [GeneratedRegex("<div class=\"mud-nav-link-text\">([^<]+)</div>")]
    private static partial Regex NavLink();
}
