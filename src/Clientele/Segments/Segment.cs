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
    /// Makes the stored <paramref name="members"/> (of the contacts looked at) equal to <paramref name="matching"/>,
    /// with a <c>segment.entered</c> or <c>segment.exited</c> event on the log for each move (inside the caller's transaction).
    /// Returns how many moved.
    /// </summary>
    private static async Task<int> ApplyAsync(ClienteleDb db, Segment segment, HashSet<Guid> matching, List<SegmentMember> members,
        DateTime now, Func<Guid, long?> causeOf, CancellationToken ct)
    {
        var current = members.Select(m => m.ContactId).ToHashSet();
        var entered = matching.Where(id => !current.Contains(id)).ToList();
        var exited = members.Where(m => !matching.Contains(m.ContactId)).ToList();
        var moves = new List<Event>(entered.Count + exited.Count);
        foreach (var id in entered)
        {
            db.SegmentMembers.Add(new SegmentMember { SegmentId = segment.Id, ContactId = id, Since = now });
            moves.Add(Move(id, "segment.entered", segment, now, causeOf(id)));
        }
        foreach (var m in exited)
        {
            db.SegmentMembers.Remove(m);
            moves.Add(Move(m.ContactId, "segment.exited", segment, now, causeOf(m.ContactId)));
        }
        await EventWriter.InsertAsync(db, moves, ct); // the log's fast path; commits with the members
        segment.MemberCount += entered.Count - exited.Count;
        return moves.Count;
    }

    /// <summary>Up to this many contacts are looked up one by one with a compiled query; more share one query.</summary>
    private const int FewLookups = 4;

    /// <summary>Contacts per statement: enough to keep a busy batch to a few statements, few enough for any database's parameter limit.</summary>
    private const int ManyContacts = 500;

    /// <summary>
    /// Re-evaluates the <paramref name="changed"/> segments among <paramref name="segments"/> for <paramref name="contacts"/>,
    /// inside the caller's transaction: one query for what is stored, one for the contact rows, then only the
    /// contacts whose membership the row alone cannot confirm are asked of the database.
    /// Does not save. Returns how many moves it made; each is caused by <paramref name="causeOf"/>(segment, contact).
    /// </summary>
    public static async Task<int> UpdateManyAsync(ClienteleDb db, IReadOnlyList<(Segment Segment, SegmentNode Node)> segments, IReadOnlySet<Guid> changed,
        IReadOnlyList<Guid> contacts, DateTime now, Func<Guid, Guid, long?> causeOf, CancellationToken ct)
    {
        var moves = 0;
        var moved = new List<Segment>();
        var targets = segments.Where(s => changed.Contains(s.Segment.Id)).ToList();
        for (var from = 0; from < contacts.Count && targets.Count > 0; from += ManyContacts)
        {
            var slice = contacts.Skip(from).Take(ManyContacts).ToList();
            var stored = (await db.SegmentMembers.Where(m => slice.Contains(m.ContactId)).ToListAsync(ct))
                .Where(m => changed.Contains(m.SegmentId)).ToLookup(m => m.SegmentId);
            var people = await db.Contacts.AsNoTracking().Include(c => c.Consents).Where(c => slice.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
            foreach (var (segment, node) in targets)
            {
                // Only contacts whose membership may differ are asked of the database: where the contact row alone
                // already agrees with what is stored, nothing can move.
                var members = stored[segment.Id].ToDictionary(m => m.ContactId);
                var check = slice.Where(id => !people.TryGetValue(id, out var person)
                    || SegmentCompiler.Guess(node, person, now) != members.ContainsKey(id)).ToList();
                if (check.Count == 0)
                {
                    continue;
                }
                var matching = await MatchingAsync(db, segment, node, check, now, ct);
                var stale = check.Where(members.ContainsKey).Select(id => members[id]).ToList();
                var n = await ApplyAsync(db, segment, matching, stale, now, contact => causeOf(segment.Id, contact), ct);
                if (n > 0 && !moved.Contains(segment))
                {
                    moved.Add(segment);
                }
                moves += n;
            }
        }
        if (moved.Count > 0)
        {
            // Today's trend rows of the segments that moved, in one query, then each kept equal to its count.
            await SegmentTrend.LoadTodayAsync(db, [.. moved.Select(s => s.Id)], now, ct);
            foreach (var segment in moved)
            {
                await SegmentTrend.RecordAsync(db, segment, now, ct, loaded: true);
            }
        }
        return moves;
    }

    /// <summary>Which of a few contacts match: one compiled lookup each for a handful, one query for more.</summary>
    private static async Task<HashSet<Guid>> MatchingAsync(ClienteleDb db, Segment segment, SegmentNode node, List<Guid> check, DateTime now, CancellationToken ct)
    {
        if (check.Count > FewLookups)
        {
            var predicate = SegmentCompiler.Compile(node, db, now, few: true);
            return [.. await db.Contacts.AsNoTracking().Where(c => c.DeletedAt == null && check.Contains(c.Id)).Where(predicate).Select(c => c.Id).ToListAsync(ct)];
        }
        HashSet<Guid> matching = [];
        foreach (var id in check)
        {
            if (await SegmentLookup.MatchesAsync(db, segment.Query, node, id, now))
            {
                matching.Add(id);
            }
        }
        return matching;
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

    /// <summary>A rebuild's one query over all contacts may run this long; it never runs unbounded.</summary>
    public static readonly TimeSpan RebuildLimit = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Rebuilds a dynamic segment from scratch: one query finds every contact who matches now, the difference with
    /// the stored members is applied in slices (each contact checked again, so a move made meanwhile by an event
    /// is not undone), and the member count is taken afresh.
    /// </summary>
    public static async Task RebuildAsync(ClienteleDatabase database, Guid segmentId, TimeProvider time, CancellationToken ct, IProgress<double>? progress = null)
    {
        HashSet<Guid> matching, stored;
        await using (var db = database.CreateDbContext())
        {
            var segment = await db.Segments.AsNoTracking().FirstOrDefaultAsync(s => s.Id == segmentId, ct);
            if (segment is null || segment.Static)
            {
                return;
            }
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(RebuildLimit);
            var predicate = SegmentCompiler.Compile(SegmentParser.Parse(segment.Query), db, time.GetUtcNow().UtcDateTime);
            db.Database.SetCommandTimeout(RebuildLimit);
            matching = [.. await db.Contacts.AsNoTracking().Where(c => c.DeletedAt == null).Where(predicate).Select(c => c.Id).ToListAsync(limit.Token)];
            progress?.Report(0.3);
            stored = [.. await db.SegmentMembers.AsNoTracking().Where(m => m.SegmentId == segmentId).Select(m => m.ContactId).ToListAsync(limit.Token)];
        }
        var moves = matching.Where(id => !stored.Contains(id)).Concat(stored.Where(id => !matching.Contains(id))).ToList();
        for (var done = 0; ; done += Batch)
        {
            using var gate = await database.EnterWriteAsync(ct);
            await using var db = database.CreateDbContext();
            var segment = await db.Segments.FirstOrDefaultAsync(s => s.Id == segmentId, ct);
            if (segment is null || segment.Static)
            {
                return;
            }
            var now = time.GetUtcNow().UtcDateTime;
            if (done >= moves.Count)
            {
                segment.MemberCount = await db.SegmentMembers.CountAsync(m => m.SegmentId == segmentId, ct);
                segment.RebuiltAt = now;
                await SegmentTrend.RecordAsync(db, segment, now, ct);
                await db.SaveChangesAsync(ct);
                progress?.Report(1);
                return;
            }
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await UpdateManyAsync(db, [(segment, SegmentParser.Parse(segment.Query))], new HashSet<Guid> { segmentId }, moves.GetRange(done, Math.Min(Batch, moves.Count - done)), now,
                (_, _) => null, ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            progress?.Report(0.3 + 0.7 * Math.Min(1, (double)(done + Batch) / moves.Count));
        }
    }
}
