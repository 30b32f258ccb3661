using System.Net;
using Clientele.Accounts;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Clientele.Tests.Accounts;

public sealed class LoginThrottleTests
{
    private const string Paused = "Too many failed sign-ins with this e-mail.";
    private const string Wrong = "That e-mail and password do not match an active account.";

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task After_five_wrong_passwords_even_the_right_one_is_refused_for_fifteen_minutes(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await app.AddUserAsync("owner@shop.test", Role.Owner, "right-password-1");
        var browser = app.Browser();

        for (var i = 1; i <= LoginThrottle.MaxFailures; i++)
        {
            app.Time.Advance(TimeSpan.FromMinutes(2));
            Assert.Contains(Wrong, await BodyAsync(await browser.LogInAsync("owner@shop.test", $"wrong-password-{i}")));
        }

        app.Time.Advance(TimeSpan.FromMinutes(1));
        var refused = await browser.LogInAsync("Owner@Shop.test ", "right-password-1");
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        var html = await BodyAsync(refused);
        Assert.Contains(Paused, html);
        Assert.Contains("paused for 14 more minutes", html);
        Assert.False(refused.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("clientele=", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/")).StatusCode);

        // Knocking during the pause does not make it longer.
        app.Time.Advance(TimeSpan.FromMinutes(13));
        Assert.Contains("paused for 1 more minute;", await BodyAsync(await browser.LogInAsync("owner@shop.test", "wrong-password-9")));

        app.Time.Advance(TimeSpan.FromMinutes(1));
        var right = await browser.LogInAsync("owner@shop.test", "right-password-1");
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal("/", right.Location());
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_successful_sign_in_clears_the_count_of_failures(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await app.AddUserAsync("owner@shop.test", Role.Owner, "right-password-1");

        for (var round = 0; round < 2; round++)
        {
            var browser = app.Browser();
            for (var i = 0; i < LoginThrottle.MaxFailures - 1; i++)
            {
                Assert.Contains(Wrong, await BodyAsync(await browser.LogInAsync("owner@shop.test", "wrong-password-1")));
            }
            Assert.Equal(HttpStatusCode.Redirect, (await browser.LogInAsync("owner@shop.test", "right-password-1")).StatusCode);
        }

        // Four more failures after the last success: still not paused.
        var last = app.Browser();
        for (var i = 0; i < LoginThrottle.MaxFailures - 1; i++)
        {
            await last.LogInAsync("owner@shop.test", "wrong-password-1");
        }
        Assert.Equal(HttpStatusCode.Redirect, (await last.LogInAsync("owner@shop.test", "right-password-1")).StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_unknown_address_is_paused_the_same_way_so_the_pause_reveals_no_account(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await app.AddUserAsync("owner@shop.test", Role.Owner, "right-password-1");
        var browser = app.Browser();

        var answers = new List<string>();
        foreach (var email in new[] { "owner@shop.test", "nobody@shop.test" })
        {
            for (var i = 0; i < LoginThrottle.MaxFailures; i++)
            {
                Assert.Contains(Wrong, await BodyAsync(await browser.LogInAsync(email, "wrong-password-1")));
            }
            var html = await BodyAsync(await browser.LogInAsync(email, "wrong-password-1"));
            answers.Add(html[html.IndexOf("auth-error", StringComparison.Ordinal)..html.IndexOf("</div>", html.IndexOf("auth-error", StringComparison.Ordinal), StringComparison.Ordinal)]);
        }

        Assert.Contains(Paused, answers[0]);
        Assert.Equal(answers[0], answers[1]);
        // Another address is not held up by them.
        await app.AddUserAsync("agent@shop.test", Role.Agent, "agent-password-1");
        Assert.Equal(HttpStatusCode.Redirect, (await browser.LogInAsync("agent@shop.test", "agent-password-1")).StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Five_failures_spread_over_more_than_fifteen_minutes_do_not_pause_sign_in(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await app.AddUserAsync("owner@shop.test", Role.Owner, "right-password-1");
        var browser = app.Browser();

        for (var i = 0; i < LoginThrottle.MaxFailures; i++)
        {
            await browser.LogInAsync("owner@shop.test", "wrong-password-1");
            app.Time.Advance(TimeSpan.FromMinutes(4));
        }

        Assert.Equal(HttpStatusCode.Redirect, (await browser.LogInAsync("owner@shop.test", "right-password-1")).StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Parallel_guesses_are_held_to_the_same_limit(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await app.AddUserAsync("owner@shop.test", Role.Owner, "right-password-1");
        await using var data = app.NewDb();
        var database = app.Services.GetRequiredService<Clientele.Data.ClienteleDatabase>();
        var now = app.Time.GetUtcNow().UtcDateTime;

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Task.Run(() => LoginThrottle.SignInAsync(database, "owner@shop.test", $"guess-number-{i:00}", now, CancellationToken.None))));

        Assert.All(outcomes, o => Assert.Null(o.User));
        Assert.Equal(LoginThrottle.MaxFailures, outcomes.Count(o => o.PausedUntil is null)); // only these were checked
        Assert.Equal(LoginThrottle.MaxFailures, await data.LoginFailures.CountAsync());
        Assert.NotNull((await LoginThrottle.SignInAsync(database, "owner@shop.test", "right-password-1", now, CancellationToken.None)).PausedUntil);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_owner_sees_a_paused_account_on_the_users_page_and_can_unlock_it(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var owner = await app.SignedInAsync(Role.Owner);
        await app.AddUserAsync("agent@shop.test", Role.Agent, "agent-password-1");
        var agent = app.Browser();
        for (var i = 0; i < LoginThrottle.MaxFailures; i++)
        {
            await agent.LogInAsync("agent@shop.test", "wrong-password-1");
        }

        var page = await BodyAsync(await owner.GetAsync("/settings/users"));
        Assert.Contains("Sign-in paused until", page);
        Assert.Contains("Unlock sign-in for agent@shop.test", page);

        await LoginThrottle.UnlockAsync(app.Services.GetRequiredService<Clientele.Data.ClienteleDatabase>(), "agent@shop.test", CancellationToken.None);
        Assert.DoesNotContain("Sign-in paused until", await BodyAsync(await owner.GetAsync("/settings/users")));
        Assert.Equal(HttpStatusCode.Redirect, (await agent.LogInAsync("agent@shop.test", "agent-password-1")).StatusCode);
    }

    [Fact]
    public void The_pause_starts_at_the_fifth_failure_within_the_window_and_lasts_fifteen_minutes()
    {
        var t = new DateTime(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);
        DateTime[] At(params int[] minutes) => [.. minutes.Select(m => t.AddMinutes(m))];

        Assert.Null(LoginThrottle.PausedUntil(At(0, 1, 2, 3), t.AddMinutes(4)));
        Assert.Equal(t.AddMinutes(19), LoginThrottle.PausedUntil(At(0, 1, 2, 3, 4), t.AddMinutes(5)));
        Assert.Null(LoginThrottle.PausedUntil(At(0, 1, 2, 3, 4), t.AddMinutes(19)));
        Assert.Null(LoginThrottle.PausedUntil(At(0, 4, 8, 12, 16), t.AddMinutes(17))); // the first is 16 minutes before the fifth
        // After a pause, one more failure does not start another: five fresh ones are needed.
        Assert.Null(LoginThrottle.PausedUntil(At(0, 0, 0, 0, 0, 15), t.AddMinutes(16)));
        Assert.Equal(t.AddMinutes(31), LoginThrottle.PausedUntil(At(0, 0, 0, 0, 0, 15, 16, 16, 16, 16), t.AddMinutes(17)));
    }

    private static Task<string> BodyAsync(HttpResponseMessage response) => response.Content.ReadAsStringAsync();
}
