using Clientele.Data;
using Clientele.Contacts;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Segments;

/// <summary>What adding contacts to a static list did; every id or row is counted once: <c>Added + AlreadyMembers + Errors.Count</c>.</summary>
internal sealed record ListAddResult(int Added, int AlreadyMembers, List<(int Index, string Message)> Errors);

/// <summary>Static lists: contacts added and removed by hand, by API or from a CSV file of e-mail addresses or contact ids.</summary>
internal static class StaticLists
{
    /// <summary>Adds the known contacts among <paramref name="ids"/>; unknown ones are reported by index. Does not save.</summary>
    public static async Task<ListAddResult> AddAsync(ClienteleDb db, Segment segment, IReadOnlyList<Guid> ids, DateTime now, CancellationToken ct)
    {
        var known = (await db.Contacts.Where(c => ids.Contains(c.Id) && c.DeletedAt == null).Select(c => c.Id).ToListAsync(ct)).ToHashSet();
        var present = (await db.SegmentMembers.Where(m => m.SegmentId == segment.Id && ids.Contains(m.ContactId)).Select(m => m.ContactId).ToListAsync(ct)).ToHashSet();
        var errors = new List<(int, string)>();
        var added = 0;
        for (var i = 0; i < ids.Count; i++)
        {
            if (!known.Contains(ids[i]))
            {
                errors.Add((i, $"No contact has the id {ids[i]}."));
            }
            else if (present.Add(ids[i]))
            {
                db.SegmentMembers.Add(new SegmentMember { SegmentId = segment.Id, ContactId = ids[i], Since = now });
                db.Events.Add(Membership.Move(ids[i], "segment.entered", segment, now, null));
                added++;
            }
        }
        segment.MemberCount += added;
        await SegmentTrend.RecordAsync(db, segment, now, ct);
        return new ListAddResult(added, ids.Count - added - errors.Count, errors);
    }

    /// <summary>Takes one contact off the list. Does not save. False when the contact was not on it.</summary>
    public static async Task<bool> RemoveAsync(ClienteleDb db, Segment segment, Guid contactId, DateTime now, CancellationToken ct)
    {
        var member = await db.SegmentMembers.FirstOrDefaultAsync(m => m.SegmentId == segment.Id && m.ContactId == contactId, ct);
        if (member is null)
        {
            return false;
        }
        db.SegmentMembers.Remove(member);
        db.Events.Add(Membership.Move(contactId, "segment.exited", segment, now, null));
        segment.MemberCount--;
        await SegmentTrend.RecordAsync(db, segment, now, ct);
        return true;
    }

    /// <summary>
    /// Adds the contacts a CSV file names in its <c>email</c> or <c>id</c> column (the header says which).
    /// Errors carry the 1-based data row. Does not save. Throws <see cref="ImportFileException"/> for a file without such a column.
    /// </summary>
    public static async Task<ListAddResult> AddCsvAsync(ClienteleDb db, Segment segment, Stream csv, string name, DateTime now, CancellationToken ct)
    {
        await using var file = await ImportCsv.OpenAsync(csv, name, ct);
        var column = Array.FindIndex(file.Header, h => h.ToLowerInvariant() is "email" or "e-mail" or "id" or "contactid" or "contact id");
        if (column < 0)
        {
            throw new ImportFileException($"{name} has no column named email or id (found: {string.Join(", ", file.Header)}).");
        }
        var rows = new List<string>();
        await foreach (var row in file.ReadRowsAsync(ct))
        {
            rows.Add(row.BadData is null ? row.Cell(column) ?? "" : "");
        }
        var emails = rows.Where(r => r.Contains('@', StringComparison.Ordinal)).Select(r => r.ToLowerInvariant()).Distinct().ToList();
        var byEmail = await db.Contacts.Where(c => c.EmailNormalized != null && emails.Contains(c.EmailNormalized) && c.DeletedAt == null)
            .Select(c => new { c.EmailNormalized, c.Id }).ToDictionaryAsync(c => c.EmailNormalized!, c => c.Id, ct);
        var ids = new List<Guid>();
        var rowOfId = new List<int>();
        var errors = new List<(int, string)>();
        for (var i = 0; i < rows.Count; i++)
        {
            var value = rows[i];
            if (value.Length == 0)
            {
                errors.Add((i + 1, "The row names no contact (empty)."));
            }
            else if (value.Contains('@', StringComparison.Ordinal))
            {
                if (byEmail.TryGetValue(value.ToLowerInvariant(), out var id))
                {
                    ids.Add(id);
                    rowOfId.Add(i + 1);
                }
                else
                {
                    errors.Add((i + 1, $"No contact has the e-mail {value}."));
                }
            }
            else if (Guid.TryParse(value, out var id))
            {
                ids.Add(id);
                rowOfId.Add(i + 1);
            }
            else
            {
                errors.Add((i + 1, $"\"{value}\" is neither an e-mail address nor a contact id."));
            }
        }
        var result = await AddAsync(db, segment, ids, now, ct);
        errors.AddRange(result.Errors.Select(e => (rowOfId[e.Index], e.Message)));
        errors.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return result with { Errors = errors };
    }
}

/// <summary>A segment's member count at the end of a day, for its trend.</summary>
internal sealed class SegmentCount
{
    public Guid SegmentId { get; set; }
    public DateOnly Day { get; set; }
    public int Members { get; set; }
}

internal static class SegmentTrend
{
    /// <summary>
    /// Keeps today's row of the segment's trend equal to its member count. Does not save. <paramref name="loaded"/>:
    /// today's rows were loaded into this context already (<see cref="LoadTodayAsync"/>), so a missing one is new.
    /// </summary>
    public static async Task RecordAsync(ClienteleDb db, Segment segment, DateTime now, CancellationToken ct, bool loaded = false)
    {
        var day = DateOnly.FromDateTime(now);
        var row = loaded
            ? db.SegmentCounts.Local.FirstOrDefault(r => r.SegmentId == segment.Id && r.Day == day)
            : await db.SegmentCounts.FindAsync([segment.Id, day], ct);
        if (row is null)
        {
            db.SegmentCounts.Add(new SegmentCount { SegmentId = segment.Id, Day = day, Members = segment.MemberCount });
        }
        else
        {
            row.Members = segment.MemberCount;
        }
    }

    /// <summary>Tracks today's trend rows of these segments in <paramref name="db"/>, in one query.</summary>
    public static async Task LoadTodayAsync(ClienteleDb db, IReadOnlyCollection<Guid> segments, DateTime now, CancellationToken ct)
    {
        var day = DateOnly.FromDateTime(now);
        await db.SegmentCounts.Where(r => r.Day == day && segments.Contains(r.SegmentId)).LoadAsync(ct);
    }

    /// <summary>Member count at the end of each of the last <paramref name="days"/> days (carried forward over quiet days).</summary>
    public static async Task<Dictionary<Guid, int[]>> ReadAsync(ClienteleDb db, IReadOnlyCollection<Guid> segments, DateTime now, int days, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(now);
        var from = today.AddDays(-(days - 1));
        var rows = await db.SegmentCounts.AsNoTracking().Where(r => segments.Contains(r.SegmentId) && r.Day <= today).ToListAsync(ct);
        var result = new Dictionary<Guid, int[]>();
        foreach (var id in segments)
        {
            var mine = rows.Where(r => r.SegmentId == id).OrderBy(r => r.Day).ToList();
            var series = new int[days];
            var last = mine.LastOrDefault(r => r.Day < from)?.Members ?? 0;
            for (var d = 0; d < days; d++)
            {
                var day = from.AddDays(d);
                last = mine.FirstOrDefault(r => r.Day == day)?.Members ?? last;
                series[d] = last;
            }
            result[id] = series;
        }
        return result;
    }
}
