using Xunit.Sdk;
using Xunit.v3;

[assembly: TestCollectionOrderer(typeof(Clientele.Tests.Infrastructure.LongestFirst))]

namespace Clientele.Tests.Infrastructure;

/// <summary>
/// Starts the test collections that take minutes before the rest, so they run beside the many short ones instead of
/// finishing alone at the end of the run; the rest keep xunit's own order.
/// </summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    /// <summary>Collection names (or test class names, for a class that is its own collection), longest first.</summary>
    private static readonly string[] First = ["Clientele.Tests.Operations.KillLoopTests"];

    public IReadOnlyCollection<TTestCollection> OrderTestCollections<TTestCollection>(IReadOnlyCollection<TTestCollection> testCollections)
        where TTestCollection : ITestCollection =>
        DefaultTestCollectionOrderer.Instance.OrderTestCollections(testCollections).OrderBy(c => Rank(c)).ToList();

    private static int Rank(ITestCollection collection)
    {
        var i = Array.FindIndex(First, name => collection.TestCollectionDisplayName.Contains(name, StringComparison.Ordinal)
            || (collection.TestCollectionClassName?.Contains(name, StringComparison.Ordinal) ?? false));
        return i < 0 ? First.Length : i;
    }
}
