using System.Globalization;
using System.Text.Json;
using Clientele.Data;
using Clientele.Events;
using Clientele.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Journeys;

/// <summary>
/// Starts the runs of journeys triggered by dates: birthdays and sign-up anniversaries, calendar dates, a stretch
/// without contact, a cadence. Each sweep looks at today and tomorrow on each contact's clock and starts the run due at
/// the trigger's time there; the run's key names the occasion (the contact and the year, the date, the stretch), so
/// sweeping again starts nothing twice.
/// </summary>
internal sealed class JourneyCalendar(ClienteleDatabase database, JourneySignal signal, TimeProvider time, ILogger<JourneyCalendar> log)
{
    private static readonly TimeOnly DefaultTime = new(9, 0);

    /// <summary>A run to start: who, under which key, and when its first step is due.</summary>
    internal sealed record Occasion(Guid ContactId, string Key, DateTime DueAt);

    /// <summary>Starts the runs whose day has come; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        var journeys = (await LiveJourney.Query(db).ToListAsync(ct))
            .Select(j => (j.Id, j.Name, j.Version, Definition: JourneyDefinition.Parse(j.Definition).Definition))
            .Where(j => j.Definition?.Trigger.IsDated == true)
            .ToList();
        if (journeys.Count == 0)
        {
            return 0;
        }
        var rules = await SettingsStore.LoadAsync(db, SendingRules.Key, SendingRules.Default, ct);
        var started = 0;
        foreach (var (id, name, version, definition) in journeys)
        {
            var occasions = await OccasionsAsync(db, definition!.Trigger, rules, now, ct);
            var count = await EnrollAsync(id, version, definition, occasions, now, ct);
            if (count > 0)
            {
                log.LogInformation("Journey {Journey}: {Count} contacts entered on their date", name, count);
            }
            started += count;
        }
        if (started > 0)
        {
            signal.Notify();
        }
        return started;
    }

    private static async Task<List<Occasion>> OccasionsAsync(ClienteleDb db, JourneyTrigger t, SendingRules rules, DateTime now, CancellationToken ct)
    {
        var at = JourneyDefinition.TryTimeOfDay(t.Time, out var parsed) ? parsed : DefaultTime;
        var found = new List<Occasion>();
        var people = db.Contacts.AsNoTracking().Where(c => c.DeletedAt == null);
        if (t.Anniversary == "birthday")
        {
            foreach (var c in await people.Where(c => c.Birthday != null).Select(c => new { c.Id, c.Birthday, c.TimeZone }).ToListAsync(ct))
            {
                found.AddRange(Days(now, SendPolicy.ZoneOf(c.TimeZone, rules), at, t.DaysBefore)
                    .Where(d => IsAnniversary(c.Birthday!.Value, d.Occasion))
                    .Select(d => new Occasion(c.Id, $"birthday:{c.Id:N}:{d.Occasion.Year}", d.DueAt)));
            }
        }
        else if (t.Anniversary == "signup")
        {
            foreach (var c in await people.Select(c => new { c.Id, c.CreatedAt, c.TimeZone }).ToListAsync(ct))
            {
                var joined = DateOnly.FromDateTime(c.CreatedAt);
                found.AddRange(Days(now, SendPolicy.ZoneOf(c.TimeZone, rules), at, t.DaysBefore)
                    .Where(d => d.Occasion.Year > joined.Year && IsAnniversary(joined, d.Occasion))
                    .Select(d => new Occasion(c.Id, $"signup:{c.Id:N}:{d.Occasion.Year}", d.DueAt)));
            }
        }
        else if (t.Anniversary is { } field && field.StartsWith("attributes.", StringComparison.Ordinal))
        {
            // A date kept in a custom attribute (a renewal, a wedding day): on that day and on its anniversaries.
            var name = field["attributes.".Length..];
            var quoted = JsonSerializer.Serialize(name);
            var having = db.Kind == DatabaseKind.Postgres ? people.Where(c => EF.Functions.JsonExists(c.Attributes, name)) : people.Where(c => c.Attributes.Contains(quoted));
            foreach (var c in await having.Select(c => new { c.Id, c.Attributes, c.TimeZone }).ToListAsync(ct))
            {
                if (!Templates.MessageContact.ParseAttributes(c.Attributes).TryGetValue(name, out var value) || value.ValueKind != JsonValueKind.String
                    || !DateTime.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsedDate))
                {
                    continue;
                }
                var original = DateOnly.FromDateTime(parsedDate);
                found.AddRange(Days(now, SendPolicy.ZoneOf(c.TimeZone, rules), at, t.DaysBefore)
                    .Where(d => d.Occasion >= original && IsAnniversary(original, d.Occasion))
                    .Select(d => new Occasion(c.Id, $"{name}:{c.Id:N}:{d.Occasion.Year}", d.DueAt)));
            }
        }
        else if (t.Dates is not null || t.Calendar is not null)
        {
            var today = DateOnly.FromDateTime(now);
            var parsedDates = t.Calendar is { } ics
                ? CalendarDates(ics, today.AddDays(-1 + t.DaysBefore), today.AddDays(2 + t.DaysBefore)).Select(d => (day: d, yearly: false)).ToList()
                : t.Dates!.Select(d => TryDate(d, out var day, out var yearly) ? (day, yearly) : (default, false)).Where(d => d.day != default).ToList();
            // Only when one of the dates is near (for some zone) are all contacts looked at.
            var near = Enumerable.Range(-1, 3).Select(k => today.AddDays(k + t.DaysBefore)).Any(day => parsedDates.Any(p => Matches(p.day, p.yearly, day)));
            if (near)
            {
                foreach (var c in await people.Select(c => new { c.Id, c.TimeZone }).ToListAsync(ct))
                {
                    found.AddRange(Days(now, SendPolicy.ZoneOf(c.TimeZone, rules), at, t.DaysBefore)
                        .Where(d => parsedDates.Any(p => Matches(p.day, p.yearly, d.Occasion)))
                        .Select(d => new Occasion(c.Id, $"date:{c.Id:N}:{d.Occasion:yyyy-MM-dd}", d.DueAt)));
                }
            }
        }
        else if (t.InactiveDays is { } idle)
        {
            var cutoff = now.AddDays(-idle);
            var quiet = await people.Where(c => c.CreatedAt <= cutoff)
                .Select(c => new { c.Id, c.TimeZone, c.CreatedAt, Last = db.OutboxMessages.Where(m => m.ContactId == c.Id && m.SentAt != null).Max(m => m.SentAt) })
                .Where(c => c.Last == null || c.Last <= cutoff)
                .ToListAsync(ct);
            found.AddRange(quiet.Select(c => new Occasion(c.Id, $"idle:{c.Id:N}:{(c.Last ?? c.CreatedAt).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)}",
                Start(now, t.Time is null ? null : at, SendPolicy.ZoneOf(c.TimeZone, rules)))));
        }
        else if (t.Every is { Days: > 0 } every)
        {
            var cutoff = now.AddDays(-every.Days);
            foreach (var c in await people.Where(c => c.CreatedAt <= cutoff).Select(c => new { c.Id, c.TimeZone, c.CreatedAt }).ToListAsync(ct))
            {
                var round = (int)Math.Floor((now - c.CreatedAt).TotalDays / every.Days);
                found.Add(new Occasion(c.Id, $"every:{c.Id:N}:{round}", Start(now, t.Time is null ? null : at, SendPolicy.ZoneOf(c.TimeZone, rules))));
            }
        }
        return found;
    }

    /// <summary>Today and tomorrow on the contact's clock: the occasion day (that many days ahead) and when to start.</summary>
    private static IEnumerable<(DateOnly Occasion, DateTime DueAt)> Days(DateTime now, TimeZoneInfo zone, TimeOnly at, int daysBefore)
    {
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(now, DateTimeKind.Utc), zone));
        for (var k = 0; k < 2; k++)
        {
            var day = today.AddDays(k);
            yield return (day.AddDays(daysBefore), JourneyClock.ToUtc(day.ToDateTime(at), zone));
        }
    }

    /// <summary>Now, or at the given time on the contact's clock today (or tomorrow once it has passed).</summary>
    private static DateTime Start(DateTime now, TimeOnly? at, TimeZoneInfo zone) =>
        at is { } time ? JourneyClock.NextLocal(now, time, zone) : now;

    /// <summary>The same month and day; 29 February falls on 28 February in other years.</summary>
    internal static bool IsAnniversary(DateOnly original, DateOnly day) =>
        (original.Month == day.Month && original.Day == day.Day)
        || (original is { Month: 2, Day: 29 } && day is { Month: 2, Day: 28 } && !DateTime.IsLeapYear(day.Year));

    private static bool Matches(DateOnly date, bool yearly, DateOnly day) => yearly ? IsAnniversary(date, day) : date == day;

    /// <summary>The days between <paramref name="from"/> and <paramref name="to"/> on which an event of an iCalendar (.ics) falls, repeats included.</summary>
    internal static List<DateOnly> CalendarDates(string ics, DateOnly from, DateOnly to)
    {
        var calendar = Ical.Net.Calendar.Load(ics) ?? throw new FormatException("There is no calendar in it.");
        return calendar.GetOccurrences(new Ical.Net.DataTypes.CalDateTime(from.Year, from.Month, from.Day))
            .Select(o => DateOnly.FromDateTime(o.Period.StartTime.Value))
            .TakeWhile(d => d <= to)
            .Distinct()
            .ToList();
    }

    /// <summary>What is wrong with an iCalendar text, or null when it reads and has events.</summary>
    internal static string? CheckCalendar(string ics)
    {
        try
        {
            var calendar = Ical.Net.Calendar.Load(ics);
            return calendar is null || calendar.Events.Count == 0 ? "The calendar has no events (VEVENT)." : null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return "The calendar does not read as iCalendar (.ics): " + ex.Message;
        }
    }

    /// <summary><c>MM-dd</c> (every year) or <c>yyyy-MM-dd</c> (once).</summary>
    internal static bool TryDate(string? text, out DateOnly day, out bool yearly)
    {
        yearly = text is { Length: 5 };
        if (yearly)
        {
            return DateOnly.TryParseExact("2000-" + text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);
        }
        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);
    }

    /// <summary>Writes the runs not started before (by key) and within each contact's limit of runs at once.</summary>
    private async Task<int> EnrollAsync(Guid journeyId, int version, JourneyDefinition definition, List<Occasion> occasions, DateTime now, CancellationToken ct)
    {
        var started = 0;
        foreach (var chunk in occasions.Chunk(500))
        {
            await using var db = database.CreateDbContext();
            using var gate = await database.EnterWriteAsync(ct);
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var keys = chunk.Select(o => o.Key).ToList();
            var contacts = chunk.Select(o => o.ContactId).Distinct().ToList();
            var taken = (await db.JourneyRuns.AsNoTracking().Where(r => r.JourneyId == journeyId && keys.Contains(r.EnrollKey)).Select(r => r.EnrollKey).ToListAsync(ct)).ToHashSet();
            var active = (await db.JourneyRuns.AsNoTracking().Where(r => r.JourneyId == journeyId && r.Status == RunStatus.Active && contacts.Contains(r.ContactId))
                .GroupBy(r => r.ContactId).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct)).ToDictionary(a => a.Key, a => a.Count);
            var events = new List<Event>();
            foreach (var o in chunk)
            {
                if (!taken.Add(o.Key) || active.GetValueOrDefault(o.ContactId) >= definition.Entry.MaxActive)
                {
                    continue;
                }
                active[o.ContactId] = active.GetValueOrDefault(o.ContactId) + 1;
                var run = new JourneyRun
                {
                    Id = Guid.CreateVersion7(),
                    JourneyId = journeyId,
                    Version = version,
                    ContactId = o.ContactId,
                    EnrollKey = o.Key,
                    Status = RunStatus.Active,
                    StepId = definition.Steps.FirstOrDefault()?.Id,
                    DueAt = o.DueAt,
                    EnteredAt = now,
                };
                run.Holdout = JourneyEntry.InControlGroup(run.Id, definition.Holdout);
                db.JourneyRuns.Add(run);
                events.Add(new Event
                {
                    ContactId = o.ContactId,
                    Type = "journey.entered",
                    OccurredAt = now,
                    ReceivedAt = now,
                    Source = "journeys",
                    IdempotencyKey = $"journey.entered:{run.Id:N}",
                    Properties = JsonSerializer.Serialize(new { journeyId, runId = run.Id, version, holdout = run.Holdout, occasion = o.Key.Split(':')[0] }, EventJson.Options),
                });
                started++;
            }
            await db.SaveChangesAsync(ct);
            await EventWriter.InsertAsync(db, events, ct);
            await tx.CommitAsync(ct);
        }
        return started;
    }
}

/// <summary>Sweeps the date-triggered journeys every few minutes (<c>Clientele:Journeys:CalendarMinutes</c>, default 15).</summary>
internal sealed class JourneyCalendarService(JourneyCalendar calendar, TimeProvider time, IConfiguration config, ILogger<JourneyCalendarService> log)
    : PeriodicService(time, log)
{
    protected override bool Enabled => config.GetValue("Clientele:Journeys:Enabled", true);

    protected override TimeSpan Every => TimeSpan.FromMinutes(config.GetValue("Clientele:Journeys:CalendarMinutes", 15));

    protected override string What => "Journey date sweep";

    protected override Task RunOnceAsync(CancellationToken ct) => calendar.SweepAsync(ct);
}
