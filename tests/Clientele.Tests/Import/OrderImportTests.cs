using System.Text;
using System.Text.Json;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Import;

public sealed class OrderImportTests
{
    private const string Orders = """
        order_id,email,customer_id,placed_at,total,currency,status,coupon,sku,category,quantity,price
        1001,ann@example.com,,2026-03-01,,USD,placed,,ETH-250,Coffee,2,16.50
        1001,,,,,,,,V60,Equipment,1,28.00
        1002,new@example.com,C-9,2026-04-01T10:00:00Z,49.00,EUR,refunded,SPRING,,,,
        1003,,C-9,2026-05-02 08:30,12.50,USD,,,TEA-1,Tea,1,12.50
        """;

    internal static Task<ImportReport> ImportAsync(TestApp app, string csv, bool dryRun = false, params string[] map) =>
        OrderImport.RunAsync(app.Database, new MemoryStream(Encoding.UTF8.GetBytes(csv)),
            new ImportOptions { Name = "orders.csv", DryRun = dryRun, Map = map }, app.Time, CancellationToken.None);

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Imported_orders_are_order_placed_events_and_importing_the_file_again_adds_nothing(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com", firstName = "Ann" });

        var first = await ImportAsync(app, Orders);
        var second = await ImportAsync(app, Orders);

        Assert.Equal((4, 4, 0, 0, 0), (first.Rows, first.Imported, first.Updated, first.Skipped, first.Failed));
        Assert.Contains(("orders imported", 3), first.Details);
        Assert.Contains(("new contacts", 1), first.Details); // new@example.com, known as C-9 on the next row too
        Assert.Equal((4, 0, 0, 4, 0), (second.Rows, second.Imported, second.Updated, second.Skipped, second.Failed));
        Assert.Contains(("orders already imported", 3), second.Details);

        await using var data = app.NewDb();
        var placed = await data.Events.Where(e => e.Type == "order.placed").OrderBy(e => e.OccurredAt).ToListAsync();
        Assert.Equal(["order:1001", "order:1002", "order:1003"], placed.Select(e => e.IdempotencyKey));
        Assert.All(placed, e => Assert.Equal("import", e.Source));
        Assert.Equal(new DateTime(2026, 5, 2, 8, 30, 0, DateTimeKind.Utc), placed[2].OccurredAt);
        var facts = CommerceProjection.ReadOrder(placed[0]);
        Assert.Equal(("1001", 61.00m, 2), (facts.OrderId, facts.Total, facts.Lines.Count));
        var refund = await data.Events.SingleAsync(e => e.Type == "order.refunded");
        Assert.Equal("order-refund:1002", refund.IdempotencyKey);

        var orders = await data.Orders.Include(o => o.Lines).OrderBy(o => o.ExternalId).ToListAsync();
        Assert.Equal(["1001", "1002", "1003"], orders.Select(o => o.ExternalId));
        Assert.Equal(["ETH-250", "V60"], orders[0].Lines.OrderBy(l => l.Sku).Select(l => l.Sku));
        Assert.Equal((OrderStatus.Refunded, "EUR", "SPRING"), (orders[1].Status, orders[1].Currency, orders[1].Coupon));
        Assert.Equal(orders[1].ContactId, orders[2].ContactId);
        var ann = await data.Contacts.SingleAsync(c => c.EmailNormalized == "ann@example.com");
        Assert.Equal(ann.Id, orders[0].ContactId);
        var newcomer = await data.Contacts.SingleAsync(c => c.ExternalId == "C-9");
        Assert.Equal(("new@example.com", new DateTime(2026, 4, 1, 10, 0, 0, DateTimeKind.Utc)), (newcomer.EmailNormalized, newcomer.CreatedAt));
        Assert.Equal(3, await data.Products.CountAsync());

        // The commerce consumer, catching up later, leaves the imported orders as they are.
        await app.DrainAsync();
        await using var after = app.NewDb();
        Assert.Equal(3, await after.Orders.CountAsync());
        Assert.Equal(3, await after.OrderLines.CountAsync());
        Assert.Equal(OrderStatus.Refunded, (await after.Orders.SingleAsync(o => o.ExternalId == "1002")).Status);
        Assert.Equal(0, await after.ConsumerFailures.CountAsync());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_bad_row_fails_its_whole_order_and_the_other_orders_are_stored(string db)
    {
        await using var app = await TestApp.StartAsync(db);

        var report = await ImportAsync(app, """
            order_id,email,placed_at,sku,quantity,price
            A1,ann@example.com,2026-03-01,ETH-250,1,16.50
            A1,,,V60,none,28.00
            A2,bob@example.com,2026/03/01,ETH-250,1,16.50
            A3,,2026-03-01,ETH-250,1,16.50
            A4,cid@example.com,2026-03-01,ETH-250,1,16.50
            A5,dan@example.com,2027-03-01,ETH-250,1,16.50
            """);

        Assert.Equal((6, 1, 5), (report.Rows, report.Imported, report.Failed));
        Assert.Equal(report.Rows, report.Imported + report.Updated + report.Skipped + report.Failed);
        Assert.Equal(
            ["row 1 (line 2): not imported: order A1 has an error on another row",
             "row 2 (line 3), column \"quantity\": \"none\" is not a whole number of at least 1",
             "row 3 (line 4), column \"placed_at\": \"2026/03/01\" is not an ISO date or time such as 2026-05-01 or 2026-05-01T10:00:00Z",
             "row 4 (line 5), column \"email\": empty: say who ordered, by e-mail or external id",
             "row 6 (line 7), column \"placed_at\": 2027-03-01 is in the future"],
            report.Errors.Select(e => e.ToString()));
        await using var data = app.NewDb();
        Assert.Equal(["A4"], await data.Orders.Select(o => o.ExternalId).ToListAsync());
        Assert.Equal(1, await data.Events.CountAsync(e => e.CauseEventId == null)); // what was sent, not what was derived from it
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_refund_in_a_later_file_is_recorded_once_for_the_order_imported_before(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await ImportAsync(app, "order_id,email,placed_at,total\n7,ann@example.com,2026-02-01,30\n8,ann@example.com,2026-02-02,20\n");

        var refunds = "Order Number,Customer Email,Date,Total,Financial Status,Refund Date\n7,ann@example.com,2026-02-01,30,refunded,2026-02-10\n8,ann@example.com,2026-02-02,20,paid,\n";
        var report = await ImportAsync(app, refunds);
        var again = await ImportAsync(app, refunds);

        Assert.Equal((1, 1), (report.Updated, report.Skipped));
        Assert.Contains(("refunds recorded", 1), report.Details);
        Assert.Equal((0, 2), (again.Updated, again.Skipped));
        await using var data = app.NewDb();
        var order = await data.Orders.SingleAsync(o => o.ExternalId == "7");
        Assert.Equal((OrderStatus.Refunded, new DateTime(2026, 2, 10, 0, 0, 0, DateTimeKind.Utc)), (order.Status, order.RefundedAt));
        var refund = await data.Events.SingleAsync(e => e.Type == "order.refunded");
        Assert.Equal("7", JsonDocument.Parse(refund.Properties).RootElement.GetProperty("orderId").GetString());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_dry_run_of_orders_writes_nothing(string db)
    {
        await using var app = await TestApp.StartAsync(db);

        var report = await ImportAsync(app, Orders, dryRun: true);

        Assert.Equal((4, 4), (report.Rows, report.Imported));
        await using var data = app.NewDb();
        Assert.Equal(0, await data.Orders.CountAsync());
        Assert.Equal(0, await data.Events.CountAsync());
        Assert.Equal(0, await data.Contacts.CountAsync());
    }

    [Fact]
    public void Order_columns_can_be_mapped_and_a_file_without_order_id_customer_or_date_is_refused()
    {
        var columns = OrderImport.ResolveColumns(["Bestellnummer", "Kunde", "Datum", "Betrag"], ["Bestellnummer=orderId", "Kunde=email", "Datum=placedAt", "Betrag=total"], "o.csv");
        Assert.Equal(["orderId", "email", "placedAt", "total"], columns.Select(c => c.Field));

        var refused = Assert.Throws<ImportFileException>(() => OrderImport.ResolveColumns(["sku", "price"], [], "o.csv"));
        Assert.Contains("order id", refused.Message);
        Assert.Contains("customer", refused.Message);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task Product_links_and_pictures_in_an_order_file_become_the_new_products_link_and_picture(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        const string csv = """
            order_id,email,placed_at,sku,product_name,price,product_url,image_url
            2001,ann@example.com,2026-03-01,V60,Hario V60,28.00,https://shop.example/v60,https://shop.example/v60.jpg
            2001,,,ETH-250,Ethiopia,16.50,,
            2002,bob@example.com,2026-03-02,KETTLE,Kettle,79.00,not a link,
            """;

        var report = await ImportAsync(app, csv);

        Assert.Equal((2, 1), (report.Imported, report.Failed));
        Assert.Contains(report.Errors, e => e.Column == "product_url" && e.Message.Contains("not a web address", StringComparison.Ordinal));
        await using var data = app.NewDb();
        var products = await data.Products.AsNoTracking().OrderBy(p => p.Sku).ToListAsync();
        Assert.Equal(["ETH-250", "V60"], products.Select(p => p.Sku));
        Assert.Equal((null, null), (products[0].Url, products[0].ImageUrl));
        Assert.Equal(("Hario V60", "https://shop.example/v60", "https://shop.example/v60.jpg"), (products[1].Name, products[1].Url, products[1].ImageUrl));
    }
}
