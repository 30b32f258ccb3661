using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Clientele.Accounts;
using Clientele.Data;
using Clientele.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Clientele.Tests.Data;

/// <summary>
/// A database left by the previous release (<see cref="DatabaseStartup.PreviousRelease"/>), filled with plain SQL as that
/// schema had it, then opened by the built executable the way an owner upgrades: replace the binary, start it.
/// </summary>
public sealed partial class UpgradeTests
{
    private const string Password = "owner-password-1";

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_database_from_the_previous_release_is_brought_up_to_date_on_start_and_keeps_its_data(string kind)
    {
        await using var old = await OldDatabase.CreateAsync(kind);
        var seeded = await old.SeedAsync();
        var port = SmtpPeer.FreePort();

        using var server = Run(old.ConnectionString, "serve", "--urls", $"http://127.0.0.1:{port}");
        try
        {
            var cookies = new CookieContainer();
            using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            };
            await ReadyAsync(http, server);

            // Every migration is applied: none is left pending.
            using (var database = ClienteleDatabase.Open(old.ConnectionString))
            {
                await using var db = database.CreateDbContext();
                Assert.Empty(await db.Database.GetPendingMigrationsAsync());
                Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
            }

            // The API key made by the previous release still opens the API.
            var api = new HttpRequestMessage(HttpMethod.Get, "/api/v1/contacts?email=ann@example.com");
            api.Headers.Authorization = new AuthenticationHeaderValue("Bearer", seeded.ApiKey);
            var list = await http.SendAsync(api);
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            var contact = Assert.Single((await list.ReadJsonAsync()).GetProperty("items").EnumerateArray());
            Assert.Equal(seeded.ContactId, contact.GetProperty("id").GetGuid());
            Assert.Equal("Ann", contact.GetProperty("firstName").GetString());
            Assert.Equal(["vip"], contact.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal("Lisbon", contact.GetProperty("attributes").GetProperty("city").GetString());
            var consent = contact.GetProperty("consent").GetProperty("newsletter");
            Assert.Equal("subscribed", consent.GetProperty("status").GetString());
            Assert.Equal("signup-form", consent.GetProperty("source").GetString());

            // Search finds contacts written before the upgrade.
            var found = await SendAsync(http, seeded.ApiKey, HttpMethod.Get, "/api/v1/contacts?q=lovelace");
            Assert.Equal(seeded.ContactId, Assert.Single((await found.ReadJsonAsync()).GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());

            // The timeline shows the old events, the order with its total.
            var timeline = await SendAsync(http, seeded.ApiKey, HttpMethod.Get, $"/api/v1/contacts/{seeded.ContactId}/timeline");
            Assert.Equal(HttpStatusCode.OK, timeline.StatusCode);
            var items = (await timeline.ReadJsonAsync()).GetProperty("items").EnumerateArray().ToList();
            Assert.Contains(items, i => i.GetProperty("type").GetString() == "page.viewed"
                && i.GetProperty("properties").GetProperty("url").GetString() == "https://shop.example/beans");
            var placed = Assert.Single(items, i => i.GetProperty("type").GetString() == "order.placed");
            Assert.Equal("1001", placed.GetProperty("order").GetProperty("externalId").GetString());
            Assert.Equal(49.5m, placed.GetProperty("order").GetProperty("total").GetDecimal());

            var order = await SendAsync(http, seeded.ApiKey, HttpMethod.Get, "/api/v1/orders/1001");
            Assert.Equal(HttpStatusCode.OK, order.StatusCode);
            var orderJson = (await order.ReadJsonAsync()).ToString();
            Assert.Contains("A1", orderJson, StringComparison.Ordinal);
            Assert.Contains("Coffee", orderJson, StringComparison.Ordinal);

            // The journey and its enrollment are still there, and the queued message.
            var journey = await SendAsync(http, seeded.ApiKey, HttpMethod.Get, $"/api/v1/journeys/{seeded.JourneyId}");
            Assert.Equal(HttpStatusCode.OK, journey.StatusCode);
            var journeyJson = await journey.ReadJsonAsync();
            Assert.Equal("Thank-you series", journeyJson.GetProperty("name").GetString());
            Assert.Equal("active", journeyJson.GetProperty("status").GetString());
            var journeys = await SendAsync(http, seeded.ApiKey, HttpMethod.Get, "/api/v1/journeys");
            var summary = Assert.Single((await journeys.ReadJsonAsync()).EnumerateArray());
            Assert.Equal(1, summary.GetProperty("counts").GetProperty("active").GetInt32());
            using (var database = ClienteleDatabase.Open(old.ConnectionString))
            {
                await using var db = database.CreateDbContext();
                var message = await db.OutboxMessages.AsNoTracking().SingleAsync(m => m.IdempotencyKey == "welcome:ann");
                Assert.Equal(seeded.ContactId, message.ContactId);
                Assert.Equal("Welcome, Ann", message.Subject);
            }

            // The owner signs in with the password set before the upgrade.
            var token = TokenInput().Match(await (await http.GetAsync("/login")).Content.ReadAsStringAsync());
            Assert.True(token.Success, "the login page has its form");
            var login = await http.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "login",
                ["__RequestVerificationToken"] = token.Groups[1].Value,
                ["Input.Email"] = "owner@shop.example",
                ["Input.Password"] = Password,
            }));
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
            Assert.Equal("/", new Uri(http.BaseAddress!, login.Headers.Location!).AbsolutePath);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/")).StatusCode);

            // New writes work: an event for the old contact lands on its timeline.
            var post = new HttpRequestMessage(HttpMethod.Post, "/api/v1/events")
            {
                Content = JsonContent("""
                    {"events": [{"type": "order.placed", "email": "ann@example.com", "occurredAt": "2026-06-02T09:00:00Z",
                      "properties": {"orderId": "1002", "total": 20.0, "currency": "EUR",
                                     "items": [{"sku": "B2", "category": "Tea", "quantity": 1, "price": 20.0}]},
                      "idempotencyKey": "order-1002"}]}
                    """),
            };
            post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", seeded.ApiKey);
            var stored = Assert.Single((await (await http.SendAsync(post)).ReadJsonAsync()).GetProperty("results").EnumerateArray());
            Assert.Equal("stored", stored.GetProperty("status").GetString());
            Assert.Equal(seeded.ContactId, stored.GetProperty("contactId").GetGuid());
            await Until(async () => (await SendAsync(http, seeded.ApiKey, HttpMethod.Get, "/api/v1/orders/1002")).StatusCode == HttpStatusCode.OK,
                "the new order was derived from its event");

            // Every event consumer, old and new, reads the whole log, and nothing in the old log trips one.
            List<JsonElement> consumers = [];
            await Until(async () =>
            {
                consumers = (await (await SendAsync(http, seeded.ApiKey, HttpMethod.Get, "/api/v1/system/consumers")).ReadJsonAsync()).EnumerateArray().ToList();
                return consumers.All(c => c.GetProperty("lag").GetInt64() == 0);
            }, "every consumer caught up with the log");
            Assert.NotEmpty(consumers);
            Assert.All(consumers, c => Assert.Equal(0, c.GetProperty("failures").GetInt32()));
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Migrate_names_each_migration_it_applies_to_a_previous_release_database_and_none_the_second_time(string kind)
    {
        await using var old = await OldDatabase.CreateAsync(kind);
        await old.SeedAsync();

        var (exit, output) = await RunToEndAsync(old.ConnectionString, "migrate");
        var (again, second) = await RunToEndAsync(old.ConnectionString, "migrate");

        Assert.Equal(0, exit);
        var newer = old.Migrations.SkipWhile(m => !IsPreviousRelease(m)).Skip(1).ToList();
        Assert.NotEmpty(newer);
        Assert.Contains($"Applied {newer.Count} migration(s):", output, StringComparison.Ordinal);
        var listed = output.Split('\n').Select(l => l.Trim()).Where(l => old.Migrations.Contains(l)).ToList();
        Assert.Equal(newer, listed);
        Assert.Equal(0, again);
        Assert.Contains("The schema was already up to date.", second, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_providers_have_the_same_migrations_in_the_same_order()
    {
        var sqlite = MigrationNames(typeof(SqliteClienteleDb));
        var postgres = MigrationNames(typeof(PostgresClienteleDb));

        Assert.Equal(sqlite, postgres);
        Assert.Contains(DatabaseStartup.PreviousRelease, sqlite);
        Assert.NotEqual(DatabaseStartup.PreviousRelease, sqlite[^1]); // there is something to upgrade
    }

    /// <summary>Migration names without their timestamps, in the order EF applies them (by id).</summary>
    private static List<string> MigrationNames(Type context) =>
        typeof(ClienteleDb).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<DbContextAttribute>()?.ContextType == context && t.GetCustomAttribute<MigrationAttribute>() is not null)
            .Select(t => t.GetCustomAttribute<MigrationAttribute>()!.Id)
            .Order(StringComparer.Ordinal)
            .Select(id => id[(id.IndexOf('_', StringComparison.Ordinal) + 1)..])
            .ToList();

    private static bool IsPreviousRelease(string migrationId) =>
        migrationId.EndsWith("_" + DatabaseStartup.PreviousRelease, StringComparison.Ordinal);

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string key, HttpMethod method, string url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http.SendAsync(request);
    }

    /// <summary>Starts the built executable with <paramref name="args"/> on <paramref name="connection"/>.</summary>
    private static Process Run(string connection, params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "clientele"), args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ConnectionStrings__Clientele"] = connection;
        start.Environment["Clientele__Scoring__Nightly"] = "false";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        if (args[0] == "serve")
        {
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }
        return process;
    }

    private static async Task<(int Exit, string Output)> RunToEndAsync(string connection, params string[] args)
    {
        using var process = Run(connection, [.. args, "--db", connection]);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }

    private static async Task ReadyAsync(HttpClient http, Process server) =>
        await Until(async () =>
        {
            Assert.False(server.HasExited, "the server stopped during start");
            try
            {
                return (await http.GetAsync("/healthz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the server answered");

    private static async Task Until(Func<Task<bool>> condition, string what, int seconds = 90)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(seconds), $"timed out waiting until {what}");
            await Task.Delay(200);
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenInput();

    private sealed record Seeded(Guid ContactId, Guid JourneyId, string ApiKey);

    /// <summary>An empty database migrated only up to the previous release, and plain SQL for that schema.</summary>
    private sealed class OldDatabase : IAsyncDisposable
    {
        private readonly string _kind;
        private readonly string? _dir;

        private OldDatabase(string kind, string connectionString, string? dir)
        {
            _kind = kind;
            ConnectionString = connectionString;
            _dir = dir;
        }

        public string ConnectionString { get; }
        public List<string> Migrations { get; private set; } = [];
        private bool Sqlite => _kind == Db.Sqlite;

        public static async Task<OldDatabase> CreateAsync(string kind)
        {
            string connection;
            string? dir = null;
            if (kind == Db.Postgres)
            {
                connection = await PostgresServer.CreateDatabaseAsync();
            }
            else
            {
                dir = Path.Combine(Path.GetTempPath(), "clientele-upgrade-" + Guid.NewGuid().ToString("N")[..12]);
                Directory.CreateDirectory(dir);
                connection = $"Data Source={Path.Combine(dir, "clientele.db")}";
            }
            var old = new OldDatabase(kind, connection, dir);
            using var database = ClienteleDatabase.Open(connection);
            await using var db = database.CreateDbContext();
            old.Migrations = db.Database.GetMigrations().ToList();
            var target = Assert.Single(old.Migrations, IsPreviousRelease);
            if (old.Sqlite)
            {
                await db.Database.OpenConnectionAsync();
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
            }
            await db.GetService<IMigrator>().MigrateAsync(target);
            // The previous release set up contact search on start as well.
            await Clientele.Contacts.ContactSearch.EnsureIndexAsync(db, CancellationToken.None);
            Assert.Equal(target, (await db.Database.GetAppliedMigrationsAsync()).Last());
            return old;
        }

        /// <summary>A small shop as the previous release stored it: a subscribed customer with events and an order, a journey she is in, a queued e-mail, the owner and an API key.</summary>
        public async Task<Seeded> SeedAsync()
        {
            using var database = ClienteleDatabase.Open(ConnectionString);
            await using var db = database.CreateDbContext();
            var conn = db.Database.GetDbConnection();
            await conn.OpenAsync();

            var at = new DateTime(2026, 5, 1, 10, 0, 0, DateTimeKind.Utc);
            var contact = Guid.CreateVersion7();
            await InsertAsync(conn, "contacts", new()
            {
                ["Id"] = contact,
                ["Email"] = "Ann@Example.com",
                ["EmailNormalized"] = "ann@example.com",
                ["FirstName"] = "Ann",
                ["LastName"] = "Lovelace",
                ["TimeZone"] = "Europe/Lisbon",
                ["Tags"] = new Tags("vip"),
                ["Attributes"] = new Json("""{"city": "Lisbon"}"""),
                ["Source"] = "form",
                ["Stage"] = 6,
                ["Score"] = 40,
                ["Health"] = 1,
                ["CreatedAt"] = at,
                ["UpdatedAt"] = at.AddDays(1),
                ["LastActivityAt"] = at.AddDays(1),
                ["StageSince"] = at.AddDays(1),
                ["Qualified"] = true,
                ["ScoreAttributeFit"] = 10,
                ["ScoreEngagement"] = 3.5,
                ["ScoreFit"] = 10.0,
            });
            await InsertAsync(conn, "contact_consents", new()
            {
                ["ContactId"] = contact,
                ["Topic"] = "newsletter",
                ["Status"] = 1,
                ["At"] = at,
                ["Source"] = "signup-form",
                ["Wording"] = "Send me the newsletter",
            });
            await InsertAsync(conn, "events", new()
            {
                ["ContactId"] = contact,
                ["Type"] = "consent.given",
                ["OccurredAt"] = at,
                ["ReceivedAt"] = at,
                ["Properties"] = new Json("""{"topic": "newsletter", "source": "signup-form"}"""),
                ["Source"] = "form",
            });
            await InsertAsync(conn, "events", new()
            {
                ["ContactId"] = contact,
                ["Type"] = "page.viewed",
                ["OccurredAt"] = at.AddHours(1),
                ["ReceivedAt"] = at.AddHours(1),
                ["Properties"] = new Json("""{"url": "https://shop.example/beans"}"""),
                ["Source"] = "api",
            });
            await InsertAsync(conn, "events", new()
            {
                ["ContactId"] = contact,
                ["Type"] = "order.placed",
                ["OccurredAt"] = at.AddDays(1),
                ["ReceivedAt"] = at.AddDays(1),
                ["Properties"] = new Json("""{"orderId": "1001", "total": 49.5, "currency": "EUR", "items": [{"sku": "A1", "category": "Coffee", "quantity": 2, "price": 24.75}]}"""),
                ["IdempotencyKey"] = "order-1001",
                ["Source"] = "api",
            });
            var order = Guid.CreateVersion7();
            await InsertAsync(conn, "orders", new()
            {
                ["Id"] = order,
                ["ContactId"] = contact,
                ["ExternalId"] = "1001",
                ["Total"] = 49.5m,
                ["Currency"] = "EUR",
                ["PlacedAt"] = at.AddDays(1),
                ["Status"] = 0,
                ["CreatedAt"] = at.AddDays(1),
                ["UpdatedAt"] = at.AddDays(1),
            });
            await InsertAsync(conn, "order_lines", new()
            {
                ["OrderId"] = order,
                ["ContactId"] = contact,
                ["Sku"] = "A1",
                ["Category"] = "Coffee",
                ["Quantity"] = 2,
                ["Price"] = 24.75m,
            });

            var journey = Guid.CreateVersion7();
            const string definition = """
                {"trigger": {"event": "review.requested"},
                 "steps": [{"id": "pause", "type": "wait", "days": 30}, {"id": "done", "type": "exit"}]}
                """;
            await InsertAsync(conn, "journeys", new()
            {
                ["Id"] = journey,
                ["Name"] = "Thank-you series",
                ["Status"] = 1,
                ["Draft"] = new Json(definition),
                ["Version"] = 1,
                ["TriggerEvent"] = "review.requested",
                ["CreatedAt"] = at,
                ["UpdatedAt"] = at,
            });
            await InsertAsync(conn, "journey_versions", new()
            {
                ["JourneyId"] = journey,
                ["Version"] = 1,
                ["Definition"] = new Json(definition),
                ["PublishedAt"] = at,
            });
            // Waiting well past any clock the test runs on, so the run stays where the previous release left it.
            await InsertAsync(conn, "journey_runs", new()
            {
                ["Id"] = Guid.CreateVersion7(),
                ["JourneyId"] = journey,
                ["Version"] = 1,
                ["ContactId"] = contact,
                ["EnrollKey"] = $"{journey}:{contact}:1",
                ["Status"] = 0,
                ["Holdout"] = false,
                ["StepId"] = "pause",
                ["DueAt"] = new DateTime(2099, 1, 1, 0, 0, 0, DateTimeKind.Utc),
                ["Steps"] = 0,
                ["EnteredAt"] = at.AddDays(1),
                ["Heard"] = false,
            });
            // Delivered before the upgrade: the sender leaves it alone.
            await InsertAsync(conn, "outbox", new()
            {
                ["Id"] = Guid.CreateVersion7(),
                ["ContactId"] = contact,
                ["To"] = "Ann@Example.com",
                ["Subject"] = "Welcome, Ann",
                ["TextBody"] = "Hi Ann, thanks for signing up.",
                ["Kind"] = "journey",
                ["IdempotencyKey"] = "welcome:ann",
                ["Status"] = 1,
                ["CreatedAt"] = at,
                ["SentAt"] = at.AddMinutes(1),
                ["DueAt"] = at,
                ["Attempts"] = 1,
                ["Class"] = 0,
                ["Ambiguous"] = false,
                ["Topic"] = "newsletter",
                ["JourneyId"] = journey,
                ["StepId"] = "hello",
            });

            // The password and key hashed the way the app hashes them.
            var owner = new User { Email = "owner@shop.example" };
            await InsertAsync(conn, "users", new()
            {
                ["Id"] = Guid.CreateVersion7(),
                ["Email"] = "owner@shop.example",
                ["EmailNormalized"] = "owner@shop.example",
                ["Name"] = "Olive",
                ["Role"] = 0,
                ["PasswordHash"] = new PasswordHasher<User>().HashPassword(owner, Password),
                ["CreatedAt"] = at,
            });
            var (key, secret) = ApiKeys.Generate("shop", ApiScope.Write, at);
            await InsertAsync(conn, "api_keys", new()
            {
                ["Id"] = key.Id,
                ["Name"] = key.Name,
                ["Prefix"] = key.Prefix,
                ["Hash"] = key.Hash,
                ["Scope"] = 1,
                ["CreatedAt"] = at,
            });
            return new Seeded(contact, journey, secret);
        }

        private sealed record Json(string Text);

        private sealed record Tags(params string[] Values);

        /// <summary>One row as plain SQL, each value written the way this provider's columns hold it.</summary>
        private async Task InsertAsync(DbConnection conn, string table, Dictionary<string, object?> row)
        {
            await using var cmd = conn.CreateCommand();
            var values = new List<string>();
            var i = 0;
            foreach (var (column, value) in row)
            {
                var name = "@p" + i++.ToString(CultureInfo.InvariantCulture);
                var parameter = cmd.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = Sqlite ? SqliteValue(value) : PostgresValue(value);
                cmd.Parameters.Add(parameter);
                values.Add(!Sqlite && value is Json ? $"CAST({name} AS jsonb)" : name);
            }
            cmd.CommandText = $"INSERT INTO \"{table}\" ({string.Join(", ", row.Keys.Select(k => $"\"{k}\""))}) VALUES ({string.Join(", ", values)})";
            await cmd.ExecuteNonQueryAsync();
        }

        private static object SqliteValue(object? value) => value switch
        {
            null => DBNull.Value,
            Guid g => g.ToByteArray(),
            DateTime d => d.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
            decimal m => m.ToString("0.0###########################", CultureInfo.InvariantCulture),
            bool b => b ? 1L : 0L,
            Json j => j.Text,
            Tags t => JsonSerializer.Serialize(t.Values),
            _ => value,
        };

        private static object PostgresValue(object? value) => value switch
        {
            null => DBNull.Value,
            Json j => j.Text,
            Tags t => t.Values,
            _ => value,
        };

        public async ValueTask DisposeAsync()
        {
            if (_kind == Db.Postgres)
            {
                await PostgresServer.DropDatabaseAsync(ConnectionString);
                return;
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_dir!, recursive: true);
            }
            catch (IOException)
            {
                // best effort: the OS cleans the temp dir
            }
        }
    }
}
