namespace Clientele.Privacy;

/// <summary>
/// The record that a contact was erased: when, by whom and what went. It keeps nothing that identifies the person
/// (not the address, not a hash of it), only the former contact id.
/// </summary>
internal sealed class Erasure
{
    public Guid Id { get; set; }
    public Guid ContactId { get; set; }
    public DateTime At { get; set; }
    public string By { get; set; } = "";

    /// <summary>Rows removed per kind, e.g. <c>{"events": 41, "orders": 3}</c>, as JSON.</summary>
    public string Removed { get; set; } = "{}";

    /// <summary>Rows elsewhere that mentioned the address and had it replaced by "[erased]", per table, as JSON.</summary>
    public string Scrubbed { get; set; } = "{}";

    /// <summary>When the database was compacted so deleted rows leave no trace in its files; null while waiting.</summary>
    public DateTime? CompactedAt { get; set; }

    /// <summary>The result of searching the database for the address after the erasure (and after compaction).</summary>
    public string Check { get; set; } = "";
}
