using System.Text.Json;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Segments;

/// <summary>A named group of contacts: dynamic (a query, kept current) or static (added and removed by hand).</summary>
internal sealed class Segment
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";

    /// <summary>The condition in the segment language; empty for a static list.</summary>
    public string Query { get; set; } = "";

    public bool Static { get; set; }
    public int MemberCount { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>When membership was last computed from scratch.</summary>
    public DateTime? RebuiltAt { get; set; }
}

/// <summary>One contact in one segment, since when.</summary>
internal sealed class SegmentMember
{
    public Guid SegmentId { get; set; }
    public Guid ContactId { get; set; }
    public DateTime Since { get; set; }
}

/// <summary>
/// Keeps stored membership equal to what the query says: contacts who now match enter, those who no longer do
/// exit, and each move is recorded as <c>segment.entered</c> / <c>segment.exited</c> (journeys start on these).
/// </summary>
internal static class Membership
{
    private const int Batch = 1000;

    /// <summary>
    /// Recomputes the members among <paramref name="contacts"/> (all contacts when null). Does not save.
    /// Returns how many entered and exited.
    /// </summary>
    public static async Task<(int Entered, int Exited)> UpdateAsync(ClienteleDb db, Segment segment, IReadOnlyCollection<Guid>? contacts, DateTime now, long? causeEventId, CancellationToken ct)
    {
        if (segment.Static)
        {
            return (0, 0);
        }
        var predicate = SegmentCompiler.Compile(SegmentParser.Parse(segment.Query), db, now);
        var candidates = db.Contacts.AsNoTracking().Where(c => c.DeletedAt == null);
        var stored = db.SegmentMembers.Where(m => m.SegmentId == segment.Id);
        if (contacts is not null)
        {
            candidates = candidates.Where(c => contacts.Contains(c.Id));
            stored = stored.Where(m => contacts.Contains(m.ContactId));
        }
        var matching = (await candidates.Where(predicate).Select(c => c.Id).ToListAsync(ct)).ToHashSet();
        var members = await stored.ToListAsync(ct);
        var current = members.Select(m => m.ContactId).ToHashSet();
        var entered = matching.Where(id => !current.Contains(id)).ToList();
        var exited = members.Where(m => !matching.Contains(m.ContactId)).ToList();
        foreach (var id in entered)
        {
            db.SegmentMembers.Add(new SegmentMember { SegmentId = segment.Id, ContactId = id, Since = now });
            db.Events.Add(Move(id, "segment.entered", segment, now, causeEventId));
        }
        foreach (var m in exited)
        {
            db.SegmentMembers.Remove(m);
            db.Events.Add(Move(m.ContactId, "segment.exited", segment, now, causeEventId));
        }
        segment.MemberCount += entered.Count - exited.Count;
        if (entered.Count + exited.Count > 0)
        {
            await SegmentTrend.RecordAsync(db, segment, now, ct);
        }
        return (entered.Count, exited.Count);
    }

    internal static Event Move(Guid contactId, string type, Segment segment, DateTime now, long? cause) => new()
    {
        ContactId = contactId,
        Type = type,
        OccurredAt = now,
        ReceivedAt = now,
        Properties = JsonSerializer.Serialize(new { segmentId = segment.Id, segment = segment.Name }, EventJson.Options),
        Source = "segments",
        CauseEventId = cause,
    };

    /// <summary>Rebuilds a dynamic segment from scratch, in slices of contacts so each transaction stays short.</summary>
    public static async Task RebuildAsync(ClienteleDatabase database, Guid segmentId, TimeProvider time, CancellationToken ct, IProgress<double>? progress = null)
    {
        int total;
        await using (var db = database.CreateDbContext())
        {
            total = await db.Contacts.CountAsync(c => c.DeletedAt == null, ct);
        }
        var done = 0;
        var offset = 0;
        while (true)
        {
            using var gate = await database.EnterWriteAsync(ct);
            await using var db = database.CreateDbContext();
            var segment = await db.Segments.FirstOrDefaultAsync(s => s.Id == segmentId, ct);
            if (segment is null || segment.Static)
            {
                return;
            }
            var slice = await db.Contacts.AsNoTracking().OrderBy(c => c.Id).Skip(offset).Take(Batch).Select(c => c.Id).ToListAsync(ct);
            var now = time.GetUtcNow().UtcDateTime;
            if (slice.Count == 0)
            {
                // Members whose contact is gone (deleted) leave too.
                var gone = await db.SegmentMembers.Where(m => m.SegmentId == segmentId && db.Contacts.Any(c => c.Id == m.ContactId && c.DeletedAt != null)).ToListAsync(ct);
                db.SegmentMembers.RemoveRange(gone);
                segment.MemberCount = await db.SegmentMembers.CountAsync(m => m.SegmentId == segmentId, ct) - gone.Count;
                segment.RebuiltAt = now;
                await SegmentTrend.RecordAsync(db, segment, now, ct);
                await db.SaveChangesAsync(ct);
                progress?.Report(1);
                return;
            }
            offset += slice.Count;
            await UpdateAsync(db, segment, slice, now, null, ct);
            await db.SaveChangesAsync(ct);
            done += slice.Count;
            progress?.Report(total == 0 ? 1 : Math.Min(1, (double)done / total));
        }
    }
}
