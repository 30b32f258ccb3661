using System.Security.Cryptography;
using Clientele.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Accounts;

/// <summary>Back-office users: owners, marketers and support agents. Passwords are hashed with PBKDF2.</summary>
internal static class Users
{
    private static readonly PasswordHasher<User> Hasher = new();

    /// <summary>16 random characters (96 bits), well over the minimum length.</summary>
    public static string GeneratePassword()
    {
        string password;
        do
        {
            password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)).Replace('+', 'x').Replace('/', 'y');
        }
        while (PasswordPolicy.Problem(password, "") is not null); // as good as never, but never hand out a refused one
        return password;
    }

    /// <summary>
    /// Adds a user after checking the password against <see cref="PasswordPolicy"/> and, when one is set up, the
    /// breached-password service; a refusal is an <see cref="InvalidOperationException"/> saying why.
    /// </summary>
    public static async Task<User> AddAsync(ClienteleDb db, string email, Role role, string password, DateTime now, CancellationToken ct,
        string? name = null, BreachedPasswords? breached = null)
    {
        var normalized = email.Trim().ToLowerInvariant();
        if (await db.Users.AnyAsync(u => u.EmailNormalized == normalized, ct))
        {
            throw new InvalidOperationException($"A user with the e-mail {email} already exists.");
        }
        if (PasswordPolicy.Problem(password, email) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
        if (breached is not null && await breached.IsBreachedAsync(password, ct))
        {
            throw new InvalidOperationException(BreachedPasswords.Refusal);
        }
        var user = new User { Id = Guid.CreateVersion7(), Email = email.Trim(), EmailNormalized = normalized, Name = name, Role = role, CreatedAt = now };
        user.PasswordHash = Hasher.HashPassword(user, password);
        db.Users.Add(user);
        await db.SaveChangesAsync(ct);
        return user;
    }

    /// <summary>The user, if the password matches and the account is enabled.</summary>
    public static async Task<User?> VerifyAsync(ClienteleDb db, string email, string password, DateTime now, CancellationToken ct)
    {
        var normalized = email.Trim().ToLowerInvariant();
        var user = await db.Users.FirstOrDefaultAsync(u => u.EmailNormalized == normalized && u.DisabledAt == null, ct);
        if (user is null)
        {
            Hasher.HashPassword(new User(), password); // same work whether or not the user exists
            return null;
        }
        var result = Hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (result == PasswordVerificationResult.Failed)
        {
            return null;
        }
        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = Hasher.HashPassword(user, password);
        }
        user.LastLoginAt = now;
        await db.SaveChangesAsync(ct);
        return user;
    }

    public static Task<bool> AnyAsync(ClienteleDb db, CancellationToken ct) => db.Users.AnyAsync(ct);
}
