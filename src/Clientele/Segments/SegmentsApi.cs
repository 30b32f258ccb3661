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
    public static RouteGroupBuilder MapSegments(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/segments").WithTags("Segments");
        group.MapPost("/preview", PreviewAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Count the contacts a segment query matches and show a sample; a bad query is a 400 with line and column");
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("Segments with their member counts");
        group.MapGet("/{id:guid}", GetAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("One segment, with rebuild progress while one runs");
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<SegmentInput>("application/json")
            .WithSummary("Create a segment: {\"name\", \"query\"} (dynamic) or {\"name\", \"static\": true}; membership is built in the background");
        group.MapPut("/{id:guid}", UpdateAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<SegmentInput>("application/json")
            .WithSummary("Rename or change the query; a changed query rebuilds membership in the background");
        group.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(ApiKeys.WritePolicy).WithSummary("Delete a segment and its membership");
        group.MapPost("/{id:guid}/members", AddMembersAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<MembersInput>("application/json")
            .WithSummary("Add contacts to a static list: {\"contactIds\": [...]}; unknown ids are reported by index, the rest are added");
        group.MapPost("/{id:guid}/members/csv", AddCsvAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<string>("text/csv")
            .WithSummary("Add the contacts a CSV file names in its email or id column to a static list; every row is reported");
        group.MapDelete("/{id:guid}/members/{contactId:guid}", RemoveMemberAsync).RequireAuthorization(ApiKeys.WritePolicy)
            .WithSummary("Remove a contact from a static list");
        group.MapGet("/{id:guid}/members", MembersAsync).RequireAuthorization(ApiKeys.ReadPolicy)
            .WithSummary("Members, newest first, a page at a time: {\"items\": [...], \"next\": cursor | null}");
        return api;
    }

    internal sealed record SegmentInput(string? Name, string? Query, bool? Static);

    internal sealed record SegmentDto(Guid Id, string Name, string Query, bool Static, int MemberCount, DateTime? RebuiltAt, double? RebuildProgress);

    private static SegmentDto Dto(Segment s, SegmentRebuilds rebuilds) => new(s.Id, s.Name, s.Query, s.Static, s.MemberCount, s.RebuiltAt, rebuilds.Progress(s.Id));

    internal static async Task<IResult> ListAsync(ClienteleDb db, SegmentRebuilds rebuilds, CancellationToken ct) =>
        TypedResults.Ok((await db.Segments.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct)).Select(s => Dto(s, rebuilds)).ToList());

    internal sealed record TrendPoint(DateOnly Day, int Members);

    internal sealed record SegmentDetail(Guid Id, string Name, string Query, bool Static, int MemberCount, DateTime? RebuiltAt, double? RebuildProgress,
        List<TrendPoint> Trend);

    /// <summary>One segment with its member count at the end of each of the last 30 days.</summary>
    internal static async Task<IResult> GetAsync(Guid id, ClienteleDb db, SegmentRebuilds rebuilds, TimeProvider time, CancellationToken ct)
    {
        if (await db.Segments.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct) is not { } s)
        {
            return ApiProblems.NotFound($"There is no segment {id}.");
        }
        var now = time.GetUtcNow().UtcDateTime;
        var series = (await SegmentTrend.ReadAsync(db, [id], now, 30, ct))[id];
        var first = DateOnly.FromDateTime(now).AddDays(-(series.Length - 1));
        return TypedResults.Ok(new SegmentDetail(s.Id, s.Name, s.Query, s.Static, s.MemberCount, s.RebuiltAt, rebuilds.Progress(s.Id),
            [.. series.Select((members, i) => new TrendPoint(first.AddDays(i), members))]));
    }

    private static Task<(SegmentInput? Input, IResult? Problem)> ReadInputAsync(HttpRequest request, CancellationToken ct) =>
        JsonBody.ReadAsync<SegmentInput>(request, ct);

    /// <summary>A query's problem as a 400 pointing at /query with line and column.</summary>
    private static IResult QueryProblem(SegmentQueryException ex) =>
        ApiProblems.BadRequest(ex.Message, "/query", new Dictionary<string, object?> { ["line"] = ex.Line, ["column"] = ex.Column });

    /// <summary>A query's problem as a 400; null when it is fine.</summary>
    private static IResult? CheckQuery(string query, ClienteleDb db, DateTime now)
    {
        try
        {
            SegmentCompiler.Compile(SegmentParser.Parse(query), db, now);
            return null;
        }
        catch (SegmentQueryException ex)
        {
            return QueryProblem(ex);
        }
    }

    internal static async Task<IResult> CreateAsync(HttpRequest request, ClienteleDb db, TimeProvider time, SegmentRebuilds rebuilds, CancellationToken ct)
    {
        var (input, problem) = await ReadInputAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var name = input!.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            return ApiProblems.Invalid("/name", "Give the segment a name.");
        }
        var isStatic = input.Static ?? false;
        var query = input.Query?.Trim() ?? "";
        var now = time.GetUtcNow().UtcDateTime;
        if (!isStatic && CheckQuery(query, db, now) is { } bad)
        {
            return bad;
        }
        if (await db.Segments.AnyAsync(s => s.Name == name, ct))
        {
            return ApiProblems.Conflict($"A segment named \"{name}\" exists already.", "/name");
        }
        var segment = new Segment { Id = Guid.CreateVersion7(), Name = name, Query = isStatic ? "" : query, Static = isStatic, CreatedAt = now, UpdatedAt = now };
        db.Segments.Add(segment);
        await db.SaveChangesAsync(ct);
        if (!isStatic)
        {
            rebuilds.Request(segment.Id);
        }
        return TypedResults.Created($"/api/v1/segments/{segment.Id}", Dto(segment, rebuilds));
    }

    internal static async Task<IResult> UpdateAsync(Guid id, HttpRequest request, ClienteleDb db, TimeProvider time, SegmentRebuilds rebuilds, CancellationToken ct)
    {
        var (input, problem) = await ReadInputAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var segment = await db.Segments.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (segment is null)
        {
            return ApiProblems.NotFound($"There is no segment {id}.");
        }
        var now = time.GetUtcNow().UtcDateTime;
        if (input!.Name?.Trim() is { Length: > 0 } name && name != segment.Name)
        {
            if (await db.Segments.AnyAsync(s => s.Name == name && s.Id != id, ct))
            {
                return ApiProblems.Conflict($"A segment named \"{name}\" exists already.", "/name");
            }
            segment.Name = name;
        }
        var rebuild = false;
        if (!segment.Static && input.Query?.Trim() is { } query && query != segment.Query)
        {
            if (CheckQuery(query, db, now) is { } bad)
            {
                return bad;
            }
            segment.Query = query;
            rebuild = true;
        }
        segment.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        if (rebuild)
        {
            rebuilds.Request(segment.Id);
        }
        return TypedResults.Ok(Dto(segment, rebuilds));
    }

    internal static async Task<IResult> DeleteAsync(Guid id, ClienteleDb db, SegmentProjection projection, CancellationToken ct)
    {
        projection.Changed();
        var deleted = await db.Segments.Where(s => s.Id == id).ExecuteDeleteAsync(ct);
        await db.SegmentMembers.Where(m => m.SegmentId == id).ExecuteDeleteAsync(ct);
        return deleted == 0 ? ApiProblems.NotFound($"There is no segment {id}.") : TypedResults.NoContent();
    }

    internal sealed record MembersInput(List<Guid>? ContactIds);

    internal sealed record AddResult(int Added, int AlreadyMembers, List<FieldError> Errors);

    private static async Task<(Segment? Segment, IResult? Problem)> StaticListAsync(Guid id, ClienteleDb db, CancellationToken ct)
    {
        var segment = await db.Segments.FirstOrDefaultAsync(s => s.Id == id, ct);
        return segment switch
        {
            null => (null, ApiProblems.NotFound($"There is no segment {id}.")),
            { Static: false } => (null, ApiProblems.Conflict("This segment is dynamic: its members follow its query. Add contacts to a static list.")),
            _ => (segment, null),
        };
    }

    internal static async Task<IResult> AddMembersAsync(Guid id, HttpRequest request, ClienteleDatabase database, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        var (doc, problem) = await JsonBody.ReadAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        MembersInput? input;
        using (doc)
        {
            (input, problem) = JsonBody.Bind<MembersInput>(doc!.RootElement);
        }
        if (problem is not null)
        {
            return problem;
        }
        if (input!.ContactIds is not { Count: > 0 } ids)
        {
            return ApiProblems.Invalid("/contactIds", "Send {\"contactIds\": [\"…\"]}.");
        }
        using var gate = await database.EnterWriteAsync(ct);
        var (segment, notStatic) = await StaticListAsync(id, db, ct);
        if (notStatic is not null)
        {
            return notStatic;
        }
        var result = await StaticLists.AddAsync(db, segment!, ids, time.GetUtcNow().UtcDateTime, ct);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new AddResult(result.Added, result.AlreadyMembers,
            [.. result.Errors.Select(e => new FieldError($"/contactIds/{e.Index}", e.Message))]));
    }

    internal sealed record CsvRowError(int Row, string Message);

    internal sealed record CsvResult(int Rows, int Added, int AlreadyMembers, List<CsvRowError> Errors);

    /// <summary>The body is the CSV file: rows = added + already members + errors, each error with its data row.</summary>
    internal static async Task<IResult> AddCsvAsync(Guid id, HttpRequest request, ClienteleDatabase database, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, ct);
        body.Position = 0;
        using var gate = await database.EnterWriteAsync(ct);
        var (segment, notStatic) = await StaticListAsync(id, db, ct);
        if (notStatic is not null)
        {
            return notStatic;
        }
        ListAddResult result;
        try
        {
            result = await StaticLists.AddCsvAsync(db, segment!, body, "The file", time.GetUtcNow().UtcDateTime, ct);
        }
        catch (Contacts.ImportFileException ex)
        {
            return ApiProblems.Invalid("", ex.Message);
        }
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new CsvResult(result.Added + result.AlreadyMembers + result.Errors.Count, result.Added, result.AlreadyMembers,
            [.. result.Errors.Select(e => new CsvRowError(e.Index, e.Message))]));
    }

    internal static async Task<IResult> RemoveMemberAsync(Guid id, Guid contactId, ClienteleDatabase database, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        using var gate = await database.EnterWriteAsync(ct);
        var (segment, notStatic) = await StaticListAsync(id, db, ct);
        if (notStatic is not null)
        {
            return notStatic;
        }
        if (!await StaticLists.RemoveAsync(db, segment!, contactId, time.GetUtcNow().UtcDateTime, ct))
        {
            return ApiProblems.NotFound($"Contact {contactId} is not in this list.");
        }
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    internal sealed record MemberPage(List<PreviewMember> Items, string? Next);

    internal static async Task<IResult> MembersAsync(Guid id, ClienteleDb db, CancellationToken ct, string? cursor = null, int limit = 50)
    {
        if (limit is < 1 or > 500)
        {
            return ApiProblems.Invalid("limit", "Between 1 and 500.");
        }
        var offset = 0;
        if (cursor is not null && !(int.TryParse(cursor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out offset) && offset >= 0))
        {
            return ApiProblems.Invalid("cursor", "Not a cursor from a previous page.");
        }
        if (!await db.Segments.AnyAsync(s => s.Id == id, ct))
        {
            return ApiProblems.NotFound($"There is no segment {id}.");
        }
        var page = await db.SegmentMembers.AsNoTracking().Where(m => m.SegmentId == id)
            .OrderByDescending(m => m.Since).ThenBy(m => m.ContactId)
            .Skip(offset).Take(limit + 1)
            .Join(db.Contacts, m => m.ContactId, c => c.Id, (m, c) => new { c.Id, c.Email, c.FirstName, c.LastName, c.Stage })
            .ToListAsync(ct);
        var items = page.Take(limit).Select(m => new PreviewMember(m.Id, m.Email, m.FirstName, m.LastName, m.Stage.ToApi())).ToList();
        var next = page.Count > limit ? (offset + limit).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return TypedResults.Ok(new MemberPage(items, next));
    }

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
                var (count, sample) = await SegmentPreview.RunAsync(db, q.GetString()!, time.GetUtcNow().UtcDateTime, 10, ct);
                return TypedResults.Ok(new Preview(count, sample));
            }
            catch (SegmentQueryException ex)
            {
                return QueryProblem(ex);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return ApiProblems.Make(StatusCodes.Status422UnprocessableEntity, "Query too slow",
                    $"The query did not finish within {SegmentPreview.Limit.TotalSeconds:0} seconds; narrow it, e.g. with a time window.", "/query", null);
            }
        }
    }
}
