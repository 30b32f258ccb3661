using Clientele.Lifecycle;

namespace Clientele.Tests.Lifecycle;

public sealed class LadderTests
{
    private static readonly DateTime Now = new(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly LadderSettings Rules = LadderSettings.Default;

    private static DateTime DaysAgo(double days) => Now.AddDays(-days);

    private static OrderFact Order(string id, double daysAgo, params string[] categories) => new(id, DaysAgo(daysAgo), categories);

    private static Stage StageOf(StageFacts facts) => Ladder.Decide(facts, Rules, Now).Stage;

    [Fact]
    public void A_contact_we_only_know_of_is_a_lead()
    {
        var decision = Ladder.Decide(new StageFacts(), Rules, Now);

        Assert.Equal(Stage.Lead, decision.Stage);
        Assert.Equal("known contact", decision.Reason);
    }

    [Fact]
    public void Consent_captures_and_withdrawing_it_falls_back_to_lead()
    {
        Assert.Equal(Stage.Capture, StageOf(new StageFacts { ConsentTopics = ["newsletter"] }));
        Assert.Equal(Stage.Lead, StageOf(new StageFacts { ConsentTopics = [], FormSubmittedAt = DaysAgo(1) }));
    }

    [Fact]
    public void Qualification_outranks_capture()
    {
        Assert.Equal(Stage.Qualify, StageOf(new StageFacts { ConsentTopics = ["newsletter"], QualifiedAt = DaysAgo(2) }));
    }

    [Fact]
    public void A_buying_signal_converts_until_it_goes_stale()
    {
        Assert.Equal(Stage.Convert, StageOf(new StageFacts { QualifiedAt = DaysAgo(20), BuyingSignalAt = DaysAgo(10) }));
        Assert.Equal(Stage.Qualify, StageOf(new StageFacts { QualifiedAt = DaysAgo(200), BuyingSignalAt = DaysAgo(91) }));
    }

    [Fact]
    public void A_running_trial_is_trial_and_an_ended_or_expired_one_is_not()
    {
        var running = new TrialFact(DaysAgo(3), Now.AddDays(11), null, null);
        var lapsed = new TrialFact(DaysAgo(30), DaysAgo(16), DaysAgo(16), "lapsed");
        var expired = new TrialFact(DaysAgo(30), DaysAgo(16), null, null);

        Assert.Equal(Stage.Trial, StageOf(new StageFacts { BuyingSignalAt = DaysAgo(5), Trials = [running] }));
        Assert.Equal(Stage.Convert, StageOf(new StageFacts { BuyingSignalAt = DaysAgo(40), Trials = [lapsed] }));
        Assert.Equal(Stage.Lead, StageOf(new StageFacts { Trials = [expired] }));
    }

    [Fact]
    public void The_first_order_is_a_purchase_and_its_refund_takes_it_back()
    {
        var trial = new TrialFact(DaysAgo(3), Now.AddDays(11), null, null);
        var decision = Ladder.Decide(new StageFacts { Trials = [trial], Orders = [Order("1001", 1, "coffee")] }, Rules, Now);

        Assert.Equal(Stage.Purchase, decision.Stage);
        Assert.Equal("order 1001: the first order", decision.Reason);
        Assert.Equal(Stage.Trial, StageOf(new StageFacts { Trials = [trial], Orders = [Order("1001", 1, "coffee") with { Refunded = true }] }));
    }

    [Fact]
    public void A_second_order_is_a_repurchase_and_refunding_it_falls_back_to_purchase()
    {
        Assert.Equal(Stage.RePurchase, StageOf(new StageFacts { Orders = [Order("1", 40, "coffee"), Order("2", 5, "coffee")] }));
        Assert.Equal(Stage.Purchase, StageOf(new StageFacts { Orders = [Order("1", 40, "coffee"), Order("2", 5, "coffee") with { Refunded = true }] }));
    }

    [Fact]
    public void A_new_category_while_still_buying_the_first_is_a_cross_purchase()
    {
        var decision = Ladder.Decide(new StageFacts { Orders = [Order("1", 90, "coffee"), Order("2", 60, "coffee"), Order("3", 10, "Grinders")] }, Rules, Now);

        Assert.Equal(Stage.CrossPurchase, decision.Stage);
        Assert.Contains("Grinders", decision.Reason);
    }

    [Fact]
    public void A_new_category_long_after_the_first_stopped_is_only_a_repurchase()
    {
        Assert.Equal(Stage.RePurchase, StageOf(new StageFacts { Orders = [Order("1", 800, "coffee"), Order("2", 10, "grinders")] }));
        // The same category under another spelling is not a second category.
        Assert.Equal(Stage.RePurchase, StageOf(new StageFacts { Orders = [Order("1", 30, "Coffee"), Order("2", 10, "coffee")] }));
    }

    [Fact]
    public void Repeat_buying_with_advocacy_is_loyalty_dated_from_when_it_began()
    {
        var facts = new StageFacts { Orders = [Order("1", 200, "coffee"), Order("2", 100, "coffee"), Order("3", 20, "coffee")], AdvocacyAt = DaysAgo(15) };

        var decision = Ladder.Decide(facts, Rules, Now, changedAt: DaysAgo(15));

        Assert.Equal(Stage.Loyalty, decision.Stage);
        Assert.Equal(DaysAgo(15), decision.LoyalSince);
        Assert.Equal(Stage.RePurchase, StageOf(facts with { AdvocacyAt = null })); // no advocacy, no loyalty
        Assert.Equal(Stage.RePurchase, StageOf(facts with { AdvocacyAt = DaysAgo(400) })); // advocacy too long ago
    }

    [Fact]
    public void Loyalty_falls_when_buying_stops_and_forgets_when_it_began()
    {
        var facts = new StageFacts
        {
            Orders = [Order("1", 500, "coffee"), Order("2", 400, "coffee"), Order("3", 200, "coffee")],
            AdvocacyAt = DaysAgo(100),
            LoyalSince = DaysAgo(300),
        };

        var decision = Ladder.Decide(facts, Rules, Now);

        Assert.Equal(Stage.RePurchase, decision.Stage);
        Assert.Null(decision.LoyalSince);
    }

    [Fact]
    public void Loyalty_kept_for_a_year_is_retention()
    {
        var facts = new StageFacts
        {
            Orders = [Order("1", 700, "coffee"), Order("2", 400, "coffee"), Order("3", 30, "coffee")],
            AdvocacyAt = DaysAgo(60),
        };

        Assert.Equal(Stage.Retention, Ladder.Decide(facts with { LoyalSince = DaysAgo(366) }, Rules, Now).Stage);
        Assert.Equal(Stage.Loyalty, Ladder.Decide(facts with { LoyalSince = DaysAgo(300) }, Rules, Now).Stage);
    }

    [Fact]
    public void Settings_change_the_rules()
    {
        var facts = new StageFacts { Orders = [Order("1", 60, "coffee"), Order("2", 30, "coffee")], AdvocacyAt = DaysAgo(5) };

        Assert.Equal(Stage.RePurchase, Ladder.Decide(facts, Rules, Now).Stage);
        Assert.Equal(Stage.Loyalty, Ladder.Decide(facts, Rules with { LoyaltyOrders = 2 }, Now).Stage);
        Assert.Equal(Stage.Lead, Ladder.Decide(new StageFacts { BuyingSignalAt = DaysAgo(10) }, Rules with { ConvertDays = 7 }, Now).Stage);
    }
}
