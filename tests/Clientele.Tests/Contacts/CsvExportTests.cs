using System.Net;
using Clientele.Accounts;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Web;
using CsvHelper;

namespace Clientele.Tests.Contacts;

public sealed class CsvExportTests
{
    private static async Task SeedAsync(TestApp app, HttpClient api)
    {
        await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com", firstName = "Ann", tags = new[] { "vip" }, consent = new { newsletter = "subscribed" } });
        // A name a spreadsheet would run as a formula.
        await api.PostJsonAsync("/api/v1/contacts", new { email = "mallory@example.com", firstName = "=HYPERLINK(\"http://evil.example\",\"click\")", lastName = "O'Brien, Jr." });
        var events = await api.PostJsonAsync("/api/v1/events", new
        {
            events = new object[]
            {
                new { type = "order.placed", email = "ann@example.com", occurredAt = "2026-03-01T10:00:00Z", idempotencyKey = "o-1",
                    properties = new { orderId = "1001", currency = "EUR", items = new[] { new { sku = "BEAN-1", quantity = 2, price = 12.5m } } } },
                new { type = "order.placed", email = "ann@example.com", occurredAt = "2026-05-01T10:00:00Z", idempotencyKey = "o-2",
                    properties = new { orderId = "1002", currency = "EUR", items = new[] { new { sku = "BEAN-2", quantity = 1, price = 9m }, new { sku = "MUG", quantity = 1, price = 15m } } } },
            },
        });
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        await app.DrainAsync();
    }

    private static List<Dictionary<string, string>> Read(string text)
    {
        using var csv = CsvReader.Create(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)), CsvReaderOptions.Default with { HasHeader = true }, false);
        csv.ReadHeader();
        var header = csv.Headers.ToArray();
        var rows = new List<Dictionary<string, string>>();
        while (csv.Read())
        {
            var cells = csv.Current.ToArray();
            rows.Add(header.Select((h, i) => (h, i)).ToDictionary(x => x.h, x => cells[x.i].ToString()));
        }
        return rows;
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Contacts_and_orders_export_as_csv_with_filters_and_formulas_kept_as_text(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("read");
        await SeedAsync(app, await app.ApiClientAsync("write"));

        var response = await api.GetAsync("/api/v1/exports/contacts.csv");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("contacts.csv", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName);
        var contacts = Read(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, contacts.Count);
        var ann = Assert.Single(contacts, c => c["email"] == "ann@example.com");
        Assert.Equal("Ann", ann["first_name"]);
        Assert.Equal("vip", ann["tags"]);
        Assert.Equal("newsletter:subscribed", ann["consent"]);
        Assert.Equal("re-purchase", ann["stage"]);
        var mallory = Assert.Single(contacts, c => c["email"] == "mallory@example.com");
        Assert.StartsWith("'=HYPERLINK", mallory["first_name"], StringComparison.Ordinal);
        Assert.Equal("O'Brien, Jr.", mallory["last_name"]);

        var vips = Read(await api.GetStringAsync("/api/v1/exports/contacts.csv?tag=vip"));
        Assert.Equal("ann@example.com", Assert.Single(vips)["email"]);
        var bad = await api.GetAsync("/api/v1/exports/contacts.csv?stage=royalty");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);

        var orders = Read(await api.GetStringAsync("/api/v1/exports/orders.csv"));
        Assert.Equal(["1001", "1002"], orders.Select(o => o["order_id"]));
        Assert.Equal("ann@example.com", orders[1]["email"]);
        Assert.Equal("24.00", orders[1]["total"]);
        Assert.Equal("2", orders[1]["items"]);
        Assert.Equal("BEAN-2;MUG", string.Join(";", orders[1]["skus"].Split(';').Order(StringComparer.Ordinal)));
        var spring = Read(await api.GetStringAsync("/api/v1/exports/orders.csv?from=2026-04-01&to=2026-05-01"));
        Assert.Equal("1002", Assert.Single(spring)["order_id"]);
        var wrong = await api.GetAsync("/api/v1/exports/orders.csv?from=April");
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("is not a date", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_marketer_downloads_the_files_and_a_support_agent_may_not()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        await SeedAsync(app, await app.ApiClientAsync("write"));

        var marketer = await app.SignedInAsync(Role.Marketer);
        Assert.Equal(2, Read(await marketer.GetStringAsync("/contacts/export.csv")).Count);
        Assert.Equal(2, Read(await marketer.GetStringAsync("/orders/export.csv")).Count);

        var agent = await app.SignedInAsync(Role.Agent);
        foreach (var path in new[] { "/contacts/export.csv", "/orders/export.csv" })
        {
            var response = await agent.GetAsync(path);
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain("ann@example.com", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        // Only owners may download a person's whole record.
        Assert.NotEqual(HttpStatusCode.OK, (await marketer.GetAsync($"/contacts/{Guid.NewGuid()}/export.json")).StatusCode);
    }
}
