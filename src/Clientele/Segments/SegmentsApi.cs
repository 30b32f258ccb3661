using System.Text.Json;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;
using Clientele.Lifecycle;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Segments;

/// <summary><c>POST /api/v1/segments/preview</c>: how many contacts a query matches, and a few of them.</summary>
internal static class SegmentsApi
{
    /// <summary>No segment query may run longer than this.</summary>
    public static readonly TimeSpan QueryLimit = TimeSpan.FromSeconds(10);

    public static RouteGroupBuilder MapSegments(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/segments").WithTags("Segments");
        group.MapPost("/preview", PreviewAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Count the contacts a segment query matches and show a sample; a bad query is a 400 with line and column");
        return api;
    }

    internal sealed record PreviewMember(Guid Id, string? Email, string? FirstName, string? LastName, string Stage);

    internal sealed record Preview(int Count, List<PreviewMember> Sample);

    internal static async Task<IResult> PreviewAsync(HttpRequest request, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        var (doc, problem) = await JsonBody.ReadAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        using (doc)
        {
            if (doc!.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("query", out var q) || q.ValueKind != JsonValueKind.String)
            {
                return ApiProblems.Invalid("/query", "Send {\"query\": \"stage >= Purchase and …\"}.");
            }
            try
            {
                var predicate = SegmentCompiler.Compile(SegmentParser.Parse(q.GetString()!), db, time.GetUtcNow().UtcDateTime);
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
                limit.CancelAfter(QueryLimit);
                var members = db.Contacts.AsNoTracking().Where(c => c.DeletedAt == null).Where(predicate);
                var count = await members.CountAsync(limit.Token);
                var sample = await members.OrderByDescending(c => c.CreatedAt).Take(10)
                    .Select(c => new { c.Id, c.Email, c.FirstName, c.LastName, c.Stage }).ToListAsync(limit.Token);
                return TypedResults.Ok(new Preview(count, sample.Select(m => new PreviewMember(m.Id, m.Email, m.FirstName, m.LastName, m.Stage.ToApi())).ToList()));
            }
            catch (SegmentQueryException ex)
            {
                return ApiProblems.BadRequest(ex.Message, "/query", new Dictionary<string, object?> { ["line"] = ex.Line, ["column"] = ex.Column });
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return ApiProblems.Make(StatusCodes.Status422UnprocessableEntity, "Query too slow",
                    $"The query did not finish within {QueryLimit.TotalSeconds:0} seconds; narrow it, e.g. with a time window.", "/query", null);
            }
        }
    }
}
