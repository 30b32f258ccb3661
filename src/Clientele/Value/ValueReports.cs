using System.Globalization;
using Clientele.Api;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Dashboard;
using Clientele.Data;
using Clientele.Lifecycle;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Value;

/// <summary>
/// Which contacts a report looks at: those who arrived (were created) between <see cref="From"/> and <see cref="To"/>,
/// from one source, at one stage, in one saved segment. Every part is optional.
/// </summary>
internal sealed record ReportFilter(DateTime? From = null, DateTime? To = null, string? Source = null, Stage? Stage = null, Guid? SegmentId = null)
{
    /// <summary>The source a contact is counted under: utm_source, else how they arrived, trimmed and lower-case.</summary>
    public const string NoSource = "(none)";

    /// <summary>Reads the query's from, to, source, stage and segment; each problem names its parameter.</summary>
    public static ReportFilter Parse(IQueryCollection query, List<FieldError> errors)
    {
        var from = Day(query["from"], "from", false, errors);
        var to = Day(query["to"], "to", true, errors);
        if (from > to)
        {
            errors.Add(new FieldError("query:from", "The start date is after the end date."));
        }
        return Narrowing(query, errors) with { From = from, To = to };
    }

    /// <summary>Reads only the query's source, stage and segment (for a report with dates of its own).</summary>
    public static ReportFilter Narrowing(IQueryCollection query, List<FieldError> errors)
    {
        var source = query["source"].ToString() is { Length: > 0 } s ? AcquisitionSpend.Normalize(s) : null;
        Stage? stage = null;
        if (query["stage"].ToString() is { Length: > 0 } st)
        {
            if (StageNames.TryParse(st, out var parsed))
            {
                stage = parsed;
            }
            else
            {
                errors.Add(new FieldError("query:stage", $"\"{st}\" is not a stage; use one of {string.Join(", ", Enum.GetValues<Stage>().Select(x => x.ToApi()))}."));
            }
        }
        Guid? segment = null;
        if (query["segment"].ToString() is { Length: > 0 } seg)
        {
            if (Guid.TryParse(seg, out var id))
            {
                segment = id;
            }
            else
            {
                errors.Add(new FieldError("query:segment", $"\"{seg}\" is not a segment id."));
            }
        }
        return new ReportFilter(null, null, source, stage, segment);
    }

    /// <summary>A yyyy-MM-dd day as UTC; "to" runs to the day's end.</summary>
    internal static DateTime? Day(string? text, string field, bool end, List<FieldError> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return day.ToDateTime(end ? TimeOnly.MaxValue : TimeOnly.MinValue, DateTimeKind.Utc);
        }
        errors.Add(new FieldError($"query:{field}", $"\"{text}\" is not a date; use yyyy-MM-dd."));
        return null;
    }

    /// <summary>The query string that asks for this filter (for CSV links).</summary>
    public string Query()
    {
        var parts = new List<string>();
        if (From is { } f)
        {
            parts.Add($"from={f:yyyy-MM-dd}");
        }
        if (To is { } t)
        {
            parts.Add($"to={t:yyyy-MM-dd}");
        }
        if (Source is { Length: > 0 } s)
        {
            parts.Add("source=" + Uri.EscapeDataString(s));
        }
        if (Stage is { } st)
        {
            parts.Add("stage=" + st.ToApi());
        }
        if (SegmentId is { } g)
        {
            parts.Add($"segment={g}");
        }
        return string.Join("&", parts);
    }

    /// <summary>The contacts the filter lets through (not deleted).</summary>
    public IQueryable<Contact> Apply(ClienteleDb db)
    {
        var q = db.Contacts.AsNoTracking().Where(c => c.DeletedAt == null);
        if (From is { } from)
        {
            q = q.Where(c => c.CreatedAt >= from);
        }
        if (To is { } to)
        {
            q = q.Where(c => c.CreatedAt <= to);
        }
        if (Source == NoSource)
        {
            q = q.Where(c => (c.UtmSource ?? c.Source ?? "").Trim() == "");
        }
        else if (Source is { Length: > 0 } source)
        {
            // Translated to SQL lower(): string.Equals with a comparison has no translation on both providers.
#pragma warning disable CA1862
            q = q.Where(c => (c.UtmSource ?? c.Source ?? "").Trim().ToLower() == source);
#pragma warning restore CA1862
        }
        if (Stage is { } stage)
        {
            q = q.Where(c => c.Stage == stage);
        }
        if (SegmentId is { } segment)
        {
            q = q.Where(c => db.SegmentMembers.Any(m => m.SegmentId == segment && m.ContactId == c.Id));
        }
        return q;
    }

    public static string SourceOf(string? utmSource, string? source) =>
        AcquisitionSpend.Normalize(utmSource ?? source) is { Length: > 0 } s ? s : NoSource;
}

/// <summary>One group of scored customers: how many and what they are predicted to be worth.</summary>
internal sealed record ValueGroup(string Key, string Label, long Customers, decimal TotalValue, decimal AverageValue);

/// <summary>Predicted customer value grouped one way, in the scoring currency.</summary>
internal sealed record ValueBreakdown(string By, string Currency, IReadOnlyList<ValueGroup> Groups)
{
    public static readonly string[] Ways = ["source", "stage", "segment"];

    /// <summary>Scored customers the filter lets through, grouped by source, stage or saved segment (most valuable first).</summary>
    public static async Task<ValueBreakdown> ReadAsync(ClienteleDb db, ReportFilter filter, string by, CancellationToken ct)
    {
        var scored = filter.Apply(db).Where(c => c.Value != null);
        var currency = await scored.Select(c => c.Value!.Currency).FirstOrDefaultAsync(ct) ?? "";
        List<(string Key, string Label, long Count, decimal Value)> rows;
        switch (by)
        {
            case "stage":
                rows = [.. (await scored.GroupBy(c => c.Stage).Select(g => new { g.Key, Count = g.LongCount(), Value = g.Sum(c => c.Value!.PredictedValue) }).ToListAsync(ct))
                    .OrderBy(g => g.Key).Select(g => (g.Key.ToApi(), g.Key.Display(), g.Count, g.Value))];
                break;
            case "segment":
                var groups = await (from m in db.SegmentMembers
                                    join c in scored on m.ContactId equals c.Id
                                    group c by m.SegmentId into g
                                    select new { g.Key, Count = g.LongCount(), Value = g.Sum(c => c.Value!.PredictedValue) }).ToListAsync(ct);
                var names = await db.Segments.AsNoTracking().Select(s => new { s.Id, s.Name }).ToDictionaryAsync(s => s.Id, s => s.Name, ct);
                rows = [.. groups.Where(g => names.ContainsKey(g.Key)).Select(g => (g.Key.ToString(), names[g.Key], g.Count, g.Value))];
                break;
            default:
                var bySource = await scored.GroupBy(c => new { c.UtmSource, c.Source })
                    .Select(g => new { g.Key.UtmSource, g.Key.Source, Count = g.LongCount(), Value = g.Sum(c => c.Value!.PredictedValue) }).ToListAsync(ct);
                rows = [.. bySource.GroupBy(g => ReportFilter.SourceOf(g.UtmSource, g.Source))
                    .Select(g => (g.Key, g.Key, g.Sum(x => x.Count), g.Sum(x => x.Value)))];
                by = "source";
                break;
        }
        var ordered = by == "stage" ? rows : [.. rows.OrderByDescending(r => r.Value).ThenBy(r => r.Label, StringComparer.Ordinal)];
        return new ValueBreakdown(by, currency,
            [.. ordered.Select(r => new ValueGroup(r.Key, r.Label, r.Count, Math.Round(r.Value, 2), r.Count == 0 ? 0 : Math.Round(r.Value / r.Count, 2)))]);
    }
}

/// <summary>A customer as the acquisition report sees them: where they came from, when, and their predicted value.</summary>
internal sealed record AcquiredCustomer(string Source, DateTime AcquiredAt, decimal? PredictedValue);

/// <summary>One source: what was spent on it against the customers it brought.</summary>
/// <param name="Spend">Spend in the date range (a period's spend counted for the days it shares with the range); null when none is entered.</param>
/// <param name="CostPerCustomer">Spend over customers (CAC).</param>
/// <param name="Revenue">What the customers have spent so far, in the value currency.</param>
/// <param name="AverageValue">Mean predicted value of its scored customers (CLV).</param>
/// <param name="ValueToCost">CLV / CAC: 3 or more is healthy, under 1 loses money on each customer.</param>
/// <param name="EarnedBack">Margin on revenue so far over spend: 1 means the spend has paid for itself.</param>
/// <param name="PaybackMonths">Months of margin at the customers' pace so far that pay back what winning one cost.</param>
internal sealed record AcquisitionRow(
    string Source, decimal? Spend, int Customers, decimal? CostPerCustomer, decimal Revenue, decimal? AverageValue, double? ValueToCost, double? EarnedBack, double? PaybackMonths);

/// <summary>Acquisition against retention per source for a date range; <see cref="Comparable"/> says whether spend and value share a currency.</summary>
internal sealed record AcquisitionInsight(string SpendCurrency, string ValueCurrency, bool Comparable, bool HasSpend, IReadOnlyList<AcquisitionRow> Rows)
{
    private const double DaysPerMonth = 30.4375;

    /// <summary>
    /// Spend of one entry that falls in [from, to]: all of it without a period or range, else in proportion to the days
    /// its period shares with the range.
    /// </summary>
    public static decimal SpendIn(SourceSpend spend, DateOnly? from, DateOnly? to)
    {
        if (spend.From is not { } start || spend.To is not { } end || (from is null && to is null))
        {
            return spend.Amount;
        }
        var first = from is { } f && f > start ? f : start;
        var last = to is { } t && t < end ? t : end;
        if (last < first)
        {
            return 0;
        }
        var days = end.DayNumber - start.DayNumber + 1;
        return Math.Round(spend.Amount * (last.DayNumber - first.DayNumber + 1) / days, 2);
    }

    /// <summary>Compares spend with the customers each source brought. Pure: the customers, their revenue by source, the spend, the range, the margin and now.</summary>
    public static AcquisitionInsight Compute(IReadOnlyList<AcquiredCustomer> customers, IReadOnlyDictionary<string, decimal> revenue, AcquisitionSpend spend,
        string valueCurrency, DateOnly? from, DateOnly? to, double margin, DateTime now, string? onlySource = null)
    {
        var entries = (spend.Sources ?? []).Where(s => onlySource is null || AcquisitionSpend.Normalize(s.Source) == onlySource).ToList();
        var spent = entries.GroupBy(s => AcquisitionSpend.Normalize(s.Source)).ToDictionary(g => g.Key, g => g.Sum(s => SpendIn(s, from, to)));
        var comparable = entries.Count == 0 || string.Equals(spend.Currency, valueCurrency, StringComparison.OrdinalIgnoreCase);
        var bySource = customers.GroupBy(c => c.Source).ToDictionary(g => g.Key, g => g.ToList());
        var rows = bySource.Keys.Union(spent.Keys).Select(source =>
        {
            var group = bySource.GetValueOrDefault(source) ?? [];
            var count = group.Count;
            var earned = revenue.GetValueOrDefault(source);
            var scored = group.Where(c => c.PredictedValue is not null).ToList();
            decimal? average = scored.Count > 0 ? Math.Round(scored.Sum(c => c.PredictedValue!.Value) / scored.Count, 2) : null;
            decimal? amount = spent.TryGetValue(source, out var a) ? a : null;
            decimal? cac = amount is { } s && count > 0 ? Math.Round(s / count, 2) : null;
            double? ratio = comparable && average is { } avg && cac is > 0 ? Math.Round((double)(avg / cac.Value), 2) : null;
            double? earnedBack = comparable && amount is > 0 ? Math.Round((double)earned * margin / (double)amount.Value, 2) : null;
            // Margin per customer-month so far: revenue × margin over the months the customers have been customers.
            var months = group.Sum(c => Math.Max(1, (now - c.AcquiredAt).TotalDays / DaysPerMonth));
            double? payback = comparable && cac is > 0 && earned > 0 && months > 0
                ? Math.Round((double)cac.Value / ((double)earned * margin / months), 1)
                : null;
            return new AcquisitionRow(source, amount, count, cac, Math.Round(earned, 2), average, ratio, earnedBack, payback);
        });
        return new AcquisitionInsight(spend.Currency ?? "", valueCurrency, comparable, entries.Count > 0,
            [.. rows.OrderBy(r => r.Spend is null ? 1 : 0).ThenByDescending(r => r.ValueToCost ?? double.MinValue).ThenByDescending(r => r.Customers).ThenBy(r => r.Source, StringComparer.Ordinal)]);
    }

    /// <summary>Customers (contacts with an order) who arrived in the filter's range, their revenue so far and value, against the spend entered.</summary>
    public static async Task<AcquisitionInsight> ReadAsync(ClienteleDb db, ReportFilter filter, DateTime now, CancellationToken ct)
    {
        var spend = await SettingsStore.LoadAsync(db, AcquisitionSpend.Key, AcquisitionSpend.Empty, ct);
        var settings = await ScoringJob.LoadSettingsAsync(db, ct);
        var buyers = filter.Apply(db).Where(c => db.Orders.Any(o => o.ContactId == c.Id && o.Status == OrderStatus.Placed));
        var valueCurrency = await buyers.Where(c => c.Value != null).Select(c => c.Value!.Currency).FirstOrDefaultAsync(ct)
            ?? await db.Orders.Where(o => o.Status == OrderStatus.Placed).GroupBy(o => o.Currency).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefaultAsync(ct)
            ?? "";
        var customers = (await buyers.Select(c => new { c.UtmSource, c.Source, c.CreatedAt, Value = c.Value == null ? (decimal?)null : c.Value.PredictedValue }).ToListAsync(ct))
            .Select(c => new AcquiredCustomer(ReportFilter.SourceOf(c.UtmSource, c.Source), c.CreatedAt, c.Value)).ToList();
        var revenue = (await (from o in db.Orders
                              join c in buyers on o.ContactId equals c.Id
                              where o.Status == OrderStatus.Placed && o.Currency == valueCurrency
                              group o by new { c.UtmSource, c.Source } into g
                              select new { g.Key.UtmSource, g.Key.Source, Total = g.Sum(o => o.Total) }).ToListAsync(ct))
            .GroupBy(r => ReportFilter.SourceOf(r.UtmSource, r.Source)).ToDictionary(g => g.Key, g => g.Sum(r => r.Total));
        var from = filter.From is { } f ? DateOnly.FromDateTime(f) : (DateOnly?)null;
        var to = filter.To is { } t ? DateOnly.FromDateTime(t) : (DateOnly?)null;
        return Compute(customers, revenue, spend, valueCurrency, from, to, settings.Margin, now, filter.Source);
    }
}
