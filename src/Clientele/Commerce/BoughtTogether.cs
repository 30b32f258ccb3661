using System.Runtime.InteropServices;

namespace Clientele.Commerce;

/// <summary>One line of one order, as the counting reads it.</summary>
internal readonly record struct PurchasedLine(Guid CustomerId, string Sku, OrderStatus Status);

/// <summary>
/// A product bought by the same customers as another one. <see cref="Buyers"/> is how many customers bought both,
/// <see cref="Confidence"/> the share of the first product's buyers who also bought this one, <see cref="Lift"/> how
/// many times more often the two go together than if people chose at random (above 1), and <see cref="Score"/>, which
/// ranks partners, the cosine of the two sets of buyers: those who bought both over the geometric mean of each
/// product's buyers (the square root of the confidences both ways), from 0 to 1.
/// </summary>
internal sealed record Partner(string Sku, int Buyers, double Confidence, double Lift, double Score);

/// <param name="Customers">Customers with at least one purchase that counts.</param>
/// <param name="Buyers">For each product, how many customers bought it.</param>
/// <param name="Partners">For each product that has any, its partners, best first.</param>
internal sealed record BoughtTogetherResult(
    int Customers, IReadOnlyDictionary<string, int> Buyers, IReadOnlyDictionary<string, IReadOnlyList<Partner>> Partners)
{
    /// <summary>Products by how many customers bought them, most first; ties by SKU.</summary>
    public IEnumerable<(string Sku, int Buyers)> BestSellers() =>
        Buyers.OrderByDescending(b => b.Value).ThenBy(b => b.Key, StringComparer.Ordinal).Select(b => (b.Key, b.Value));
}

/// <summary>What a contact bought: one line of one of their orders.</summary>
internal readonly record struct ContactPurchase(string Sku, DateTime PlacedAt, OrderStatus Status);

/// <summary>A stored partner of one of the contact's products.</summary>
internal readonly record struct StoredPartner(string Sku, string PartnerSku, int Buyers, double Score);

internal enum PickSource
{
    /// <summary>Bought by customers who bought what the contact bought.</summary>
    BoughtTogether,

    /// <summary>One of the business's best sellers: the contact's purchases gave too few picks.</summary>
    BestSeller,

    /// <summary>Any product of the catalogue: there were too few sales to go by.</summary>
    Catalog,
}

/// <param name="Because">The contact's products this one goes with, strongest first (empty for a best seller).</param>
internal sealed record Pick(string Sku, PickSource Source, double Score, IReadOnlyList<string> Because);

/// <summary>
/// "Customers who bought X also bought Y". Two products count as bought together when the same customer bought both,
/// in one order or in different ones; each customer counts once per pair, however often they bought. Refunded and
/// cancelled orders do not count. For each product, its partners are the products bought together with it by at
/// least <c>minBuyers</c> customers and more often than chance (lift above 1), ranked by the cosine of their buyers
/// (<see cref="Partner.Score"/>), then by how many customers bought both, then by SKU. The cosine weighs how strongly
/// two products go together against how many people it rests on: lift alone puts rarely bought products first,
/// confidence alone the best sellers. Pure: no I/O, no clock.
/// </summary>
internal static class BoughtTogether
{
    public const int DefaultTop = 10;
    public const int DefaultMinBuyers = 3;
    public const int DefaultPicks = 3;

    /// <summary>Purchases count half as much for each of these days before the contact's latest order.</summary>
    public static readonly TimeSpan HalfLife = TimeSpan.FromDays(90);

    /// <summary>Counts and ranks in one go; lines may come in any order.</summary>
    public static BoughtTogetherResult Compute(IEnumerable<PurchasedLine> lines, int top = DefaultTop, int minBuyers = DefaultMinBuyers)
    {
        var counter = new BasketCounter();
        foreach (var line in lines.OrderBy(l => l.CustomerId))
        {
            counter.Add(line);
        }
        return counter.Rank(top, minBuyers);
    }

    /// <summary>
    /// Picks for one contact: the partners of what they bought, each partner scored by the sum of its scores with the
    /// contact's products, every product weighted by how recently the contact last bought it (half as much per
    /// <see cref="HalfLife"/> before their latest order). Anything the contact ever bought is left out, refunded or
    /// not. Short of <paramref name="limit"/>, the list is filled from <paramref name="bestSellers"/>, then from
    /// <paramref name="catalog"/>, in their order.
    /// </summary>
    public static List<Pick> PickFor(
        IReadOnlyCollection<ContactPurchase> purchases, IEnumerable<StoredPartner> partners, IEnumerable<string> bestSellers,
        IEnumerable<string> catalog, int limit = DefaultPicks)
    {
        var owned = purchases.Select(p => p.Sku).ToHashSet(StringComparer.Ordinal);
        var kept = purchases.Where(p => p.Status == OrderStatus.Placed).ToList();
        var latest = kept.Count == 0 ? default : kept.Max(p => p.PlacedAt);
        var weight = kept.GroupBy(p => p.Sku, StringComparer.Ordinal).ToDictionary(
            g => g.Key,
            g => Math.Pow(0.5, (latest - g.Max(p => p.PlacedAt)).TotalDays / HalfLife.TotalDays),
            StringComparer.Ordinal);

        var candidates = new Dictionary<string, (double Score, int Buyers, List<(string Sku, double Part)> Because)>(StringComparer.Ordinal);
        foreach (var p in partners)
        {
            if (owned.Contains(p.PartnerSku) || !weight.TryGetValue(p.Sku, out var w))
            {
                continue;
            }
            ref var c = ref CollectionsMarshal.GetValueRefOrAddDefault(candidates, p.PartnerSku, out var exists);
            if (!exists)
            {
                c = (0, 0, []);
            }
            var part = w * p.Score;
            c = (c.Score + part, c.Buyers + p.Buyers, c.Because);
            c.Because.Add((p.Sku, part));
        }
        var picks = candidates
            .OrderByDescending(c => c.Value.Score)
            .ThenByDescending(c => c.Value.Buyers)
            .ThenBy(c => c.Key, StringComparer.Ordinal)
            .Take(limit)
            .Select(c => new Pick(c.Key, PickSource.BoughtTogether, c.Value.Score,
                [.. c.Value.Because.OrderByDescending(b => b.Part).ThenBy(b => b.Sku, StringComparer.Ordinal).Select(b => b.Sku)]))
            .ToList();
        var taken = picks.Select(p => p.Sku).ToHashSet(StringComparer.Ordinal);
        foreach (var (source, skus) in new[] { (PickSource.BestSeller, bestSellers), (PickSource.Catalog, catalog) })
        {
            foreach (var sku in skus)
            {
                if (picks.Count >= limit)
                {
                    return picks;
                }
                if (!owned.Contains(sku) && taken.Add(sku))
                {
                    picks.Add(new Pick(sku, source, 0, []));
                }
            }
        }
        return picks;
    }
}

/// <summary>
/// Counts customers and pairs from lines that come grouped by customer (all lines of one customer next to each other,
/// as a query ordered by customer returns them), so a pass over millions of lines holds one customer's basket at a
/// time; memory grows with the catalogue and the pairs seen, not with the orders.
/// </summary>
internal sealed class BasketCounter
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<string> _skus = [];
    private readonly List<int> _buyers = [];
    // Keyed by the two products' indexes, lower first; a tuple hashes both (a long made of them would not: it folds
    // its halves with XOR, and small indexes collide).
    private readonly Dictionary<(int A, int B), int> _pairs = [];
    private readonly List<int> _basket = [];
    private Guid _customer;
    private bool _started;
    private int _customers;

    public int Lines { get; private set; }

    public void Add(PurchasedLine line)
    {
        Lines++;
        if (!_started || line.CustomerId != _customer)
        {
            Close();
            _customer = line.CustomerId;
            _started = true;
        }
        if (line.Status != OrderStatus.Placed || line.Sku.Length == 0)
        {
            return;
        }
        ref var index = ref CollectionsMarshal.GetValueRefOrAddDefault(_index, line.Sku, out var known);
        if (!known)
        {
            index = _skus.Count;
            _skus.Add(line.Sku);
            _buyers.Add(0);
        }
        _basket.Add(index);
    }

    /// <summary>Counts the customer in hand: each product once, each pair of distinct products once.</summary>
    private void Close()
    {
        if (_basket.Count == 0)
        {
            return;
        }
        _basket.Sort();
        var distinct = 0;
        for (var i = 0; i < _basket.Count; i++)
        {
            if (i == 0 || _basket[i] != _basket[distinct - 1])
            {
                _basket[distinct++] = _basket[i];
            }
        }
        _customers++;
        for (var i = 0; i < distinct; i++)
        {
            _buyers[_basket[i]]++;
            for (var j = i + 1; j < distinct; j++)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(_pairs, (_basket[i], _basket[j]), out _)++;
            }
        }
        _basket.Clear();
    }

    /// <summary>Each product's best <paramref name="top"/> partners bought with it by at least <paramref name="minBuyers"/> customers.</summary>
    public BoughtTogetherResult Rank(int top, int minBuyers)
    {
        Close();
        var lists = new List<(int Other, int Both)>?[_skus.Count];
        foreach (var ((a, b), both) in _pairs)
        {
            // Lift above 1, exactly: both / customers > (buyers(a) / customers) * (buyers(b) / customers).
            if (both < minBuyers || (long)both * _customers <= (long)_buyers[a] * _buyers[b])
            {
                continue;
            }
            (lists[a] ??= []).Add((b, both));
            (lists[b] ??= []).Add((a, both));
        }
        var partners = new Dictionary<string, IReadOnlyList<Partner>>(StringComparer.Ordinal);
        for (var a = 0; a < lists.Length; a++)
        {
            if (lists[a] is not { } list)
            {
                continue;
            }
            // For one product, the cosine orders as both / √buyers(other), so as both² / buyers(other): compared as
            // integers, equal scores are equal whatever the rounding.
            list.Sort((x, y) =>
            {
                var byScore = ((Int128)y.Both * y.Both * _buyers[x.Other]).CompareTo((Int128)x.Both * x.Both * _buyers[y.Other]);
                return byScore != 0 ? byScore
                    : y.Both != x.Both ? y.Both.CompareTo(x.Both)
                    : string.CompareOrdinal(_skus[x.Other], _skus[y.Other]);
            });
            partners[_skus[a]] = list.Take(top).Select(p => new Partner(
                _skus[p.Other],
                p.Both,
                (double)p.Both / _buyers[a],
                (double)p.Both * _customers / ((double)_buyers[a] * _buyers[p.Other]),
                p.Both / Math.Sqrt((double)_buyers[a] * _buyers[p.Other]))).ToList();
        }
        var buyers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < _skus.Count; i++)
        {
            if (_buyers[i] > 0)
            {
                buyers[_skus[i]] = _buyers[i];
            }
        }
        return new BoughtTogetherResult(_customers, buyers, partners);
    }
}
