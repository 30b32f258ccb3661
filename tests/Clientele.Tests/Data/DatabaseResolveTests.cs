using Clientele.Data;
using Npgsql;

namespace Clientele.Tests.Data;

public sealed class DatabaseResolveTests
{
    [Theory]
    [InlineData("Host=db;Username=shop;Database=shop")]
    [InlineData("postgres://shop:secret@db:5433/shop")]
    public void PostgreSQL_prepares_repeated_statements_unless_the_connection_string_says_otherwise(string given)
    {
        var (kind, resolved) = ClienteleDatabase.Resolve(given);

        Assert.Equal(DatabaseKind.Postgres, kind);
        Assert.Equal(200, new NpgsqlConnectionStringBuilder(resolved).MaxAutoPrepare);
        Assert.Equal(10, new NpgsqlConnectionStringBuilder(ClienteleDatabase.Resolve("Host=db;Max Auto Prepare=10").ConnectionString).MaxAutoPrepare);
    }

    [Fact]
    public void PostgreSQL_connections_go_back_to_the_pool_without_a_reset_unless_the_connection_string_asks_for_one()
    {
        Assert.True(new NpgsqlConnectionStringBuilder(ClienteleDatabase.Resolve("Host=db;Database=shop").ConnectionString).NoResetOnClose);
        Assert.False(new NpgsqlConnectionStringBuilder(ClienteleDatabase.Resolve("Host=db;No Reset On Close=false").ConnectionString).NoResetOnClose);
    }
}
