using System.Data.Common;
using System.Diagnostics;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Journeys;
using Clientele.Outbox;
using Clientele.Templates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Clientele.Bench;

/// <summary>
/// Many journey runs due at once: each takes two steps (queue an e-mail from a saved template, then wait three days),
/// through the journey worker in this process, without SMTP. On SQLite one worker; on PostgreSQL two workers with
/// their own connection pools share the queue, as two app instances do. Baseline: plain inserts of as many rows into
/// a table of the same database, in the same process.
/// </summary>
internal static class JourneyWorkerRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = IngestRun.IntArg(args, "--runs", 1_000_000);
        var postgres = IngestRun.StringArg(args, "--postgres");
        var dir = Path.Combine(Path.GetTempPath(), "clientele-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
            Console.WriteLine($"{count:N0} journey runs due at once, two steps each (e-mail from a template, wait), no SMTP");
            await RunOneAsync("SQLite", $"Data Source={Path.Combine(dir, "app.db")}", count, workers: 1);
            if (postgres is not null)
            {
                await RunOneAsync("PostgreSQL", await IngestRun.CreatePgDatabaseAsync(postgres, "bench_journeys"), count, workers: 2);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return 0;
    }

    private static async Task RunOneAsync(string name, string connection, int count, int workers)
    {
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        using var database = ClienteleDatabase.Open(connection);
        await database.MigrateAsync(CancellationToken.None);
        var journeyId = Guid.CreateVersion7();
        await using (var db = database.CreateDbContext())
        {
            db.Templates.Add(new Template { Id = Guid.CreateVersion7(), Name = "Welcome", Subject = "Welcome, {{ contact.first_name }}", Body = BroadcastRun.Body, CreatedAt = now, UpdatedAt = now });
            var definition = new JourneyDefinition
            {
                Trigger = new JourneyTrigger { Event = "account.created" },
                Steps =
                [
                    new JourneyStep { Id = "welcome", Type = "email", Template = "Welcome", Topic = "newsletter" },
                    new JourneyStep { Id = "later", Type = "wait", Days = 3 },
                ],
            };
            db.Journeys.Add(new Journey { Id = journeyId, Name = "Welcome", Status = JourneyStatus.Active, Version = 1, Draft = definition.ToJson(), TriggerEvent = "account.created", CreatedAt = now, UpdatedAt = now });
            db.JourneyVersions.Add(new JourneyVersion { JourneyId = journeyId, Version = 1, Definition = definition.ToJson(), PublishedAt = now });
            await db.SaveChangesAsync();
        }
        var seeding = Stopwatch.StartNew();
        for (var start = 0; start < count; start += 10_000)
        {
            await using var db = database.CreateDbContext();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            for (var i = start; i < Math.Min(count, start + 10_000); i++)
            {
                var id = Guid.CreateVersion7();
                var email = $"reader{i}@bench.example";
                db.Contacts.Add(new Contact
                {
                    Id = id,
                    Email = email,
                    EmailNormalized = email,
                    FirstName = $"Reader{i}",
                    TimeZone = "Europe/Berlin",
                    CreatedAt = now,
                    UpdatedAt = now,
                    Consents = [new ContactConsent { ContactId = id, Topic = "newsletter", Status = ConsentStatus.Subscribed, At = now, Source = "bench" }],
                });
                db.JourneyRuns.Add(new JourneyRun
                {
                    Id = Guid.CreateVersion7(),
                    JourneyId = journeyId,
                    Version = 1,
                    ContactId = id,
                    EnrollKey = $"once:{id:N}",
                    Status = RunStatus.Active,
                    StepId = "welcome",
                    DueAt = now,
                    EnteredAt = now,
                });
            }
            await db.SaveChangesAsync();
        }
        Console.WriteLine($"{name}: seeded {count:N0} contacts and runs in {seeding.Elapsed.TotalSeconds:N0} s");

        var baseline = await BaselineAsync(database, count);
        var runners = Enumerable.Range(0, workers).Select(_ => (Database: ClienteleDatabase.Open(connection), Signal: new OutboxSignal())).ToList();
        var clock = Stopwatch.StartNew();
        var moved = await Task.WhenAll(runners.Select(async r =>
        {
            var links = new MailLinks(r.Database, new ConfigurationBuilder().Build(), new ServiceCollection().BuildServiceProvider());
            var runner = new JourneyRunner(r.Database, r.Signal, new Clientele.Webhooks.WebhookSignal(), links, TimeProvider.System, NullLogger<JourneyRunner>.Instance);
            var total = 0;
            int step;
            while ((step = await runner.StepAsync(CancellationToken.None)) > 0)
            {
                total += step;
            }
            return total;
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        foreach (var r in runners)
        {
            r.Database.Dispose();
        }
        await using (var check = database.CreateDbContext())
        {
            var queued = check.OutboxMessages.Count(m => m.JourneyId == journeyId);
            var waiting = check.JourneyRuns.Count(r => r.JourneyId == journeyId && r.StepId == null && r.Status == RunStatus.Active);
            var steps = 2.0 * moved.Sum();
            Console.WriteLine($"{name}: {moved.Sum():N0} runs ({string.Join(" + ", moved.Select(m => m.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))} by {workers} worker(s)) "
                + $"took {steps:N0} steps in {seconds:N1} s = {steps / seconds:N0} steps/s; {queued:N0} e-mails queued, {waiting:N0} runs now waiting");
            Console.WriteLine($"{name}: baseline, plain inserts of {count:N0} rows: {baseline:N0} rows/s; steps/s ÷ rows/s = {steps / seconds / baseline:N2}");
        }
    }

    /// <summary>Rows per second inserted into a scratch table of the same database, prepared statement, one transaction per 10,000.</summary>
    private static async Task<double> BaselineAsync(ClienteleDatabase database, int count)
    {
        await using var db = database.CreateDbContext();
        var connection = (DbConnection)Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.GetDbConnection(db.Database);
        await connection.OpenAsync();
        await using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE bench_rows (id bigint PRIMARY KEY, contact text NOT NULL, step text NOT NULL, due text NOT NULL)";
            await create.ExecuteNonQueryAsync();
        }
        var clock = Stopwatch.StartNew();
        for (var start = 0; start < count; start += 10_000)
        {
            await using var tx = await connection.BeginTransactionAsync();
            await using var insert = connection.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = "INSERT INTO bench_rows VALUES (@id, @contact, @step, @due)";
            var parameters = new[] { "@id", "@contact", "@step", "@due" }.Select(n =>
            {
                var p = insert.CreateParameter();
                p.ParameterName = n;
                insert.Parameters.Add(p);
                return p;
            }).ToArray();
            parameters[0].Value = 0L;
            parameters[1].Value = "";
            parameters[2].Value = "";
            parameters[3].Value = "";
            await insert.PrepareAsync();
            for (var i = start; i < Math.Min(count, start + 10_000); i++)
            {
                parameters[0].Value = (long)i;
                parameters[1].Value = Guid.CreateVersion7().ToString();
                parameters[2].Value = "later";
                parameters[3].Value = "2026-11-27 09:00:00";
                await insert.ExecuteNonQueryAsync();
            }
            await tx.CommitAsync();
        }
        return count / clock.Elapsed.TotalSeconds;
    }
}
