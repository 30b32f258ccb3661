using Clientele.Data;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Accounts;

/// <summary>
/// Makes the first login possible. In demo mode it ensures the demo owner exists and prints its
/// credentials; otherwise, while there is no user yet, it says where to create the owner account.
/// </summary>
internal sealed class FirstRun(
    ClienteleDatabase database,
    IConfiguration config,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    IServer server,
    ILogger<FirstRun> log) : IStartupTask
{
    public const string DemoEmail = "owner@demo.clientele.test";
    public const string DemoPassword = "demo-owner-2026";

    public async Task RunAsync(CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        if (string.Equals(config["Clientele:Demo"], "true", StringComparison.OrdinalIgnoreCase))
        {
            await EnsureDemoOwnerAsync(db, ct);
            WhenListening(url => Console.WriteLine($"Demo login: {DemoEmail} / {DemoPassword} at {url}"));
        }
        else if (!await Users.AnyAsync(db, ct))
        {
            WhenListening(url => log.LogInformation("No users yet: open {Url}/setup to create the owner account.", url));
        }
    }

    private async Task EnsureDemoOwnerAsync(ClienteleDb db, CancellationToken ct)
    {
        if (await db.Users.AnyAsync(u => u.EmailNormalized == DemoEmail, ct))
        {
            return;
        }
        try
        {
            await Users.AddAsync(db, DemoEmail, Role.Owner, DemoPassword, time.GetUtcNow().UtcDateTime, ct, "Demo Owner");
            log.LogInformation("Created the demo owner {Email}.", DemoEmail);
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException)
        {
            // Another instance created it first.
        }
    }

    /// <summary>The listening address is known only once the server has started.</summary>
    private void WhenListening(Action<string> write) =>
        lifetime.ApplicationStarted.Register(() =>
        {
            var url = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? config["urls"]?.Split(';', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()
                ?? "http://localhost:5000";
            foreach (var wildcard in new[] { "://[::]", "://0.0.0.0", "://+", "://*" })
            {
                url = url.Replace(wildcard, "://localhost", StringComparison.Ordinal);
            }
            write(url.TrimEnd('/'));
        });
}

/// <summary>
/// The one-time creation of the owner account from the /setup page. It is open only while no user
/// exists; the gate keeps two browsers submitting at once from creating two owners.
/// </summary>
internal sealed class OwnerSetup(ClienteleDatabase database, TimeProvider time, BreachedPasswords breached) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<bool> IsOpenAsync(CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        return !await Users.AnyAsync(db, ct);
    }

    /// <summary>The new owner, or null when an account already exists (setup is closed).</summary>
    public async Task<User?> CreateOwnerAsync(string email, string? name, string password, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await using var db = database.CreateDbContext();
            if (await Users.AnyAsync(db, ct))
            {
                return null;
            }
            return await Users.AddAsync(db, email, Role.Owner, password, time.GetUtcNow().UtcDateTime, ct,
                string.IsNullOrWhiteSpace(name) ? null : name.Trim(), breached);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
