using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Outbox;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Clientele.Tests.Privacy;

public sealed class PrivacyTests
{
    private const string Address = "Erin.Private+shop@Example.org";
    private const string Phone = "+44 20 7946 0958";

    /// <summary>Erin with consent, events, an order, a ticket answered by e-mail; Kim, whose note mentions Erin's address.</summary>
    private static async Task<(Guid Erin, Guid Kim)> SeedAsync(TestApp app, HttpClient api)
    {
        var saved = await api.PutAsJsonAsync("/api/v1/support/settings", new { address = "help@shop.example", autoAcknowledge = true, ackText = "Thanks for writing.", articles = 0, reopenDays = 14, csatOnSolve = false, alerts = false });
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var erin = (await (await api.PostJsonAsync("/api/v1/contacts", new
        {
            email = Address,
            firstName = "Erin",
            phone = Phone,
            consent = new { newsletter = new { status = "subscribed", wording = "Yes, send me the monthly roast notes." } },
        })).ReadJsonAsync()).GetProperty("id").GetGuid();
        var kim = (await (await api.PostJsonAsync("/api/v1/contacts", new { email = "kim@example.net", firstName = "Kim" })).ReadJsonAsync()).GetProperty("id").GetGuid();
        var events = await api.PostJsonAsync("/api/v1/events", new
        {
            events = new object[]
            {
                new { type = "page.viewed", email = Address, properties = new { url = "/beans" } },
                new { type = "order.placed", email = Address, occurredAt = "2026-05-01T10:00:00Z", idempotencyKey = "o-erin-1",
                    properties = new { orderId = "E-1001", currency = "EUR", items = new[] { new { sku = "BEAN-1", category = "Coffee", quantity = 2, price = 12.5m } } } },
                new { type = "note.added", email = "kim@example.net", properties = new { text = "Kim says her friend " + Address.ToUpperInvariant() + " loves the beans" } },
            },
        });
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        var ticket = await api.PostJsonAsync("/api/v1/tickets", new { email = Address, subject = "Grinder", body = "My grinder squeaks. Call me on " + Phone });
        Assert.Equal(HttpStatusCode.Created, ticket.StatusCode);
        await app.DrainAsync();
        // The acknowledgement went out through the local outbox, which keeps the raw message.
        await MailFlowTests.Until(async () =>
        {
            await using var db = app.NewDb();
            return await db.OutboxMessages.AnyAsync(m => m.ContactId == erin && m.Status == OutboxStatus.Sent)
                && await db.LocalMail.AnyAsync();
        }, "the acknowledgement was sent");
        return (erin, kim);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_export_holds_everything_about_the_contact_with_the_consent_wording(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync();
        var (erin, _) = await SeedAsync(app, api);

        var response = await api.GetAsync($"/api/v1/contacts/{erin}/export");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var export = await response.ReadJsonAsync();
        Assert.Equal(Address, export.GetProperty("contact").GetProperty("email").GetString());
        var consent = Assert.Single(export.GetProperty("consentLog").EnumerateArray(), e => e.GetProperty("type").GetString() == "consent.given");
        Assert.Contains("monthly roast notes", consent.GetProperty("details").ToString(), StringComparison.Ordinal);
        var data = export.GetProperty("data");
        Assert.Contains(data.GetProperty("events").EnumerateArray(), e => e.GetProperty("type").GetString() == "page.viewed");
        Assert.Equal("E-1001", Assert.Single(data.GetProperty("orders").EnumerateArray()).GetProperty("externalId").GetString());
        Assert.Equal("BEAN-1", Assert.Single(data.GetProperty("order_lines").EnumerateArray()).GetProperty("sku").GetString());
        Assert.Single(data.GetProperty("tickets").EnumerateArray());
        Assert.Contains(data.GetProperty("ticket_messages").EnumerateArray(), m => m.GetProperty("body").GetString()!.Contains("squeaks", StringComparison.Ordinal));
        Assert.Contains(data.GetProperty("outbox").EnumerateArray(), m => m.GetProperty("kind").GetString() == "support-ack");
        // Another contact's data is not in it.
        Assert.DoesNotContain("kim@example.net", export.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task After_erasure_the_address_appears_nowhere_in_the_database_or_the_outbox(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync();
        var (erin, kim) = await SeedAsync(app, api);
        Assert.True(await MentionedAsync(app, db), "the address is in the database before the erasure");

        var erased = await api.PostAsync($"/api/v1/contacts/{erin}/erase", null);

        Assert.Equal(HttpStatusCode.OK, erased.StatusCode);
        var erasure = await erased.ReadJsonAsync();
        var removed = erasure.GetProperty("removed");
        Assert.True(removed.GetProperty("events").GetInt32() >= 3, removed.ToString());
        Assert.Equal(1, removed.GetProperty("orders").GetInt32());
        Assert.Equal(1, removed.GetProperty("tickets").GetInt32());
        Assert.True(removed.GetProperty("outbox").GetInt32() >= 1);
        Assert.Equal(1, erasure.GetProperty("scrubbed").GetProperty("events").GetInt32());
        Assert.StartsWith("No row holds the address", erasure.GetProperty("check").GetString(), StringComparison.Ordinal);

        var id = erasure.GetProperty("id").GetGuid();
        JsonElement done = default;
        await MailFlowTests.Until(async () =>
        {
            done = await (await api.GetAsync($"/api/v1/privacy/erasures/{id}")).ReadJsonAsync();
            return done.GetProperty("compacted").GetBoolean();
        }, "the database was compacted");
        if (db == Db.Sqlite)
        {
            Assert.Contains("found nowhere in the database files", done.GetProperty("check").GetString(), StringComparison.Ordinal);
        }

        Assert.False(await MentionedAsync(app, db), "the address or phone is still in the database");
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/v1/contacts/{erin}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsync($"/api/v1/contacts/{erin}/erase", null)).StatusCode);
        // Kim stays, and so does her note, with Erin's address taken out of it.
        await using var data = app.NewDb();
        Assert.True(await data.Contacts.AnyAsync(c => c.Id == kim));
        var note = await data.Events.AsNoTracking().SingleAsync(e => e.ContactId == kim && e.Type == "note.added");
        Assert.Contains("her friend [erased] loves", note.Properties, StringComparison.Ordinal);
        Assert.Empty(await data.OutboxMessages.Where(m => m.ContactId == erin).ToListAsync());
        var listed = await (await api.GetAsync("/api/v1/privacy/erasures")).ReadJsonAsync();
        Assert.Equal(erin, Assert.Single(listed.GetProperty("items").EnumerateArray()).GetProperty("contactId").GetGuid());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task Export_and_erasure_need_an_admin_key(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var admin = await app.ApiClientAsync();
        var erin = (await (await admin.PostJsonAsync("/api/v1/contacts", new { email = Address })).ReadJsonAsync()).GetProperty("id").GetGuid();
        foreach (var scope in new[] { "read", "write" })
        {
            var api = await app.ApiClientAsync(scope);
            Assert.Equal(HttpStatusCode.Forbidden, (await api.GetAsync($"/api/v1/contacts/{erin}/export")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await api.PostAsync($"/api/v1/contacts/{erin}/erase", null)).StatusCode);
        }
        var missing = await admin.PostAsync($"/api/v1/contacts/{Guid.NewGuid()}/erase", null);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/v1/contacts/{erin}")).StatusCode);
    }

    /// <summary>Whether the address (any case) or the phone is anywhere in the stored bytes: the SQLite files, or a dump of the PostgreSQL database.</summary>
    private static async Task<bool> MentionedAsync(TestApp app, string db)
    {
        string[] needles = [Address.ToLowerInvariant(), "erin.private", "7946 0958"];
        if (db == Db.Sqlite)
        {
            var path = new SqliteConnectionStringBuilder(app.ConnectionString).DataSource;
            foreach (var file in new[] { path, path + "-wal" }.Where(File.Exists))
            {
                await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                await stream.CopyToAsync(copy);
                var text = Encoding.Latin1.GetString(copy.ToArray()).ToLowerInvariant();
                if (needles.Any(n => text.Contains(n.ToLowerInvariant(), StringComparison.Ordinal)))
                {
                    return true;
                }
            }
            return false;
        }
        var b = new NpgsqlConnectionStringBuilder(app.ConnectionString);
        var dump = new ProcessStartInfo("/usr/lib/postgresql/15/bin/pg_dump", ["--data-only", "--no-owner", "-h", b.Host!, "-p", b.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", b.Username!, b.Database!])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (b.Password is { } password)
        {
            dump.Environment["PGPASSWORD"] = password;
        }
        using var process = Process.Start(dump)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, "pg_dump failed: " + error);
        Assert.Contains("kim@example.net", output, StringComparison.Ordinal);
        var lower = output.ToLowerInvariant();
        return needles.Any(n => lower.Contains(n.ToLowerInvariant(), StringComparison.Ordinal));
    }
}
