using System.Text.RegularExpressions;
using Clientele.Api;

namespace Clientele.Dashboard;

/// <summary>What the business spent to win customers from one source (an ad network, a partner, a podcast …).</summary>
/// <param name="From">First day of the period the amount was spent in; with <paramref name="To"/> null, the spend has no period and counts in every date range.</param>
/// <param name="To">Last day of the period (inclusive).</param>
internal sealed record SourceSpend(string? Source, decimal Amount, DateOnly? From = null, DateOnly? To = null)
{
    /// <summary>Whether the two periods share a day; a spend without a period shares every day.</summary>
    public bool Overlaps(SourceSpend other) =>
        (From ?? DateOnly.MinValue) <= (other.To ?? DateOnly.MaxValue) && (other.From ?? DateOnly.MinValue) <= (To ?? DateOnly.MaxValue);
}

/// <summary>
/// The owner's acquisition spend per source, in one currency: the cost side of "is a customer worth what we pay for
/// them?". Kept in the settings table and edited on the dashboard or through <c>PUT /api/v1/acquisition</c>.
/// </summary>
internal sealed partial record AcquisitionSpend(string? Currency, List<SourceSpend>? Sources)
{
    public const string Key = "acquisition.spend";

    public static AcquisitionSpend Empty { get; } = new("", []);

    /// <summary>What is wrong, each with its JSON pointer; empty when it can be kept.</summary>
    public List<FieldError> Problems()
    {
        var errors = new List<FieldError>();
        var sources = Sources ?? [];
        if (sources.Count > 0 && (Currency is null || !CurrencyCode().IsMatch(Currency)))
        {
            errors.Add(new("/currency", "The currency is a three-letter code such as EUR or USD."));
        }
        if (sources.Count > 200)
        {
            errors.Add(new("/sources", "At most 200 sources."));
        }
        for (var i = 0; i < sources.Count; i++)
        {
            var name = Normalize(sources[i].Source);
            if (name.Length == 0)
            {
                errors.Add(new($"/sources/{i}/source", "Name the source, as contacts' utm_source or source says it (e.g. google)."));
            }
            else if (name.Length > 100)
            {
                errors.Add(new($"/sources/{i}/source", "A source name has at most 100 characters."));
            }
            else if (sources.Take(i).Any(s => Normalize(s.Source) == name && s.Overlaps(sources[i])))
            {
                errors.Add(new($"/sources/{i}/source", sources[i].From is null && sources[i].To is null
                    ? $"\"{name}\" is listed twice."
                    : $"\"{name}\" is listed twice for overlapping dates."));
            }
            if (sources[i].From is { } from && sources[i].To is { } to && from > to)
            {
                errors.Add(new($"/sources/{i}/to", "The period ends before it starts."));
            }
            if (sources[i].Amount is < 0 or > 1_000_000_000_000m)
            {
                errors.Add(new($"/sources/{i}/amount", "The amount spent is 0 or more."));
            }
        }
        return errors;
    }

    /// <summary>The spend as stored: source names normalised, currency upper-case.</summary>
    public AcquisitionSpend Normalized() =>
        new((Currency ?? "").Trim().ToUpperInvariant(), [.. (Sources ?? []).Select(s => s with { Source = Normalize(s.Source) })]);

    /// <summary>How a source is compared: trimmed and lower-case, so "Google" and "google " are one.</summary>
    public static string Normalize(string? source) => (source ?? "").Trim().ToLowerInvariant();

    [GeneratedRegex("^[A-Za-z]{3}$")]
    private static partial Regex CurrencyCode();
}

/// <summary>Customers a source brought and their predicted value (in the scoring currency).</summary>
internal sealed record SourceValue(string Source, int Customers, int Scored, decimal TotalValue);

/// <summary>One row of customer value against acquisition cost.</summary>
/// <param name="AverageValue">Mean predicted value of the source's scored customers; null when none is scored.</param>
/// <param name="CostPerCustomer">Spend divided by the customers the source brought; null without spend or customers.</param>
/// <param name="ValueToCost">Average value over cost per customer: above 1 a customer earns back what winning them cost (3 or more is healthy).</param>
internal sealed record SourceReport(string Source, int Customers, decimal? AverageValue, decimal? Spend, decimal? CostPerCustomer, double? ValueToCost);

/// <summary>Customer value against acquisition cost, per source: pure.</summary>
internal static class AcquisitionReport
{
    /// <summary>
    /// Every source with customers or spend: sources with spend first (worst value for money first), then the rest by
    /// customers. Spend and value are compared only when both are in the same currency.
    /// </summary>
    public static IReadOnlyList<SourceReport> Compare(IEnumerable<SourceValue> sources, AcquisitionSpend spend, string valueCurrency)
    {
        var values = sources.GroupBy(s => AcquisitionSpend.Normalize(s.Source))
            .ToDictionary(g => g.Key, g => new SourceValue(g.Key, g.Sum(s => s.Customers), g.Sum(s => s.Scored), g.Sum(s => s.TotalValue)));
        var spent = (spend.Sources ?? []).GroupBy(s => AcquisitionSpend.Normalize(s.Source)).ToDictionary(g => g.Key, g => g.Sum(s => s.Amount));
        var comparable = string.Equals(spend.Currency, valueCurrency, StringComparison.OrdinalIgnoreCase);
        var rows = values.Keys.Union(spent.Keys).Select(source =>
        {
            var v = values.GetValueOrDefault(source);
            var customers = v?.Customers ?? 0;
            decimal? average = v is { Scored: > 0 } ? Math.Round(v.TotalValue / v.Scored, 2) : null;
            decimal? amount = spent.TryGetValue(source, out var a) ? a : null;
            decimal? cost = amount is { } s && customers > 0 ? Math.Round(s / customers, 2) : null;
            double? ratio = comparable && average is { } avg && cost is > 0 ? Math.Round((double)(avg / cost.Value), 2) : null;
            return new SourceReport(source, customers, average, amount, cost, ratio);
        });
        return [.. rows.OrderBy(r => r.Spend is null ? 1 : 0).ThenBy(r => r.ValueToCost ?? double.MaxValue).ThenByDescending(r => r.Customers).ThenBy(r => r.Source, StringComparer.Ordinal)];
    }
}
