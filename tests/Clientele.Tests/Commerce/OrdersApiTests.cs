using System.Net;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Commerce;

public sealed class OrdersApiTests
{
    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_order_posted_twice_is_one_order_on_the_timeline_and_a_refund_is_an_event(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        var order = new
        {
            orderId = "A-1001",
            email = "ann@example.com",
            placedAt = "2026-05-01T10:00:00Z",
            currency = "eur",
            items = new[] { new { sku = "BEAN-1", category = "Coffee", quantity = 2, price = 12.5m } },
        };

        var created = await api.PostJsonAsync("/api/v1/orders", order);
        var again = await api.PostJsonAsync("/api/v1/orders", order);
        var refunded = await api.PostJsonAsync("/api/v1/orders", new { orderId = "A-1001", email = "ann@example.com", status = "refunded" });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.ReadJsonAsync();
        Assert.Equal(25m, body.GetProperty("total").GetDecimal());
        Assert.Equal("EUR", body.GetProperty("currency").GetString());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("refunded", (await refunded.ReadJsonAsync()).GetProperty("status").GetString());
        var contactId = body.GetProperty("contactId").GetString();
        await app.DrainAsync();
        var timeline = await (await api.GetAsync($"/api/v1/contacts/{contactId}/timeline")).ReadJsonAsync();
        var types = timeline.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("type").GetString()).ToList();
        Assert.Single(types, t => t == "order.placed");
        Assert.Single(types, t => t == "order.refunded");
        await using var data = app.NewDb();
        var stored = await data.Orders.Include(o => o.Lines).SingleAsync();
        Assert.Equal(Clientele.Commerce.OrderStatus.Refunded, stored.Status);
        Assert.Equal(25m, stored.Total);
        Assert.Equal("BEAN-1", (await data.Products.SingleAsync()).Sku);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Bad_orders_and_products_are_refused_with_the_field_that_is_wrong(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");

        var wrongType = await api.PostRawAsync("/api/v1/orders", """{"orderId": "A-1", "email": "ann@example.com", "total": "lots"}""");
        var missing = await api.PostJsonAsync("/api/v1/orders", new { email = "not-an-email", items = new[] { new { sku = "", quantity = 0, price = -1m } } });
        var product = await api.PostJsonAsync("/api/v1/products", new { sku = "", price = -3m, currency = "EURO" });
        var unknownContact = await api.PostJsonAsync("/api/v1/orders", new { orderId = "A-2", contactId = Guid.NewGuid() });

        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal("/total", (await wrongType.ReadJsonAsync()).GetProperty("errors").EnumerateObject().Single().Name);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var errors = (await missing.ReadJsonAsync()).GetProperty("errors");
        foreach (var field in new[] { "/orderId", "/email", "/items/0/sku", "/items/0/quantity", "/items/0/price" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"expected an error for {field}");
        }
        var productErrors = (await product.ReadJsonAsync()).GetProperty("errors");
        Assert.True(productErrors.TryGetProperty("/sku", out _));
        Assert.True(productErrors.TryGetProperty("/price", out _));
        Assert.True(productErrors.TryGetProperty("/currency", out _));
        Assert.Equal(HttpStatusCode.BadRequest, unknownContact.StatusCode);
        await using var data = app.NewDb();
        Assert.Equal(0, await data.Orders.CountAsync());
        Assert.Equal(0, await data.Contacts.CountAsync());
    }
}
