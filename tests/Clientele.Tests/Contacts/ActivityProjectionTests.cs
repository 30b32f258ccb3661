using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Contacts;

public sealed class ActivityProjectionTests
{
    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Last_activity_is_the_latest_thing_a_contact_did_and_never_moves_back(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com" });
        await api.PostJsonAsync("/api/v1/contacts", new { email = "bob@example.com" });

        await api.PostJsonAsync("/api/v1/events", new
        {
            events = new[]
            {
                new { type = "page.viewed", email = "ann@example.com", occurredAt = "2026-05-03T08:00:00Z" },
                new { type = "email.opened", email = "ann@example.com", occurredAt = "2026-05-07T09:30:00Z" },
                new { type = "page.viewed", email = "bob@example.com", occurredAt = "2026-04-01T00:00:00Z" },
            },
        });
        await app.DrainAsync();
        await api.PostJsonAsync("/api/v1/events", new { events = new[] { new { type = "page.viewed", email = "ann@example.com", occurredAt = "2026-05-01T00:00:00Z" } } });
        await app.DrainAsync();

        await using var data = app.NewDb();
        var ann = await data.Contacts.SingleAsync(c => c.EmailNormalized == "ann@example.com");
        var bob = await data.Contacts.SingleAsync(c => c.EmailNormalized == "bob@example.com");
        Assert.Equal(new DateTime(2026, 5, 7, 9, 30, 0, DateTimeKind.Utc), ann.LastActivityAt);
        Assert.Equal(new DateTime(2026, 4, 1, 0, 0, 0, DateTimeKind.Utc), bob.LastActivityAt);
    }
}
