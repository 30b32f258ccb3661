using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Commerce;

/// <summary>
/// Imports past orders from a CSV file: one row per order, or one row per order line with the order's
/// rows next to each other. Each new order becomes an <c>order.placed</c> event (key <c>order:ID</c>)
/// and its order row, exactly as the orders API stores it; an order id already known is skipped, so
/// importing the same file twice stores nothing twice.
/// </summary>
internal static partial class OrderImport
{
    public const string Origin = "import";

    public static readonly string[] Fields =
        ["orderId", "email", "externalId", "placedAt", "total", "currency", "status", "coupon", "sku", "name", "category", "quantity", "price", "refundedAt", "url", "imageUrl"];

    private static readonly Dictionary<string, string> Aliases = new()
    {
        ["orderid"] = "orderId",
        ["order"] = "orderId",
        ["ordernumber"] = "orderId",
        ["orderno"] = "orderId",
        ["email"] = "email",
        ["emailaddress"] = "email",
        ["customeremail"] = "email",
        ["mail"] = "email",
        ["externalid"] = "externalId",
        ["customerid"] = "externalId",
        ["customernumber"] = "externalId",
        ["clientid"] = "externalId",
        ["customer"] = "externalId",
        ["placedat"] = "placedAt",
        ["placed"] = "placedAt",
        ["date"] = "placedAt",
        ["orderdate"] = "placedAt",
        ["orderedat"] = "placedAt",
        ["createdat"] = "placedAt",
        ["purchasedate"] = "placedAt",
        ["purchasedat"] = "placedAt",
        ["total"] = "total",
        ["ordertotal"] = "total",
        ["grandtotal"] = "total",
        ["amount"] = "total",
        ["totalprice"] = "total",
        ["currency"] = "currency",
        ["status"] = "status",
        ["orderstatus"] = "status",
        ["financialstatus"] = "status",
        ["coupon"] = "coupon",
        ["couponcode"] = "coupon",
        ["discountcode"] = "coupon",
        ["promocode"] = "coupon",
        ["sku"] = "sku",
        ["productsku"] = "sku",
        ["itemsku"] = "sku",
        ["productid"] = "sku",
        ["productcode"] = "sku",
        ["lineitemsku"] = "sku",
        ["name"] = "name",
        ["productname"] = "name",
        ["product"] = "name",
        ["itemname"] = "name",
        ["lineitemname"] = "name",
        ["category"] = "category",
        ["productcategory"] = "category",
        ["producttype"] = "category",
        ["quantity"] = "quantity",
        ["qty"] = "quantity",
        ["lineitemquantity"] = "quantity",
        ["price"] = "price",
        ["unitprice"] = "price",
        ["itemprice"] = "price",
        ["lineitemprice"] = "price",
        ["refundedat"] = "refundedAt",
        ["refunddate"] = "refundedAt",
        ["url"] = "url",
        ["producturl"] = "url",
        ["productlink"] = "url",
        ["itemurl"] = "url",
        ["imageurl"] = "imageUrl",
        ["image"] = "imageUrl",
        ["productimage"] = "imageUrl",
        ["productimageurl"] = "imageUrl",
        ["imagesrc"] = "imageUrl",
    };

    private static readonly Dictionary<string, string> WeakAliases = new() { ["id"] = "orderId" };

    /// <summary>Order ids longer than this would not fit the idempotency key "order:ID".</summary>
    public const int MaxOrderIdLength = EventRules.MaxKeyLength - 13;

    public static async Task<ImportReport> RunAsync(ClienteleDatabase database, Stream csv, ImportOptions options, TimeProvider time, CancellationToken ct)
    {
        await using var file = await ImportCsv.OpenAsync(csv, options.Name, ct);
        var columns = ResolveColumns(file.Header, options.Map, options.Name);
        var report = new ImportReport { Kind = "orders", DryRun = options.DryRun };
        report.Columns.AddRange(columns.Select(c => (c.Header, c.Field)));
        var now = time.GetUtcNow().UtcDateTime;
        var totals = new Totals();

        await using var db = database.CreateDbContext();
        // Looking at db.Set.Local would otherwise scan every tracked row for changes, once per row of the batch.
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        await using var dryRun = options.DryRun ? await db.Database.BeginTransactionAsync(ct) : null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var batch = new List<OrderDraft>();
        List<(CsvRow Row, OrderRow? Parsed, List<ImportIssue> Errors)>? group = null;
        string? groupId = null;

        await foreach (var row in file.ReadRowsAsync(ct))
        {
            report.Rows++;
            var blank = row.BadData is null && row.IsBlank;
            var (parsed, errors, orderId) = blank ? (null, [], null) : ParseRow(columns, file.Header.Length, row, now);
            if (group is not null && orderId != groupId)
            {
                CloseGroup();
            }
            if (blank)
            {
                report.Skipped++; // a spreadsheet's empty row
            }
            else if (orderId is null)
            {
                report.Failed++;
                report.Errors.AddRange(errors);
            }
            else
            {
                groupId = orderId;
                (group ??= []).Add((row, parsed, errors));
            }
            if (report.Rows % options.BatchSize == 0)
            {
                await FlushAsync(db, batch, report, totals, columns, now, ct);
                options.Progress?.Invoke(report.Rows);
            }
        }
        if (group is not null)
        {
            CloseGroup();
        }
        await FlushAsync(db, batch, report, totals, columns, now, ct);
        options.Progress?.Invoke(report.Rows);
        if (dryRun is not null)
        {
            await dryRun.RollbackAsync(ct);
        }
        report.Details.Add(("orders imported", totals.OrdersImported));
        report.Details.Add(("orders already imported", totals.OrdersSkipped));
        report.Details.Add(("refunds recorded", totals.Refunds));
        report.Details.Add(("new contacts", totals.ContactsCreated));
        return report;

        void CloseGroup()
        {
            var rows = group!;
            group = null;
            if (!seen.Add(groupId!))
            {
                var first = rows[0].Row;
                Fail(rows, new ImportIssue(first.Row, first.Line, ColumnOf(columns, "orderId"),
                    $"order {groupId} already appeared on earlier rows; the rows of one order must be next to each other"));
                return;
            }
            var (draft, issues) = Combine(groupId!, rows, columns);
            if (draft is null)
            {
                Fail(rows, null);
                report.Errors.AddRange(issues);
                return;
            }
            batch.Add(draft);
        }

        void Fail(List<(CsvRow Row, OrderRow? Parsed, List<ImportIssue> Errors)> rows, ImportIssue? issue)
        {
            report.Failed += rows.Count;
            if (issue is not null)
            {
                report.Errors.Add(issue);
            }
        }
    }

    public static List<ImportColumn> ResolveColumns(string[] header, IReadOnlyList<string> map, string name)
    {
        var columns = ImportColumns.Resolve(header, map, name, Known, MapField, _ => ImportColumn.Ignore,
            string.Join(", ", Fields) + ", ignore");
        var missing = new List<string>();
        if (!columns.Any(c => c.Field == "orderId"))
        {
            missing.Add("the order id (order_id)");
        }
        if (!columns.Any(c => c.Field is "email" or "externalId"))
        {
            missing.Add("the customer (email or external_id)");
        }
        if (!columns.Any(c => c.Field == "placedAt"))
        {
            missing.Add("when it was placed (placed_at)");
        }
        if (missing.Count > 0)
        {
            throw new ImportFileException($"{name} has no column for {string.Join(", ", missing)}. Name one with --map, e.g. --map \"Bestellnummer=orderId\".");
        }
        return columns;
    }

    private static (string? Field, bool Weak) Known(string header)
    {
        var key = ImportCsv.Key(header);
        return Aliases.TryGetValue(key, out var field) ? (field, false)
            : WeakAliases.TryGetValue(key, out field) ? (field, true)
            : (null, false);
    }

    private static string? MapField(string text)
    {
        if (text.Equals(ImportColumn.Ignore, StringComparison.OrdinalIgnoreCase))
        {
            return ImportColumn.Ignore;
        }
        if (Fields.FirstOrDefault(f => f.Equals(text, StringComparison.OrdinalIgnoreCase)) is { } exact)
        {
            return exact;
        }
        var key = ImportCsv.Key(text);
        return Aliases.TryGetValue(key, out var field) || WeakAliases.TryGetValue(key, out field) ? field : null;
    }

    private static string? ColumnOf(IReadOnlyList<ImportColumn> columns, string field) =>
        columns.FirstOrDefault(c => c.Field == field)?.Header;

    /// <summary>One row as read: order-level cells (any row of the order may carry them) and at most one line.</summary>
    internal sealed record OrderRow(
        string OrderId, string? Email, string? ExternalId, DateTime? PlacedAt, decimal? Total, string? Currency, bool? Refunded,
        string? Coupon, DateTime? RefundedAt, OrderLineFacts? Line);

    /// <summary>A whole order, ready to store.</summary>
    internal sealed record OrderDraft(
        string OrderId, List<CsvRow> Rows, string? Email, string? ExternalId, DateTime PlacedAt, decimal Total, string Currency,
        string? Coupon, bool Refunded, DateTime? RefundedAt, List<OrderLineFacts> Lines);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}", RegexOptions.CultureInvariant)]
    private static partial Regex IsoStart();

    /// <summary>An ISO 8601 date or date and time; without an offset it is UTC.</summary>
    internal static bool TryTime(string text, out DateTime utc)
    {
        utc = default;
        if (!IsoStart().IsMatch(text)
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var at))
        {
            return false;
        }
        utc = at.UtcDateTime;
        return true;
    }

    private static bool TryMoney(string text, out decimal value) =>
        decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);

    /// <summary>Reads one row; pure. The order id comes back even when the row has errors, so its order fails as a whole.</summary>
    internal static (OrderRow? Row, List<ImportIssue> Errors, string? OrderId) ParseRow(IReadOnlyList<ImportColumn> columns, int headerLength, CsvRow row, DateTime now)
    {
        var errors = new List<ImportIssue>();
        string? Cell(string field) => columns.FirstOrDefault(c => c.Field == field) is { } c ? row.Cell(c.Index) : null;
        void Error(string field, string message) => errors.Add(new ImportIssue(row.Row, row.Line, ColumnOf(columns, field), message));

        var orderId = Cell("orderId");
        if (row.BadData is { } bad)
        {
            errors.Add(new ImportIssue(row.Row, row.Line, null,
                $"{bad}: a cell holding the separator, a quote or a line break must be in quotes, with inner quotes doubled (\"\")"));
            return (null, errors, orderId);
        }
        if (row.Cells.Length > headerLength && row.Cells.Skip(headerLength).Any(c => c.Trim().Length > 0))
        {
            errors.Add(new ImportIssue(row.Row, row.Line, null,
                $"{row.Cells.Length} cells but the header names {headerLength} columns; quote cells that contain the separator"));
            return (null, errors, orderId);
        }
        if (orderId is null)
        {
            Error("orderId", "empty: every row needs the id of its order");
            return (null, errors, null);
        }
        if (orderId.Length > MaxOrderIdLength)
        {
            Error("orderId", $"at most {MaxOrderIdLength} characters");
        }

        var email = Cell("email");
        if (email is not null && !EventRules.IsValidEmail(email))
        {
            Error("email", $"\"{email}\" is not a valid e-mail address");
        }
        var externalId = Cell("externalId");
        if (externalId is { Length: > 200 })
        {
            Error("externalId", "at most 200 characters");
        }
        DateTime? placedAt = null;
        if (Cell("placedAt") is { } placedText)
        {
            if (!TryTime(placedText, out var at))
            {
                Error("placedAt", $"\"{placedText}\" is not an ISO date or time such as 2026-05-01 or 2026-05-01T10:00:00Z");
            }
            else if (at > now + EventRules.MaxFutureSkew)
            {
                Error("placedAt", $"{placedText} is in the future");
            }
            else
            {
                placedAt = at;
            }
        }
        DateTime? refundedAt = null;
        if (Cell("refundedAt") is { } refundedText)
        {
            if (!TryTime(refundedText, out var at))
            {
                Error("refundedAt", $"\"{refundedText}\" is not an ISO date or time such as 2026-05-01");
            }
            else
            {
                refundedAt = at;
            }
        }
        decimal? total = null;
        if (Cell("total") is { } totalText)
        {
            if (!TryMoney(totalText, out var t) || t < 0)
            {
                Error("total", $"\"{totalText}\" is not an amount such as 49.90");
            }
            else
            {
                total = t;
            }
        }
        var currency = Cell("currency")?.ToUpperInvariant();
        if (currency is not null && (currency.Length != 3 || !currency.All(char.IsAsciiLetter)))
        {
            Error("currency", $"\"{currency}\" is not a three-letter currency code such as USD");
        }
        bool? refunded = null;
        if (Cell("status") is { } status)
        {
            refunded = status.ToLowerInvariant() switch
            {
                "placed" or "paid" or "completed" or "complete" or "fulfilled" or "shipped" => false,
                "refunded" => true,
                _ => null,
            };
            if (refunded is null)
            {
                Error("status", $"\"{status}\" is not a status: use placed or refunded");
            }
        }

        OrderLineFacts? line = null;
        var sku = Cell("sku");
        var quantityText = Cell("quantity");
        var priceText = Cell("price");
        var name = Cell("name");
        var category = Cell("category");
        var url = Cell("url");
        var imageUrl = Cell("imageUrl");
        if (sku is not null || quantityText is not null || priceText is not null || name is not null || category is not null)
        {
            foreach (var (field, value) in new[] { ("url", url), ("imageUrl", imageUrl) })
            {
                if (value is not null && (value.Length > Product.MaxUrlLength || !Clientele.Templates.Brand.IsWebUrl(value)))
                {
                    Error(field, $"\"{value}\" is not a web address such as https://shop.example/beans");
                }
            }
            var quantity = 1;
            if (quantityText is not null && (!int.TryParse(quantityText, NumberStyles.None, CultureInfo.InvariantCulture, out quantity) || quantity < 1))
            {
                Error("quantity", $"\"{quantityText}\" is not a whole number of at least 1");
            }
            var price = 0m;
            if (priceText is not null && (!TryMoney(priceText, out price) || price < 0))
            {
                Error("price", $"\"{priceText}\" is not an amount such as 12.50");
            }
            if (sku is null)
            {
                Error("sku", "empty: a line needs the product's sku");
            }
            line = new OrderLineFacts(sku ?? "", category, name, quantity, price, url, imageUrl);
        }
        return errors.Count > 0
            ? (null, errors, orderId)
            : (new OrderRow(orderId, email, externalId, placedAt, total, currency, refunded, Coupon: Cell("coupon"), refundedAt, line), errors, orderId);
    }

    /// <summary>Puts an order's rows together; the first row that gives an order-level value wins.</summary>
    internal static (OrderDraft? Draft, List<ImportIssue> Errors) Combine(
        string orderId, List<(CsvRow Row, OrderRow? Parsed, List<ImportIssue> Errors)> rows, IReadOnlyList<ImportColumn> columns)
    {
        var errors = rows.SelectMany(r => r.Errors).ToList();
        var first = rows[0].Row;
        if (errors.Count > 0)
        {
            if (rows.Count > 1)
            {
                foreach (var (row, _, _) in rows.Where(r => r.Errors.Count == 0))
                {
                    errors.Add(new ImportIssue(row.Row, row.Line, null, $"not imported: order {orderId} has an error on another row"));
                }
                errors.Sort((a, b) => a.Row.CompareTo(b.Row));
            }
            return (null, errors);
        }
        var parsed = rows.Select(r => r.Parsed!).ToList();
        var email = parsed.Select(p => p.Email).FirstOrDefault(x => x is not null);
        var externalId = parsed.Select(p => p.ExternalId).FirstOrDefault(x => x is not null);
        var placedAt = parsed.Select(p => p.PlacedAt).FirstOrDefault(x => x is not null);
        if (email is null && externalId is null)
        {
            errors.Add(new ImportIssue(first.Row, first.Line, ColumnOf(columns, "email") ?? ColumnOf(columns, "externalId"),
                "empty: say who ordered, by e-mail or external id"));
        }
        if (placedAt is null)
        {
            errors.Add(new ImportIssue(first.Row, first.Line, ColumnOf(columns, "placedAt"), "empty: when was the order placed?"));
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        var lines = parsed.Where(p => p.Line is not null).Select(p => p.Line!).ToList();
        var total = parsed.Select(p => p.Total).FirstOrDefault(x => x is not null) ?? lines.Sum(l => l.Price * l.Quantity);
        return (new OrderDraft(
            orderId,
            rows.Select(r => r.Row).ToList(),
            email,
            externalId,
            placedAt!.Value,
            total,
            parsed.Select(p => p.Currency).FirstOrDefault(x => x is not null) ?? "USD",
            parsed.Select(p => p.Coupon).FirstOrDefault(x => x is not null),
            parsed.Any(p => p.Refunded == true),
            parsed.Select(p => p.RefundedAt).FirstOrDefault(x => x is not null),
            lines), errors);
    }

    private sealed class Totals
    {
        public int OrdersImported;
        public int OrdersSkipped;
        public int Refunds;
        public int ContactsCreated;
    }

    private enum OrderResult
    {
        Imported,
        Updated,
        Skipped,
    }

    private static async Task FlushAsync(ClienteleDb db, List<OrderDraft> batch, ImportReport report, Totals totals, List<ImportColumn> columns,
        DateTime now, CancellationToken ct)
    {
        if (batch.Count == 0)
        {
            return;
        }
        try
        {
            Tally(report, totals, batch, await StoreAsync(db, batch, now, ct));
        }
        catch (DbUpdateException)
        {
            // A concurrent writer took an order id or a contact's e-mail: retry order by order so one costs only itself.
            db.ChangeTracker.Clear();
            foreach (var draft in batch)
            {
                try
                {
                    Tally(report, totals, [draft], await StoreAsync(db, [draft], now, ct));
                }
                catch (DbUpdateException ex)
                {
                    var first = draft.Rows[0];
                    report.Failed += draft.Rows.Count;
                    report.Errors.Add(new ImportIssue(first.Row, first.Line, ColumnOf(columns, "orderId"),
                        $"order {draft.OrderId} could not be stored: {(ex.InnerException ?? ex).Message}"));
                }
                db.ChangeTracker.Clear();
            }
        }
        db.ChangeTracker.Clear();
        batch.Clear();
    }

    private static void Tally(ImportReport report, Totals totals, List<OrderDraft> drafts, (List<OrderResult> Results, int Refunds, int ContactsCreated) stored)
    {
        for (var i = 0; i < drafts.Count; i++)
        {
            var rows = drafts[i].Rows.Count;
            switch (stored.Results[i])
            {
                case OrderResult.Imported:
                    report.Imported += rows;
                    totals.OrdersImported++;
                    break;
                case OrderResult.Updated:
                    report.Updated += rows;
                    totals.OrdersSkipped++;
                    break;
                default:
                    report.Skipped += rows;
                    totals.OrdersSkipped++;
                    break;
            }
        }
        totals.Refunds += stored.Refunds;
        totals.ContactsCreated += stored.ContactsCreated;
    }

    private static async Task<(List<OrderResult> Results, int Refunds, int ContactsCreated)> StoreAsync(ClienteleDb db, List<OrderDraft> batch, DateTime now, CancellationToken ct)
    {
        var ids = batch.Select(d => d.OrderId).ToList();
        var orders = await db.Orders.Where(o => ids.Contains(o.ExternalId)).ToDictionaryAsync(o => o.ExternalId, ct);
        // An order.placed event not yet projected into an order row is an imported order too.
        var placedKeys = ids.Select(PlacedKey).ToList();
        var placed = await db.Events.AsNoTracking().Where(e => e.IdempotencyKey != null && placedKeys.Contains(e.IdempotencyKey))
            .Select(e => new { e.IdempotencyKey, e.ContactId }).ToDictionaryAsync(e => e.IdempotencyKey!, e => e.ContactId, ct);
        var refundKeys = batch.Where(d => d.Refunded).Select(d => RefundKey(d.OrderId)).ToList();
        var refunded = refundKeys.Count == 0 ? [] : (await db.Events.AsNoTracking().Where(e => e.IdempotencyKey != null && refundKeys.Contains(e.IdempotencyKey))
            .Select(e => e.IdempotencyKey!).ToListAsync(ct)).ToHashSet();

        var fresh = batch.Where(d => !orders.ContainsKey(d.OrderId) && !placed.ContainsKey(PlacedKey(d.OrderId))).ToList();
        var (contacts, created) = await ResolveContactsAsync(db, fresh, now, ct);

        var results = new List<OrderResult>(batch.Count);
        var refunds = 0;
        foreach (var draft in batch)
        {
            orders.TryGetValue(draft.OrderId, out var order);
            var known = order is not null || placed.ContainsKey(PlacedKey(draft.OrderId));
            if (known)
            {
                var refundDue = draft.Refunded && order?.Status != OrderStatus.Refunded && !refunded.Contains(RefundKey(draft.OrderId));
                if (!refundDue)
                {
                    results.Add(OrderResult.Skipped);
                    continue;
                }
                var contactId = order?.ContactId ?? placed[PlacedKey(draft.OrderId)];
                Refund(db, order, contactId, draft, now);
                refunds++;
                results.Add(OrderResult.Updated);
                continue;
            }

            var contact = contacts[draft];
            var e = new Event
            {
                ContactId = contact.Id,
                Type = "order.placed",
                OccurredAt = draft.PlacedAt,
                ReceivedAt = now,
                Properties = JsonSerializer.Serialize(new
                {
                    orderId = draft.OrderId,
                    total = draft.Total,
                    currency = draft.Currency,
                    coupon = draft.Coupon,
                    items = draft.Lines.Select(l => new ItemProperties(l.Sku, l.Category, l.Name, l.Quantity, l.Price, l.Url, l.ImageUrl)),
                }, EventJson.Options),
                IdempotencyKey = PlacedKey(draft.OrderId),
                Source = Origin,
            };
            db.Events.Add(e);
            // The commerce consumer will apply the event again when it runs; applying it now makes the
            // orders visible at once, and the consumer's upsert leaves them as they are.
            await CommerceProjection.ApplyOrderPlacedAsync(db, e, now, ct);
            if (db.Entry(contact).State == EntityState.Added && (contact.LastActivityAt is null || contact.LastActivityAt < draft.PlacedAt))
            {
                contact.LastActivityAt = draft.PlacedAt; // existing contacts are kept current by ActivityProjection
            }
            if (draft.Refunded)
            {
                Refund(db, db.Orders.Local.First(o => o.ExternalId == draft.OrderId), contact.Id, draft, now);
                refunds++;
            }
            results.Add(OrderResult.Imported);
        }
        db.ChangeTracker.DetectChanges();
        await db.SaveChangesAsync(ct);
        return (results, refunds, created);
    }

    private static string PlacedKey(string orderId) => "order:" + orderId;

    private static string RefundKey(string orderId) => CommerceProjection.RefundKey(orderId);

    // Without a refund date the refund is dated with the order: an import of history should not make
    // a long-gone customer look active today.
    private static void Refund(ClienteleDb db, Order? order, Guid contactId, OrderDraft draft, DateTime now) =>
        CommerceProjection.Refund(db, order, contactId, draft.OrderId, draft.RefundedAt ?? draft.PlacedAt, now, Origin);

    /// <summary>Finds each order's customer by external id, then e-mail, with two queries per batch; creates the unknown ones.</summary>
    private static async Task<(Dictionary<OrderDraft, Contact> Contacts, int Created)> ResolveContactsAsync(ClienteleDb db, List<OrderDraft> drafts, DateTime now, CancellationToken ct)
    {
        var emails = drafts.Select(d => Contact.Normalize(d.Email)).OfType<string>().Distinct().ToList();
        var externals = drafts.Select(d => d.ExternalId).OfType<string>().Distinct().ToList();
        var found = emails.Count + externals.Count == 0
            ? []
            : await db.Contacts.Where(Contact.NamedBy(emails, externals)).ToListAsync(ct);
        var byEmail = found.Where(c => c.EmailNormalized is not null).ToDictionary(c => c.EmailNormalized!);
        var byExternal = found.Where(c => c.ExternalId is not null).ToDictionary(c => c.ExternalId!);
        var result = new Dictionary<OrderDraft, Contact>(ReferenceEqualityComparer.Instance);
        var created = 0;
        foreach (var draft in drafts)
        {
            var email = Contact.Normalize(draft.Email);
            Contact? contact = null;
            if (draft.ExternalId is not null)
            {
                byExternal.TryGetValue(draft.ExternalId, out contact);
            }
            if (contact is null && email is not null)
            {
                byEmail.TryGetValue(email, out contact);
            }
            if (contact is null)
            {
                contact = new Contact
                {
                    Id = Guid.CreateVersion7(),
                    Email = draft.Email,
                    EmailNormalized = email,
                    ExternalId = draft.ExternalId,
                    Source = Origin,
                    CreatedAt = draft.PlacedAt < now ? draft.PlacedAt : now,
                    UpdatedAt = now,
                };
                db.Contacts.Add(contact);
                created++;
            }
            else
            {
                var added = db.Entry(contact).State == EntityState.Added;
                if (added && draft.PlacedAt < contact.CreatedAt)
                {
                    contact.CreatedAt = draft.PlacedAt; // a customer is known since their first order in the file
                }
                // Learn a missing identifier, unless another contact already holds it.
                if (contact.EmailNormalized is null && email is not null && !byEmail.ContainsKey(email))
                {
                    contact.Email = draft.Email;
                    contact.EmailNormalized = email;
                    contact.UpdatedAt = now;
                }
                if (contact.ExternalId is null && draft.ExternalId is not null && !byExternal.ContainsKey(draft.ExternalId))
                {
                    contact.ExternalId = draft.ExternalId;
                    contact.UpdatedAt = now;
                }
                if (contact.DeletedAt is not null)
                {
                    contact.DeletedAt = null; // an order from an archived contact brings them back
                    contact.UpdatedAt = now;
                }
            }
            if (contact.EmailNormalized is not null)
            {
                byEmail[contact.EmailNormalized] = contact;
            }
            if (contact.ExternalId is not null)
            {
                byExternal[contact.ExternalId] = contact;
            }
            result[draft] = contact;
        }
        return (result, created);
    }
}
