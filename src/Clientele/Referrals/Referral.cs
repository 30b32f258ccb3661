namespace Clientele.Referrals;

/// <summary>A contact's own referral code, behind their link <c>/r/{code}</c>. Made the first time it is asked for, then kept.</summary>
internal sealed class ReferralCode
{
    public Guid ContactId { get; set; }

    /// <summary>Upper case, from letters and digits that cannot be mistaken for each other; unique.</summary>
    public string Code { get; set; } = "";

    public DateTime CreatedAt { get; set; }

    /// <summary>Visits of the link by people (not by link previews and other software).</summary>
    public int Clicks { get; set; }

    public DateTime? LastClickedAt { get; set; }
}

/// <summary>Where a referral stands. The numbers are stored; never renumber.</summary>
internal enum ReferralStatus
{
    /// <summary>The friend signed up and counts; no order yet.</summary>
    SignedUp = 0,

    /// <summary>The friend has ordered; the referrer's reward is still to come (or was refused, see the note).</summary>
    Converted = 1,

    /// <summary>The referrer was given their reward.</summary>
    Rewarded = 2,

    /// <summary>A fraud limit stopped it (see <see cref="Referral.RejectionReason"/>); nobody is rewarded for it.</summary>
    Rejected = 3,
}

/// <summary>
/// One friend brought by one referrer: when the link was clicked, the friend signed up and first ordered, what each
/// side was given, or why the referral does not count. Read and written by the friend's events.
/// </summary>
internal sealed class Referral
{
    public Guid Id { get; set; }
    public Guid ReferrerId { get; set; }
    public Guid FriendId { get; set; }

    /// <summary>The referrer's code the friend came with.</summary>
    public string Code { get; set; } = "";

    /// <summary>What carried the code: <c>form:{slug}</c>, <c>api</c> or the event type that brought it.</summary>
    public string Source { get; set; } = "";

    /// <summary>The last click on the referrer's link before the sign-up, when there was one.</summary>
    public DateTime? ClickedAt { get; set; }

    public DateTime SignedUpAt { get; set; }
    public DateTime? FirstOrderAt { get; set; }
    public string? FirstOrderId { get; set; }

    public ReferralStatus Status { get; set; }
    public string? RejectionReason { get; set; }

    public Guid? FriendCouponId { get; set; }

    /// <summary>Why the friend's reward was not issued (the offer's rules or the fatigue guard), when it was not.</summary>
    public string? FriendRewardNote { get; set; }

    public Guid? ReferrerCouponId { get; set; }
    public DateTime? ReferrerRewardedAt { get; set; }

    /// <summary>Why the referrer's reward was not issued, when it was not; it is not tried again.</summary>
    public string? ReferrerRewardNote { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>The referral programme's settings (<c>referrals.program</c> in the settings store).</summary>
internal sealed record ReferralProgram
{
    public const string Key = "referrals.program";

    /// <summary>Off: links show a "not active" page, codes are ignored and no rewards are issued.</summary>
    public bool Enabled { get; init; }

    /// <summary>Where a link leads: a hosted form <c>/f/{slug}</c>, a landing page <c>/p/{slug}</c>, or an http(s) address on one of <see cref="AllowedHosts"/>.</summary>
    public string? Landing { get; init; }

    /// <summary>The business's own hosts an absolute <see cref="Landing"/> may point at (e.g. <c>shop.example.com</c>).</summary>
    public List<string> AllowedHosts { get; init; } = [];

    /// <summary>The offer issued to the friend when they sign up; null for none.</summary>
    public Guid? FriendOfferId { get; init; }

    /// <summary>The offer issued to the referrer when the friend's first order arrives; null for none.</summary>
    public Guid? ReferrerOfferId { get; init; }

    /// <summary>The total an order needs to earn the referrer's reward; null for any order.</summary>
    public decimal? MinOrderTotal { get; init; }

    /// <summary>Referrals that count per referrer in <see cref="PeriodDays"/>; more are rejected. Null for no cap.</summary>
    public int? MaxPerPeriod { get; init; } = 10;

    public int PeriodDays { get; init; } = 30;

    /// <summary>Referrals that count per referrer in all; more are rejected. Null for no cap.</summary>
    public int? MaxTotal { get; init; } = 50;

    /// <summary>Days from the click on a link within which a sign-up is credited to it.</summary>
    public int WindowDays { get; init; } = 30;

    public static ReferralProgram Default { get; } = new();
}
