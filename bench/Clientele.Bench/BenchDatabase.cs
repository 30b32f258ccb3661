using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Bench;

/// <summary>
/// Where a server-side run keeps its data: a fresh database by default, or an existing one named with
/// <c>--onto-sqlite PATH</c> / <c>--onto-postgres CONN</c> (for example the shop of a million contacts written by
/// <c>clientele demo --contacts 1000000</c>). A run onto an existing database adds its own rows under names and keys
/// carrying <see cref="Tag"/>, so it can be repeated on the same database.
/// </summary>
internal static class BenchDatabase
{
    /// <summary>Six characters, new for every run of the bench process.</summary>
    public static string Tag { get; } = Guid.NewGuid().ToString("N")[..6];

    /// <summary>The SQLite database of the run: the one given with --onto-sqlite, or <paramref name="fresh"/>.</summary>
    public static string Sqlite(string[] args, string fresh) =>
        IngestRun.StringArg(args, "--onto-sqlite") is { } path ? $"Data Source={path}" : $"Data Source={fresh}";

    /// <summary>Whether the run includes this database: all of them unless <c>--only sqlite|postgres</c> names one.</summary>
    public static bool Includes(string[] args, string database) =>
        IngestRun.StringArg(args, "--only") is not { } only || string.Equals(only, database, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The PostgreSQL database of the run: the one given with --onto-postgres, else a new database on the server given with
    /// --postgres, else none.
    /// </summary>
    public static async Task<string?> PostgresAsync(string[] args, string prefix) =>
        IngestRun.StringArg(args, "--onto-postgres")
        ?? (IngestRun.StringArg(args, "--postgres") is { } admin ? await IngestRun.CreatePgDatabaseAsync(admin, prefix) : null);

    /// <summary>Migrates the database if needed and says how big it is, for the run's report.</summary>
    public static async Task DescribeAsync(string name, string connection)
    {
        using var database = ClienteleDatabase.Open(connection);
        await database.MigrateAsync(CancellationToken.None);
        await using var db = database.CreateDbContext();
        db.Database.SetCommandTimeout(TimeSpan.FromMinutes(5));
        var contacts = await db.Contacts.LongCountAsync();
        var events = await db.Events.LongCountAsync();
        var orders = await db.Orders.LongCountAsync();
        Console.WriteLine($"{name} database before the run: {contacts:N0} contacts, {events:N0} events, {orders:N0} orders");
    }
}
