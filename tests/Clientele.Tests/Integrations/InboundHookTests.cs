using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Clientele.Commerce;
using Clientele.Integrations;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Integrations;

/// <summary>A shop's own webhooks (Shopify, WooCommerce, a generic system) posted to /hooks/{name} become orders and events, once.</summary>
public sealed class InboundHookTests
{
    private const string ShopSecret = "shpss_0123456789abcdef";
    private const string WooSecret = "woo-secret-0123456789";
    private const string PosSecret = "pos-secret-0123456789";

    private const string ShopifyOrder = """
        {"id": 820982911946154508, "name": "#1001", "email": "jon@example.com", "created_at": "2026-05-31T10:00:00-04:00",
         "currency": "EUR", "total_price": "59.90",
         "customer": {"id": 115310627314723954, "email": "jon@example.com", "first_name": "Jon"},
         "discount_codes": [{"code": "THX-ABCD2345", "amount": "5.00", "type": "fixed_amount"}],
         "line_items": [
           {"id": 1, "sku": "BEAN-ESP", "title": "Espresso beans 1 kg", "quantity": 2, "price": "24.95", "vendor": "Northwind"},
           {"id": 2, "sku": "FILTER-100", "title": "Paper filters", "quantity": 1, "price": "10.00", "vendor": "Northwind"}]}
        """;

    private const string WooOrder = """
        {"id": 727, "number": "727", "status": "processing", "currency": "EUR", "total": "31.50", "date_created_gmt": "2026-05-31T09:00:00",
         "billing": {"first_name": "Mia", "email": "mia@example.com"},
         "line_items": [{"id": 5, "name": "Hand grinder", "product_id": 93, "sku": "", "quantity": 1, "price": 31.5}],
         "coupon_lines": []}
        """;

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string name, string body, string secret, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/" + name) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (header, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(header, value.Replace("{sig64}", Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body))), StringComparison.Ordinal)
                .Replace("{sighex}", Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body))), StringComparison.Ordinal));
        }
        return await client.SendAsync(request);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Shop_webhooks_become_orders_once_and_an_unsigned_call_changes_nothing(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync();
        var bad = await api.PutAsJsonAsync("/api/v1/integrations/inbound", new
        {
            sources = new object[]
            {
                new { name = "Main Shop", platform = "magento", secret = "short" },
                new { name = "pos", platform = "generic", secret = PosSecret },
            },
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problems = await bad.Content.ReadAsStringAsync();
        foreach (var field in new[] { "/sources/0/name", "/sources/0/platform", "/sources/0/secret", "/sources/1/mapping" })
        {
            Assert.Contains(field, problems);
        }
        var saved = await api.PutAsJsonAsync("/api/v1/integrations/inbound", new
        {
            sources = new object[]
            {
            new { name = "shop", platform = "shopify", secret = ShopSecret },
            new { name = "woo", platform = "woocommerce", secret = WooSecret },
            new
            {
                name = "pos", platform = "generic", secret = PosSecret,
                mapping = new
                {
                    type = "order.placed", email = "customer.mail", id = "receipt", occurredAt = "at",
                    properties = new Dictionary<string, string> { ["orderId"] = "receipt", ["total"] = "amount", ["currency"] = "cur" },
                },
            },
            },
        });
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.DoesNotContain(ShopSecret, await saved.Content.ReadAsStringAsync());
        using var shop = app.CreateClient();

        // Shopify: an order, sent twice as Shopify does when an answer is slow.
        var first = await PostAsync(shop, "shop", ShopifyOrder, ShopSecret, ("X-Shopify-Topic", "orders/create"), ("X-Shopify-Hmac-Sha256", "{sig64}"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(shop, "shop", ShopifyOrder, ShopSecret, ("X-Shopify-Topic", "orders/create"), ("X-Shopify-Hmac-Sha256", "{sig64}"))).StatusCode);
        Assert.Contains("duplicate", await (await PostAsync(shop, "shop", ShopifyOrder, ShopSecret, ("X-Shopify-Topic", "orders/create"), ("X-Shopify-Hmac-Sha256", "{sig64}"))).Content.ReadAsStringAsync());
        // Forged, unknown, and a topic of no use here.
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(shop, "shop", ShopifyOrder.Replace("59.90", "0.01", StringComparison.Ordinal), ShopSecret,
            ("X-Shopify-Topic", "orders/create"), ("X-Shopify-Hmac-Sha256", Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(ShopSecret), Encoding.UTF8.GetBytes(ShopifyOrder)))))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(shop, "nope", ShopifyOrder, ShopSecret, ("X-Shopify-Hmac-Sha256", "{sig64}"))).StatusCode);
        var ignored = await PostAsync(shop, "shop", "{\"id\": 1}", ShopSecret, ("X-Shopify-Topic", "app/uninstalled"), ("X-Shopify-Hmac-Sha256", "{sig64}"));
        Assert.Equal(HttpStatusCode.OK, ignored.StatusCode);
        Assert.Contains("app/uninstalled", await ignored.Content.ReadAsStringAsync());

        // WooCommerce: an order, then its refund.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(shop, "woo", WooOrder, WooSecret, ("X-WC-Webhook-Topic", "order.created"), ("X-WC-Webhook-Signature", "{sig64}"))).StatusCode);
        var refunded = WooOrder.Replace("\"processing\"", "\"refunded\"", StringComparison.Ordinal).Replace("\"date_created_gmt\"", "\"date_modified_gmt\": \"2026-06-01T08:00:00\", \"date_created_gmt\"", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(shop, "woo", refunded, WooSecret, ("X-WC-Webhook-Topic", "order.updated"), ("X-WC-Webhook-Signature", "{sig64}"))).StatusCode);

        // A till system mapped by configuration.
        const string sale = """{"receipt": "R-77", "amount": 12.5, "cur": "EUR", "at": "2026-05-31T11:00:00Z", "customer": {"mail": "lea@example.com"}}""";
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(shop, "pos", sale, PosSecret, ("X-Clientele-Signature", "sha256={sighex}"))).StatusCode);
        var unreadable = await PostAsync(shop, "pos", """{"receipt": "R-78"}""", PosSecret, ("X-Clientele-Signature", "sha256={sighex}"));
        Assert.Equal(HttpStatusCode.BadRequest, unreadable.StatusCode);
        Assert.Contains("customer.mail", await unreadable.Content.ReadAsStringAsync());

        await app.DrainAsync();
        await using var db = app.NewDb();
        var orders = await db.Orders.AsNoTracking().Include(o => o.Lines).ToDictionaryAsync(o => o.ExternalId);
        Assert.Equal(["#1001", "727", "R-77"], orders.Keys.Order(StringComparer.Ordinal));
        var jon = orders["#1001"];
        Assert.Equal((59.90m, "EUR", "THX-ABCD2345"), (jon.Total, jon.Currency, jon.Coupon));
        Assert.Equal(new DateTime(2026, 5, 31, 14, 0, 0, DateTimeKind.Utc), jon.PlacedAt);
        Assert.Equal(2, jon.Lines.Count);
        Assert.Equal(OrderStatus.Refunded, orders["727"].Status);
        Assert.Equal(12.5m, orders["R-77"].Total);
        Assert.Equal(1, await db.Events.CountAsync(e => e.Type == "order.placed" && e.Source == "hook:shop"));
    }

    [Fact]
    public void Dotted_paths_read_numbers_sent_as_text_and_a_missing_field_is_null()
    {
        using var doc = JsonDocument.Parse("""{"a": {"b": "42.50", "c": 7}, "d": null}""");
        Assert.Equal(42.50m, InboundMapping.Number(doc.RootElement, "a.b"));
        Assert.Equal("7", InboundMapping.Text(doc.RootElement, "a.c"));
        Assert.Null(InboundMapping.Text(doc.RootElement, "d"));
        Assert.Null(InboundMapping.Text(doc.RootElement, "a.x.y"));
    }
}
