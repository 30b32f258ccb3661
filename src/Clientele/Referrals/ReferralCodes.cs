using Clientele.Data;
using Clientele.Outbox;
using Clientele.Templates;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Referrals;

/// <summary>Each contact's referral code, made on first use (the API, the page, an e-mail that shows it) and stable after.</summary>
internal static class ReferralCodes
{
    /// <summary>The contact's code, made now if they have none. Writes only the first time.</summary>
    public static async Task<string> EnsureAsync(ClienteleDatabase database, Guid contactId, DateTime now, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        if (await CodeOfAsync(db, contactId, ct) is { } existing)
        {
            return existing;
        }
        for (var attempt = 1; ; attempt++)
        {
            using (await database.EnterWriteAsync(ct))
            {
                if (await CodeOfAsync(db, contactId, ct) is { } made)
                {
                    return made;
                }
                var row = new ReferralCode { ContactId = contactId, Code = ReferralRules.NewCode(), CreatedAt = now };
                db.ReferralCodes.Add(row);
                try
                {
                    await db.SaveChangesAsync(ct);
                    return row.Code;
                }
                catch (DbUpdateException) when (attempt < 5)
                {
                    // Another instance made this contact's code first, or the new code was taken: look again.
                    db.ChangeTracker.Clear();
                }
            }
        }
    }

    private static Task<string?> CodeOfAsync(ClienteleDb db, Guid contactId, CancellationToken ct) =>
        db.ReferralCodes.AsNoTracking().Where(c => c.ContactId == contactId).Select(c => c.Code).FirstOrDefaultAsync(ct);

    /// <summary>The absolute address of a code's link, from the app's public address.</summary>
    public static string Link(string baseUrl, string code) => $"{baseUrl.TrimEnd('/')}/r/{code}";

    /// <summary>
    /// What a message shows as <c>referral</c>: the contact's code and link, made if they have none. Null while the
    /// programme is off, so a template can say <c>{% if referral %}</c> and never send a link that leads nowhere.
    /// </summary>
    public static async Task<MessageReferral?> ForMessageAsync(CompiledMessage compiled, ClienteleDatabase database, MailLinks links, Guid contactId,
        DateTime now, CancellationToken ct)
    {
        if (!compiled.ReadsReferral)
        {
            return null;
        }
        await using (var db = database.CreateDbContext())
        {
            if (!(await SettingsStore.LoadAsync(db, ReferralProgram.Key, ReferralProgram.Default, ct)).Enabled)
            {
                return null;
            }
        }
        var code = await EnsureAsync(database, contactId, now, ct);
        return new MessageReferral { Code = code, Link = Link(links.BaseUrl, code) };
    }
}
