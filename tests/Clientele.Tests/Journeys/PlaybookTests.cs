using System.Net;
using Clientele.Journeys;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Journeys;

public sealed class PlaybookTests
{
    private static readonly string[] Names =
        ["welcome", "trial-conversion", "thank-you", "repurchase-reminder", "cross-sell", "loyalty-referral", "win-back", "birthday", "holiday-greetings", "stay-in-touch", "plan-review", "hows-my-doing", "promoter-ask"];

    [Fact]
    public void Every_playbook_is_a_journey_that_passes_the_checks_with_its_own_templates_and_segment()
    {
        Assert.Equal(Names, Playbooks.All.Select(p => p.Name));
        foreach (var p in Playbooks.All)
        {
            var templates = p.Templates.Select(t => t.Name).ToHashSet();
            var segments = p.Segment is { } s ? new HashSet<string> { s.Name } : [];
            Assert.True(p.Definition.Validate(templates, segments).Count == 0, $"{p.Name}: {string.Join("; ", p.Definition.Validate(templates, segments).Select(e => e.Field + " " + e.Message))}");
            Assert.All(p.Templates, t => Assert.True(Clientele.Templates.MessageTemplate.TryCompile(new Clientele.Templates.TemplateSource(t.Subject, t.Body), new Clientele.Templates.Brand(), out _, out var error), $"{p.Name}/{t.Name}: {error}"));
        }
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Each_playbook_installs_with_its_templates_and_starts_when_asked(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "Happy birthday"); // the owner's own: kept as it is

        var list = await (await api.GetAsync("/api/v1/playbooks")).ReadJsonAsync();
        Assert.Equal(Names, list.EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        foreach (var name in Names)
        {
            var installed = await api.PostJsonAsync($"/api/v1/playbooks/{name}/install", new { publish = true });
            Assert.True(installed.StatusCode == HttpStatusCode.Created, $"{name}: {await installed.Content.ReadAsStringAsync()}");
            var body = await installed.ReadJsonAsync();
            Assert.Equal("active", body.GetProperty("status").GetString());
            Assert.Equal(1, body.GetProperty("version").GetInt32());
        }
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostJsonAsync("/api/v1/playbooks/welcome/install", new { publish = true })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostJsonAsync("/api/v1/playbooks/nonsense/install", new { })).StatusCode);

        list = await (await api.GetAsync("/api/v1/playbooks")).ReadJsonAsync();
        Assert.All(list.EnumerateArray(), p => Assert.Equal("active", p.GetProperty("status").GetString()));
        await using var db = app.NewDb();
        Assert.Equal("Happy birthday for {{ contact.first_name }}", (await db.Templates.SingleAsync(t => t.Name == "Happy birthday")).Subject);
        Assert.True(await db.Segments.AnyAsync(s => s.Name == "Slipping away"));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task The_installed_welcome_series_greets_a_new_lead_from_a_sign_up(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        var installed = await (await api.PostJsonAsync("/api/v1/playbooks/welcome/install", new { publish = true })).ReadJsonAsync();
        var journey = installed.GetProperty("journeyId").GetGuid();
        await JourneyFlowTests.ContactAsync(api, "ann@example.com"); // subscribed: reaches the capture stage
        await JourneyFlowTests.RunDueAsync(app);
        Assert.Equal([("ann@example.com", "welcome")], await JourneyFlowTests.JourneyMailAsync(app, journey));
    }
}
