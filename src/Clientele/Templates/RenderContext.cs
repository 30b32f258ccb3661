using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Fluid;
using Fluid.Values;

namespace Clientele.Templates;

/// <summary>The limits one message renders under. Time is measured on the monotonic clock: it is a budget for the
/// work, not a reading of the time of day.</summary>
internal sealed record RenderLimits(int MaxSteps = 100_000, int MaxOutputChars = 1024 * 1024, TimeSpan? TimeLimit = null)
{
    public static readonly RenderLimits Default = new();

    public TimeSpan Time => TimeLimit ?? TimeSpan.FromSeconds(1);

    public string TimeText => Time < TimeSpan.FromSeconds(1) ? $"{Time.TotalMilliseconds:0} ms" : $"{Time.TotalSeconds:0.#} s";

    /// <summary>"1 MB" for the default, in the words of the error an owner sees.</summary>
    public string OutputSize => MaxOutputChars % (1024 * 1024) == 0 ? $"{MaxOutputChars / (1024 * 1024)} MB" : $"{MaxOutputChars / 1024} KB";
}

/// <summary>A limit that stopped a render; its message is shown to the owner as is.</summary>
internal sealed class RenderLimitException(string message) : Exception(message);

/// <summary>One render of one part of a message: the contact's zone and culture, the send time, and the budget.</summary>
internal sealed class RenderContext : TemplateContext
{
    private readonly long _deadline;
    private int _checks;

    public RenderContext(FluidValue model, TemplateOptions options, RenderLimits limits, long deadline, bool html,
        DateTimeOffset sendTime, TimeZoneInfo zone, CultureInfo culture, string currency)
        : base(model, options, allowModelMembers: false)
    {
        Limits = limits;
        _deadline = deadline;
        Html = html;
        SendTime = sendTime;
        Currency = currency;
        MaxSteps = limits.MaxSteps;
        TimeZone = zone;
        CultureInfo = culture;
        Now = () => sendTime;
    }

    public RenderLimits Limits { get; }

    /// <summary>The HTML part is being rendered (output is encoded); otherwise the subject or the text part.</summary>
    public bool Html { get; }

    public DateTimeOffset SendTime { get; }

    /// <summary>The brand's currency, for <c>money</c> without one.</summary>
    public string Currency { get; }

    /// <summary>Stops the render once its time is up. Called often, so it reads the clock only every few calls.</summary>
    public void CheckTime()
    {
        if ((++_checks & 15) == 0 && Stopwatch.GetTimestamp() > _deadline)
        {
            throw new RenderLimitException($"the message took longer than {Limits.TimeText} to render");
        }
    }

    /// <summary>Refuses values that would let a template build up more than the output may hold.</summary>
    public void CheckSize(FluidValue value)
    {
        switch (value)
        {
            case StringValue s when s.ToStringValue().Length > Limits.MaxOutputChars:
                throw new RenderLimitException($"a value grew larger than {Limits.OutputSize}");
            case ArrayValue a when a.Values.Count > Limits.MaxSteps:
                throw new RenderLimitException($"a list grew longer than {Limits.MaxSteps:N0} items");
        }
        CheckTime();
    }

    private static readonly ConcurrentDictionary<string, TimeZoneInfo> Zones = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, CultureInfo> Cultures = new(StringComparer.OrdinalIgnoreCase);
    private static readonly CultureInfo DefaultCulture = CultureInfo.GetCultureInfo("en-US");

    /// <summary>The contact's IANA zone; UTC when it is missing or unknown, so a bad value never stops a send.</summary>
    public static TimeZoneInfo FindZone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return TimeZoneInfo.Utc;
        }
        return Remember(Zones, id.Trim(), static key =>
        {
            try
            {
                return TimeZoneInfo.FindSystemTimeZoneById(key);
            }
            catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                return TimeZoneInfo.Utc;
            }
        });
    }

    /// <summary>The contact's culture ("de-DE", "fr", "en_GB"); en-US when missing or unknown.</summary>
    public static CultureInfo FindCulture(string? locale)
    {
        if (string.IsNullOrWhiteSpace(locale))
        {
            return DefaultCulture;
        }
        return Remember(Cultures, locale.Trim().Replace('_', '-'), static key =>
        {
            try
            {
                var culture = CultureInfo.GetCultureInfo(key, predefinedOnly: true);
                return culture.Equals(CultureInfo.InvariantCulture) ? DefaultCulture : culture;
            }
            catch (CultureNotFoundException)
            {
                return DefaultCulture;
            }
        });
    }

    /// <summary>Looks up once per distinct name; the names come from contact data, so the cache is bounded.</summary>
    private static T Remember<T>(ConcurrentDictionary<string, T> cache, string key, Func<string, T> find)
    {
        if (cache.TryGetValue(key, out var found))
        {
            return found;
        }
        found = find(key);
        if (cache.Count < 1000)
        {
            cache.TryAdd(key, found);
        }
        return found;
    }
}
