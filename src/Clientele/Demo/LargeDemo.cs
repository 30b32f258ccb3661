using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Clientele.Lifecycle;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Clientele.Demo;

internal sealed record LargeDemoResult(bool Seeded, string Message, int Contacts, long Events, int Orders);

/// <summary>
/// <c>clientele demo --contacts N</c>: the demo business at scale (N contacts, 10·N events, 2·N orders), written a slice
/// at a time with the driver (prepared inserts in one transaction per slice on SQLite, binary COPY on PostgreSQL).
/// What the consumers derive (orders, trials, consents, stages and their facts, last activity) is written with the data,
/// then the consumers that had read the whole log before are moved past it and the dashboard's roll-up is built, so
/// <c>serve</c> shows the business at once instead of replaying ten million events.
/// </summary>
internal static class LargeDemo
{
    public const string MarkerKey = "demo.large.seededAt";

    /// <summary>The consumers whose work is done here; a test checks this against those the app registers.</summary>
    internal static readonly string[] CaughtUpConsumers =
        ["commerce", "consent", "activity", "qualification", "stages", "offers", "webhooks", "referrals", "feedback", "segments", "dashboard", "journeys"];

    /// <summary>Contacts per slice: about twenty slices for small runs, at most 10,000 contacts (100,000 events) at a time.</summary>
    internal static int SliceSize(int contacts) => Math.Clamp(contacts / 20, Math.Min(contacts, 100), 10_000);

    public static async Task<LargeDemoResult> SeedAsync(ClienteleDatabase database, int contacts, bool force, TimeProvider time, TextWriter output, CancellationToken ct)
    {
        if (contacts < 1)
        {
            return new(false, "--contacts must be at least 1.", 0, 0, 0);
        }
        var clock = Stopwatch.StartNew();
        var now = time.GetUtcNow().UtcDateTime;
        var n = (long x) => x.ToString("N0", CultureInfo.InvariantCulture);
        await using var db = database.CreateDbContext();
        db.Database.SetCommandTimeout(TimeSpan.FromHours(2));
        var existing = await db.Contacts.CountAsync(ct);
        if (existing > 0 && !force)
        {
            return new(false,
                $"This database already has {n(existing)} contacts, so no demo data was added. The large demo is meant for an empty database " +
                "(`clientele demo --contacts N --db <new file or database>`); add --force to add it beside what is there.", 0, 0, 0);
        }
        output.WriteLine($"Adding {DemoBusiness.Name} at scale to {database.Describe()}: {n(contacts)} contacts, " +
            $"{n((long)contacts * LargeDemoBusiness.EventsPerContact)} events, {n((long)contacts * LargeDemoBusiness.OrdersPerContact)} orders over the last two years.");
        // Beside existing contacts, e-mails, customer and order numbers get a prefix of their own so nothing collides.
        var tag = existing > 0 ? "r" + existing.ToString(CultureInfo.InvariantCulture) : null;
        var ladder = await StageProjection.LoadSettingsAsync(db, ct);
        var logEnd = await db.Events.MaxAsync(e => (long?)e.Id, ct) ?? 0;
        await PrepareAsync(database, db, now, ct);

        // Phase 1: contacts, events and orders, a slice at a time.
        await db.Database.OpenConnectionAsync(ct);
        if (database.Kind == DatabaseKind.Sqlite)
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA cache_size = -131072;", ct); // this connection's page cache: 128 MB for the indexes
        }
        var business = new LargeDemoBusiness(now, contacts, ladder, tag);
        var slice = SliceSize(contacts);
        var progress = new Progress(output, "contacts, events and orders", contacts, "contacts");
        long events = 0, lines = 0;
        var orders = 0;
        var stages = new Dictionary<Stage, int>();
        // The next slice is generated while this one is written: the work is split between a core and the database.
        var next = Task.Run(() => business.Next(0, Math.Min(slice, contacts)), ct);
        for (var first = 0; first < contacts; first += slice)
        {
            var chunk = await next;
            var following = first + slice;
            if (following < contacts)
            {
                next = Task.Run(() => business.Next(following, Math.Min(slice, contacts - following)), ct);
            }
            using (await database.EnterWriteAsync(ct))
            {
                await using var tx = await db.Database.BeginTransactionAsync(ct);
                if (database.Kind == DatabaseKind.Sqlite)
                {
                    await SqliteWriter.WriteAsync(db, chunk, ct);
                }
                else
                {
                    await PostgresWriter.WriteAsync(db, chunk, ct);
                }
                await tx.CommitAsync(ct);
            }
            events += chunk.Events.Count;
            orders += chunk.Orders.Count;
            lines += chunk.Orders.Sum(o => o.Lines.Count);
            foreach (var c in chunk.Contacts)
            {
                stages[c.Stage] = stages.GetValueOrDefault(c.Stage) + 1;
            }
            progress.Report(first + chunk.Contacts.Count, $"{n(events)} events, {n(orders)} orders");
        }

        // Phase 2: what the app derives in the background, brought up to date at once.
        var derived = Stopwatch.StartNew();
        await CatchUpConsumersAsync(db, logEnd, now, ct);
        output.WriteLine($"  consumers: moved past the {n(events)} new events ({derived.Elapsed.TotalSeconds:0.0} s)");
        derived.Restart();
        await db.Database.ExecuteSqlRawAsync(database.Kind == DatabaseKind.Sqlite ? "PRAGMA analysis_limit = 1000; ANALYZE;" : "ANALYZE;", ct);
        output.WriteLine($"  statistics: analyzed ({derived.Elapsed.TotalSeconds:0.0} s)");
        derived.Restart();
        using (var rollup = new Clientele.Dashboard.DashboardRollup(database, time, NullLogger<Clientele.Dashboard.DashboardRollup>.Instance))
        {
            var figures = await rollup.BuildAsync(ct);
            output.WriteLine($"  dashboard roll-up: {n(figures.Customers)} customers, {n(figures.Days.Count)} sales days ({derived.Elapsed.TotalSeconds:0.0} s)");
        }

        var spread = string.Join(", ", stages.OrderBy(s => s.Key).Select(s => $"{s.Key.Display()} {100.0 * s.Value / contacts:0.#} %"));
        var size = await SizeAsync(database, db, ct);
        var message = $"Added {DemoBusiness.Name} at scale: {n(contacts)} contacts, {n(events)} events, {n(orders)} orders ({n(lines)} lines) " +
            $"in {clock.Elapsed.TotalSeconds:0.0} s ({n((long)(events / Math.Max(clock.Elapsed.TotalSeconds, 0.001)))} events/s){size}.{Environment.NewLine}" +
            $"Stages: {spread}.";
        return new(true, message, contacts, events, orders);
    }

    /// <summary>The catalogue, the shop's coupon codes, and the markers that keep the small demo from being added on top.</summary>
    private static async Task PrepareAsync(ClienteleDatabase database, ClienteleDb db, DateTime now, CancellationToken ct)
    {
        using (await database.EnterWriteAsync(ct))
        {
            var start = now - DemoBusiness.History;
            var skus = await db.Products.Select(p => p.Sku).ToListAsync(ct);
            db.Products.AddRange(DemoBusiness.Catalog.Where(p => !skus.Contains(p.Sku)).Select(p => new Product
            {
                Id = Guid.CreateVersion7(new DateTimeOffset(start)),
                Sku = p.Sku,
                Name = p.Name,
                Category = p.Category,
                Price = p.Price,
                Currency = "USD",
                Url = $"{DemoBusiness.ShopUrl}/shop/{p.Sku.ToLowerInvariant()}",
                ImageUrl = $"{DemoBusiness.ShopUrl}/images/{p.Sku.ToLowerInvariant()}.jpg",
                CreatedAt = start,
                UpdatedAt = start,
            }));
            var codes = await db.Offers.Where(o => o.SharedCode != null).Select(o => o.SharedCode!).ToListAsync(ct);
            db.Offers.AddRange(DemoSeed.ShopOffers(start.AddDays(-1)).Where(o => !codes.Contains(o.SharedCode!)));
            foreach (var key in new[] { MarkerKey, DemoSeed.MarkerKey })
            {
                if (!await db.Settings.AnyAsync(s => s.Key == key, ct))
                {
                    db.Settings.Add(new Setting { Key = key, Value = now.ToString("O", CultureInfo.InvariantCulture), UpdatedAt = now });
                }
            }
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>Consumers that had read the whole log before the load are moved to its end: their work on the new events is done.</summary>
    private static async Task CatchUpConsumersAsync(ClienteleDb db, long logEnd, DateTime now, CancellationToken ct)
    {
        var end = await db.Events.MaxAsync(e => (long?)e.Id, ct) ?? 0;
        var known = await db.ConsumerCheckpoints.ToDictionaryAsync(c => c.Consumer, ct);
        foreach (var name in CaughtUpConsumers)
        {
            if (!known.TryGetValue(name, out var checkpoint))
            {
                db.ConsumerCheckpoints.Add(new ConsumerCheckpoint { Consumer = name, Position = end, UpdatedAt = now });
            }
            else if (checkpoint.Position >= logEnd)
            {
                checkpoint.Position = end;
                checkpoint.UpdatedAt = now;
            }
        }
        await db.SaveChangesAsync(ct);
    }

    private static async Task<string> SizeAsync(ClienteleDatabase database, ClienteleDb db, CancellationToken ct)
    {
        if (database.Kind == DatabaseKind.Postgres)
        {
            var bytes = await db.Database.SqlQueryRaw<long>("SELECT pg_database_size(current_database()) AS \"Value\"").SingleAsync(ct);
            return $"; database {bytes / 1024.0 / 1024 / 1024:0.00} GB";
        }
        var file = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
        return File.Exists(file) ? $"; file {new FileInfo(file).Length / 1024.0 / 1024 / 1024:0.00} GB" : "";
    }

    /// <summary>A line per phase every 5 % (and at least every ten seconds): how far, how fast, how long so far.</summary>
    private sealed class Progress(TextWriter output, string phase, long total, string unit)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _step = -1;
        private TimeSpan _printed;

        public void Report(long done, string detail)
        {
            var step = done * 20 / total;
            if (step == _step && _clock.Elapsed - _printed < TimeSpan.FromSeconds(10))
            {
                return;
            }
            (_step, _printed) = (step, _clock.Elapsed);
            var rate = done / Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {phase}: {done:N0} of {total:N0} {unit} ({100.0 * done / total:0} %), {detail}; {rate:N0} {unit}/s, {_clock.Elapsed:hh\\:mm\\:ss} elapsed"));
        }
    }

    /// <summary>Prepared inserts on one connection, in the slice's transaction; ids and times stored as the model's conversions do.</summary>
    private static class SqliteWriter
    {
        public static async Task WriteAsync(ClienteleDb db, LargeDemoChunk chunk, CancellationToken ct)
        {
            var connection = db.Database.GetDbConnection();
            var tx = db.Database.CurrentTransaction!.GetDbTransaction();
            await InsertAsync(connection, tx, "contacts", ContactColumns, chunk.Contacts, c =>
            [
                c.Id.ToByteArray(), c.Email, c.EmailNormalized, c.ExternalId, c.FirstName, c.LastName, c.Phone, c.Birthday, c.TimeZone, c.Locale,
                JsonSerializer.Serialize(c.Tags), c.Attributes, c.Source, c.UtmSource, c.UtmMedium, c.UtmCampaign, c.Referrer,
                (int)c.Stage, c.StageSince, c.Score, c.ScoreFit, c.ScoreAttributeFit, c.ScoreEngagement, c.Qualified, (int)c.Health,
                c.CreatedAt, c.UpdatedAt, c.LastActivityAt,
            ], ct);
            await InsertAsync(connection, tx, "contact_consents", ConsentColumns, chunk.Contacts.SelectMany(c => c.Consents).ToList(), x =>
                [x.ContactId.ToByteArray(), x.Topic, (int)x.Status, x.At, x.Source, x.Wording], ct);
            await InsertAsync(connection, tx, "contact_stage_facts", FactColumns, chunk.StageFacts, f =>
                [f.ContactId.ToByteArray(), f.Facts, chunk.Contacts[0].UpdatedAt], ct);
            await InsertAsync(connection, tx, "events", EventColumns, chunk.Events, e =>
                [e.ContactId.ToByteArray(), e.Type, e.OccurredAt, e.ReceivedAt, e.Properties, e.IdempotencyKey, e.Source], ct);
            await InsertAsync(connection, tx, "orders", OrderColumns, chunk.Orders, o =>
                [o.Id.ToByteArray(), o.ContactId.ToByteArray(), o.ExternalId, o.Total, o.Currency, o.PlacedAt, (int)o.Status, o.RefundedAt, o.Coupon, o.CreatedAt, o.UpdatedAt], ct);
            await InsertAsync(connection, tx, "order_lines", LineColumns, chunk.Orders.SelectMany(o => o.Lines).ToList(), l =>
                [l.OrderId.ToByteArray(), l.ContactId.ToByteArray(), l.Sku, l.Category, l.Quantity, l.Price], ct);
            await InsertAsync(connection, tx, "trials", TrialColumns, chunk.Trials, t =>
                [t.Id.ToByteArray(), t.ContactId.ToByteArray(), t.Product, t.StartedAt, t.EndsAt, t.EndedAt, (int?)t.Outcome], ct);
        }

        private static async Task InsertAsync<T>(DbConnection connection, DbTransaction tx, string table, string[] columns, IReadOnlyList<T> rows,
            Func<T, object?[]> values, CancellationToken ct)
        {
            if (rows.Count == 0)
            {
                return;
            }
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = $"INSERT INTO {table} ({string.Join(", ", columns.Select(c => "\"" + c + "\""))}) " +
                $"VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i.ToString(CultureInfo.InvariantCulture)))})";
            var parameters = columns.Select((_, i) =>
            {
                var p = cmd.CreateParameter();
                p.ParameterName = "$p" + i.ToString(CultureInfo.InvariantCulture);
                cmd.Parameters.Add(p);
                return p;
            }).ToArray();
            await cmd.PrepareAsync(ct);
            foreach (var row in rows)
            {
                var v = values(row);
                for (var i = 0; i < v.Length; i++)
                {
                    parameters[i].Value = v[i] ?? DBNull.Value;
                }
                await cmd.ExecuteNonQueryAsync(ct);
            }
        }
    }

    /// <summary>Binary COPY of each table, in the slice's transaction.</summary>
    private static class PostgresWriter
    {
        public static async Task WriteAsync(ClienteleDb db, LargeDemoChunk chunk, CancellationToken ct)
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            await CopyAsync(connection, "contacts", ContactColumns, chunk.Contacts, c =>
            [
                (c.Id, NpgsqlDbType.Uuid), (c.Email, NpgsqlDbType.Varchar), (c.EmailNormalized, NpgsqlDbType.Varchar), (c.ExternalId, NpgsqlDbType.Varchar),
                (c.FirstName, NpgsqlDbType.Varchar), (c.LastName, NpgsqlDbType.Varchar), (c.Phone, NpgsqlDbType.Varchar), (c.Birthday, NpgsqlDbType.Date),
                (c.TimeZone, NpgsqlDbType.Varchar), (c.Locale, NpgsqlDbType.Varchar), (c.Tags, NpgsqlDbType.Array | NpgsqlDbType.Text),
                (c.Attributes, NpgsqlDbType.Jsonb), (c.Source, NpgsqlDbType.Text), (c.UtmSource, NpgsqlDbType.Text), (c.UtmMedium, NpgsqlDbType.Text),
                (c.UtmCampaign, NpgsqlDbType.Text), (c.Referrer, NpgsqlDbType.Text), ((int)c.Stage, NpgsqlDbType.Integer), (c.StageSince, NpgsqlDbType.TimestampTz),
                (c.Score, NpgsqlDbType.Integer), (c.ScoreFit, NpgsqlDbType.Double), (c.ScoreAttributeFit, NpgsqlDbType.Integer),
                (c.ScoreEngagement, NpgsqlDbType.Double), (c.Qualified, NpgsqlDbType.Boolean), ((int)c.Health, NpgsqlDbType.Integer),
                (c.CreatedAt, NpgsqlDbType.TimestampTz), (c.UpdatedAt, NpgsqlDbType.TimestampTz), (c.LastActivityAt, NpgsqlDbType.TimestampTz),
            ], ct);
            await CopyAsync(connection, "contact_consents", ConsentColumns, chunk.Contacts.SelectMany(c => c.Consents).ToList(), x =>
            [
                (x.ContactId, NpgsqlDbType.Uuid), (x.Topic, NpgsqlDbType.Varchar), ((int)x.Status, NpgsqlDbType.Integer), (x.At, NpgsqlDbType.TimestampTz),
                (x.Source, NpgsqlDbType.Varchar), (x.Wording, NpgsqlDbType.Text),
            ], ct);
            var now = chunk.Contacts[0].UpdatedAt;
            await CopyAsync(connection, "contact_stage_facts", FactColumns, chunk.StageFacts, f =>
                [(f.ContactId, NpgsqlDbType.Uuid), (f.Facts, NpgsqlDbType.Jsonb), (now, NpgsqlDbType.TimestampTz)], ct);
            await CopyAsync(connection, "events", EventColumns, chunk.Events, e =>
            [
                (e.ContactId, NpgsqlDbType.Uuid), (e.Type, NpgsqlDbType.Text), (e.OccurredAt, NpgsqlDbType.TimestampTz), (e.ReceivedAt, NpgsqlDbType.TimestampTz),
                (e.Properties, NpgsqlDbType.Jsonb), (e.IdempotencyKey, NpgsqlDbType.Varchar), (e.Source, NpgsqlDbType.Text),
            ], ct);
            await CopyAsync(connection, "orders", OrderColumns, chunk.Orders, o =>
            [
                (o.Id, NpgsqlDbType.Uuid), (o.ContactId, NpgsqlDbType.Uuid), (o.ExternalId, NpgsqlDbType.Text), (o.Total, NpgsqlDbType.Numeric),
                (o.Currency, NpgsqlDbType.Varchar), (o.PlacedAt, NpgsqlDbType.TimestampTz), ((int)o.Status, NpgsqlDbType.Integer),
                (o.RefundedAt, NpgsqlDbType.TimestampTz), (o.Coupon, NpgsqlDbType.Text), (o.CreatedAt, NpgsqlDbType.TimestampTz), (o.UpdatedAt, NpgsqlDbType.TimestampTz),
            ], ct);
            await CopyAsync(connection, "order_lines", LineColumns, chunk.Orders.SelectMany(o => o.Lines).ToList(), l =>
            [
                (l.OrderId, NpgsqlDbType.Uuid), (l.ContactId, NpgsqlDbType.Uuid), (l.Sku, NpgsqlDbType.Text), (l.Category, NpgsqlDbType.Text),
                (l.Quantity, NpgsqlDbType.Integer), (l.Price, NpgsqlDbType.Numeric),
            ], ct);
            await CopyAsync(connection, "trials", TrialColumns, chunk.Trials, t =>
            [
                (t.Id, NpgsqlDbType.Uuid), (t.ContactId, NpgsqlDbType.Uuid), (t.Product, NpgsqlDbType.Text), (t.StartedAt, NpgsqlDbType.TimestampTz),
                (t.EndsAt, NpgsqlDbType.TimestampTz), (t.EndedAt, NpgsqlDbType.TimestampTz), ((int?)t.Outcome, NpgsqlDbType.Integer),
            ], ct);
        }

        private static async Task CopyAsync<T>(NpgsqlConnection connection, string table, string[] columns, IReadOnlyList<T> rows,
            Func<T, (object? Value, NpgsqlDbType Type)[]> values, CancellationToken ct)
        {
            if (rows.Count == 0)
            {
                return;
            }
            await using var writer = await connection.BeginBinaryImportAsync(
                $"COPY {table} ({string.Join(", ", columns.Select(c => "\"" + c + "\""))}) FROM STDIN (FORMAT BINARY)", ct);
            foreach (var row in rows)
            {
                await writer.StartRowAsync(ct);
                foreach (var (value, type) in values(row))
                {
                    if (value is null)
                    {
                        await writer.WriteNullAsync(ct);
                    }
                    else
                    {
                        await writer.WriteAsync(value, type, ct);
                    }
                }
            }
            await writer.CompleteAsync(ct);
        }
    }

    private static readonly string[] ContactColumns =
    [
        "Id", "Email", "EmailNormalized", "ExternalId", "FirstName", "LastName", "Phone", "Birthday", "TimeZone", "Locale", "Tags", "Attributes", "Source",
        "UtmSource", "UtmMedium", "UtmCampaign", "Referrer", "Stage", "StageSince", "Score", "ScoreFit", "ScoreAttributeFit", "ScoreEngagement", "Qualified",
        "Health", "CreatedAt", "UpdatedAt", "LastActivityAt",
    ];

    private static readonly string[] ConsentColumns = ["ContactId", "Topic", "Status", "At", "Source", "Wording"];
    private static readonly string[] FactColumns = ["ContactId", "Facts", "UpdatedAt"];
    private static readonly string[] EventColumns = ["ContactId", "Type", "OccurredAt", "ReceivedAt", "Properties", "IdempotencyKey", "Source"];
    private static readonly string[] OrderColumns = ["Id", "ContactId", "ExternalId", "Total", "Currency", "PlacedAt", "Status", "RefundedAt", "Coupon", "CreatedAt", "UpdatedAt"];
    private static readonly string[] LineColumns = ["OrderId", "ContactId", "Sku", "Category", "Quantity", "Price"];
    private static readonly string[] TrialColumns = ["Id", "ContactId", "Product", "StartedAt", "EndsAt", "EndedAt", "Outcome"];
}
