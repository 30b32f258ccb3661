using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Accounts;

/// <summary>
/// One failed sign-in for an e-mail address, known to us or not, kept for an hour. Rows in the database rather than
/// in memory, so that every app instance on one PostgreSQL counts the same attempts.
/// </summary>
internal sealed class LoginFailure
{
    public long Id { get; set; }
    public string EmailNormalized { get; set; } = "";
    public DateTime At { get; set; }
}

/// <summary>What came of a sign-in: the user, or the time until which the address is paused, or neither.</summary>
internal readonly record struct SignInOutcome(User? User, DateTime? PausedUntil);

/// <summary>
/// Guessing passwords is slowed down (OWASP ASVS 2.2.1): after five failed sign-ins for one e-mail address within
/// fifteen minutes, that address may not sign in for fifteen minutes, even with the right password. Unknown addresses
/// are paused the same way, so the pause tells nobody whether an account exists. A successful sign-in clears the count.
/// </summary>
internal static class LoginThrottle
{
    public const int MaxFailures = 5;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan Pause = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan Keep = TimeSpan.FromHours(1);

    /// <summary>
    /// Until when sign-in is paused, given the earlier failures (oldest first): the latest of those that ended five
    /// failures within the window, plus the pause; null when that has passed or never happened.
    /// </summary>
    public static DateTime? PausedUntil(IReadOnlyList<DateTime> failures, DateTime now)
    {
        DateTime? until = null;
        for (var i = MaxFailures - 1; i < failures.Count; i++)
        {
            // Strictly within the window: the first failure after a pause ends starts a fresh count.
            if (failures[i] - failures[i - MaxFailures + 1] < Window && failures[i] + Pause > now && (until is null || failures[i] + Pause > until))
            {
                until = failures[i] + Pause;
            }
        }
        return until;
    }

    public static string Normalize(string email) => email.Trim().ToLowerInvariant();

    /// <summary>
    /// Checks the password unless the address is paused. The attempt is written down as a failure before the password
    /// is checked, one address at a time (a lock per address on PostgreSQL, the write gate on SQLite), so a burst of
    /// parallel guesses is held to the same limit; a success then clears the count.
    /// </summary>
    public static async Task<SignInOutcome> SignInAsync(ClienteleDatabase database, string email, string password, DateTime now, CancellationToken ct)
    {
        var normalized = Normalize(email);
        if (normalized.Length > 320)
        {
            return default; // no such address can exist; not worth a row
        }
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            if (database.Kind == DatabaseKind.Postgres)
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(7283463, hashtext({normalized}))", ct);
            }
            var since = now - Window - Pause;
            var earlier = await db.LoginFailures.AsNoTracking()
                .Where(f => f.EmailNormalized == normalized && f.At > since)
                .OrderBy(f => f.At).ThenBy(f => f.Id)
                .Select(f => f.At)
                .ToListAsync(ct);
            if (PausedUntil(earlier, now) is { } until)
            {
                // A refused attempt is not a failure: the pause ends when it says, however often someone knocks.
                return new(null, until);
            }
            db.LoginFailures.Add(new LoginFailure { EmailNormalized = normalized, At = now });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }

        var user = await Users.VerifyAsync(db, email, password, now, ct);
        using (await database.EnterWriteAsync(ct))
        {
            if (user is not null)
            {
                await db.LoginFailures.Where(f => f.EmailNormalized == normalized).ExecuteDeleteAsync(ct);
            }
            else
            {
                var old = now - Keep;
                await db.LoginFailures.Where(f => f.At < old).ExecuteDeleteAsync(ct);
            }
        }
        return new(user, null);
    }

    /// <summary>The addresses paused now, with the time each pause ends, for the owner's list of users.</summary>
    public static async Task<Dictionary<string, DateTime>> PausedAsync(ClienteleDb db, DateTime now, CancellationToken ct)
    {
        var since = now - Window - Pause;
        var failures = await db.LoginFailures.AsNoTracking()
            .Where(f => f.At > since && db.Users.Any(u => u.EmailNormalized == f.EmailNormalized))
            .Select(f => new { f.EmailNormalized, f.At, f.Id })
            .ToListAsync(ct);
        var paused = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        foreach (var group in failures.GroupBy(f => f.EmailNormalized))
        {
            if (PausedUntil([.. group.OrderBy(f => f.At).ThenBy(f => f.Id).Select(f => f.At)], now) is { } until)
            {
                paused[group.Key] = until;
            }
        }
        return paused;
    }

    /// <summary>Lets the address sign in again at once (the owner's "Unlock").</summary>
    public static async Task UnlockAsync(ClienteleDatabase database, string email, CancellationToken ct)
    {
        var normalized = Normalize(email);
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            await db.LoginFailures.Where(f => f.EmailNormalized == normalized).ExecuteDeleteAsync(ct);
        }
    }
}
