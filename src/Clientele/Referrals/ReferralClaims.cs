using System.Text.Json;
using Clientele.Api;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Referrals;

/// <summary>
/// A <c>referralCode</c> given with a contact through the contacts API: recorded as a <c>referral.claimed</c> event on
/// the contact, which <see cref="ReferralProjection"/> then judges like any other sign-up with a code.
/// </summary>
internal static class ReferralClaims
{
    /// <summary>The code a contact body names, or what is wrong with it.</summary>
    public static (string? Code, FieldError? Error) Read(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("referralCode", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }
        return value.ValueKind == JsonValueKind.String && ReferralRules.NormalizeCode(value.GetString()) is { } code
            ? (code, null)
            : (null, new FieldError("/referralCode", "A referral code is 4 to 20 letters and digits, as in the referrer's link /r/{code}."));
    }

    /// <summary>Adds the claim to the caller's unit of work, once per contact and code.</summary>
    public static async Task AddAsync(ClienteleDb db, Guid contactId, string? code, DateTime now, CancellationToken ct)
    {
        if (code is null)
        {
            return;
        }
        var key = $"{ReferralProjection.ClaimType}:{contactId:N}:{code}";
        if (db.Events.Local.Any(e => e.IdempotencyKey == key) || await db.Events.AnyAsync(e => e.IdempotencyKey == key, ct))
        {
            return;
        }
        db.Events.Add(Event.Recorded(contactId, ReferralProjection.ClaimType, "api", key, new { referralCode = code }, now));
    }
}
