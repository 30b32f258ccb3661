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

    public static async Task SaveAsync<T>(ClienteleDb db, string key, T value, DateTime now, CancellationToken ct)
    {
        var row = await db.Settings.FirstOrDefaultAsync(s => s.Key == key, ct);
        if (row is null)
        {
            row = new Setting { Key = key };
            db.Settings.Add(row);
        }
        row.Value = JsonSerializer.Serialize(value, Json);
        row.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
    }
}
