using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Lifecycle;
using Clientele.Tests.Infrastructure;
using Clientele.Value;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Clientele.Tests.Value;

public sealed class ScoringTests
{
    /// <summary>
    /// A small shop's two years of orders: loyal customers who buy about monthly up to now, customers who bought a few
    /// times and stopped a year ago, and one-time buyers. The first loyal and the first lapsed customer are returned.
    /// </summary>
    internal static async Task<(Guid Loyal, Guid Lapsed, Guid OneTime)> SeedAsync(TestApp app, int loyal = 30, int lapsed = 30, int oneTime = 40)
    {
        var random = new Random(7);
        var now = app.Time.GetUtcNow().UtcDateTime;
        await using var db = app.NewDb();
        var ids = new List<Guid>();
        void Customer(string kind, int i, IEnumerable<DateTime> days)
        {
            var contact = new Contact
            {
                Id = Guid.CreateVersion7(),
                Email = $"{kind}{i}@shop.example",
                EmailNormalized = $"{kind}{i}@shop.example",
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Contacts.Add(contact);
            ids.Add(contact.Id);
            var n = 0;
            foreach (var day in days)
            {
                db.Orders.Add(new Order
                {
                    Id = Guid.CreateVersion7(),
                    ContactId = contact.Id,
                    ExternalId = $"{kind}-{i}-{n++}",
                    Total = 20 + random.Next(0, 4000) / 100m,
                    Currency = "EUR",
                    PlacedAt = day,
                    Status = OrderStatus.Placed,
                    CreatedAt = now,
                    UpdatedAt = now,
                });
            }
        }
        for (var i = 0; i < loyal; i++)
        {
            var start = now.AddDays(-700 + random.Next(0, 200));
            var days = new List<DateTime>();
            // Each customer has their own pace, from about every two weeks to every two months, with irregular gaps.
            var pace = 14 + random.Next(0, 50);
            for (var d = start; d < now.AddDays(-3); d = d.AddDays(Math.Max(1, (int)(-pace * Math.Log(1 - random.NextDouble())))))
            {
                days.Add(d);
            }
            // The first loyal customer bought two days ago.
            if (i == 0)
            {
                days.Add(now.AddDays(-2));
            }
            Customer("loyal", i, days);
        }
        for (var i = 0; i < lapsed; i++)
        {
            var start = now.AddDays(-720 + random.Next(0, 60));
            Customer("lapsed", i, Enumerable.Range(0, 2 + random.Next(0, 5)).Select(k => start.AddDays(k * (10 + random.Next(0, 40)))));
        }
        for (var i = 0; i < oneTime; i++)
        {
            Customer("once", i, [now.AddDays(-random.Next(5, 700))]);
        }
        await db.SaveChangesAsync();
        return (ids[0], ids[loyal], ids[loyal + lapsed]);
    }

    internal static async Task<JsonElement> RunAsync(HttpClient client)
    {
        var response = await client.PostAsync("/api/v1/scoring/runs", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var run = await response.ReadJsonAsync();
        var location = response.Headers.Location!.ToString();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(90))
        {
            run = await (await client.GetAsync(location)).ReadJsonAsync();
            if (run.GetProperty("status").GetString() is "succeeded" or "failed")
            {
                return run;
            }
            await Task.Delay(100);
        }
        Assert.Fail($"The scoring run did not finish: {run}");
        return run;
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_run_stores_value_and_health_on_every_customer_and_keeps_its_diagnostics(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (loyal, lapsed, _) = await SeedAsync(app);
        var client = await app.ApiClientAsync("admin");

        var run = await RunAsync(client);

        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal(100, run.GetProperty("contacts").GetInt32());
        var diagnostics = run.GetProperty("diagnostics");
        Assert.Equal("mbgnbd", diagnostics.GetProperty("model").GetString());
        Assert.True(diagnostics.GetProperty("converged").GetBoolean(), diagnostics.ToString());
        Assert.Equal(60, diagnostics.GetProperty("repeatBuyers").GetInt32());
        Assert.Equal("EUR", diagnostics.GetProperty("currency").GetString());
        Assert.True(diagnostics.GetProperty("holdout").GetProperty("rows").GetArrayLength() > 1);
        await using var data = app.NewDb();
        var contacts = await data.Contacts.AsNoTracking().ToDictionaryAsync(c => c.Id);
        Assert.All(contacts.Values, c => Assert.InRange(c.Value!.ProbabilityAlive, 0, 1));
        Assert.All(contacts.Values, c => Assert.Matches("^[1-5]{3}$", c.Value!.RfmCell));
        var l = contacts[loyal];
        var gone = contacts[lapsed];
        Assert.Equal(Health.Active, l.Health);
        Assert.Equal(Health.Lapsed, gone.Health);
        Assert.True(l.Value!.ExpectedPurchases365 > 3 * l.Value.ExpectedPurchases90 * 0.9);
        Assert.True(l.Value.ExpectedPurchases90 > 1);
        Assert.True(gone.Value!.ExpectedPurchases365 < 0.5);
        Assert.True(l.Value.PredictedValue > 10 * gone.Value.PredictedValue);
        Assert.Equal("EUR", l.Value.Currency);
        Assert.Equal('5', l.Value.RfmCell[0]); // bought two days ago
        // The API shows the same on the contact.
        var dto = await (await client.GetAsync($"/api/v1/contacts/{loyal}")).ReadJsonAsync();
        Assert.Equal("active", dto.GetProperty("health").GetString());
        Assert.Equal((double)l.Value.PredictedValue, dto.GetProperty("value").GetProperty("predictedValue").GetDouble(), 2);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task Settings_are_validated_and_the_margin_scales_predicted_value(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (loyal, _, _) = await SeedAsync(app);
        var client = await app.ApiClientAsync("admin");
        await RunAsync(client);
        decimal Value()
        {
            using var data = app.NewDb();
            return data.Contacts.AsNoTracking().Single(c => c.Id == loyal).Value!.PredictedValue;
        }
        var before = Value();

        var bad = await client.PutAsJsonAsync("/api/v1/scoring/settings", new { margin = 1.5, lapsedBelow = 0.9 });
        var good = await client.PutAsJsonAsync("/api/v1/scoring/settings", new { margin = 0.6 });
        app.Time.Advance(TimeSpan.FromHours(1));
        var run = await RunAsync(client);

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.ReadJsonAsync();
        Assert.True(problem.GetProperty("errors").TryGetProperty("/margin", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("/lapsedBelow", out _));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.Equal(0.6, (await good.ReadJsonAsync()).GetProperty("margin").GetDouble());
        Assert.Equal(0.6, run.GetProperty("settings").GetProperty("margin").GetDouble());
        Assert.Equal((double)before * 2, (double)Value(), 0); // twice the margin, twice the value (to the cent's rounding)
        var read = await (await (await app.ApiClientAsync("read")).GetAsync("/api/v1/scoring/settings")).ReadJsonAsync();
        Assert.Equal(0.6, read.GetProperty("margin").GetDouble());
        Assert.Equal(HttpStatusCode.Forbidden, (await (await app.ApiClientAsync("write")).PutAsJsonAsync("/api/v1/scoring/settings", new { margin = 0.5 })).StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task Too_little_history_fails_the_run_with_a_reason_and_touches_no_contact(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await SeedAsync(app, loyal: 3, lapsed: 0, oneTime: 5);
        var client = await app.ApiClientAsync("write");

        var run = await RunAsync(client);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Contains("at least 20 customers", run.GetProperty("error").GetString());
        await using var data = app.NewDb();
        Assert.All(await data.Contacts.AsNoTracking().ToListAsync(), c => Assert.Null(c.Value));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task A_customer_whose_orders_were_all_refunded_loses_the_stale_score(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (loyal, _, _) = await SeedAsync(app);
        var client = await app.ApiClientAsync("write");
        await RunAsync(client);
        await using (var data = app.NewDb())
        {
            await data.Orders.Where(o => o.ContactId == loyal).ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, OrderStatus.Refunded));
        }
        app.Time.Advance(TimeSpan.FromDays(1));

        var run = await RunAsync(client);

        Assert.Equal(99, run.GetProperty("contacts").GetInt32());
        await using var after = app.NewDb();
        var contact = await after.Contacts.AsNoTracking().SingleAsync(c => c.Id == loyal);
        Assert.Null(contact.Value);
        Assert.Equal(Health.Unknown, contact.Health);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task A_server_that_has_never_scored_queues_the_nightly_run_at_start(string db)
    {
        await using var app = await TestApp.StartAsync(db, nightlyScoring: true);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        List<ScoringRun> runs = [];
        while (waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await using var data = app.NewDb();
            runs = await data.ScoringRuns.AsNoTracking().ToListAsync();
            if (runs.Any(r => r.Status is ScoringStatus.Succeeded or ScoringStatus.Failed))
            {
                break;
            }
            await Task.Delay(100);
        }

        var run = Assert.Single(runs);
        Assert.Equal("nightly", run.Trigger);
        Assert.Equal(ScoringStatus.Failed, run.Status); // no orders yet, and it says so
        Assert.Contains("there are 0 customers", run.Error);
    }

    /// <summary>
    /// A server stopped in the middle of a run (SIGTERM, a deploy) puts it back in the queue at once, so the next server
    /// (or another instance) runs it from the start instead of waiting for its lease to pass and calling it interrupted.
    /// The run is held just before it writes, so the stop always finds it running.
    /// </summary>
    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_run_stopped_half_way_goes_back_in_the_queue_and_the_next_start_runs_it(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await SeedAsync(app);
        var client = await app.ApiClientAsync("admin");
        var service = app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<ScoringService>().Single();

        Guid held = default;
        for (var attempt = 0; attempt < 5 && held == default; attempt++)
        {
            var requested = await (await client.PostAsync("/api/v1/scoring/runs", null)).ReadJsonAsync();
            var id = requested.GetProperty("id").GetGuid();
            var status = await StatusWhenStartedAsync(app, id);
            // Hold what the run writes next: the SQLite writer, or every contact's row on PostgreSQL.
            var gate = await app.Database.EnterWriteAsync(CancellationToken.None);
            await using var locker = app.NewDb();
            await using var tx = db == Db.Postgres ? await locker.Database.BeginTransactionAsync() : null;
            if (tx is not null)
            {
                await locker.Database.ExecuteSqlRawAsync("SELECT \"Id\" FROM contacts FOR UPDATE");
            }
            await using (var check = app.NewDb())
            {
                status = (await check.ScoringRuns.AsNoTracking().SingleAsync(r => r.Id == id)).Status;
            }
            if (status != ScoringStatus.Running)
            {
                // It finished before it could be held: try with the next run.
                gate.Dispose();
                continue;
            }
            held = id;
            var stopping = service.StopAsync(CancellationToken.None);
            gate.Dispose(); // the stop was asked first; the hand-back may write now
            await stopping.WaitAsync(TimeSpan.FromSeconds(30));
            if (tx is not null)
            {
                await tx.RollbackAsync();
            }
        }
        Assert.NotEqual(default, held);

        await using (var data = app.NewDb())
        {
            var run = await data.ScoringRuns.AsNoTracking().SingleAsync(r => r.Id == held);
            Assert.Equal(ScoringStatus.Queued, run.Status);
            Assert.Null(run.StartedAt);
            Assert.Null(run.Error);
        }

        await service.StartAsync(CancellationToken.None);
        await using (var data = app.NewDb())
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (await data.ScoringRuns.AsNoTracking().AnyAsync(r => r.Id == held && r.Status != ScoringStatus.Succeeded) && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(50);
            }
            var run = await data.ScoringRuns.AsNoTracking().SingleAsync(r => r.Id == held);
            Assert.Equal(ScoringStatus.Succeeded, run.Status);
            Assert.Equal(100, run.Contacts);
            Assert.DoesNotContain(await data.ScoringRuns.AsNoTracking().ToListAsync(), r => r.Status == ScoringStatus.Failed);
        }
    }

    private static async Task<ScoringStatus> StatusWhenStartedAsync(TestApp app, Guid id)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            await using var data = app.NewDb();
            var status = (await data.ScoringRuns.AsNoTracking().SingleAsync(r => r.Id == id)).Status;
            if (status != ScoringStatus.Queued || waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                return status;
            }
            await Task.Delay(5);
        }
    }
}
