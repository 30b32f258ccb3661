namespace Clientele.Journeys;

/// <summary>Times of day in a contact's zone, across daylight-saving changes.</summary>
internal static class JourneyClock
{
    /// <summary>
    /// The next moment after <paramref name="nowUtc"/> when the contact's clock shows <paramref name="at"/>. A time that
    /// does not exist that day (the spring-forward gap) moves to the first minute after the gap; a time that happens
    /// twice (fall back) is the first of the two.
    /// </summary>
    public static DateTime NextLocal(DateTime nowUtc, TimeOnly at, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(nowUtc, DateTimeKind.Utc), zone);
        for (var day = 0; day < 3; day++)
        {
            var candidate = DateTime.SpecifyKind(local.Date.AddDays(day) + at.ToTimeSpan(), DateTimeKind.Unspecified);
            var utc = ToUtc(candidate, zone);
            if (utc > nowUtc)
            {
                return utc;
            }
        }
        throw new InvalidOperationException("No such local time within three days."); // cannot happen: every day has its times
    }

    /// <summary>A wall-clock time in <paramref name="zone"/> as UTC, with the gap and overlap rules above.</summary>
    public static DateTime ToUtc(DateTime local, TimeZoneInfo zone)
    {
        var guard = 0;
        while (zone.IsInvalidTime(local) && guard++ < 24 * 60)
        {
            local = local.AddMinutes(1);
        }
        if (zone.IsAmbiguousTime(local))
        {
            var offset = zone.GetAmbiguousTimeOffsets(local).Max(); // the larger offset is the earlier instant
            return DateTime.SpecifyKind(local - offset, DateTimeKind.Utc);
        }
        return TimeZoneInfo.ConvertTimeToUtc(local, zone);
    }
}
