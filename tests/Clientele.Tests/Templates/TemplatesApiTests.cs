using System.Net;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Templates;

/// <summary>Saved templates through the API: mistakes with their place, preview with any contact, a test send, the report.</summary>
public sealed class TemplatesApiTests
{
    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_saved_template_previews_for_any_contact_sends_a_test_and_reports_its_broadcasts(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync("write");
        await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com", firstName = "Ann", consent = new { newsletter = "subscribed" } });
        await api.PostJsonAsync("/api/v1/contacts", new { email = "bob@example.com", firstName = "Bob" });

        var bad = await api.PostJsonAsync("/api/v1/templates", new { name = "Welcome", subject = "Hi", body = "Hello\n\n{% if contact.first_name %}" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.ReadJsonAsync();
        Assert.Equal("/body", problem.GetProperty("pointer").GetString());
        Assert.True(problem.GetProperty("line").GetInt32() >= 1);

        var created = await api.PostJsonAsync("/api/v1/templates", new { name = "Welcome", subject = "Welcome, {{ contact.first_name }}", body = "Hello **{{ contact.first_name }}**" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostJsonAsync("/api/v1/templates", new { name = "Welcome", subject = "x", body = "y" })).StatusCode);

        // Preview with any contact, subscribed or not.
        var preview = await (await api.PostJsonAsync($"/api/v1/templates/{id}/preview", new { email = "bob@example.com" })).ReadJsonAsync();
        Assert.Equal("Welcome, Bob", preview.GetProperty("subject").GetString());
        Assert.Contains("<strong>Bob</strong>", preview.GetProperty("html").GetString());
        var nobody = await api.PostJsonAsync($"/api/v1/templates/{id}/preview", new { email = "nobody@example.com" });
        Assert.Equal(HttpStatusCode.BadRequest, nobody.StatusCode);

        // A test send reaches Bob, who has no marketing consent: he asked for it.
        var test = await api.PostJsonAsync($"/api/v1/templates/{id}/test", new { email = "bob@example.com" });
        Assert.Equal(HttpStatusCode.OK, test.StatusCode);
        await MailFlowTests.Until(async () =>
        {
            await using var db = app.NewDb();
            return await db.LocalMail.AnyAsync(m => m.Subject == "[Test] Welcome, Bob");
        }, "the test arrived");

        // A broadcast from the template; its figures show on the template.
        var broadcast = await api.PostJsonAsync("/api/v1/broadcasts", new { name = "Welcome all", topic = "newsletter", templateId = id });
        Assert.Equal(HttpStatusCode.Created, broadcast.StatusCode);
        await MailFlowTests.FinishedAsync(api, (await broadcast.ReadJsonAsync()).GetProperty("id").GetGuid());
        var report = (await (await api.GetAsync($"/api/v1/templates/{id}")).ReadJsonAsync()).GetProperty("report");
        Assert.Equal(1, report.GetProperty("broadcasts").GetInt32());
        Assert.Equal(1, report.GetProperty("sent").GetInt32());
        await using var check = app.NewDb();
        Assert.True(await check.LocalMail.AnyAsync(m => m.Subject == "Welcome, Ann"));
        Assert.Equal(MessageClass.Transactional, (await check.OutboxMessages.AsNoTracking().SingleAsync(m => m.Kind == "test")).Class);
    }
}
