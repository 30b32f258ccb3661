using System.CommandLine;

namespace Clientele.Cli;

/// <summary>Verbs contributed by features (import, demo, clv …).</summary>
internal static partial class CliExtensions
{
    public static IEnumerable<Command> Commands()
    {
        yield break;
    }
}
