using Clientele.Data;
using Clientele.Lifecycle;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Segments;

internal sealed record PreviewMember(Guid Id, string? Email, string? FirstName, string? LastName, string Stage);

/// <summary>How many contacts a query matches and a few of them, for the API and the Segments page.</summary>
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
        // The first matches the database finds, newest first among them: an ordered query would have to evaluate
        // the condition for every contact again, and a sample needs no more than a few.
        var sample = await members.Take(sampleSize)
            .Select(c => new { c.Id, c.Email, c.FirstName, c.LastName, c.Stage, c.CreatedAt }).ToListAsync(limit.Token);
        return (count, sample.OrderByDescending(m => m.CreatedAt).Select(m => new PreviewMember(m.Id, m.Email, m.FirstName, m.LastName, m.Stage.ToApi())).ToList());
    }
}
