using System.Collections.Concurrent;

namespace Clientele.Outbox;

/// <summary>
/// Unsubscribes committed in this process while a sender holds a batch it checked before them: the sender asks here
/// right before each message goes, so nothing reaches a contact after their unsubscribe committed. Entries outlive
/// any claim (the database check covers everything claimed later) and then expire.
/// </summary>
internal sealed class ConsentGuard(TimeProvider time)
{
    /// <summary>Topic key for "every marketing topic".</summary>
    public const string AllTopics = "*";

    private static readonly TimeSpan Keep = TimeSpan.FromHours(1);
    private readonly ConcurrentDictionary<(Guid Contact, string Topic), DateTime> _withdrawn = new();

    /// <summary>Call before the unsubscribe commits.</summary>
    public void Withdrawn(Guid contact, string topic)
    {
        var now = time.GetUtcNow().UtcDateTime;
        _withdrawn[(contact, topic)] = now;
        if (_withdrawn.Count > 10_000)
        {
            foreach (var (key, at) in _withdrawn)
            {
                if (at < now - Keep)
                {
                    _withdrawn.TryRemove(key, out _);
                }
            }
        }
    }

    /// <summary>A renewed subscription lifts the hold at once.</summary>
    public void Given(Guid contact, string topic)
    {
        _withdrawn.TryRemove((contact, topic), out _);
        if (topic == AllTopics)
        {
            foreach (var key in _withdrawn.Keys.Where(k => k.Contact == contact))
            {
                _withdrawn.TryRemove(key, out _);
            }
        }
    }

    public bool Blocks(Guid contact, string? topic) =>
        !_withdrawn.IsEmpty && (_withdrawn.ContainsKey((contact, AllTopics)) || (topic is not null && _withdrawn.ContainsKey((contact, topic))));
}
