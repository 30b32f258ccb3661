using Clientele.Journeys;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Clientele.Tests.Journeys;

/// <summary>Journeys started by dates: birthdays (leap days too), calendar dates, silence and cadence, in each contact's zone.</summary>
public sealed class JourneyCalendarTests
{
    [Theory]
    [InlineData("1990-06-03", "2026-06-03", true)]
    [InlineData("1990-06-03", "2026-06-04", false)]
    [InlineData("1992-02-29", "2027-02-28", true)] // no 29 February in 2027: the day before
    [InlineData("1992-02-29", "2028-02-28", false)] // 2028 has its own 29 February
    [InlineData("1992-02-29", "2028-02-29", true)]
    [InlineData("1990-02-28", "2028-02-28", true)]
    public void Anniversaries_fall_on_the_same_day_and_leap_days_on_the_last_day_of_february(string original, string day, bool expected) =>
        Assert.Equal(expected, JourneyCalendar.IsAnniversary(DateOnly.Parse(original, System.Globalization.CultureInfo.InvariantCulture), DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("12-24", true, true)]
    [InlineData("2026-11-27", true, false)]
    [InlineData("02-30", false, true)]
    [InlineData("24.12.", false, false)]
    public void Dates_are_month_and_day_every_year_or_a_full_date_once(string text, bool valid, bool yearly)
    {
        Assert.Equal(valid, JourneyCalendar.TryDate(text, out _, out var isYearly));
        if (valid)
        {
            Assert.Equal(yearly, isYearly);
        }
    }

    private static async Task<int> SweepAsync(TestApp app)
    {
        var started = await app.Services.GetRequiredService<JourneyCalendar>().SweepAsync(CancellationToken.None);
        await app.DrainAsync();
        return started;
    }

    private static async Task BirthdayContactAsync(HttpClient api, string email, string birthday, string zone)
    {
        var response = await api.PostJsonAsync("/api/v1/contacts", new { email, firstName = email.Split('@')[0], birthday, timeZone = zone, consent = new { newsletter = "subscribed" } });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_birthday_greeting_goes_at_nine_on_the_contacts_own_clock_once_a_year_and_on_28_february_for_leap_day_birthdays(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind); // the clock starts on 1 June 2026, 12:00 UTC
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "Happy birthday");
        await BirthdayContactAsync(api, "ann@example.com", "1990-06-03", "Asia/Tokyo");
        await BirthdayContactAsync(api, "bob@example.com", "1992-02-29", "America/Los_Angeles");
        await JourneyFlowTests.ContactAsync(api, "cid@example.com"); // no birthday known
        var journey = await JourneyFlowTests.JourneyAsync(api, "Birthday", new
        {
            trigger = new { anniversary = "birthday", time = "09:00" },
            steps = new object[] { new { id = "greet", type = "email", template = "Happy birthday", topic = "newsletter" } },
        });

        Assert.Equal(0, await SweepAsync(app)); // 1 June: nobody's day is today or tomorrow
        app.Time.SetUtcNow(new DateTimeOffset(2026, 6, 2, 12, 0, 0, TimeSpan.Zero)); // 21:00 in Tokyo: Ann's birthday is tomorrow there
        Assert.Equal(1, await SweepAsync(app));
        Assert.Equal(0, await SweepAsync(app)); // sweeping again starts nothing twice
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Empty(await JourneyFlowTests.JourneyMailAsync(app, journey)); // not before nine in Tokyo

        app.Time.SetUtcNow(new DateTimeOffset(2026, 6, 3, 0, 0, 0, TimeSpan.Zero)); // 09:00 on 3 June in Tokyo
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Equal([("ann@example.com", "greet")], await JourneyFlowTests.JourneyMailAsync(app, journey));

        // 2027 has no 29 February: Bob is greeted on the 28th at nine in Los Angeles (17:00 UTC).
        app.Time.SetUtcNow(new DateTimeOffset(2027, 2, 27, 20, 0, 0, TimeSpan.Zero));
        Assert.Equal(1, await SweepAsync(app));
        app.Time.SetUtcNow(new DateTimeOffset(2027, 2, 28, 16, 59, 0, TimeSpan.Zero));
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Single(await JourneyFlowTests.JourneyMailAsync(app, journey));
        app.Time.SetUtcNow(new DateTimeOffset(2027, 2, 28, 17, 0, 0, TimeSpan.Zero));
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Contains(("bob@example.com", "greet"), await JourneyFlowTests.JourneyMailAsync(app, journey));

        // Ann's next birthday is a new occasion.
        app.Time.SetUtcNow(new DateTimeOffset(2027, 6, 2, 12, 0, 0, TimeSpan.Zero));
        Assert.Equal(1, await SweepAsync(app));
        await using var db = app.NewDb();
        Assert.Equal(3, await db.JourneyRuns.CountAsync(r => r.JourneyId == journey));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task A_contact_without_a_time_zone_is_greeted_on_the_default_zones_clock(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "Happy birthday");
        var created = await api.PostJsonAsync("/api/v1/contacts", new { email = "zed@example.com", birthday = "1985-06-02", consent = new { newsletter = "subscribed" } });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        await using (var settings = app.NewDb())
        {
            // The business's own zone, under Settings → Sending.
            await Clientele.Data.SettingsStore.SaveAsync(settings, Clientele.Outbox.SendingRules.Key,
                Clientele.Outbox.SendingRules.Default with { DefaultTimeZone = "Europe/Lisbon" }, app.Time.GetUtcNow().UtcDateTime, CancellationToken.None);
        }
        await JourneyFlowTests.JourneyAsync(api, "Birthday", new
        {
            trigger = new { anniversary = "birthday", time = "09:00" },
            steps = new object[] { new { id = "greet", type = "email", template = "Happy birthday", topic = "newsletter" } },
        });
        Assert.Equal(1, await SweepAsync(app));
        await using var db = app.NewDb();
        var run = await db.JourneyRuns.AsNoTracking().SingleAsync();
        Assert.Equal(new DateTime(2026, 6, 2, 8, 0, 0, DateTimeKind.Utc), run.DueAt); // 09:00 in Lisbon (summer time, UTC+1)
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task A_holiday_greeting_goes_to_everyone_on_the_date_and_a_stay_in_touch_note_after_a_silence(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "Season's greetings");
        await JourneyFlowTests.TemplateAsync(api, "Thinking of you");
        await JourneyFlowTests.ContactAsync(api, "ann@example.com", "Europe/Berlin");
        await JourneyFlowTests.ContactAsync(api, "bob@example.com", "America/New_York");
        var holidays = await JourneyFlowTests.JourneyAsync(api, "Holidays", new
        {
            trigger = new { dates = new[] { "12-24" }, time = "10:00" },
            entry = new { repeat = "always" },
            steps = new object[] { new { id = "greet", type = "email", template = "Season's greetings", topic = "newsletter" } },
        });
        app.Time.SetUtcNow(new DateTimeOffset(2026, 12, 23, 12, 0, 0, TimeSpan.Zero));
        await SweepAsync(app);
        app.Time.SetUtcNow(new DateTimeOffset(2026, 12, 24, 9, 0, 0, TimeSpan.Zero)); // 10:00 in Berlin, 04:00 in New York
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Equal([("ann@example.com", "greet")], await JourneyFlowTests.JourneyMailAsync(app, holidays));
        app.Time.SetUtcNow(new DateTimeOffset(2026, 12, 24, 15, 0, 0, TimeSpan.Zero)); // 10:00 in New York
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Equal(2, (await JourneyFlowTests.JourneyMailAsync(app, holidays)).Count);

        // Both were greeted on 24 December; 90 quiet days later each gets a note, once.
        await Clientele.Tests.Outbox.MailFlowTests.Until(async () =>
        {
            await using var check = app.NewDb();
            return await check.OutboxMessages.CountAsync(m => m.JourneyId == holidays && m.SentAt != null) == 2;
        }, "the greetings were sent");
        // Published now, the stay-in-touch journey counts the quiet days from each contact's last e-mail.
        var silence = await JourneyFlowTests.JourneyAsync(api, "Stay in touch", new
        {
            trigger = new { inactiveDays = 90 },
            entry = new { repeat = "always" },
            steps = new object[] { new { id = "note", type = "email", template = "Thinking of you", topic = "newsletter" } },
        });

        app.Time.SetUtcNow(new DateTimeOffset(2027, 3, 20, 12, 0, 0, TimeSpan.Zero));
        Assert.Equal(0, await SweepAsync(app)); // 86 days
        app.Time.SetUtcNow(new DateTimeOffset(2027, 3, 25, 12, 0, 0, TimeSpan.Zero));
        Assert.Equal(2, await SweepAsync(app));
        Assert.Equal(0, await SweepAsync(app));
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Equal(2, (await JourneyFlowTests.JourneyMailAsync(app, silence)).Count);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_renewal_reminder_goes_two_weeks_before_the_date_kept_in_an_attribute(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "Renewal");
        var today = DateOnly.FromDateTime(app.Time.GetUtcNow().UtcDateTime);
        var renewal = today.AddDays(20).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (email, attributes) in new (string, object)[] { ("ann@example.com", new { renewal }), ("bob@example.com", new { renewal = "soon" }), ("cy@example.com", new { plan = "gold" }) })
        {
            var created = await api.PostJsonAsync("/api/v1/contacts", new { email, timeZone = "Europe/Berlin", attributes });
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }
        var journey = await JourneyFlowTests.JourneyAsync(api, "Renewal reminder", new
        {
            trigger = new { anniversary = "attributes.renewal", daysBefore = 14, time = "09:00" },
            steps = new object[] { new { id = "remind", type = "email", template = "Renewal", @class = "transactional" } },
        });
        Assert.Equal(0, await SweepAsync(app)); // twenty days ahead: not yet
        app.Time.Advance(TimeSpan.FromDays(6));
        Assert.Equal(1, await SweepAsync(app)); // ann only: bob's is not a date, cy has none
        Assert.Equal(0, await SweepAsync(app));
        app.Time.Advance(TimeSpan.FromDays(1));
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Equal([("ann@example.com", "remind")], await JourneyFlowTests.JourneyMailAsync(app, journey));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task A_plan_review_comes_round_every_four_months(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "Plan review");
        await JourneyFlowTests.ContactAsync(api, "ann@example.com");
        var journey = await JourneyFlowTests.JourneyAsync(api, "Plan review", new
        {
            trigger = new { every = new { days = 120 } },
            entry = new { repeat = "always" },
            steps = new object[] { new { id = "review", type = "email", template = "Plan review", @class = "transactional" } },
        });
        Assert.Equal(0, await SweepAsync(app)); // a new customer is not reviewed on day one
        for (var round = 1; round <= 3; round++)
        {
            app.Time.Advance(TimeSpan.FromDays(120));
            Assert.Equal(1, await SweepAsync(app));
            Assert.Equal(0, await SweepAsync(app));
            await JourneyFlowTests.RunDueAsync(app);
        }
        Assert.Equal(3, (await JourneyFlowTests.JourneyMailAsync(app, journey)).Count);
    }
}

public sealed class JourneyIcsTests
{
    private const string Holidays = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Shop//Holidays//EN\r\n"
        + "BEGIN:VEVENT\r\nUID:xmas@shop\r\nDTSTART;VALUE=DATE:20251225\r\nRRULE:FREQ=YEARLY\r\nSUMMARY:Christmas Day\r\nEND:VEVENT\r\n"
        + "BEGIN:VEVENT\r\nUID:tg2026@shop\r\nDTSTART;VALUE=DATE:20261126\r\nSUMMARY:Thanksgiving\r\nEND:VEVENT\r\n"
        + "END:VCALENDAR\r\n";

    [Fact]
    public void An_imported_holiday_calendar_gives_its_days_repeats_included()
    {
        Assert.Equal([new DateOnly(2026, 11, 26), new DateOnly(2026, 12, 25)], JourneyCalendar.CalendarDates(Holidays, new DateOnly(2026, 11, 1), new DateOnly(2026, 12, 31)));
        Assert.Equal([new DateOnly(2027, 12, 25)], JourneyCalendar.CalendarDates(Holidays, new DateOnly(2027, 11, 1), new DateOnly(2027, 12, 31)));
        Assert.Null(JourneyCalendar.CheckCalendar(Holidays));
        Assert.NotNull(JourneyCalendar.CheckCalendar("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"));
        Assert.NotNull(JourneyCalendar.CheckCalendar("not a calendar"));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task A_journey_on_an_imported_holiday_calendar_greets_on_each_holiday_at_the_contacts_time(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "Happy holidays");
        await JourneyFlowTests.ContactAsync(api, "ann@example.com", "America/Chicago");
        var journey = await JourneyFlowTests.JourneyAsync(api, "Holiday calendar", new
        {
            trigger = new { calendar = Holidays, time = "08:30" },
            entry = new { repeat = "always" },
            steps = new object[] { new { id = "greet", type = "email", template = "Happy holidays", @class = "transactional" } },
        });
        var calendar = app.Services.GetRequiredService<JourneyCalendar>();
        app.Time.SetUtcNow(new DateTimeOffset(2026, 11, 25, 18, 0, 0, TimeSpan.Zero));
        Assert.Equal(1, await calendar.SweepAsync(CancellationToken.None));
        app.Time.SetUtcNow(new DateTimeOffset(2026, 11, 26, 14, 30, 0, TimeSpan.Zero)); // 08:30 in Chicago
        await JourneyFlowTests.RunDueAsync(app);
        app.Time.SetUtcNow(new DateTimeOffset(2026, 12, 24, 18, 0, 0, TimeSpan.Zero));
        Assert.Equal(1, await calendar.SweepAsync(CancellationToken.None));
        app.Time.SetUtcNow(new DateTimeOffset(2026, 12, 25, 14, 30, 0, TimeSpan.Zero));
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Equal(2, (await JourneyFlowTests.JourneyMailAsync(app, journey)).Count);
    }
}
