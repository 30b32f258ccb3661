using System.CommandLine;
using Clientele.Accounts;
using Clientele.Data;
using Clientele.Web;

namespace Clientele.Cli;

/// <summary>The command line: <c>serve</c>, <c>migrate</c>, <c>users add</c>, <c>apikeys create</c>, <c>import</c>, <c>demo</c>.</summary>
internal static class CliApp
{
    public static readonly Option<string?> DbOption = new("--db")
    {
        Description = "Database: a SQLite file or connection string, or a PostgreSQL connection string (default ./data/clientele.db)",
        Recursive = true,
    };

    public static async Task<int> RunAsync(string[] args)
    {
        // Hosting tools (WebApplicationFactory, dotnet watch) start the app with no verb or only host switches.
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal) && !IsServeOption(args[0]) && args[0] != "--help" && args[0] != "--version")
        {
            return await ServeAsync(args, new ServeOptions(null, null, false));
        }
        var root = new RootCommand("Clientele: turn a first purchase into a customer for life.");
        root.Options.Add(DbOption);
        root.Subcommands.Add(ServeCommand());
        root.Subcommands.Add(MigrateCommand());
        root.Subcommands.Add(UsersCommand());
        root.Subcommands.Add(ApiKeysCommand());
        foreach (var command in CliExtensions.Commands())
        {
            root.Subcommands.Add(command);
        }
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && !args.Contains("--help") && !args.Contains("-h"))
        {
            // Usage errors exit with 2, like bad input to any verb.
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync(error.Message);
            }
            await Console.Error.WriteLineAsync("Add --help to the command for its usage.");
            return 2;
        }
        var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        if (parsed.CommandResult.Command.Name == "serve")
        {
            // The web host stops gracefully on SIGTERM and Ctrl+C by itself (finishing what is being sent, handing back
            // claimed work); the command line's own two-second limit would cut that short.
            invocation.ProcessTerminationTimeout = null;
        }
        return await parsed.InvokeAsync(invocation);
    }

    private static bool IsServeOption(string arg) => arg is "--db" or "--urls" or "--demo";

    private static Command ServeCommand()
    {
        var demo = new Option<bool>("--demo") { Description = "Seed a realistic small business on first start and print a demo login" };
        var urls = new Option<string?>("--urls") { Description = "Where to listen, e.g. http://localhost:5000" };
        var command = new Command("serve", "Run the web UI, REST API and background workers") { demo, urls };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (result, ct) =>
            await ServeAsync(result.UnmatchedTokens.ToArray(), new ServeOptions(result.GetValue(DbOption), result.GetValue(urls), result.GetValue(demo))));
        return command;
    }

    private static async Task<int> ServeAsync(string[] hostArgs, ServeOptions options)
    {
        var app = AppHost.Build(hostArgs, options);
        await app.RunAsync();
        return 0;
    }

    private static Command MigrateCommand()
    {
        var command = new Command("migrate", "Create the database or bring its schema up to date");
        command.SetAction(async (result, ct) =>
        {
            var database = Open(result);
            var applied = await database.MigrateAsync(ct);
            Console.WriteLine($"Migrated {database.Describe()}.");
            if (applied.Count == 0)
            {
                Console.WriteLine("The schema was already up to date.");
            }
            else
            {
                Console.WriteLine($"Applied {applied.Count} migration(s):");
                foreach (var migration in applied)
                {
                    Console.WriteLine("  " + migration);
                }
            }
            return 0;
        });
        return command;
    }

    private static Command UsersCommand()
    {
        var email = new Option<string>("--email") { Description = "Login e-mail", Required = true };
        var role = new Option<Role>("--role") { Description = "owner, marketer or agent", DefaultValueFactory = _ => Role.Owner };
        var password = new Option<string?>("--password") { Description = "Password (12 to 128 characters, not a common one); generated and printed when left out" };
        var name = new Option<string?>("--name") { Description = "Display name" };
        var add = new Command("add", "Add a back-office user") { email, role, password, name };
        add.SetAction(async (result, ct) =>
        {
            var database = await OpenMigratedAsync(result, ct);
            var pw = result.GetValue(password);
            var generated = pw is null;
            pw ??= Users.GeneratePassword();
            await using var db = database.CreateDbContext();
            using var logging = LoggerFactory.Create(b => b.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)); // stdout is for the result
            using var breached = new BreachedPasswords(
                Environment.GetEnvironmentVariable(BreachedPasswords.Setting.Replace(":", "__", StringComparison.Ordinal)),
                logging.CreateLogger<BreachedPasswords>());
            try
            {
                var user = await Users.AddAsync(db, result.GetValue(email)!, result.GetValue(role), pw, TimeProvider.System.GetUtcNow().UtcDateTime, ct,
                    result.GetValue(name), generated ? null : breached);
                Console.WriteLine($"Added {user.Role.ToString().ToLowerInvariant()} {user.Email}.");
                if (generated)
                {
                    Console.WriteLine($"Password: {pw}");
                }
                return 0;
            }
            catch (InvalidOperationException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                return 1;
            }
        });
        return new Command("users", "Manage back-office users") { add };
    }

    private static Command ApiKeysCommand()
    {
        var name = new Option<string>("--name") { Description = "What the key is for, e.g. 'shop'", Required = true };
        var scope = new Option<ApiScope>("--scope") { Description = "read, write or admin", DefaultValueFactory = _ => ApiScope.Write };
        var create = new Command("create", "Create an API key; the key is printed once, alone on the last line") { name, scope };
        create.SetAction(async (result, ct) =>
        {
            var database = await OpenMigratedAsync(result, ct);
            await using var db = database.CreateDbContext();
            var key = await ApiKeys.CreateAsync(db, result.GetValue(name)!, result.GetValue(scope), TimeProvider.System.GetUtcNow().UtcDateTime, ct);
            Console.WriteLine($"Created {result.GetValue(scope).ToString().ToLowerInvariant()} key '{result.GetValue(name)}'. It is shown only now:");
            Console.WriteLine(key);
            return 0;
        });
        return new Command("apikeys", "Manage REST API keys") { create };
    }

    public static ClienteleDatabase Open(ParseResult result) =>
        ClienteleDatabase.Open(result.GetValue(DbOption) ?? Environment.GetEnvironmentVariable("ConnectionStrings__Clientele"));

    public static async Task<ClienteleDatabase> OpenMigratedAsync(ParseResult result, CancellationToken ct)
    {
        var database = Open(result);
        await database.MigrateAsync(ct);
        return database;
    }
}
