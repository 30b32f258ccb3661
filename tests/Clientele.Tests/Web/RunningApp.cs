using Clientele.Accounts;
using Clientele.Data;
using Clientele.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Clientele.Tests.Web;

/// <summary>
/// What every browser test runs against: the real app on a real Kestrel port, with its real clock and background
/// services, on a SQLite file in a temp directory of its own, holding the owner owner@shop.test (password
/// owner-password-1) and what the test class seeds; and Debian's chromium, opened when a test asks for a page. Each test
/// gets its own; afterwards chromium is closed, the app stopped and the directory deleted. Without chromium nothing
/// starts and the tests skip.
/// </summary>
/// <param name="dirPrefix">How the temp directory's name starts, e.g. "clientele-journeys-".</param>
public abstract class RunningApp(string dirPrefix) : IAsyncLifetime
{
    private WebApplication? _app;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>The temp directory the database is in; a test may put its own files there.</summary>
    protected string Dir { get; } = Path.Combine(Path.GetTempPath(), dirPrefix + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>Where the app listens, e.g. http://127.0.0.1:41234.</summary>
    protected string Url { get; private set; } = "";

    /// <summary>The running app's services.</summary>
    protected IServiceProvider Services => _app!.Services;

    /// <summary>The chromium a page was opened in (by <see cref="OpenPageAsync"/>), for more contexts of its own.</summary>
    protected IBrowser Browser => _browser ?? throw new InvalidOperationException("Open a page first.");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(BrowserTests.Chromium))
        {
            return;
        }
        Directory.CreateDirectory(Dir);
        _app = AppHost.Build(["--applicationName", "clientele"],
            new ServeOptions($"Data Source={Path.Combine(Dir, "clientele.db")}", "http://127.0.0.1:0", false));
        await _app.StartAsync();
        Url = _app.Urls.First();

        var time = TimeProvider.System.GetUtcNow().UtcDateTime;
        await using var db = NewDb();
        await Users.AddAsync(db, "owner@shop.test", Role.Owner, "owner-password-1", time, CancellationToken.None);
        Seed(db, time);
        await db.SaveChangesAsync();
    }

    /// <summary>Adds the test class's own data to <paramref name="db"/>, saved after; <paramref name="time"/> is the real
    /// clock's now.</summary>
    private protected abstract void Seed(ClienteleDb db, DateTime time);

    private protected ClienteleDb NewDb() => Services.GetRequiredService<ClienteleDatabase>().CreateDbContext();

    /// <summary>Skips the test where Debian's chromium is not installed, so the app did not start.</summary>
    protected void SkipUnlessChromium() =>
        Assert.SkipUnless(_app is not null, $"needs Debian's chromium at {BrowserTests.Chromium} (./test.sh installs it)");

    /// <summary>A new page in chromium (launched on first use), nobody signed in; skips the test without chromium.</summary>
    protected async Task<IPage> OpenPageAsync()
    {
        SkipUnlessChromium();
        _playwright ??= await Playwright.CreateAsync();
        _browser ??= await BrowserTests.LaunchAsync(_playwright);
        return await BrowserTests.NewPageAsync(_browser);
    }

    /// <summary>
    /// A new page with the owner signed in through the login page and landed on <paramref name="path"/>, once the page
    /// is live (the network idle), so what a test types from then on stays; skips the test without chromium.
    /// </summary>
    protected async Task<IPage> SignedInAsync(string path)
    {
        var page = await OpenPageAsync();
        await BrowserTests.SignInAsync(page, Url, path);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await BrowserTests.LiveAsync(page);
        return page;
    }

    public async ValueTask DisposeAsync()
    {
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
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // best effort: the OS cleans the temp dir
        }
        GC.SuppressFinalize(this);
    }
}
