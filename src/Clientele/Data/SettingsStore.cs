using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Data;

/// <summary>Settings kept as JSON documents in the <c>settings</c> table, one per key.</summary>
internal static class SettingsStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The stored value, or <paramref name="fallback"/> while nothing was saved.</summary>
    public static async Task<T> LoadAsync<T>(ClienteleDb db, string key, T fallback, CancellationToken ct)
    {
        var row = await db.Settings.AsNoTracking().FirstOrDefaultAsync(s => s.Key == key, ct);
        return row is null ? fallback : JsonSerializer.Deserialize<T>(row.Value, Json) ?? fallback;
    }

    /// <summary>
    /// The stored value, or <paramref name="create"/>'s, stored now. Instances starting together on one database each
    /// get the one value that was stored first (a signing key must be the same everywhere).
    /// </summary>
    public static async Task<T> GetOrCreateAsync<T>(ClienteleDb db, string key, Func<T> create, DateTime now, CancellationToken ct)
        where T : class
    {
        if (await LoadAsync<T?>(db, key, null, ct) is { } stored)
        {
            return stored;
        }
        var value = create();
        db.Settings.Add(new Setting { Key = key, Value = JsonSerializer.Serialize(value, Json), UpdatedAt = now });
        try
        {
            await db.SaveChangesAsync(ct);
            return value;
        }
        catch (DbUpdateException)
        {
            // Another instance stored its value first: use theirs.
            db.ChangeTracker.Clear();
            return await LoadAsync<T?>(db, key, null, ct) ?? throw new InvalidOperationException($"Setting {key} could not be stored or read.");
        }
    }

    /// <summary>
    /// Stores the value under the key. Two instances storing a new key at the same moment do not fail: the later one
    /// replaces the value, as it would have a moment later.
    /// </summary>
    public static async Task SaveAsync<T>(ClienteleDb db, string key, T value, DateTime now, CancellationToken ct)
    {
        var json = JsonSerializer.Serialize(value, Json);
        for (var attempt = 0; ; attempt++)
        {
            var row = await db.Settings.FirstOrDefaultAsync(s => s.Key == key, ct);
            var adding = row is null;
            if (row is null)
            {
                row = new Setting { Key = key };
                db.Settings.Add(row);
            }
            row.Value = json;
            row.UpdatedAt = now;
            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateException) when (adding && attempt == 0 && db.Database.CurrentTransaction is null)
            {
                db.Entry(row).State = EntityState.Detached;
            }
        }
    }
}
