using Clientele.Contacts;
using Clientele.Outbox;

namespace Clientele.Tests.Outbox;

public sealed class SendPolicyTests
{
    private static readonly DateTime Noon = new(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);

    private static SendFacts Subscribed(string? zone = null, params DateTime[] recent) => new()
    {
        Class = MessageClass.Marketing,
        Topic = "newsletter",
        TopicConsent = ConsentStatus.Subscribed,
        TimeZone = zone,
        RecentMarketing = recent,
        QueuedAt = Noon,
    };

    [Fact]
    public void A_subscribed_contact_in_the_daytime_gets_the_message_now()
    {
        Assert.Equal(SendVerdict.Send, SendPolicy.Decide(Subscribed("Europe/Berlin"), SendingRules.Default, Noon).Verdict);
    }

    [Theory]
    [InlineData(null, "has not subscribed")]
    [InlineData("Pending", "not confirmed")]
    [InlineData("Unsubscribed", "unsubscribed from \"newsletter\"")]
    public void Marketing_without_consent_for_its_topic_is_suppressed_and_says_why(string? consent, string reason)
    {
        var d = SendPolicy.Decide(Subscribed() with { TopicConsent = consent is null ? null : Enum.Parse<ConsentStatus>(consent) }, SendingRules.Default, Noon);

        Assert.Equal(SendVerdict.Suppress, d.Verdict);
        Assert.Contains(reason, d.Reason);
    }

    [Fact]
    public void Unsubscribing_from_all_marketing_beats_a_topic_subscription()
    {
        var d = SendPolicy.Decide(Subscribed() with { MarketingConsent = ConsentStatus.Unsubscribed }, SendingRules.Default, Noon);

        Assert.Equal(SendVerdict.Suppress, d.Verdict);
        Assert.Contains("all marketing", d.Reason);
    }

    [Theory]
    [InlineData("Complaint", "Marketing", "Suppress")]
    [InlineData("Complaint", "Transactional", "Send")]
    [InlineData("Unsubscribed", "Transactional", "Send")]
    [InlineData("HardBounce", "Transactional", "Suppress")]
    [InlineData("SoftBounces", "Transactional", "Suppress")]
    public void The_suppression_list_stops_marketing_and_bounced_addresses_stop_everything(string reason, string kind, string expected)
    {
        var facts = Subscribed() with { Class = Enum.Parse<MessageClass>(kind), Suppression = Enum.Parse<SuppressionReason>(reason) };

        Assert.Equal(Enum.Parse<SendVerdict>(expected), SendPolicy.Decide(facts, SendingRules.Default, Noon).Verdict);
    }

    [Fact]
    public void Transactional_mail_needs_no_consent_and_ignores_quiet_hours_and_caps()
    {
        var night = new DateTime(2026, 6, 1, 23, 30, 0, DateTimeKind.Utc);
        var facts = new SendFacts { Class = MessageClass.Transactional, RecentMarketing = [night.AddHours(-1)], QueuedAt = night };

        Assert.Equal(SendVerdict.Send, SendPolicy.Decide(facts, SendingRules.Default, night).Verdict);
    }

    [Fact]
    public void Quiet_hours_hold_marketing_until_the_morning_in_the_contacts_own_zone()
    {
        // 12:00 UTC is 00:00 in Auckland (NZST, UTC+12): quiet until 08:00 local = 20:00 UTC.
        var d = SendPolicy.Decide(Subscribed("Pacific/Auckland"), SendingRules.Default, Noon);

        Assert.Equal(SendVerdict.Delay, d.Verdict);
        Assert.Equal(new DateTime(2026, 6, 1, 20, 0, 0, DateTimeKind.Utc), d.Until);
        Assert.Contains("quiet hours", d.Reason);
    }

    [Fact]
    public void A_contact_without_a_zone_follows_the_business_default_zone()
    {
        var rules = SendingRules.Default with { DefaultTimeZone = "America/Los_Angeles" }; // 05:00 there

        var d = SendPolicy.Decide(Subscribed(), rules, Noon);

        Assert.Equal(new DateTime(2026, 6, 1, 15, 0, 0, DateTimeKind.Utc), d.Until); // 08:00 PDT
    }

    [Fact]
    public void A_second_marketing_email_within_16_hours_waits_for_the_gap()
    {
        var d = SendPolicy.Decide(Subscribed("Europe/London", Noon.AddHours(-10)), SendingRules.Default, Noon);

        Assert.Equal(SendVerdict.Delay, d.Verdict);
        Assert.Equal(Noon.AddHours(6), d.Until);
        Assert.Contains("frequency cap", d.Reason);
    }

    [Fact]
    public void The_weekly_cap_frees_a_slot_when_the_oldest_counted_send_leaves_the_week()
    {
        var rules = SendingRules.Default with { MaxMarketingPerWeek = 2, MaxCapDelayHours = 0 };
        var recent = new[] { Noon.AddDays(-6), Noon.AddDays(-2) };

        var d = SendPolicy.Decide(Subscribed("UTC", recent), rules, Noon);

        Assert.Equal(SendVerdict.Delay, d.Verdict);
        Assert.Equal(Noon.AddDays(1), d.Until);
        Assert.Contains("2 marketing e-mails per 7 days", d.Reason);
    }

    [Fact]
    public void A_cap_that_would_hold_a_message_too_long_skips_it_instead()
    {
        var rules = SendingRules.Default with { MaxMarketingPerWeek = 2, MaxCapDelayHours = 48 };

        var d = SendPolicy.Decide(Subscribed("UTC", Noon.AddDays(-1), Noon.AddDays(-2)), rules, Noon);

        Assert.Equal(SendVerdict.Suppress, d.Verdict);
        Assert.Contains("Skipped by the frequency cap", d.Reason);
    }

    [Fact]
    public void A_cap_that_ends_inside_quiet_hours_moves_on_to_the_morning()
    {
        // The gap ends at 22:00 UTC, inside quiet hours in London (23:00 BST): wait for 08:00 BST = 07:00 UTC.
        var d = SendPolicy.Decide(Subscribed("Europe/London", Noon.AddHours(-6)), SendingRules.Default, Noon);

        Assert.Equal(new DateTime(2026, 6, 2, 7, 0, 0, DateTimeKind.Utc), d.Until);
        Assert.Contains("frequency cap", d.Reason);
        Assert.Contains("quiet hours", d.Reason);
    }

    [Fact]
    public void Quiet_hours_that_end_in_a_clock_change_gap_end_after_it()
    {
        // Europe/Berlin springs forward at 02:00 on 2026-03-29; with quiet hours until 02:30 that local time never happens.
        var rules = SendingRules.Default with { QuietFrom = new TimeOnly(22, 0), QuietUntil = new TimeOnly(2, 30) };
        var at = new DateTime(2026, 3, 28, 23, 0, 0, DateTimeKind.Utc); // 00:00 CET

        var end = SendPolicy.QuietEnd(at, SendPolicy.ZoneOf("Europe/Berlin", rules), rules);

        Assert.Equal(new DateTime(2026, 3, 29, 1, 0, 0, DateTimeKind.Utc), end); // 03:00 CEST
    }

    [Theory]
    [InlineData(24 * 60, null)] // exactly at the limit: still sent
    [InlineData(24 * 60 + 1, "24 hours 1 minute")]
    [InlineData(30 * 60, "30 hours")]
    public void Marketing_later_than_the_allowed_lateness_is_not_sent_and_says_when_it_was_due(int minutesLate, string? ago)
    {
        var due = Noon.AddMinutes(-minutesLate);
        var sent = ago is null;

        var d = SendPolicy.Decide(Subscribed("UTC") with { DueAt = due, QueuedAt = due }, SendingRules.Default, Noon);

        Assert.Equal(sent ? SendVerdict.Send : SendVerdict.Suppress, d.Verdict);
        if (!sent)
        {
            Assert.Equal($"Due at {due:yyyy-MM-dd HH:mm} UTC, {ago} ago: "
                + "more than the 24 hours allowed for a marketing message to be late; not sent.", d.Reason);
        }
    }

    [Fact]
    public void No_lateness_limit_when_it_is_set_to_0()
    {
        var rules = SendingRules.Default with { MaxLateHours = 0 };

        var d = SendPolicy.Decide(Subscribed("UTC") with { DueAt = Noon.AddDays(-30) }, rules, Noon);

        Assert.Equal(SendVerdict.Send, d.Verdict);
    }

    [Fact]
    public void Transactional_mail_is_sent_however_late()
    {
        var facts = new SendFacts { Class = MessageClass.Transactional, DueAt = Noon.AddDays(-10), QueuedAt = Noon.AddDays(-10) };

        Assert.Equal(SendVerdict.Send, SendPolicy.Decide(facts, SendingRules.Default with { MaxLateHours = 1 }, Noon).Verdict);
    }

    [Fact]
    public void Late_marketing_within_the_limit_still_waits_for_the_end_of_quiet_hours()
    {
        var night = new DateTime(2026, 6, 1, 23, 0, 0, DateTimeKind.Utc);

        var d = SendPolicy.Decide(Subscribed("UTC") with { DueAt = night.AddHours(-6) }, SendingRules.Default, night);

        Assert.Equal(SendVerdict.Delay, d.Verdict);
        Assert.Equal(new DateTime(2026, 6, 2, 8, 0, 0, DateTimeKind.Utc), d.Until);
    }
}
