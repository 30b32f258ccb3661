using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Clientele.Accounts;
using Clientele.Data;
using Clientele.Events;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Clientele.Tests.Infrastructure;

/// <summary>Names of the databases every data test runs on.</summary>
public static class Db
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";
}

/// <summary>
/// The whole app on a real, empty database (a SQLite file or a fresh PostgreSQL database, with the schema copied from
/// <see cref="MigratedTemplate"/>), hosted in memory and driven over HTTP. Time is a <see cref="FakeTimeProvider"/>.
/// </summary>
public sealed class TestApp : WebApplicationFactory<Program>
{
    public static readonly DateTimeOffset Start = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly string _kind;
    private string _connectionString = "";
    private string? _sqliteDir;

    private TestApp(string kind) => _kind = kind;

    public FakeTimeProvider Time { get; } = new(Start);
    public string ConnectionString => _connectionString;

    /// <summary>Extra service registrations for one test (e.g. a failing consumer).</summary>
    public Action<IServiceCollection>? ExtraServices { get; init; }

    public bool NightlyScoring { get; init; }

    /// <summary>Configuration a test needs beyond the defaults, e.g. a lower rate limit.</summary>
    public Dictionary<string, string> Settings { get; init; } = [];

    public static async Task<TestApp> StartAsync(string kind, Action<IServiceCollection>? services = null, bool nightlyScoring = false,
        Dictionary<string, string>? settings = null)
    {
        var app = new TestApp(kind) { ExtraServices = services, NightlyScoring = nightlyScoring, Settings = settings ?? [] };
        await app.InitAsync();
        return app;
    }

    private async Task InitAsync()
    {
        if (_kind == Db.Postgres)
        {
            _connectionString = await MigratedTemplate.CreatePostgresAsync();
        }
        else
        {
            _sqliteDir = Path.Combine(Path.GetTempPath(), "clientele-test-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(_sqliteDir);
            var file = Path.Combine(_sqliteDir, "clientele.db");
            await MigratedTemplate.CopySqliteAsync(file);
            _connectionString = $"Data Source={file}";
        }
        _ = Server; // build and start the host: runs migrations
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Clientele", _connectionString);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        // Scoring runs when a test asks for it, not because a fresh database has never been scored.
        builder.UseSetting("Clientele:Scoring:Nightly", NightlyScoring ? "true" : "false");
        builder.UseSetting("Clientele:Stages:Sweep", "false");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        builder.UseEnvironment("Testing");
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Time);
            ExtraServices?.Invoke(services);
        });
    }

    internal ClienteleDatabase Database => Services.GetRequiredService<ClienteleDatabase>();

    internal ClienteleDb NewDb() => Database.CreateDbContext();

    /// <summary>Runs every event consumer until it has caught up with the log.</summary>
    public Task DrainAsync() => Services.GetRequiredService<EventDispatcher>().DrainAsync(CancellationToken.None);

    /// <summary>An HTTP client carrying a fresh API key with the given scope ("read", "write", "admin").</summary>
    public async Task<HttpClient> ApiClientAsync(string scope = "admin")
    {
        await using var db = NewDb();
        var key = await ApiKeys.CreateAsync(db, "test-" + scope, Enum.Parse<ApiScope>(scope, ignoreCase: true), Time.GetUtcNow().UtcDateTime, CancellationToken.None);
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_kind == Db.Postgres)
        {
            await PostgresServer.DropDatabaseAsync(_connectionString);
        }
        else if (_sqliteDir is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_sqliteDir, recursive: true);
            }
            catch (IOException)
            {
                // best effort: the OS cleans the temp dir
            }
        }
    }
}

public static class HttpJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text.Length == 0 ? "null" : text).RootElement.Clone();
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body) =>
        client.PostAsJsonAsync(url, body, Options);

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string url, string json) =>
        client.PostAsync(url, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
}
