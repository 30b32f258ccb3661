using Clientele.Cli;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Import;

public sealed class ImportCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("clientele-import-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_import_verbs_exit_0_when_every_row_is_fine_2_when_some_rows_fail_and_1_when_the_file_cannot_be_read(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var good = Write("good.csv", "email,first_name,tags\nann@example.com,Ann,vip\nbob@example.com,Bob,\n");
        var bad = Write("bad.csv", "email,first_name\ncid@example.com,Cid\nnot-an-email,X\n");
        var noEmail = Write("noemail.csv", "name,phone\nAnn,123\n");
        var orders = Write("orders.csv", "order_id,email,placed_at,total\n1,ann@example.com,2026-01-05,10\n2,dan@example.com,2026-01-06,20\n");

        Assert.Equal(0, await CliApp.RunAsync(["import", "contacts", good, "--dry-run", "--db", app.ConnectionString]));
        await using (var data = app.NewDb())
        {
            Assert.Equal(0, await data.Contacts.CountAsync());
        }

        Assert.Equal(0, await CliApp.RunAsync(["import", "contacts", good, "--db", app.ConnectionString]));
        Assert.Equal(2, await CliApp.RunAsync(["import", "contacts", bad, "--db", app.ConnectionString]));
        Assert.Equal(1, await CliApp.RunAsync(["import", "contacts", Path.Combine(_dir, "missing.csv"), "--db", app.ConnectionString]));
        Assert.Equal(1, await CliApp.RunAsync(["import", "contacts", noEmail, "--db", app.ConnectionString]));
        Assert.Equal(0, await CliApp.RunAsync(["import", "contacts", noEmail, "--map", "name=firstName", "--map", "phone=externalId", "--db", app.ConnectionString]));
        Assert.Equal(0, await CliApp.RunAsync(["import", "orders", orders, "--db", app.ConnectionString]));
        Assert.Equal(0, await CliApp.RunAsync(["import", "orders", orders, "--db", app.ConnectionString]));

        await using var after = app.NewDb();
        Assert.Equal(["123", "ann@example.com", "bob@example.com", "cid@example.com", "dan@example.com"],
            (await after.Contacts.Select(c => c.EmailNormalized ?? c.ExternalId).ToListAsync()).Order(StringComparer.Ordinal));
        Assert.Equal(2, await after.Orders.CountAsync());
        Assert.Equal(2, await after.Events.CountAsync(e => e.Type == "order.placed"));
    }
}
