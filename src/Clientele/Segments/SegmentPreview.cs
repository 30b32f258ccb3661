using Clientele.Data;
using Clientele.Lifecycle;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Segments;

internal sealed record PreviewMember(Guid Id, string? Email, string? FirstName, string? LastName, string Stage);

/// <summary>How many contacts a query matches and the newest few of them, for the API and the Segments page.</summary>
internal static class SegmentPreview
{
    /// <summary>No segment query may run longer than this.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    /// <summary>Throws <see cref="SegmentQueryException"/> for a bad query, <see cref="OperationCanceledException"/> past <see cref="Limit"/>.</summary>
    public static async Task<(int Count, List<PreviewMember> Sample)> RunAsync(ClienteleDb db, string query, DateTime now, int sampleSize, CancellationToken ct)
    {
        var predicate = SegmentCompiler.Compile(SegmentParser.Parse(query), db, now);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(Limit);
        var members = db.Contacts.AsNoTracking().Where(c => c.DeletedAt == null).Where(predicate);
        var count = await members.CountAsync(limit.Token);
        var sample = await members.OrderByDescending(c => c.CreatedAt).Take(sampleSize)
            .Select(c => new { c.Id, c.Email, c.FirstName, c.LastName, c.Stage }).ToListAsync(limit.Token);
        return (count, sample.Select(m => new PreviewMember(m.Id, m.Email, m.FirstName, m.LastName, m.Stage.ToApi())).ToList());
    }
}
