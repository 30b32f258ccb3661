using System.Globalization;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Commerce;
using Clientele.Data;
using Clientele.Lifecycle;
using CsvHelper;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Contacts;

/// <summary>
/// Contacts and orders as CSV, streamed row by row so a million contacts take no more memory than ten. The same files
/// come from the API (a read key) and from the back office (owners and marketers; support agents may not export).
/// A cell that a spreadsheet would run as a formula is written as text.
/// </summary>
internal static class CsvExports
{
    internal static readonly CsvWriterOptions Options = CsvWriterOptions.Default with
    {
        Injection = CsvInjection.Escape,
        NewLine = "\r\n",
        FormatProvider = CultureInfo.InvariantCulture,
    };

    /// <summary>Writes a header and then each record to the response, UTF-8 without a byte order mark.</summary>
    internal static IResult Stream<T>(string fileName, string[] header, IAsyncEnumerable<T> rows, Func<T, string?[]> cells, CancellationToken ct) =>
        Results.Stream(async body =>
        {
            await using var csv = CsvWriter.Create(body, Options, leaveOpen: true);
            await csv.WriteRecordAsync(header, ct);
            await foreach (var row in rows.WithCancellation(ct))
            {
                await csv.WriteRecordAsync(Array.ConvertAll(cells(row), c => c ?? ""), ct);
            }
            await csv.FlushAsync(ct);
        }, "text/csv; charset=utf-8", fileName);

    public static void MapCsvExports(IEndpointRouteBuilder app, RouteGroupBuilder api)
    {
        api.MapGet("/exports/contacts.csv", Contacts).RequireAuthorization(ApiKeys.ReadPolicy).WithTags("Contacts")
            .WithSummary("Contacts as CSV; filters: stage, tag, segment (id)");
        api.MapGet("/exports/orders.csv", Orders).RequireAuthorization(ApiKeys.ReadPolicy).WithTags("Orders")
            .WithSummary("Orders as CSV, one row per order; filters: from, to (dates, by when placed)");
        app.MapGet("/contacts/export.csv", Contacts).RequireAuthorization(Web.Access.Marketing);
        app.MapGet("/orders/export.csv", Orders).RequireAuthorization(Web.Access.Marketing);
    }

    private static async Task<IResult> Contacts(ClienteleDb db, string? stage, string? tag, Guid? segment, CancellationToken ct)
    {
        var query = db.Contacts.AsNoTracking().Where(c => c.DeletedAt == null);
        if (!string.IsNullOrWhiteSpace(stage))
        {
            if (!StageNames.TryParse(stage, out var s))
            {
                return ApiProblems.BadRequest($"Unknown stage '{stage}'. Use one of: {string.Join(", ", Enum.GetValues<Stage>().Select(x => x.ToApi()))}.", "query:stage");
            }
            query = query.Where(c => c.Stage == s);
        }
        if (!string.IsNullOrWhiteSpace(tag))
        {
            query = query.Where(c => c.Tags.Contains(tag));
        }
        if (segment is { } segmentId)
        {
            if (!await db.Segments.AnyAsync(s => s.Id == segmentId, ct))
            {
                return ApiProblems.BadRequest($"There is no segment {segmentId}.", "query:segment");
            }
            query = query.Where(c => db.SegmentMembers.Any(m => m.SegmentId == segmentId && m.ContactId == c.Id));
        }
        var rows = query.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).Include(c => c.Consents).AsSplitQuery().AsAsyncEnumerable();
        string[] header =
        [
            "id", "email", "first_name", "last_name", "phone", "external_id", "stage", "score", "qualified", "health", "tags", "consent",
            "source", "utm_source", "utm_medium", "utm_campaign", "birthday", "time_zone", "locale", "created_at", "last_activity_at",
            "predicted_value", "value_currency",
        ];
        return Stream("contacts.csv", header, rows, c =>
        [
            c.Id.ToString(), c.Email, c.FirstName, c.LastName, c.Phone, c.ExternalId, c.Stage.ToApi(),
            c.Score.ToString(CultureInfo.InvariantCulture), c.Qualified ? "true" : "false", c.Health.ToString().ToLowerInvariant(),
            string.Join(";", c.Tags),
            string.Join(";", c.Consents.OrderBy(x => x.Topic, StringComparer.Ordinal).Select(x => $"{x.Topic}:{x.Status.ToString().ToLowerInvariant()}")),
            c.Source, c.UtmSource, c.UtmMedium, c.UtmCampaign, c.Birthday?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), c.TimeZone, c.Locale,
            Time(c.CreatedAt), Time(c.LastActivityAt), c.Value?.PredictedValue.ToString("0.00", CultureInfo.InvariantCulture), c.Value?.Currency,
        ], ct);
    }

    private static IResult Orders(ClienteleDb db, string? from, string? to, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var start = Day(from, "from", errors);
        var end = Day(to, "to", errors);
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        var query = db.Orders.AsNoTracking();
        if (start is { } s)
        {
            query = query.Where(o => o.PlacedAt >= s);
        }
        if (end is { } e)
        {
            var until = e.AddDays(1);
            query = query.Where(o => o.PlacedAt < until);
        }
        var rows = query.OrderBy(o => o.PlacedAt).ThenBy(o => o.Id)
            .Select(o => new
            {
                o.ExternalId,
                o.ContactId,
                Email = db.Contacts.Where(c => c.Id == o.ContactId).Select(c => c.Email).FirstOrDefault(),
                o.PlacedAt,
                o.Status,
                o.Total,
                o.Currency,
                o.Coupon,
                o.RefundedAt,
                Items = o.Lines.Sum(l => (int?)l.Quantity) ?? 0,
                Skus = o.Lines.Select(l => l.Sku).ToList(),
            })
            .AsAsyncEnumerable();
        string[] header = ["order_id", "contact_id", "email", "placed_at", "status", "total", "currency", "coupon", "items", "skus", "refunded_at"];
        var name = from is null && to is null ? "orders.csv" : $"orders-{from ?? "start"}-{to ?? "today"}.csv";
        return Stream(name, header, rows, o =>
        [
            o.ExternalId, o.ContactId.ToString(), o.Email, Time(o.PlacedAt), o.Status.ToString().ToLowerInvariant(),
            o.Total.ToString("0.00", CultureInfo.InvariantCulture), o.Currency, o.Coupon, o.Items.ToString(CultureInfo.InvariantCulture),
            string.Join(";", o.Skus), Time(o.RefundedAt),
        ], ct);
    }

    private static string? Time(DateTime? t) => t?.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static DateTime? Day(string? text, string name, List<FieldError> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        }
        errors.Add(new FieldError("query:" + name, $"\"{text}\" is not a date such as 2026-01-31."));
        return null;
    }
}
