using Clientele.Events;
using Clientele.Lifecycle;
using Clientele.Referrals;

namespace Clientele.Tests.Referrals;

public sealed class ReferralRulesTests
{
    private static readonly DateTime Now = new(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);

    private static readonly ReferralProgram Program = new() { Enabled = true, Landing = "/f/join", MaxPerPeriod = 2, PeriodDays = 30, MaxTotal = 5, WindowDays = 30 };

    private static ReferralParty Ann(params string[] addresses) => new(Guid.NewGuid(), "ann.lee@gmail.com", "Ann Lee", Now.AddYears(-1), addresses);

    private static ReferralParty NewFriend(string email = "bob@example.com", params string[] addresses) => new(Guid.NewGuid(), email, "Bob", Now, addresses);

    private static SignUpFacts Facts(ReferralParty referrer, ReferralParty friend, DateTime? clicked = null, string? referredBy = null, int inPeriod = 0, int total = 0) =>
        new(referrer, friend, Now, clicked ?? Now.AddMinutes(-10), referredBy, inPeriod, total);

    [Fact]
    public void Codes_are_short_use_characters_that_cannot_be_mistaken_and_are_read_back_whatever_the_case()
    {
        var codes = Enumerable.Range(0, 300).Select(_ => ReferralRules.NewCode()).ToList();

        Assert.All(codes, c => Assert.Matches("^[A-HJKMNP-Z2-9]{8}$", c));
        Assert.Equal(300, codes.Distinct().Count());
        Assert.Equal("K7QX3MPA", ReferralRules.NormalizeCode(" k7qx-3mpa "));
        Assert.Null(ReferralRules.NormalizeCode("<script>"));
        Assert.Null(ReferralRules.NormalizeCode("ab"));
    }

    [Fact]
    public void The_same_mailbox_written_another_way_is_one_person()
    {
        Assert.Equal("annlee@gmail.com", ReferralRules.CanonicalEmail("A.nn.Lee+friends@GoogleMail.com"));
        Assert.Equal("ann@example.com", ReferralRules.CanonicalEmail("Ann+deals@Example.com"));
        // Dots matter outside Gmail.
        Assert.NotEqual(ReferralRules.CanonicalEmail("a.nn@example.com"), ReferralRules.CanonicalEmail("ann@example.com"));
    }

    [Fact]
    public void A_new_friend_within_the_window_and_the_caps_counts()
    {
        Assert.Null(ReferralRules.WhyNot(Facts(Ann(), NewFriend()), Program));
        Assert.Null(ReferralRules.WhyNot(Facts(Ann(), NewFriend(), inPeriod: 1, total: 4), Program));
        // A code typed in, with no click on the link: nothing to measure the window by.
        Assert.Null(ReferralRules.WhyNot(new SignUpFacts(Ann(), NewFriend(), Now, null, null, 0, 0), Program));
    }

    [Fact]
    public void Referring_oneself_is_refused_by_contact_and_by_mailbox()
    {
        var ann = Ann();

        Assert.Equal("Self-referral: the friend is the referrer.", ReferralRules.WhyNot(Facts(ann, ann), Program));
        var alias = ReferralRules.WhyNot(Facts(ann, NewFriend("annlee+friend@googlemail.com")), Program);
        Assert.StartsWith("Self-referral:", alias);
        Assert.Contains("ann.lee@gmail.com", alias);
    }

    [Fact]
    public void A_friend_at_the_referrers_address_is_refused()
    {
        var home = ReferralRules.CanonicalAddress("12 Main St., Springfield")!;
        var written = ReferralRules.AddressesOf("""{"address": {"line1": "12 main st", "city": "SPRINGFIELD"}}""");

        Assert.Equal([home], written);
        Assert.Contains("Same address", ReferralRules.WhyNot(Facts(Ann(home), NewFriend("bob@example.com", [.. written])), Program));
        Assert.Null(ReferralRules.WhyNot(Facts(Ann(home), NewFriend("bob@example.com", ReferralRules.CanonicalAddress("14 Main St, Springfield")!)), Program));
        Assert.Equal(home, ReferralRules.ShippingAddressOf("""{"orderId": "1", "shipping": {"address": "12 Main St Springfield"}}"""));
    }

    [Fact]
    public void Only_new_leads_count()
    {
        var known = NewFriend() with { CreatedAt = Now.AddDays(-3) };

        var why = ReferralRules.WhyNot(Facts(Ann(), known, clicked: Now.AddHours(-1)), Program);

        Assert.Equal("bob@example.com was a contact already (since 2026-05-29) before following the link: only new leads count.", why);
        Assert.Contains("before signing up with the code", ReferralRules.WhyNot(new SignUpFacts(Ann(), known, Now, null, null, 0, 0), Program));
    }

    [Fact]
    public void A_friend_counts_for_one_referrer_and_within_the_window_from_the_click()
    {
        Assert.Equal("Referred by Cy already: a friend counts for one referrer only.", ReferralRules.WhyNot(Facts(Ann(), NewFriend(), referredBy: "Cy"), Program));

        var friend = NewFriend() with { CreatedAt = Now.AddDays(-31) }; // came by the link a month ago and signs up only now
        var late = ReferralRules.WhyNot(new SignUpFacts(Ann(), friend, Now, Now.AddDays(-31), null, 0, 0), Program);

        Assert.Equal("Signed up 31 days after the last click on the link, outside the 30-day attribution window.", late);
    }

    [Fact]
    public void The_caps_per_period_and_in_all_stop_further_referrals()
    {
        Assert.Equal("Ann Lee has 2 referrals in the last 30 days, the programme's cap.", ReferralRules.WhyNot(Facts(Ann(), NewFriend(), inPeriod: 2, total: 2), Program));
        Assert.Equal("Ann Lee has 5 referrals in all, the programme's cap.", ReferralRules.WhyNot(Facts(Ann(), NewFriend(), inPeriod: 0, total: 5), Program));
        Assert.Null(ReferralRules.WhyNot(Facts(Ann(), NewFriend(), inPeriod: 9, total: 99), Program with { MaxPerPeriod = null, MaxTotal = null }));
    }

    [Fact]
    public void A_reward_waits_for_an_order_over_the_minimum()
    {
        Assert.False(ReferralRules.Qualifies(19.99m, Program with { MinOrderTotal = 20 }));
        Assert.True(ReferralRules.Qualifies(20m, Program with { MinOrderTotal = 20 }));
        Assert.True(ReferralRules.Qualifies(1m, Program));
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/welcome")]
    [InlineData("/\\evil.example")]
    [InlineData("/f/../../evil")]
    [InlineData("javascript:alert(1)")]
    [InlineData("https://shop.example.com@evil.example/")]
    [InlineData("https://shop.example.com.evil.example/")]
    [InlineData("ftp://shop.example.com/")]
    [InlineData("https://shop.example.com/ welcome")]
    public void A_link_can_lead_only_to_the_app_or_the_business_own_hosts(string landing)
    {
        Assert.NotNull(ReferralRules.WhyNotLanding(landing, ["shop.example.com"]));
    }

    [Fact]
    public void A_link_leads_to_a_form_a_landing_page_or_an_allowed_host_with_the_code_in_the_query()
    {
        Assert.Null(ReferralRules.WhyNotLanding("/f/join", []));
        Assert.Null(ReferralRules.WhyNotLanding("/p/club", []));
        Assert.Null(ReferralRules.WhyNotLanding("https://SHOP.example.com/welcome", ["shop.example.com"]));

        Assert.Equal("/f/join?ref=K7QX3MPA", ReferralRules.Destination("/f/join", "K7QX3MPA"));
        Assert.Equal("https://shop.example.com/w?src=mail&ref=K7QX3MPA#top", ReferralRules.Destination("https://shop.example.com/w?src=mail#top", "K7QX3MPA"));
    }

    [Fact]
    public void Settings_name_every_mistake_by_field()
    {
        var errors = ReferralRules.Check(
            new ReferralProgram { Enabled = true, AllowedHosts = ["https://shop.example.com/"], FriendOfferId = Guid.NewGuid(), MaxPerPeriod = 0, WindowDays = 0 },
            new HashSet<string>(), new HashSet<string>(), new HashSet<Guid>());

        Assert.Equal(["/allowedHosts/0", "/landing", "/friendOfferId", "/maxPerPeriod", "/windowDays"], errors.Select(e => e.Field));
        var missing = ReferralRules.Check(new ReferralProgram { Landing = "/f/gone" }, new HashSet<string> { "join" }, new HashSet<string>(), new HashSet<Guid>());
        Assert.Equal("There is no open form \"gone\".", Assert.Single(missing).Message);
    }

    [Fact]
    public void Only_the_referrers_copy_of_a_sign_up_is_advocacy()
    {
        Event SignedUp(string role) => Event.Recorded(Guid.NewGuid(), "referral.signed_up", "referrals", "k", new { code = "K7QX3MPA", role }, Now);

        Assert.Equal(Now, StageProjection.Apply(new StageFacts(), SignedUp("referrer")).AdvocacyAt);
        Assert.Null(StageProjection.Apply(new StageFacts(), SignedUp("friend")).AdvocacyAt);
    }
}
