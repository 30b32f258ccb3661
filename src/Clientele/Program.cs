using Clientele.Cli;

// The one executable: `serve` (the default) runs the web UI, REST API and workers; other verbs are admin tasks.
return await CliApp.RunAsync(args);

/// <summary>Entry point; public so tests can host the app through WebApplicationFactory&lt;Program&gt;.</summary>
public partial class Program;
