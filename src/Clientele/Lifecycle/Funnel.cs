using System.Globalization;
using System.Text.Json;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Lifecycle;

/// <summary>One rung of the funnel.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Count">Contacts of the cohort that have reached this stage or a higher one.</param>
/// <param name="ConversionToNext">Share of them that went on to the next stage or higher; null for the last stage or when none reached this one.</param>
/// <param name="MedianDaysToNext">Median days from first reaching this stage to first reaching the next (0 when a contact skipped it); null when nobody went on.</param>
internal sealed record FunnelStep(Stage Stage, int Count, double? ConversionToNext, double? MedianDaysToNext);

/// <summary>
/// The ladder as a funnel for an acquisition cohort: how many contacts reached each stage, how many of them went
/// on, and how long that took. A contact "reaches" a stage when they first enter it or any higher one, so skipping
/// a rung (a first order straight from Lead) counts as passing through it.
/// </summary>
internal static class Funnel
{
    public static IReadOnlyList<FunnelStep> Compute(IEnumerable<(Guid Contact, DateTime CreatedAt)> cohort, IEnumerable<(Guid Contact, DateTime At, Stage To)> moves)
    {
        var stages = Enum.GetValues<Stage>();
        // reached[contact][k]: when the contact first reached stage k (index 0 = Lead) or higher.
        var reached = cohort.ToDictionary(c => c.Contact, c =>
        {
            var times = new DateTime?[stages.Length];
            times[0] = c.CreatedAt;
            return times;
        });
        foreach (var (contact, at, to) in moves.OrderBy(m => m.At))
        {
            if (!reached.TryGetValue(contact, out var times))
            {
                continue;
            }
            for (var k = 0; k < (int)to; k++)
            {
                times[k] ??= at;
            }
        }
        var steps = new List<FunnelStep>(stages.Length);
        for (var k = 0; k < stages.Length; k++)
        {
            var count = reached.Values.Count(t => t[k] is not null);
            double? conversion = null;
            double? median = null;
            if (k + 1 < stages.Length && count > 0)
            {
                var onward = reached.Values.Where(t => t[k + 1] is not null).ToList();
                conversion = (double)onward.Count / count;
                median = onward.Count == 0 ? null : Median(onward.Select(t => Math.Max(0, (t[k + 1]!.Value - t[k]!.Value).TotalDays)).ToList());
            }
            steps.Add(new FunnelStep(stages[k], count, conversion, median));
        }
        return steps;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        var n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    /// <summary>The funnel of contacts created in [from, to] (of <paramref name="contacts"/>, e.g. one source's; all by default), with their moves up to now.</summary>
    public static async Task<IReadOnlyList<FunnelStep>> ReadAsync(ClienteleDb db, DateTime from, DateTime to, CancellationToken ct, IQueryable<Clientele.Contacts.Contact>? contacts = null)
    {
        var cohort = await (contacts ?? db.Contacts).AsNoTracking()
            .Where(c => c.DeletedAt == null && c.CreatedAt >= from && c.CreatedAt <= to)
            .Select(c => new { c.Id, c.CreatedAt })
            .ToListAsync(ct);
        var ids = cohort.Select(c => c.Id).ToHashSet();
        var changes = await db.Events.AsNoTracking()
            .Where(e => e.Type == "stage.changed" && e.OccurredAt >= from)
            .Select(e => new { e.ContactId, e.OccurredAt, e.Properties })
            .ToListAsync(ct);
        var moves = changes.Where(e => ids.Contains(e.ContactId)).Select(e =>
        {
            using var doc = JsonDocument.Parse(e.Properties);
            var to = doc.RootElement.TryGetProperty("to", out var t) && StageNames.TryParse(t.GetString(), out var stage) ? stage : Stage.Lead;
            return (e.ContactId, e.OccurredAt, to);
        });
        return Compute(cohort.Select(c => (c.Id, c.CreatedAt)), moves);
    }
}

internal static class ReportsApi
{
    /// <summary>The funnel as CSV for the back office (<c>/insights/funnel.csv?from=&amp;to=</c>, signed-in marketers and owners).</summary>
    public static IEndpointRouteBuilder MapFunnelExport(this IEndpointRouteBuilder app)
    {
        app.MapGet("/insights/funnel.csv", async (HttpRequest request, ClienteleDb db, TimeProvider time, CancellationToken ct, string? from, string? to) =>
        {
            var errors = new List<FieldError>();
            var (start, end) = Range(from, to, time.GetUtcNow().UtcDateTime, errors);
            // Narrowed to one source or saved segment as the other Insights reports are (the stage is what the funnel shows).
            var narrow = Clientele.Value.ReportFilter.Narrowing(request.Query, errors) with { Stage = null };
            if (errors.Count > 0)
            {
                return ApiProblems.Invalid(errors);
            }
            var steps = await Funnel.ReadAsync(db, start, end, ct, narrow.Apply(db));
            var csv = new System.Text.StringBuilder("stage,count,conversion_to_next,median_days_to_next\n");
            foreach (var s in steps)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{s.Stage.Display()},{s.Count},{s.ConversionToNext?.ToString("0.####", CultureInfo.InvariantCulture)},{s.MedianDaysToNext?.ToString("0.##", CultureInfo.InvariantCulture)}\n");
            }
            var name = $"funnel-{start:yyyy-MM-dd}-{end:yyyy-MM-dd}.csv";
            return Results.File(System.Text.Encoding.UTF8.GetBytes(csv.ToString()), "text/csv", name);
        }).RequireAuthorization(Clientele.Web.Access.Marketing);
        return app;
    }

    /// <summary>[from, to] from the query, defaulting to the 90 days up to now.</summary>
    internal static (DateTime From, DateTime To) Range(string? from, string? to, DateTime now, List<FieldError> errors)
    {
        var end = Parse(to, "to", errors) ?? now;
        var start = Parse(from, "from", errors) ?? end.AddDays(-90);
        if (errors.Count == 0 && start > end)
        {
            errors.Add(new FieldError("from", "Must not be after 'to'."));
        }
        return (start, end);
    }

    public static RouteGroupBuilder MapReports(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/reports").WithTags("Reports").RequireAuthorization(ApiKeys.ReadPolicy);
        group.MapGet("/funnel", GetFunnel)
            .WithSummary("Contacts per stage for the cohort created between from and to (default: the last 90 days), with conversion to the next stage and the median days it took");
        return api;
    }

    internal sealed record FunnelDto(DateTime From, DateTime To, List<FunnelStepDto> Stages);

    internal sealed record FunnelStepDto(string Stage, int Count, double? ConversionToNext, double? MedianDaysToNext);

    internal static async Task<IResult> GetFunnel(ClienteleDb db, TimeProvider time, CancellationToken ct, string? from = null, string? to = null)
    {
        var errors = new List<FieldError>();
        var (start, end) = Range(from, to, time.GetUtcNow().UtcDateTime, errors);
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        var steps = await Funnel.ReadAsync(db, start, end, ct);
        return TypedResults.Ok(new FunnelDto(start, end, steps.Select(s => new FunnelStepDto(s.Stage.Display(), s.Count, s.ConversionToNext, s.MedianDaysToNext)).ToList()));
    }

    /// <summary>A date (whole day, UTC: "to" runs to its end) or a date-time.</summary>
    private static DateTime? Parse(string? text, string field, List<FieldError> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return field == "to" ? day.ToDateTime(TimeOnly.MaxValue, DateTimeKind.Utc) : day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at.UtcDateTime;
        }
        errors.Add(new FieldError(field, $"\"{text}\" is not a date; use yyyy-MM-dd or an ISO 8601 time."));
        return null;
    }
}
