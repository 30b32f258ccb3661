using System.Net;
using System.Net.Http.Headers;
using Clientele.Cli;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Cli;

/// <summary>These read the verbs' console output, which is process-wide: they run on their own.</summary>
[CollectionDefinition(nameof(ConsoleOutput), DisableParallelization = true)]
public sealed class ConsoleOutput;

[Collection(nameof(ConsoleOutput))]
public sealed class CliTests
{
    private static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var original = Console.Out;
        using var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            var exit = await CliApp.RunAsync(args);
            return (exit, output.ToString());
        }
        finally
        {
            Console.SetOut(original);
        }
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Apikeys_create_prints_a_working_key_alone_on_its_last_line_and_stores_only_its_hash(string db)
    {
        await using var app = await TestApp.StartAsync(db);

        var (exit, output) = await RunAsync("apikeys", "create", "--name", "shop", "--scope", "read", "--db", app.ConnectionString);

        Assert.Equal(0, exit);
        var key = output.TrimEnd().Split('\n')[^1].Trim();
        Assert.StartsWith("clt_", key);
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/contacts")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostJsonAsync("/api/v1/events", new { events = new[] { new { type = "page.viewed", email = "a@example.com" } } })).StatusCode);
        await using var data = app.NewDb();
        var row = await data.ApiKeys.SingleAsync(k => k.Name == "shop");
        Assert.DoesNotContain(row.Prefix, key.Split('_')[2]);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task Users_add_without_a_password_prints_a_generated_one_that_signs_in(string db)
    {
        await using var app = await TestApp.StartAsync(db);

        var (exit, output) = await RunAsync("users", "add", "--email", "Agent@Shop.example", "--role", "agent", "--db", app.ConnectionString);
        var (again, _) = await RunAsync("users", "add", "--email", "agent@shop.example", "--role", "agent", "--password", "long-enough-pw", "--db", app.ConnectionString);

        Assert.Equal(0, exit);
        Assert.Equal(1, again); // the same e-mail twice is refused
        var password = output.Split('\n').Single(l => l.StartsWith("Password: ", StringComparison.Ordinal))["Password: ".Length..].Trim();
        await using var data = app.NewDb();
        var user = await Clientele.Accounts.Users.VerifyAsync(data, "agent@shop.example", password, app.Time.GetUtcNow().UtcDateTime, CancellationToken.None);
        Assert.NotNull(user);
        Assert.Equal(Clientele.Accounts.Role.Agent, user.Role);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Users_add_refuses_a_short_or_common_password_and_says_why(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var original = Console.Error;
        using var errors = new StringWriter();
        Console.SetError(errors);
        int shortExit, commonExit;
        try
        {
            (shortExit, _) = await RunAsync("users", "add", "--email", "ann@shop.example", "--password", "elevenchars", "--db", app.ConnectionString);
            (commonExit, _) = await RunAsync("users", "add", "--email", "ann@shop.example", "--password", "Password2026!", "--db", app.ConnectionString);
        }
        finally
        {
            Console.SetError(original);
        }

        Assert.Equal((1, 1), (shortExit, commonExit));
        Assert.Contains("at least 12 characters; this one has 11", errors.ToString());
        Assert.Contains("common or breached passwords", errors.ToString());
        await using var data = app.NewDb();
        Assert.False(await data.Users.AnyAsync());
    }

    [Fact]
    public async Task Migrate_creates_an_empty_database_that_answers()
    {
        var dir = Directory.CreateTempSubdirectory("clientele-cli-");
        try
        {
            var (exit, output) = await RunAsync("migrate", "--db", Path.Combine(dir.FullName, "new.db"));

            Assert.Equal(0, exit);
            Assert.Contains("Migrated SQLite", output);
            Assert.Contains("_Initial", output); // it names what it applied
            Assert.True(File.Exists(Path.Combine(dir.FullName, "new.db")));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Backup_copies_a_running_sqlite_database_into_a_checked_file_and_never_overwrites_one()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var api = await app.ApiClientAsync();
        for (var i = 0; i < 25; i++)
        {
            await api.PostJsonAsync("/api/v1/contacts", new { email = $"c{i}@example.com" });
        }
        var target = Path.Combine(Path.GetTempPath(), "clientele-backup-" + Guid.NewGuid().ToString("N")[..8], "copy.db");

        var (exit, output) = await RunAsync("backup", "--to", target, "--db", app.ConnectionString);

        Assert.Equal(0, exit);
        Assert.Contains("passed its integrity check", output, StringComparison.Ordinal);
        await using (var copy = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={target};Mode=ReadOnly;Pooling=False"))
        {
            await copy.OpenAsync();
            await using var count = copy.CreateCommand();
            count.CommandText = "SELECT count(*) FROM contacts";
            Assert.Equal(25L, await count.ExecuteScalarAsync());
        }
        Assert.False(File.Exists(target + "-wal"));
        var before = File.GetLastWriteTimeUtc(target);

        var (again, _) = await RunAsync("backup", "--to", target, "--db", app.ConnectionString);

        Assert.Equal(1, again);
        Assert.Equal(before, File.GetLastWriteTimeUtc(target));
        Directory.Delete(Path.GetDirectoryName(target)!, true);
    }

    [Fact]
    public async Task Backup_of_a_postgresql_database_points_to_pg_dump()
    {
        await using var app = await TestApp.StartAsync(Db.Postgres);
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            var (exit, _) = await RunAsync("backup", "--to", Path.Combine(Path.GetTempPath(), "never.db"), "--db", app.ConnectionString);
            Assert.Equal(1, exit);
        }
        finally
        {
            Console.SetError(original);
        }
        Assert.Contains("pg_dump", error.ToString(), StringComparison.Ordinal);
    }
}
