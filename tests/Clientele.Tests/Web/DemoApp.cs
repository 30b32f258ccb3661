using Clientele.Accounts;
using Clientele.Data;
using Clientele.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Clientele.Tests.Web;

/// <summary>The test classes that share one demo server (<see cref="DemoApp"/>): started once, their tests one after another.</summary>
[CollectionDefinition(Name)]
public sealed class DemoCollection : ICollectionFixture<DemoApp>
{
    public const string Name = "Demo business in chromium";
}

/// <summary>
/// The app as <c>serve --demo</c> starts it (the demo business seeded, the demo owner's login), on a real Kestrel port
/// with its real clock and background services, on a SQLite file in a temp directory; and Debian's chromium. Started
/// once for every class in <see cref="DemoCollection"/>, so the journeys and the accessibility scan stay cheap. The
/// pages it is asked to keep are saved as PNG files under the test output's <c>TestResults/screenshots</c>, and also
/// in <c>CLIENTELE_SCREENSHOTS_DIR</c> when that names a folder (how the README's pictures are refreshed). Without
/// chromium nothing starts and the tests skip.
/// </summary>
public sealed class DemoApp : IAsyncLifetime
{
    public const string Email = FirstRun.DemoEmail;
    public const string Password = FirstRun.DemoPassword;

    /// <summary>The size every page is drawn at, so screenshots compare from run to run.</summary>
    public static readonly ViewportSize Viewport = new() { Width = 1280, Height = 800 };

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "clientele-demo-" + Guid.NewGuid().ToString("N")[..12]);
    private WebApplication? _app;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private string? _ownerState;
    private readonly List<string> _saved = [];

    /// <summary>Where the app listens, e.g. http://127.0.0.1:41234.</summary>
    public string Url { get; private set; } = "";

    /// <summary>Where this run's screenshots go.</summary>
    public static string ScreenshotsDir { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");

    /// <summary>The folder the README's screenshots are refreshed in, when asked for.</summary>
    public static string? ReadmeDir { get; } = Environment.GetEnvironmentVariable("CLIENTELE_SCREENSHOTS_DIR") is { Length: > 0 } d ? d : null;

    public IServiceProvider Services => _app!.Services;

    public IBrowser Browser => _browser!;

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(BrowserTests.Chromium))
        {
            return;
        }
        Directory.CreateDirectory(_dir);
        _app = AppHost.Build(["--applicationName", "clientele"],
            new ServeOptions($"Data Source={Path.Combine(_dir, "clientele.db")}", "http://127.0.0.1:0", Demo: true));
        await _app.StartAsync();
        Url = _app.Urls.First();
        await SettledAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await BrowserTests.LaunchAsync(_playwright);
    }

    /// <summary>
    /// Waits for the start-up work that changes what the pages count: the first stage sweep, and the event consumers
    /// deriving stages, values and segments from the demo's events. A test that compares two counts taken a few seconds
    /// apart (a segment's live count and its members once saved) would otherwise race it.
    /// </summary>
    private async Task SettledAsync()
    {
        await Clientele.Tests.Outbox.MailFlowTests.Until(async () =>
        {
            await using var db = NewDb();
            return await db.Settings.AnyAsync(s => s.Key == Clientele.Lifecycle.StageSweepService.LastKey);
        }, "the demo server's first stage sweep finished", 180);
        await Services.GetRequiredService<Clientele.Events.EventDispatcher>().DrainAsync(CancellationToken.None);
    }

    internal ClienteleDb NewDb() => Services.GetRequiredService<ClienteleDatabase>().CreateDbContext();

    /// <summary>Skips the test where Debian's chromium is not installed, so the app did not start.</summary>
    public void SkipUnlessChromium() =>
        Assert.SkipUnless(_app is not null, $"needs Debian's chromium at {BrowserTests.Chromium} (./test.sh installs it)");

    /// <summary>A page in a context of its own, nobody signed in (a visitor).</summary>
    public async Task<IPage> VisitorPageAsync(bool javaScript = true)
    {
        SkipUnlessChromium();
        var context = await Browser.NewContextAsync(new() { ViewportSize = Viewport, JavaScriptEnabled = javaScript });
        return await PrepareAsync(await context.NewPageAsync());
    }

    /// <summary>
    /// A page with the demo owner signed in, landed on <paramref name="path"/> once it is live. The owner signs in
    /// through the login page once per run; later pages reuse that sign-in's cookie.
    /// </summary>
    public async Task<IPage> OwnerPageAsync(string path)
    {
        SkipUnlessChromium();
        if (_ownerState is null)
        {
            var first = await VisitorPageAsync();
            await SignInAsync(first, path);
            _ownerState = await first.Context.StorageStateAsync();
            await first.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await BrowserTests.LiveAsync(first);
            return first;
        }
        var context = await Browser.NewContextAsync(new() { ViewportSize = Viewport, StorageState = _ownerState });
        var page = await PrepareAsync(await context.NewPageAsync());
        await page.GotoAsync(Url + path);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await BrowserTests.LiveAsync(page);
        return page;
    }

    /// <summary>Signs the demo owner in through the login page, landing on <paramref name="path"/>.</summary>
    public async Task SignInAsync(IPage page, string path)
    {
        await page.GotoAsync(Url + "/login?ReturnUrl=" + Uri.EscapeDataString(path));
        await page.GetByLabel("E-mail").FillAsync(Email);
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(Url + path);
    }

    private static Task<IPage> PrepareAsync(IPage page)
    {
        page.SetDefaultTimeout(20_000);
        SetDefaultExpectTimeout(20_000);
        return Task.FromResult(page);
    }

    /// <summary>
    /// Saves what <paramref name="page"/> shows as <paramref name="name"/>.png among this run's screenshots, and in
    /// <see cref="ReadmeDir"/> too when <paramref name="readme"/> (one of the README's pictures) and that is set;
    /// <paramref name="settle"/> waits for the page to settle first (a caller that has waited already says no).
    /// </summary>
    public async Task ScreenshotAsync(IPage page, string name, bool readme = false, bool settle = true)
    {
        if (settle)
        {
            // Let charts and transitions settle so the picture shows the page as a person sees it (a page that keeps
            // asking for more, like a live outbox, is taken as it is).
            try
            {
                await page.WaitForLoadStateAsync(LoadState.NetworkIdle, new() { Timeout = 3_000 });
            }
            catch (TimeoutException)
            {
            }
            await page.WaitForTimeoutAsync(300);
        }
        Directory.CreateDirectory(ScreenshotsDir);
        var path = Path.Combine(ScreenshotsDir, name + ".png");
        await page.ScreenshotAsync(new() { Path = path });
        lock (_saved)
        {
            _saved.Add(path);
        }
        if (readme && ReadmeDir is not null)
        {
            Directory.CreateDirectory(ReadmeDir);
            File.Copy(path, Path.Combine(ReadmeDir, name + ".png"), overwrite: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_saved.Count > 0)
        {
            Console.WriteLine($"Screenshots of {_saved.Count} pages in {ScreenshotsDir}");
        }
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // best effort: the OS cleans the temp dir
        }
    }
}
