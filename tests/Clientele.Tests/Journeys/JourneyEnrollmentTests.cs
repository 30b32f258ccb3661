using System.Net;
using Clientele.Contacts;
using Clientele.Journeys;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Journeys;

/// <summary>Putting contacts into a journey by hand: the entry rule, consent and the control group, as the trigger applies them.</summary>
public sealed class JourneyEnrollmentTests
{
    private static readonly DateTime Now = new(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly Guid Ann = Guid.NewGuid();

    private static JourneyDefinition Sending(EntryRule? entry = null, string? @class = null) => new()
    {
        Trigger = new JourneyTrigger { Segment = "Slipping away" },
        Entry = entry ?? new EntryRule(),
        Steps = [new JourneyStep { Id = "miss-you", Type = "email", Template = "We miss you", Topic = "offers", Class = @class }],
    };

    private static EnrollFacts Facts(IReadOnlyList<PastRun>? runs = null, Dictionary<string, ConsentStatus>? consents = null, bool deleted = false,
        bool address = true, bool suppressed = false) =>
        new(Ann, deleted, address, suppressed, consents ?? new() { ["offers"] = ConsentStatus.Subscribed }, runs ?? []);

    [Fact]
    public void Once_lets_a_contact_in_a_single_time_and_a_running_contact_is_already_in()
    {
        var first = JourneyEnrollment.Decide(Sending(), Facts(), Guid.NewGuid(), Now);
        Assert.Equal(("enrolled", $"once:{Ann:N}"), (first.Status, first.Key));

        var running = new PastRun(Guid.NewGuid(), $"once:{Ann:N}", RunStatus.Active, Now.AddDays(-2));
        var again = JourneyEnrollment.Decide(Sending(), Facts([running]), Guid.NewGuid(), Now);
        Assert.Equal(("skipped", running.Id), (again.Status, again.RunId));
        Assert.Contains("Already in the journey since 2026-05-30", again.Reason);

        var finished = running with { Status = RunStatus.Completed };
        var after = JourneyEnrollment.Decide(Sending(), Facts([finished]), Guid.NewGuid(), Now);
        Assert.Equal("skipped", after.Status);
        Assert.Contains("lets a contact in once", after.Reason);
    }

    [Fact]
    public void Once_per_period_counts_runs_entered_by_the_trigger_and_by_hand_alike()
    {
        var rule = new EntryRule { Repeat = "period", PeriodDays = 180 };
        var byTrigger = new PastRun(Guid.NewGuid(), $"period:{Ann:N}:4711", RunStatus.Completed, Now.AddDays(-100));

        var recent = JourneyEnrollment.Decide(Sending(rule), Facts([byTrigger]), Guid.NewGuid(), Now);
        var later = JourneyEnrollment.Decide(Sending(rule), Facts([byTrigger with { EnteredAt = Now.AddDays(-200) }]), Guid.NewGuid(), Now);

        Assert.Equal("skipped", recent.Status);
        Assert.Contains("once every 180 days", recent.Reason);
        Assert.Equal("enrolled", later.Status);
        Assert.StartsWith($"period:{Ann:N}:manual-", later.Key);
    }

    [Fact]
    public void Always_still_keeps_to_the_runs_a_contact_may_have_at_once()
    {
        var rule = new EntryRule { Repeat = "always", MaxActive = 2 };
        var one = new PastRun(Guid.NewGuid(), "event:1", RunStatus.Active, Now.AddDays(-1));

        Assert.Equal("enrolled", JourneyEnrollment.Decide(Sending(rule), Facts([one]), Guid.NewGuid(), Now).Status);
        Assert.Equal("skipped", JourneyEnrollment.Decide(Sending(rule), Facts([one, one with { Id = Guid.NewGuid() }]), Guid.NewGuid(), Now).Status);
    }

    [Fact]
    public void Consent_and_the_address_decide_whether_the_journeys_email_may_reach_the_contact()
    {
        string? Reason(EnrollFacts f, JourneyDefinition? d = null) => JourneyEnrollment.Decide(d ?? Sending(), f, Guid.NewGuid(), Now) is { Status: "rejected" } r ? r.Reason : null;

        Assert.Contains("unsubscribed from \"offers\"", Reason(Facts(consents: new() { ["offers"] = ConsentStatus.Unsubscribed })));
        Assert.Contains("all marketing e-mail", Reason(Facts(consents: new() { ["offers"] = ConsentStatus.Subscribed, ["marketing"] = ConsentStatus.Unsubscribed })));
        Assert.Contains("suppression list", Reason(Facts(suppressed: true)));
        Assert.Contains("no e-mail address", Reason(Facts(address: false)));
        Assert.Contains("deleted", Reason(Facts(deleted: true)));
        // Never asked: enrolled as the trigger would; the sender holds each e-mail back until they subscribe.
        Assert.Null(Reason(Facts(consents: [])));
        // A service journey goes to those who left marketing.
        Assert.Null(Reason(Facts(consents: new() { ["marketing"] = ConsentStatus.Unsubscribed }), Sending(@class: "transactional")));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Contacts_are_enrolled_by_hand_once_each_with_bad_items_reported_by_index(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "We miss you");
        var journey = await JourneyFlowTests.JourneyAsync(api, "Win them back", new
        {
            trigger = new { @event = "never.happens" },
            steps = new object[] { new { id = "miss-you", type = "email", template = "We miss you", topic = "offers" } },
        });
        var ann = await ContactAsync(api, "ann@example.com", "subscribed");
        var bob = await ContactAsync(api, "bob@example.com", "unsubscribed");
        var nobody = Guid.NewGuid();

        var response = await api.PostRawAsync($"/api/v1/journeys/{journey}/enroll",
            $$"""{"contactIds": ["{{ann}}", "not-an-id", 42, "{{nobody}}", "{{bob}}", "{{ann}}"]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadJsonAsync();
        Assert.Equal(1, body.GetProperty("enrolled").GetInt32());
        var results = body.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["enrolled", "rejected", "rejected", "rejected", "rejected", "skipped"], results.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal([0, 1, 2, 3, 4, 5], results.Select(r => r.GetProperty("index").GetInt32()));
        Assert.Equal("/contactIds/1", results[1].GetProperty("error").GetProperty("field").GetString());
        Assert.Equal("/contactIds/2", results[2].GetProperty("error").GetProperty("field").GetString());
        Assert.Equal($"There is no contact {nobody}.", results[3].GetProperty("error").GetProperty("message").GetString());
        Assert.Contains("unsubscribed from \"offers\"", results[4].GetProperty("error").GetProperty("message").GetString());
        var run = results[0].GetProperty("runId").GetGuid();

        var again = await (await api.PostJsonAsync($"/api/v1/journeys/{journey}/enroll", new { contactIds = new[] { ann } })).ReadJsonAsync();
        var repeat = again.GetProperty("results")[0];
        Assert.Equal(("skipped", run), (repeat.GetProperty("status").GetString(), repeat.GetProperty("runId").GetGuid()));
        Assert.Equal(0, again.GetProperty("enrolled").GetInt32());

        await using (var db = app.NewDb())
        {
            var stored = await db.JourneyRuns.AsNoTracking().SingleAsync(r => r.JourneyId == journey);
            Assert.Equal((ann, RunStatus.Active, "miss-you", app.Time.GetUtcNow().UtcDateTime), (stored.ContactId, stored.Status, stored.StepId, stored.DueAt!.Value));
            var entered = await db.Events.AsNoTracking().SingleAsync(e => e.Type == "journey.entered");
            Assert.Equal(ann, entered.ContactId);
            Assert.Contains("\"manual\":true", entered.Properties.Replace(" ", ""));
        }
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Equal([("ann@example.com", "miss-you")], await JourneyFlowTests.JourneyMailAsync(app, journey));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Enrolling_needs_a_running_journey_and_a_list_of_contacts(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "We miss you");
        object definition = new { trigger = new { @event = "never.happens" }, steps = new object[] { new { id = "a", type = "email", template = "We miss you" } } };
        var draft = await JourneyFlowTests.JourneyAsync(api, "Draft", definition, publish: false);
        var paused = await JourneyFlowTests.JourneyAsync(api, "Paused", definition);
        Assert.True((await api.PostAsync($"/api/v1/journeys/{paused}/pause", null)).IsSuccessStatusCode);
        var running = await JourneyFlowTests.JourneyAsync(api, "Running", definition);
        var ann = await ContactAsync(api, "ann@example.com", "subscribed");
        var reader = await app.ApiClientAsync("read");

        var toDraft = await api.PostJsonAsync($"/api/v1/journeys/{draft}/enroll", new { contactIds = new[] { ann } });
        var toPaused = await api.PostJsonAsync($"/api/v1/journeys/{paused}/enroll", new { contactIds = new[] { ann } });
        var toNothing = await api.PostJsonAsync($"/api/v1/journeys/{Guid.NewGuid()}/enroll", new { contactIds = new[] { ann } });
        var noList = await api.PostJsonAsync($"/api/v1/journeys/{running}/enroll", new { contacts = new[] { ann } });
        var empty = await api.PostJsonAsync($"/api/v1/journeys/{running}/enroll", new { contactIds = Array.Empty<Guid>() });
        var readOnly = await reader.PostJsonAsync($"/api/v1/journeys/{running}/enroll", new { contactIds = new[] { ann } });

        Assert.Equal(HttpStatusCode.Conflict, toDraft.StatusCode);
        Assert.Contains("publish or resume it first", (await toDraft.ReadJsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Conflict, toPaused.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, toNothing.StatusCode);
        Assert.Equal("application/problem+json", toNothing.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, noList.StatusCode);
        Assert.True((await noList.ReadJsonAsync()).GetProperty("errors").TryGetProperty("/contactIds", out _));
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, readOnly.StatusCode);
        await using var db = app.NewDb();
        Assert.False(await db.JourneyRuns.AnyAsync());
    }

    private static async Task<Guid> ContactAsync(HttpClient api, string email, string offers)
    {
        var response = await api.PostJsonAsync("/api/v1/contacts", new { email, firstName = email.Split('@')[0], consent = new Dictionary<string, string> { ["offers"] = offers } });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }
}
