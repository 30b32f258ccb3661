using System.Globalization;
using System.Text.Json;
using Clientele.Lifecycle;
using MudBlazor;

namespace Clientele.Web;

/// <summary>How the back office shows times, money, stages and JSON. Times are stored and shown in UTC.</summary>
internal static class Format
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string When(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    public static string When(DateTime? utc, string none = "—") => utc is { } t ? When(t) : none;

    public static string Day(DateTime utc) => utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Money(decimal amount, string currency) => amount.ToString("N2", CultureInfo.InvariantCulture) + " " + currency;

    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string Display(this Health health) => health switch
    {
        Health.AtRisk => "At risk",
        _ => health.ToString(),
    };

    public static Color Color(this Health health) => health switch
    {
        Health.Active => MudBlazor.Color.Success,
        Health.AtRisk => MudBlazor.Color.Warning,
        Health.Lapsed => MudBlazor.Color.Error,
        _ => MudBlazor.Color.Default,
    };

    public static Color Color(this Stage stage) => stage switch
    {
        <= Stage.Qualify => MudBlazor.Color.Default,
        <= Stage.Trial => MudBlazor.Color.Info,
        <= Stage.CrossPurchase => MudBlazor.Color.Primary,
        _ => MudBlazor.Color.Success,
    };

    public static string Name(string? first, string? last) =>
        string.Join(' ', new[] { first, last }.Where(s => !string.IsNullOrWhiteSpace(s)));

    /// <summary>Indented JSON for reading; the text as stored if it is not valid JSON.</summary>
    public static string PrettyJson(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return JsonSerializer.Serialize(doc.RootElement, Indented);
        }
        catch (JsonException)
        {
            return json;
        }
    }

    /// <summary>The members of a JSON object as text pairs; nested values stay JSON.</summary>
    public static List<KeyValuePair<string, string>> Members(string json)
    {
        var list = new List<KeyValuePair<string, string>>();
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return list;
            }
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                list.Add(new(p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() ?? "" : p.Value.GetRawText()));
            }
        }
        catch (JsonException)
        {
            // shown as empty: attributes are validated on the way in
        }
        return list;
    }

    public static bool IsEmptyJson(string json) => string.IsNullOrWhiteSpace(json) || json.Trim() is "{}" or "null";
}

/// <summary>Redirect targets from a query string are followed only when they stay on this site.</summary>
internal static class LocalUrl
{
    public static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url)
        && url[0] == '/'
        && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.Any(char.IsControl);

    public static string OrHome(string? url) => IsLocal(url) ? url! : "/";
}
