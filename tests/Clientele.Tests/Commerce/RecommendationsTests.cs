using System.Net;
using System.Text.Json;
using Clientele.Commerce;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Journeys;
using Clientele.Tests.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace Clientele.Tests.Commerce;

/// <summary>"Customers who bought this also bought": from orders taken through the API to the e-mails that show them.</summary>
public sealed class RecommendationsTests
{
    private static readonly (string Sku, string Name, decimal Price)[] Catalog =
    [
        ("GRINDER", "Burr Grinder", 189m), ("BEANS", "Espresso Beans", 14m), ("TAMPER", "Steel Tamper", 25m), ("KETTLE", "Gooseneck Kettle", 79m),
        ("FILTERS", "Paper Filters", 6m), ("MUG", "Stoneware Mug", 12m), ("SCALE", "Digital Scale", 35m),
    ];

    private static object Item(string sku) => new { sku, quantity = 1, price = Catalog.Single(p => p.Sku == sku).Price };

    private static async Task OrderAsync(HttpClient api, string orderId, string email, string skus, string? status = null, int daysAgo = 30)
    {
        var response = await api.PostJsonAsync("/api/v1/orders", new
        {
            orderId,
            email,
            placedAt = TestApp.Start.AddDays(-daysAgo),
            currency = "EUR",
            status,
            items = skus.Split(' ').Select(Item).ToArray(),
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// A small shop: three customers bought grinder, beans and tamper together; a fourth bought grinder and beans in two
    /// orders (sent as events); three bought kettle and filters; five a mug; and three returned beans with a scale.
    /// </summary>
    private static async Task SeedShopAsync(TestApp app, HttpClient api)
    {
        foreach (var (sku, name, price) in Catalog)
        {
            var created = await api.PostJsonAsync("/api/v1/products", new
            {
                sku,
                name,
                category = "Coffee",
                price,
                currency = "EUR",
                url = $"https://shop.example/p/{sku.ToLowerInvariant()}",
                imageUrl = $"https://shop.example/img/{sku.ToLowerInvariant()}.jpg",
            });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        for (var i = 1; i <= 3; i++)
        {
            await OrderAsync(api, $"E-{i}", $"espresso{i}@example.com", "GRINDER BEANS TAMPER");
        }
        var events = await api.PostJsonAsync("/api/v1/events", new
        {
            events = new[] { ("E-4a", "GRINDER", 60), ("E-4b", "BEANS", 40) }.Select(o => new
            {
                type = "order.placed",
                email = "espresso4@example.com",
                occurredAt = TestApp.Start.AddDays(-o.Item3),
                properties = new { orderId = o.Item1, currency = "EUR", items = new[] { Item(o.Item2) } },
                idempotencyKey = "order:" + o.Item1,
            }).ToArray(),
        });
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        for (var i = 1; i <= 3; i++)
        {
            await OrderAsync(api, $"F-{i}", $"filter{i}@example.com", "KETTLE FILTERS");
        }
        for (var i = 1; i <= 5; i++)
        {
            await OrderAsync(api, $"M-{i}", $"mug{i}@example.com", "MUG");
        }
        for (var i = 1; i <= 3; i++)
        {
            await OrderAsync(api, $"R-{i}", $"returns{i}@example.com", "BEANS SCALE", status: "refunded");
        }
        await app.DrainAsync();
    }

    private static async Task<Guid> ContactAsync(HttpClient api, string email, string firstName)
    {
        var response = await api.PostJsonAsync("/api/v1/contacts", new { email, firstName, timeZone = "UTC", consent = new { offers = "subscribed" } });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    private static async Task RecomputeAsync(TestApp app) =>
        Assert.NotNull(await app.Services.GetRequiredService<BoughtTogetherJob>().RecomputeAsync(CancellationToken.None));

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_cross_sell_email_shows_what_customers_who_bought_the_same_also_bought_and_nothing_the_contact_has(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await SeedShopAsync(app, api);
        var installed = await api.PostJsonAsync("/api/v1/playbooks/cross-sell/install", new { publish = true });
        Assert.Equal(HttpStatusCode.Created, installed.StatusCode);
        var journey = (await installed.ReadJsonAsync()).GetProperty("journeyId").GetGuid();
        await ContactAsync(api, "ann@example.com", "Ann");

        await OrderAsync(api, "A-1", "ann@example.com", "GRINDER BEANS", daysAgo: 0);
        await JourneyFlowTests.RunDueAsync(app);
        await RecomputeAsync(app);
        app.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromHours(1));
        await JourneyFlowTests.RunDueAsync(app);

        Assert.Equal([("ann@example.com", "suggest")], await JourneyFlowTests.JourneyMailAsync(app, journey));
        MimeMessage? mail = null;
        await MailFlowTests.Until(async () =>
        {
            await using var db = app.NewDb();
            var row = await db.LocalMail.AsNoTracking().FirstOrDefaultAsync(m => m.To == "ann@example.com");
            mail = row is null ? null : MimeMessage.Load(new MemoryStream(row.Raw));
            return mail is not null;
        }, "the cross-sell e-mail was sent");
        var text = mail!.TextBody!;
        var html = mail.HtmlBody!;
        // Bought with her grinder and beans by three customers; then the best sellers she does not have.
        var picks = new[] { "Steel Tamper", "Stoneware Mug", "Paper Filters" }.Select(name => text.IndexOf(name, StringComparison.Ordinal)).ToList();
        Assert.All(picks, at => Assert.True(at >= 0, text));
        Assert.Equal(picks.Order(), picks);
        Assert.Contains("€25.00", text);
        foreach (var absent in new[] { "Burr Grinder", "Espresso Beans", "Gooseneck Kettle", "Digital Scale" })
        {
            Assert.DoesNotContain(absent, text);
            Assert.DoesNotContain(absent, html);
        }
        Assert.Contains(">Steel Tamper</a>, €25.00</li>", html); // linked, through click tracking, to the product's page
        Assert.Single(html.Split("<ul").Skip(1));                  // one list of three
        Assert.Equal(3, html.Split("<li").Length - 1);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_api_lists_a_products_partners_with_counts_and_a_contacts_picks_and_the_preview_shows_them(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await SeedShopAsync(app, api);
        var ann = await ContactAsync(api, "ann@example.com", "Ann");
        var bob = await ContactAsync(api, "bob@example.com", "Bob");
        await OrderAsync(api, "A-1", "ann@example.com", "GRINDER BEANS", daysAgo: 0);
        await app.DrainAsync();
        await RecomputeAsync(app);

        var grinder = await (await api.GetAsync("/api/v1/products/GRINDER/bought-together")).ReadJsonAsync();
        Assert.Equal(("Burr Grinder", 5), (grinder.GetProperty("name").GetString(), grinder.GetProperty("buyers").GetInt32()));
        Assert.Equal(app.Time.GetUtcNow().UtcDateTime, grinder.GetProperty("computedAt").GetDateTime());
        var partners = grinder.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["BEANS", "TAMPER"], partners.Select(p => p.GetProperty("sku").GetString()));
        Assert.Equal([5, 3], partners.Select(p => p.GetProperty("buyers").GetInt32()));
        Assert.Equal([1.0, 0.6], partners.Select(p => Math.Round(p.GetProperty("confidence").GetDouble(), 6)));
        Assert.Equal([2.6, 2.6], partners.Select(p => Math.Round(p.GetProperty("lift").GetDouble(), 6)));
        Assert.Equal([1.0, Math.Round(3 / Math.Sqrt(15), 6)], partners.Select(p => Math.Round(p.GetProperty("score").GetDouble(), 6)));
        Assert.Equal("https://shop.example/p/beans", partners[0].GetProperty("url").GetString());
        // The scale was only ever returned: no partner of anything.
        var scale = await (await api.GetAsync("/api/v1/products/SCALE/bought-together")).ReadJsonAsync();
        Assert.Equal((0, 0), (scale.GetProperty("buyers").GetInt32(), scale.GetProperty("items").GetArrayLength()));

        static List<(string?, string?)> Picks(JsonElement body) =>
            [.. body.GetProperty("items").EnumerateArray().Select(i => (i.GetProperty("sku").GetString(), i.GetProperty("source").GetString()))];
        var forAnn = await (await api.GetAsync($"/api/v1/contacts/{ann}/recommendations")).ReadJsonAsync();
        Assert.Equal([("TAMPER", "bought-together"), ("MUG", "best-seller"), ("FILTERS", "best-seller")], Picks(forAnn));
        var tamper = forAnn.GetProperty("items")[0];
        Assert.Equal(["BEANS", "GRINDER"], tamper.GetProperty("because").EnumerateArray().Select(b => b.GetString()));
        Assert.Equal(("Steel Tamper", 25m, "EUR", "https://shop.example/img/tamper.jpg"),
            (tamper.GetProperty("name").GetString(), tamper.GetProperty("price").GetDecimal(), tamper.GetProperty("currency").GetString(),
                tamper.GetProperty("imageUrl").GetString()));
        var five = await (await api.GetAsync($"/api/v1/contacts/{ann}/recommendations?limit=5")).ReadJsonAsync();
        Assert.Equal(["TAMPER", "MUG", "FILTERS", "KETTLE", "SCALE"], Picks(five).Select(p => p.Item1));
        Assert.Equal("catalog", Picks(five)[4].Item2);
        // Bob has bought nothing: the best sellers.
        var forBob = await (await api.GetAsync($"/api/v1/contacts/{bob}/recommendations")).ReadJsonAsync();
        Assert.Equal([("BEANS", "best-seller"), ("GRINDER", "best-seller"), ("MUG", "best-seller")], Picks(forBob));

        foreach (var (url, status) in new[]
                 {
                     ("/api/v1/products/NOPE/bought-together", HttpStatusCode.NotFound),
                     ($"/api/v1/contacts/{Guid.NewGuid()}/recommendations", HttpStatusCode.NotFound),
                     ($"/api/v1/contacts/{ann}/recommendations?limit=0", HttpStatusCode.BadRequest),
                 })
        {
            var response = await api.GetAsync(url);
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        var template = await api.PostJsonAsync("/api/v1/templates", new
        {
            name = "Picks",
            subject = "For you, {{ contact.first_name }}",
            body = "{% for r in recommendations %}- [{{ r.name }}]({{ r.url }}) {{ r.price | money: r.currency }}\n{% endfor %}",
        });
        var templateId = (await template.ReadJsonAsync()).GetProperty("id").GetGuid();
        var preview = await (await api.PostJsonAsync($"/api/v1/templates/{templateId}/preview", new { email = "ann@example.com" })).ReadJsonAsync();
        var previewText = preview.GetProperty("text").GetString()!;
        Assert.Contains("- Steel Tamper (https://shop.example/p/tamper) €25.00", previewText);
        Assert.DoesNotContain("Burr Grinder", previewText);
        Assert.Contains("Espresso Beans", (await (await api.PostJsonAsync($"/api/v1/templates/{templateId}/preview", new { email = "bob@example.com" })).ReadJsonAsync())
            .GetProperty("text").GetString());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task A_products_link_and_picture_are_optional_checked_and_kept_when_an_update_leaves_them_out(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync("write");

        var plain = await api.PostJsonAsync("/api/v1/products", new { sku = "BEAN-1", name = "Beans", price = 10m });
        var linked = await api.PostJsonAsync("/api/v1/products", new { sku = "BEAN-1", url = "https://shop.example/beans", imageUrl = "https://shop.example/beans.jpg" });
        var renamed = await api.PostJsonAsync("/api/v1/products", new { sku = "BEAN-1", name = "House beans" });
        var bad = await api.PostJsonAsync("/api/v1/products", new { sku = "BEAN-2", url = "javascript:alert(1)", imageUrl = "beans.jpg" });
        var badItem = await api.PostJsonAsync("/api/v1/orders", new { orderId = "O-1", email = "ann@example.com", items = new[] { new { sku = "X", price = 1m, url = "ftp://x" } } });
        var cleared = await api.PostJsonAsync("/api/v1/products", new { sku = "BEAN-1", imageUrl = "" });

        Assert.Equal(HttpStatusCode.Created, plain.StatusCode);
        Assert.Equal(JsonValueKind.Null, (await plain.ReadJsonAsync()).GetProperty("url").ValueKind);
        Assert.Equal("https://shop.example/beans", (await linked.ReadJsonAsync()).GetProperty("url").GetString());
        var kept = await renamed.ReadJsonAsync();
        Assert.Equal(("House beans", "https://shop.example/beans", "https://shop.example/beans.jpg"),
            (kept.GetProperty("name").GetString(), kept.GetProperty("url").GetString(), kept.GetProperty("imageUrl").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(["/imageUrl", "/url"], (await bad.ReadJsonAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name).Order());
        Assert.Equal(HttpStatusCode.BadRequest, badItem.StatusCode);
        Assert.True((await badItem.ReadJsonAsync()).GetProperty("errors").TryGetProperty("/items/0/url", out _));
        Assert.Equal(JsonValueKind.Null, (await cleared.ReadJsonAsync()).GetProperty("imageUrl").ValueKind);

        // A product first seen in an order takes its link and picture from the item.
        var order = await api.PostJsonAsync("/api/v1/orders", new
        {
            orderId = "O-2",
            email = "ann@example.com",
            items = new[] { new { sku = "MUG-1", name = "Mug", price = 12m, url = "https://shop.example/mug", imageUrl = "https://shop.example/mug.jpg" } },
        });
        Assert.Equal(HttpStatusCode.Created, order.StatusCode);
        var products = await (await api.GetAsync("/api/v1/products")).ReadJsonAsync();
        var mug = products.EnumerateArray().Single(p => p.GetProperty("sku").GetString() == "MUG-1");
        Assert.Equal(("Mug", "https://shop.example/mug", "https://shop.example/mug.jpg"),
            (mug.GetProperty("name").GetString(), mug.GetProperty("url").GetString(), mug.GetProperty("imageUrl").GetString()));
    }
}
