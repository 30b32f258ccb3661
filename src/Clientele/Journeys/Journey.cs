using Microsoft.EntityFrameworkCore;

namespace Clientele.Journeys;

/// <summary>The numbers are stored; never renumber.</summary>
internal enum JourneyStatus
{
    /// <summary>Never published: nobody enters.</summary>
    Draft = 0,

    /// <summary>Contacts enter on its trigger and move through its steps.</summary>
    Active = 1,

    /// <summary>Nobody enters and nobody moves; runs wait where they are until it is resumed.</summary>
    Paused = 2,

    /// <summary>Finished with: nobody enters, running contacts leave.</summary>
    Archived = 3,
}

/// <summary>
/// A multi-step sequence that reacts to what each contact does. The owner edits <see cref="Draft"/>; publishing
/// freezes it as the next <see cref="JourneyVersion"/>, and each contact stays on the version it entered with.
/// </summary>
internal sealed class Journey
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    public JourneyStatus Status { get; set; }

    /// <summary>The definition being edited (JSON), published or not.</summary>
    public string Draft { get; set; } = "{}";

    /// <summary>The latest published version; 0 before the first.</summary>
    public int Version { get; set; }

    /// <summary>The event type that starts a run of the published version (what the trigger consumer listens for).</summary>
    public string? TriggerEvent { get; set; }

    /// <summary>The playbook it was installed from, if any.</summary>
    public string? Playbook { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>An active journey with the definition of its current published version.</summary>
/// <param name="LiveSince">When its first version was published.</param>
internal sealed record LiveJourney(Guid Id, string Name, int Version, string Definition, DateTime LiveSince)
{
    /// <summary>Active, published journeys with their current definition: what the entry consumer, the calendar sweep and the A/B check act on.</summary>
    public static IQueryable<LiveJourney> Query(Data.ClienteleDb db) =>
        db.Journeys.AsNoTracking().Where(j => j.Status == JourneyStatus.Active && j.Version > 0)
            .Join(db.JourneyVersions.AsNoTracking(), j => new { j.Id, j.Version }, v => new { Id = v.JourneyId, v.Version },
                (j, v) => new LiveJourney(j.Id, j.Name, j.Version, v.Definition, db.JourneyVersions.Where(f => f.JourneyId == j.Id).Min(f => f.PublishedAt)));
}

/// <summary>A published definition, never changed afterwards.</summary>
internal sealed class JourneyVersion
{
    public Guid JourneyId { get; set; }
    public int Version { get; set; }
    public string Definition { get; set; } = "{}";
    public DateTime PublishedAt { get; set; }
}

/// <summary>The decided winner of an A/B test step: from then on every run reaching the step gets this variant.</summary>
internal sealed class JourneyTest
{
    public Guid JourneyId { get; set; }
    public string StepId { get; set; } = "";

    /// <summary>The winning variant's template name.</summary>
    public string Winner { get; set; } = "";

    /// <summary>Why it won, in words (the rates compared and whether the difference is clear).</summary>
    public string Reason { get; set; } = "";

    public DateTime DecidedAt { get; set; }
}

/// <summary>The numbers are stored; never renumber.</summary>
internal enum RunStatus
{
    /// <summary>On its way: due at <see cref="JourneyRun.DueAt"/>.</summary>
    Active = 0,

    /// <summary>Went through every step.</summary>
    Completed = 1,

    /// <summary>Reached the journey's goal and left.</summary>
    GoalReached = 2,

    /// <summary>Left early: an exit step, an unsubscribe, an erasure, the journey archived.</summary>
    Exited = 3,
}

/// <summary>One contact's way through one version of a journey (an enrollment).</summary>
internal sealed class JourneyRun
{
    public Guid Id { get; set; }
    public Guid JourneyId { get; set; }
    public int Version { get; set; }
    public Guid ContactId { get; set; }

    /// <summary>Enforces the entry rule: unique per journey (the contact, the contact and a key, or the cause event).</summary>
    public string EnrollKey { get; set; } = "";

    public RunStatus Status { get; set; }

    /// <summary>In the control group: walks the steps on the same clock but receives nothing, so lift can be measured.</summary>
    public bool Holdout { get; set; }

    /// <summary>The step to run when due; null once the run has ended.</summary>
    public string? StepId { get; set; }

    public DateTime? DueAt { get; set; }

    /// <summary>Steps taken so far: part of each effect's idempotency key, and a guard against endless loops.</summary>
    public int Steps { get; set; }

    public DateTime EnteredAt { get; set; }
    public DateTime? EndedAt { get; set; }

    /// <summary>Why it ended, in words for the owner.</summary>
    public string? Reason { get; set; }

    /// <summary>The event type a <c>waitForEvent</c> step is waiting for; null otherwise.</summary>
    public string? WaitingFor { get; set; }

    /// <summary>The awaited event came: the wait ends on its <c>then</c> path.</summary>
    public bool Heard { get; set; }

    /// <summary>The event that started it.</summary>
    public long? CauseEventId { get; set; }
}
