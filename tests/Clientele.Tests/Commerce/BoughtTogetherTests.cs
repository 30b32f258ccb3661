using Clientele.Commerce;

namespace Clientele.Tests.Commerce;

/// <summary>The pure counting and ranking of what customers buy together, and of a contact's picks.</summary>
public sealed class BoughtTogetherTests
{
    private static readonly DateTime Day0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static Guid Customer(int n) => new($"00000000-0000-0000-0000-{n:D12}");

    /// <summary>One order of one customer.</summary>
    private static IEnumerable<PurchasedLine> Order(int customer, string skus, OrderStatus status = OrderStatus.Placed) =>
        skus.Split(' ').Select(sku => new PurchasedLine(Customer(customer), sku, status));

    private static List<string> PartnersOf(BoughtTogetherResult result, string sku) =>
        result.Partners.TryGetValue(sku, out var list) ? [.. list.Select(p => p.Sku)] : [];

    [Fact]
    public void Products_bought_by_the_same_customers_in_one_order_or_in_two_are_partners_with_counts_confidence_and_lift()
    {
        var lines = new[]
        {
            Order(1, "A B"),
            Order(2, "A"), Order(2, "B"), // two orders of one customer
            Order(3, "A B C"),
            Order(3, "A B"),              // buying the pair again does not count twice
            Order(4, "C"),
            Order(5, "C D"),
            Order(6, "A D"),
            Order(7, "D"),
        }.SelectMany(x => x);

        var result = BoughtTogether.Compute(lines);

        Assert.Equal(7, result.Customers);
        Assert.Equal(new Dictionary<string, int> { ["A"] = 4, ["B"] = 3, ["C"] = 3, ["D"] = 3 }, result.Buyers);
        var ab = Assert.Single(result.Partners["A"]);
        Assert.Equal(("B", 3), (ab.Sku, ab.Buyers));
        Assert.Equal(0.75, ab.Confidence, 10);        // three of A's four buyers bought B
        Assert.Equal(3.0 * 7 / (4 * 3), ab.Lift, 10); // 1.75 times as often as by chance
        Assert.Equal(3 / Math.Sqrt(4 * 3), ab.Score, 10);
        var ba = Assert.Single(result.Partners["B"]);
        Assert.Equal(("A", 3, 1.0), (ba.Sku, ba.Buyers, ba.Confidence));
        // Pairs bought by one customer each do not make partners.
        Assert.False(result.Partners.ContainsKey("C"));
        Assert.False(result.Partners.ContainsKey("D"));
        Assert.Equal(["A", "B", "C", "D"], result.BestSellers().Select(b => b.Sku));
    }

    [Fact]
    public void A_pair_bought_by_fewer_customers_than_the_minimum_is_left_out_however_striking()
    {
        var lines = new[]
        {
            Order(1, "A B"), Order(2, "A B"), Order(3, "A B"),
            Order(4, "RARE-1 RARE-2"), // one customer: a lift of 6, from a single basket
            Order(5, "A"), Order(6, "C"),
        }.SelectMany(x => x).ToList();

        var result = BoughtTogether.Compute(lines);
        var anyPair = BoughtTogether.Compute(lines, minBuyers: 1);

        Assert.Equal(["A", "B"], result.Partners.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["RARE-2"], PartnersOf(anyPair, "RARE-1"));
        Assert.Equal(6.0, anyPair.Partners["RARE-1"][0].Lift, 10);
    }

    [Fact]
    public void Refunded_and_cancelled_orders_count_neither_the_products_nor_the_customer()
    {
        var lines = new[]
        {
            Order(1, "A B"), Order(2, "A B"),
            Order(3, "A B", OrderStatus.Refunded),
            Order(4, "A B", OrderStatus.Cancelled),
            Order(5, "A", OrderStatus.Refunded), Order(5, "C"),
            Order(6, "D"),
        }.SelectMany(x => x).ToList();

        Assert.Empty(BoughtTogether.Compute(lines).Partners);
        var result = BoughtTogether.Compute(lines, minBuyers: 2);

        Assert.Equal(4, result.Customers); // 1, 2, 5 (for C) and 6
        Assert.Equal(2, result.Buyers["A"]);
        var partner = Assert.Single(result.Partners["A"]);
        Assert.Equal(("B", 2), (partner.Sku, partner.Buyers));
        Assert.Equal(2.0 * 4 / (2 * 2), partner.Lift, 10);
        Assert.Equal(["A", "B"], result.Partners.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_product_that_everyone_buys_is_no_ones_partner()
    {
        // Everyone buys the house blend: it goes with A no more than with anything else.
        var lines = Enumerable.Range(1, 8).SelectMany(i => Order(i, i <= 4 ? "HOUSE A" : "HOUSE B"));

        var result = BoughtTogether.Compute(lines, minBuyers: 1);

        Assert.Empty(result.Partners);
        Assert.Equal(("HOUSE", 8), result.BestSellers().First());
    }

    [Fact]
    public void Equal_scores_are_ranked_by_how_many_bought_both_then_by_sku_whatever_the_order_of_the_lines()
    {
        var lines = new[]
        {
            Order(1, "A P Q"), Order(2, "A P Q"),
            Order(3, "A Q R S"), Order(4, "A Q R S"),
            Order(5, "Q"), Order(6, "Q"), Order(7, "Q"), Order(8, "Q"),
            Order(9, "E"), Order(10, "E"),
        }.SelectMany(x => x).ToList();

        // Each has a score of 0.71 with A: Q, bought by eight, with four of A's buyers; P, R and S, bought by two, with two.
        var expected = BoughtTogether.Compute(lines, minBuyers: 2);
        Assert.Equal(["Q", "P", "R", "S"], PartnersOf(expected, "A"));
        Assert.All(expected.Partners["A"], p => Assert.Equal(Math.Sqrt(0.5), p.Score, 10));
        Assert.Equal([1.25, 2.5, 2.5, 2.5], expected.Partners["A"].Select(p => Math.Round(p.Lift, 10)));
        Assert.Equal(["Q", "P"], PartnersOf(BoughtTogether.Compute(lines, top: 2, minBuyers: 2), "A"));
        for (var seed = 1; seed <= 20; seed++)
        {
            var shuffled = lines.ToArray();
            new Random(seed).Shuffle(shuffled);
            var result = BoughtTogether.Compute(shuffled, minBuyers: 2);
            Assert.Equal(expected.Partners.Keys.Order(StringComparer.Ordinal), result.Partners.Keys.Order(StringComparer.Ordinal));
            foreach (var (sku, partners) in expected.Partners)
            {
                Assert.Equal(partners, result.Partners[sku]);
            }
        }
    }

    [Fact]
    public void A_contacts_picks_go_with_what_they_bought_most_recently_and_leave_out_everything_they_bought()
    {
        var purchases = new[]
        {
            new ContactPurchase("OLD", Day0, OrderStatus.Placed),
            new ContactPurchase("RETURNED", Day0.AddDays(100), OrderStatus.Refunded),
            new ContactPurchase("NEW", Day0.AddDays(180), OrderStatus.Placed),
        };
        var partners = new[]
        {
            new StoredPartner("OLD", "WITH-OLD", 10, 0.6),         // 0.6 × ¼ (two half-lives before the latest order)
            new StoredPartner("OLD", "RETURNED", 10, 0.9),         // they had it once: not offered again
            new StoredPartner("OLD", "NEW", 10, 0.8),
            new StoredPartner("NEW", "WITH-NEW", 5, 0.4),          // 0.4 × 1
            new StoredPartner("RETURNED", "WITH-RETURNED", 5, 0.9), // a refund is no sign of taste
        };

        var picks = BoughtTogether.PickFor(purchases, partners, ["NEW", "TOP", "WITH-OLD", "SECOND"], ["CATALOG"]);

        Assert.Equal(["WITH-NEW", "WITH-OLD", "TOP"], picks.Select(p => p.Sku));
        Assert.Equal([PickSource.BoughtTogether, PickSource.BoughtTogether, PickSource.BestSeller], picks.Select(p => p.Source));
        Assert.Equal(0.4, picks[0].Score, 10);
        Assert.Equal(0.15, picks[1].Score, 10);
        Assert.Equal(["NEW"], picks[0].Because);
        Assert.Equal(["OLD"], picks[1].Because);
    }

    [Fact]
    public void A_product_bought_with_several_of_the_contacts_products_adds_up()
    {
        var purchases = new[] { new ContactPurchase("A", Day0, OrderStatus.Placed), new ContactPurchase("B", Day0, OrderStatus.Placed) };
        var partners = new[]
        {
            new StoredPartner("A", "SINGLE", 50, 0.6),
            new StoredPartner("A", "BOTH", 5, 0.4),
            new StoredPartner("B", "BOTH", 5, 0.3),
            new StoredPartner("A", "TIE-2", 4, 0.2),
            new StoredPartner("B", "TIE-1", 4, 0.2),
        };

        var picks = BoughtTogether.PickFor(purchases, partners, [], [], limit: 4);

        Assert.Equal(["BOTH", "SINGLE", "TIE-1", "TIE-2"], picks.Select(p => p.Sku));
        Assert.Equal(["A", "B"], picks[0].Because);
    }

    [Fact]
    public void A_contact_without_orders_gets_the_best_sellers_then_the_catalogue()
    {
        var picks = BoughtTogether.PickFor([], [], ["BEST"], ["NEWEST", "BEST", "OLDER", "OLDEST"]);

        Assert.Equal(["BEST", "NEWEST", "OLDER"], picks.Select(p => p.Sku));
        Assert.Equal([PickSource.BestSeller, PickSource.Catalog, PickSource.Catalog], picks.Select(p => p.Source));
        Assert.Empty(BoughtTogether.PickFor([], [], [], []));
    }
}
