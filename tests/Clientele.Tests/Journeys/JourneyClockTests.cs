using Clientele.Journeys;

namespace Clientele.Tests.Journeys;

public sealed class JourneyClockTests
{
    private static DateTime Utc(string text) => DateTime.SpecifyKind(DateTime.Parse(text, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc);

    private static TimeZoneInfo Zone(string id) => TimeZoneInfo.FindSystemTimeZoneById(id);

    [Theory]
    // Ahead of UTC: 09:00 in Tokyo is 00:00 UTC; at 23:30 UTC it is already 08:30 the next morning there.
    [InlineData("Asia/Tokyo", "2026-06-01 23:30", "09:00", "2026-06-02 00:00")]
    [InlineData("Asia/Tokyo", "2026-06-02 00:30", "09:00", "2026-06-03 00:00")]
    // Behind UTC: 09:00 in Los Angeles (summer, UTC−7) is 16:00 UTC.
    [InlineData("America/Los_Angeles", "2026-06-01 12:00", "09:00", "2026-06-01 16:00")]
    [InlineData("America/Los_Angeles", "2026-06-01 17:00", "09:00", "2026-06-02 16:00")]
    // Berlin springs forward on 29 March 2026 at 02:00: 02:30 does not exist, so the wait ends at 03:00 local (01:00 UTC).
    [InlineData("Europe/Berlin", "2026-03-28 22:00", "02:30", "2026-03-29 01:00")]
    // Berlin falls back on 25 October 2026: 02:30 happens twice; the first is 00:30 UTC.
    [InlineData("Europe/Berlin", "2026-10-24 22:00", "02:30", "2026-10-25 00:30")]
    // The day after the change, 09:00 is at the winter offset again.
    [InlineData("Europe/Berlin", "2026-10-25 12:00", "09:00", "2026-10-26 08:00")]
    [InlineData("UTC", "2026-06-01 09:00", "09:00", "2026-06-02 09:00")]
    public void The_next_time_of_day_is_found_in_the_contacts_zone(string zone, string now, string at, string expected)
    {
        var due = JourneyClock.NextLocal(Utc(now), TimeOnly.Parse(at, System.Globalization.CultureInfo.InvariantCulture), Zone(zone));
        Assert.Equal(Utc(expected), due);
        Assert.Equal(DateTimeKind.Utc, due.Kind);
    }
}
