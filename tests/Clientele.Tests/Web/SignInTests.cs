using System.Net;
using Clientele.Accounts;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Web;

public sealed class SignInTests
{
    [Fact]
    public async Task A_visitor_who_is_not_signed_in_is_sent_to_the_login_page()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var browser = app.Browser();

        var response = await browser.GetAsync("/contacts");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/login?ReturnUrl=%2Fcontacts", response.Location());
    }

    [Fact]
    public async Task On_first_start_the_owner_account_is_created_once_through_setup()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var browser = app.Browser();

        var login = await browser.GetAsync("/login");
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/setup", login.Location());

        var mismatch = await browser.SubmitAsync("/setup", "setup", new()
        {
            ["Input.Email"] = "owner@shop.test",
            ["Input.Name"] = "Olive",
            ["Input.Password"] = "first-password-1",
            ["Input.ConfirmPassword"] = "other-password-1",
        });
        Assert.Equal(HttpStatusCode.OK, mismatch.StatusCode);
        Assert.Contains("The two passwords differ.", await mismatch.Content.ReadAsStringAsync());

        var created = await browser.SubmitAsync("/setup", "setup", new()
        {
            ["Input.Email"] = "owner@shop.test",
            ["Input.Name"] = "Olive",
            ["Input.Password"] = "first-password-1",
            ["Input.ConfirmPassword"] = "first-password-1",
        });
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        Assert.Equal("/", created.Location());
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode); // signed in as the new owner

        await using (var db = app.NewDb())
        {
            var owner = await db.Users.SingleAsync();
            Assert.Equal(("owner@shop.test", "Olive", Role.Owner), (owner.Email, owner.Name, owner.Role));
        }

        var stranger = app.Browser();
        var again = await stranger.GetAsync("/setup");
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.Equal("/login", again.Location());
        Assert.Equal(HttpStatusCode.OK, (await stranger.GetAsync("/login")).StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Setup_refuses_a_short_common_or_look_alike_password_and_says_why(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var browser = app.Browser();

        foreach (var (password, reason) in new[]
        {
            ("short-pw-11", "A password needs at least 12 characters; this one has 11."),
            ("Password2026!", "This password is on the list of common or breached passwords"),
            ("qwertyuiop12", "This password is on the list of common or breached passwords"),
            ("aaaaaaaaaaaaaa", "This password is only repeated characters or neighbouring keys."),
            ("owner@shop.test2026", "This password is too close to the e-mail address or the product&#x27;s name."),
        })
        {
            var refused = await browser.SubmitAsync("/setup", "setup", new()
            {
                ["Input.Email"] = "owner@shop.test",
                ["Input.Password"] = password,
                ["Input.ConfirmPassword"] = password,
            });
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            var html = await refused.Content.ReadAsStringAsync();
            Assert.Contains(reason, html);
            Assert.DoesNotContain(password, html.Replace("value=\"owner@shop.test\"", "", StringComparison.Ordinal));
        }
        await using (var data = app.NewDb())
        {
            Assert.False(await data.Users.AnyAsync());
        }

        var sixtyFour = "a long passphrase of sixty-four characters is welcome here too!!";
        Assert.Equal(64, sixtyFour.Length);
        var created = await browser.SubmitAsync("/setup", "setup", new()
        {
            ["Input.Email"] = "owner@shop.test",
            ["Input.Password"] = sixtyFour,
            ["Input.ConfirmPassword"] = sixtyFour,
        });
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await app.Browser().LogInAsync("owner@shop.test", sixtyFour)).StatusCode);
    }

    [Fact]
    public async Task Setup_cannot_add_a_second_owner_once_an_account_exists()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var early = app.Browser();
        var token = await early.AntiforgeryTokenAsync("/setup"); // the form was open when loaded …
        await app.AddUserAsync("owner@shop.test", Role.Owner, "first-password-1"); // … but someone else finished first

        var response = await early.PostAsync("/setup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "setup",
            ["__RequestVerificationToken"] = token,
            ["Input.Email"] = "intruder@evil.test",
            ["Input.Password"] = "second-password",
            ["Input.ConfirmPassword"] = "second-password",
        }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/login", response.Location());
        await using var db = app.NewDb();
        Assert.Equal(["owner@shop.test"], await db.Users.Select(u => u.Email).ToListAsync());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_wrong_password_is_refused_and_the_right_one_opens_the_back_office(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await app.AddUserAsync("Owner@Shop.test", Role.Owner, "right-password-1");
        var browser = app.Browser();

        var wrong = await browser.LogInAsync("owner@shop.test", "wrong-password-1");
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        var html = await wrong.Content.ReadAsStringAsync();
        Assert.Contains("That e-mail and password do not match an active account.", html);
        Assert.Contains("value=\"owner@shop.test\"", html); // the e-mail is kept
        Assert.DoesNotContain("wrong-password-1", html);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/")).StatusCode);

        var right = await browser.LogInAsync("owner@shop.test", "right-password-1");
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal("/", right.Location());
        Assert.Contains(right.Headers.GetValues("Set-Cookie"), c => c.StartsWith("clientele=", StringComparison.Ordinal));

        var home = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        var page = await home.Content.ReadAsStringAsync();
        Assert.Equal(BackOffice.Navigation, BackOffice.NavEntries(page));
        Assert.Contains("Owner@Shop.test", page);
    }

    [Fact]
    public async Task After_login_the_user_returns_to_the_page_they_asked_for_but_never_to_another_site()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        await app.AddUserAsync("owner@shop.test", Role.Owner, "right-password-1");

        var local = await app.Browser().LogInAsync("owner@shop.test", "right-password-1", "/login?ReturnUrl=%2Fcontacts%3Fstage%3Dlead");
        Assert.Equal("/contacts?stage=lead", local.Location());

        foreach (var evil in new[] { "https://evil.test/", "//evil.test/", "/\\evil.test" })
        {
            var response = await app.Browser().LogInAsync("owner@shop.test", "right-password-1", "/login?ReturnUrl=" + Uri.EscapeDataString(evil));
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal("/", response.Location());
        }
    }

    [Fact]
    public async Task A_signed_in_user_who_opens_the_login_page_goes_straight_on()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var browser = await app.SignedInAsync(Role.Agent);

        var response = await browser.GetAsync("/login?ReturnUrl=%2Fcontacts");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/contacts", response.Location());
    }

    [Fact]
    public async Task A_login_form_posted_without_its_antiforgery_token_is_rejected()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        await app.AddUserAsync("owner@shop.test", Role.Owner, "right-password-1");
        var browser = app.Browser();
        await browser.GetAsync("/login"); // has the antiforgery cookie, but posts no token

        var response = await browser.SubmitAsync("/login", "login",
            new() { ["Input.Email"] = "owner@shop.test", ["Input.Password"] = "right-password-1" }, withToken: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("clientele=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Signing_out_ends_the_session_and_needs_the_antiforgery_token()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var browser = await app.SignedInAsync(Role.Marketer);

        var forged = await browser.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string>()));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/contacts")).StatusCode);

        var token = await browser.AntiforgeryTokenAsync("/contacts");
        var response = await browser.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/login", response.Location());
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/contacts")).StatusCode);
    }

    [Fact]
    public async Task Demo_mode_creates_the_demo_owner_who_can_sign_in()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        await using var demo = app.WithWebHostBuilder(b => b.UseSetting("Clientele:Demo", "true"));
        _ = demo.Server; // starts a second host on the same database, as `serve --demo` would

        var browser = demo.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = true });
        var response = await browser.LogInAsync(FirstRun.DemoEmail, FirstRun.DemoPassword);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Location());
    }
}
