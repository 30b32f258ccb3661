using System.CommandLine;
using Clientele.Contacts;
using Clientele.Demo;
using Clientele.Value;

namespace Clientele.Cli;

/// <summary>Verbs contributed by features (import, demo, clv …).</summary>
internal static partial class CliExtensions
{
    public static IEnumerable<Command> Commands()
    {
        yield return ImportCommand.Create();
        yield return DemoSeed.Command();
        yield return ClvCommand.Create();
        yield return BackupCommand.Create();
    }
}
