using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Fluid;
using Fluid.Filters;
using Fluid.Values;

namespace Clientele.Templates;

/// <summary>
/// The filters templates may use: Fluid's standard ones, made safe for e-mail (no way around HTML encoding, no
/// reflection), plus <c>money</c>, <c>local_date</c>, <c>local_time</c>, <c>days_until</c>, <c>days_since</c> and
/// <c>first_name_or</c>. Every filter's result is checked against the render's limits.
/// </summary>
internal static class LiquidFilters
{
    /// <summary>Encodes only what HTML needs: accented names stay readable in the source of the message.</summary>
    public static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    public const string DefaultDateFormat = "%-d %B %Y";

    public static void Register(FilterCollection filters)
    {
        filters.AddFilter("date", Date);
        filters.AddFilter("local_date", LocalDate);
        filters.AddFilter("local_time", LocalTime);
        filters.AddFilter("days_until", DaysUntil);
        filters.AddFilter("days_since", DaysSince);
        filters.AddFilter("money", Money);
        filters.AddFilter("first_name_or", FirstNameOr);
        // Contact data must never reach the HTML unencoded, so the ways around the encoder are closed.
        filters.AddFilter("raw", static (input, _, _) => input);
        filters.AddFilter("newline_to_br", NewlineToBr);
        // Fluid's own json filter falls back to reflection over .NET objects.
        filters.AddFilter("json", static (input, _, context) => new StringValue(ToJson(input, context)));

        foreach (var (name, filter) in filters.ToList())
        {
            filters.AddFilter(name, Guarded(filter));
        }
    }

    /// <summary>Checks every filter's result against the render's limits, so a loop that doubles a string is stopped
    /// long before it eats the memory.</summary>
    private static FilterDelegate Guarded(FilterDelegate filter) => (input, arguments, context) =>
    {
        var result = filter(input, arguments, context);
        if (context is not RenderContext render)
        {
            return result;
        }
        if (result.IsCompletedSuccessfully)
        {
            render.CheckSize(result.Result);
            return result;
        }
        return Checked(result, render);

        static async ValueTask<FluidValue> Checked(ValueTask<FluidValue> pending, RenderContext render)
        {
            var value = await pending;
            render.CheckSize(value);
            return value;
        }
    };

    /// <summary>Fluid's <c>date</c>, shown in the contact's time zone.</summary>
    public static ValueTask<FluidValue> Date(FluidValue input, FilterArguments arguments, TemplateContext context) =>
        MiscFilters.Date(InZone(input, context), arguments, context);

    /// <summary><c>{{ order.placed_at | local_date }}</c> → "24 November 2026" in the contact's zone and language;
    /// takes a strftime format like <c>date</c>.</summary>
    public static ValueTask<FluidValue> LocalDate(FluidValue input, FilterArguments arguments, TemplateContext context) =>
        MiscFilters.Date(InZone(input, context), arguments.Count > 0 ? arguments : new FilterArguments(new StringValue(DefaultDateFormat)), context);

    /// <summary><c>{{ offer.expires_at | local_time }}</c> → "5:30 PM" or "17:30", as the contact's culture writes it.</summary>
    public static ValueTask<FluidValue> LocalTime(FluidValue input, FilterArguments arguments, TemplateContext context)
    {
        if (arguments.Count > 0)
        {
            return MiscFilters.Date(InZone(input, context), arguments, context);
        }
        var twelveHour = context.CultureInfo.DateTimeFormat.ShortTimePattern.Contains('t', StringComparison.Ordinal);
        return MiscFilters.Date(InZone(input, context), new FilterArguments(new StringValue(twelveHour ? "%-I:%M %p" : "%H:%M")), context);
    }

    /// <summary>Whole days from the send date to the value's date, both in the contact's zone: 0 today, 1 tomorrow.</summary>
    public static ValueTask<FluidValue> DaysUntil(FluidValue input, FilterArguments arguments, TemplateContext context) =>
        Days(input, context, 1);

    /// <summary>Whole days from the value's date to the send date, both in the contact's zone: 1 yesterday.</summary>
    public static ValueTask<FluidValue> DaysSince(FluidValue input, FilterArguments arguments, TemplateContext context) =>
        Days(input, context, -1);

    private static ValueTask<FluidValue> Days(FluidValue input, TemplateContext context, int sign)
    {
        if (!input.TryGetDateTimeInput(context, out var when))
        {
            return NilValue.Instance;
        }
        var now = context is RenderContext r ? r.SendTime : context.Now();
        return NumberValue.Create(sign * DaysBetween(now, when, context.TimeZone));
    }

    /// <summary>Calendar days from <paramref name="from"/> to <paramref name="to"/> as seen in <paramref name="zone"/>.</summary>
    public static int DaysBetween(DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(to, zone).DateTime).DayNumber - DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(from, zone).DateTime).DayNumber;

    /// <summary><c>{{ order.total | money: order.currency }}</c> in the contact's culture.</summary>
    public static ValueTask<FluidValue> Money(FluidValue input, FilterArguments arguments, TemplateContext context)
    {
        if (input.IsNil() || (input.Type == FluidValues.String && !decimal.TryParse(input.ToStringValue(), NumberStyles.Number, CultureInfo.InvariantCulture, out _)))
        {
            return NilValue.Instance;
        }
        var currency = arguments.Count > 0 && !arguments.At(0).IsNil() ? arguments.At(0).ToStringValue() : (context as RenderContext)?.Currency;
        return new StringValue(FormatMoney(input.ToNumberValue(), currency, context.CultureInfo));
    }

    /// <summary><c>{{ contact.first_name | first_name_or: "there" }}</c>: the name, tidied ("ANN" → "Ann"), or the
    /// fallback when it is blank or looks like an e-mail address.</summary>
    public static ValueTask<FluidValue> FirstNameOr(FluidValue input, FilterArguments arguments, TemplateContext context)
    {
        var fallback = arguments.Count > 0 ? arguments.At(0).ToStringValue() : "there";
        return new StringValue(TidyFirstName(input.IsNil() ? null : input.ToStringValue(), context.CultureInfo) ?? fallback);
    }

    public static string? TidyFirstName(string? name, CultureInfo culture)
    {
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Contains('@', StringComparison.Ordinal))
        {
            return null;
        }
        var lower = culture.TextInfo.ToLower(name);
        var upper = culture.TextInfo.ToUpper(name);
        if (name != lower && name != upper)
        {
            return name;
        }
        // Typed all in one case: capitalise each part of "mary-ann" or "jean paul".
        var tidy = lower.ToCharArray();
        for (var i = 0; i < tidy.Length; i++)
        {
            if (i == 0 || tidy[i - 1] is ' ' or '-' or '\'')
            {
                tidy[i] = culture.TextInfo.ToUpper(tidy[i]);
            }
        }
        return new string(tidy);
    }

    private static ValueTask<FluidValue> NewlineToBr(FluidValue input, FilterArguments arguments, TemplateContext context)
    {
        var text = input.ToStringValue();
        if (context is RenderContext { Html: false })
        {
            return new StringValue(text);
        }
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        return new StringValue(string.Join("<br />\n", lines.Select(Html.Encode)), encode: false);
    }

    private static FluidValue InZone(FluidValue input, TemplateContext context) =>
        input.TryGetDateTimeInput(context, out var value) ? new DateTimeValue(TimeZoneInfo.ConvertTime(value, context.TimeZone)) : input;

    private static readonly Dictionary<string, string> Symbols = new(StringComparer.Ordinal)
    {
        ["USD"] = "$",
        ["EUR"] = "€",
        ["GBP"] = "£",
        ["JPY"] = "¥",
        ["CNY"] = "¥",
        ["INR"] = "₹",
        ["KRW"] = "₩",
        ["ILS"] = "₪",
        ["TRY"] = "₺",
        ["RUB"] = "₽",
        ["VND"] = "₫",
        ["NGN"] = "₦",
        ["PHP"] = "₱",
        ["UAH"] = "₴",
        ["BRL"] = "R$",
        ["AUD"] = "A$",
        ["CAD"] = "CA$",
        ["NZD"] = "NZ$",
        ["HKD"] = "HK$",
        ["SGD"] = "S$",
        ["MXN"] = "MX$",
    };

    private static readonly HashSet<string> NoMinorUnits = new(StringComparer.Ordinal) { "JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF" };
    private static readonly HashSet<string> ThreeMinorUnits = new(StringComparer.Ordinal) { "BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD" };
    private static readonly ConcurrentDictionary<(string Culture, string Currency), NumberFormatInfo?> Formats = new();

    /// <summary>
    /// An amount as the contact would write it: in the currency's home culture exactly as that culture writes it
    /// ("12,50 €" for de-DE, "$12.50" for en-US); elsewhere with the currency's symbol where one is well known
    /// ("€12.50" for en-US) and otherwise with its code after the number ("12.50 CHF").
    /// </summary>
    public static string FormatMoney(decimal amount, string? currency, CultureInfo culture)
    {
        var code = currency?.Trim().ToUpperInvariant();
        if (code is not { Length: 3 } || !code.All(char.IsAsciiLetterUpper))
        {
            return amount.ToString("N2", culture);
        }
        var digits = NoMinorUnits.Contains(code) ? 0 : ThreeMinorUnits.Contains(code) ? 3 : 2;
        var format = Formats.GetOrAdd((culture.Name, code), static (key, c) =>
        {
            var (_, code) = key;
            var digits = NoMinorUnits.Contains(code) ? 0 : ThreeMinorUnits.Contains(code) ? 3 : 2;
            var numbers = (NumberFormatInfo)c.NumberFormat.Clone();
            numbers.CurrencyDecimalDigits = digits;
            if (HomeCurrency(c) == code)
            {
                return numbers;
            }
            if (Symbols.TryGetValue(code, out var symbol))
            {
                numbers.CurrencySymbol = symbol;
                return numbers;
            }
            return null;
        }, culture);
        return format is not null ? amount.ToString("C", format) : $"{amount.ToString("N" + digits, culture)} {code}";
    }

    private static string? HomeCurrency(CultureInfo culture)
    {
        if (culture.IsNeutralCulture || culture.Name.Length == 0)
        {
            return null;
        }
        try
        {
            return new RegionInfo(culture.Name).ISOCurrencySymbol;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>JSON of a Liquid value, written from the values themselves (no reflection), at most 32 levels deep.</summary>
    public static string ToJson(FluidValue value, TemplateContext context)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            Write(json, value, context, 0);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);

        static void Write(Utf8JsonWriter json, FluidValue value, TemplateContext context, int depth)
        {
            if (depth > 32)
            {
                json.WriteNullValue();
                return;
            }
            switch (value)
            {
                case NilValue or EmptyValue or UndefinedValue:
                    json.WriteNullValue();
                    break;
                case BooleanValue b:
                    json.WriteBooleanValue(b.ToBooleanValue());
                    break;
                case NumberValue n:
                    json.WriteNumberValue(n.ToNumberValue());
                    break;
                case DateTimeValue d:
                    json.WriteStringValue(((DateTimeOffset)d.ToObjectValue()).ToString("O", CultureInfo.InvariantCulture));
                    break;
                case ArrayValue a:
                    json.WriteStartArray();
                    foreach (var item in a.Values)
                    {
                        Write(json, item, context, depth + 1);
                    }
                    json.WriteEndArray();
                    break;
                case DictionaryValue map:
                    json.WriteStartObject();
                    foreach (var pair in map.Enumerate(context))
                    {
                        if (pair is ArrayValue { Values.Count: 2 } kv)
                        {
                            json.WritePropertyName(kv.Values[0].ToStringValue());
                            Write(json, kv.Values[1], context, depth + 1);
                        }
                    }
                    json.WriteEndObject();
                    break;
                default:
                    json.WriteStringValue(value.ToStringValue());
                    break;
            }
        }
    }
}
