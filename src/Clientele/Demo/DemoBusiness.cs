using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bogus;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Events;
using Clientele.Offers;
using Clientele.Referrals;

namespace Clientele.Demo;

/// <summary>Everything the demo business consists of, ready to store.</summary>
internal sealed record DemoData(List<Product> Products, List<Contact> Contacts, List<Event> Events, List<Order> Orders, DemoReferrals Referrals);

/// <summary>The referral programme's history: the two reward offers, advocates' codes, their friends and the coupons given.</summary>
internal sealed record DemoReferrals(Offer FriendOffer, Offer ReferrerOffer, List<ReferralCode> Codes, List<Referral> Referrals, List<Coupon> Coupons);

/// <summary>
/// Northwind Roasters, a specialty coffee roaster with two years of history: people at every rung of
/// the ladder, from anonymous page views to loyal advocates, and some who stopped buying.
/// Generated from a fixed seed, with dates relative to <c>now</c>, so the same clock gives the same business.
/// </summary>
/// <remarks>
/// Buying follows the pattern the customer-value models assume (a "buy till you die" process): each
/// customer buys at their own rate, drawn from a skewed gamma distribution so a few buy very often,
/// and after each order leaves for good with their own probability. So the data has one-time buyers,
/// steady repeaters and customers who quietly lapsed.
/// </remarks>
internal static class DemoBusiness
{
    public const string Name = "Northwind Roasters";
    public const int Seed = 2026;
    public const int ContactCount = 2000;
    public const string Source = "demo";
    public const string NewsletterTopic = "newsletter";
    public static readonly TimeSpan History = TimeSpan.FromDays(730);

    internal const string ConsentWording = "Yes, send me the Northwind Roasters newsletter: new roasts, brew guides and offers. I can unsubscribe at any time.";

    public static readonly (string Sku, string Name, string Category, decimal Price)[] Catalog =
    [
        ("COF-ETH-250", "Ethiopia Yirgacheffe, 250 g", "Coffee", 16.50m),
        ("COF-COL-250", "Colombia Huila, 250 g", "Coffee", 14.00m),
        ("COF-KEN-250", "Kenya AA Nyeri, 250 g", "Coffee", 18.00m),
        ("COF-GUA-250", "Guatemala Antigua, 250 g", "Coffee", 15.50m),
        ("COF-SUM-250", "Sumatra Mandheling, 250 g", "Coffee", 16.00m),
        ("COF-DEC-250", "Swiss Water Decaf, 250 g", "Coffee", 15.00m),
        ("COF-ESP-1KG", "House Espresso Blend, 1 kg", "Coffee", 38.00m),
        ("TEA-DAR-100", "Darjeeling First Flush, 100 g", "Tea", 14.00m),
        ("TEA-SEN-100", "Kyoto Sencha, 100 g", "Tea", 12.00m),
        ("TEA-EGS-100", "Earl Grey Supreme, 100 g", "Tea", 10.00m),
        ("TEA-CHA-100", "Masala Chai, 100 g", "Tea", 9.50m),
        ("EQP-V60", "Hario V60 Dripper", "Equipment", 28.00m),
        ("EQP-CHEMEX", "Chemex 6-Cup", "Equipment", 49.00m),
        ("EQP-GRINDER", "Burr Grinder Pro", "Equipment", 189.00m),
        ("EQP-KETTLE", "Gooseneck Kettle", "Equipment", 79.00m),
        ("EQP-AERO", "AeroPress Go", "Equipment", 39.00m),
        ("SUB-CLUB", "Monthly Coffee Club", "Subscriptions", 29.00m),
        ("SUB-ESP", "Espresso Lovers Monthly", "Subscriptions", 34.00m),
        ("SUB-TEA", "Tea Explorer Monthly", "Subscriptions", 24.00m),
        ("SUB-OFFICE", "Office Coffee Box", "Subscriptions", 119.00m),
    ];

    internal static readonly string[] Categories = ["Coffee", "Tea", "Equipment", "Subscriptions"];

    public const string ShopUrl = "https://northwind-roasters.example";

    /// <summary>What people tend to buy together: a brewer with the coffee it suits, a kettle with a dripper, teas in pairs.</summary>
    public static readonly (string Sku, string With, double Chance)[] Companions =
    [
        ("EQP-V60", "COF-ETH-250", 0.6),
        ("EQP-CHEMEX", "COF-KEN-250", 0.6),
        ("EQP-GRINDER", "COF-ESP-1KG", 0.55),
        ("EQP-AERO", "COF-COL-250", 0.5),
        ("EQP-KETTLE", "EQP-V60", 0.45),
        ("TEA-DAR-100", "TEA-SEN-100", 0.4),
        ("TEA-CHA-100", "TEA-EGS-100", 0.35),
        ("SUB-ESP", "EQP-GRINDER", 0.2),
    ];

    internal static readonly (string Zone, string Locale, float Weight)[] Regions =
    [
        ("America/New_York", "en-US", 24), ("America/Chicago", "en-US", 12), ("America/Denver", "en-US", 5),
        ("America/Los_Angeles", "en-US", 17), ("America/Toronto", "en-CA", 5), ("Europe/London", "en-GB", 12),
        ("Europe/Berlin", "de-DE", 8), ("Europe/Paris", "fr-FR", 4), ("Australia/Sydney", "en-AU", 7), ("Asia/Tokyo", "ja-JP", 6),
    ];

    internal static readonly (string Source, string Medium, float Weight)[] Channels =
    [
        ("google", "cpc", 30), ("instagram", "social", 20), ("facebook", "social", 12), ("newsletter", "email", 15),
        ("brewcast", "podcast", 8), ("cafe-partner", "referral", 15),
    ];

    internal static readonly string[] Campaigns = ["spring-roasts", "holiday-gifts", "brew-guide", "cold-brew-summer", "office-coffee", "first-bag-free-shipping"];

    internal static readonly string[] Pages =
    [
        "/", "/shop", "/shop/coffee", "/shop/tea", "/shop/equipment", "/subscriptions", "/brew-guides/v60", "/brew-guides/french-press",
        "/blog/how-we-source", "/blog/light-vs-dark-roast", "/wholesale", "/about", "/shop/coffee/ethiopia-yirgacheffe", "/shop/coffee/kenya-aa",
    ];

    internal static readonly string[] Roles = ["Owner", "Office Manager", "Head Barista", "Operations Lead", "Procurement", "Café Manager"];

    internal static readonly string[] Comments =
    [
        "Best beans I've had in years.", "Fast shipping, lovely packaging.", "The Kenya AA is fantastic.", "Great service when my order was late.",
        "Subscription makes mornings easy.", "Would love more decaf options.", "A bit pricey, but worth it.",
    ];

    private enum Kind
    {
        Lead,
        Captured,
        Prospect,
        Trial,
        Customer,
    }

    /// <summary>Builds the whole business. Pure apart from fresh ids: same <paramref name="now"/>, same data.</summary>
    public static DemoData Generate(DateTime now)
    {
        var f = new Faker("en") { Random = new Randomizer(Seed) };
        var rng = new Random(Seed);
        var start = now - History;
        var g = new Generator(f, rng, now, start);

        var products = Catalog.Select(p => new Product
        {
            Id = Guid.CreateVersion7(new DateTimeOffset(start)),
            Sku = p.Sku,
            Name = p.Name,
            Category = p.Category,
            Price = p.Price,
            Currency = "USD",
            Url = $"{ShopUrl}/shop/{p.Sku.ToLowerInvariant()}",
            ImageUrl = $"{ShopUrl}/images/{p.Sku.ToLowerInvariant()}.jpg",
            CreatedAt = start,
            UpdatedAt = start,
        }).ToList();

        for (var i = 0; i < ContactCount; i++)
        {
            var kind = g.Weighted(
                [Kind.Lead, Kind.Captured, Kind.Prospect, Kind.Trial, Kind.Customer],
                [0.16f, 0.14f, 0.05f, 0.07f, 0.58f]);
            g.Person(kind);
        }
        var referrals = g.Referrals(start);

        // The log is read in id order, so store events in the order they happened.
        var events = g.Events.OrderBy(e => e.OccurredAt).ThenBy(e => e.Type == "order.placed" ? 0 : 1).ToList();
        return new DemoData(products, g.Contacts, events, g.Orders, referrals);
    }

    /// <summary>Gamma(shape, scale) by Marsaglia and Tsang; shape below 1 by the boost u^(1/shape).</summary>
    internal static double Gamma(Random rng, double shape, double scale)
    {
        if (shape < 1)
        {
            return Gamma(rng, shape + 1, scale) * Math.Pow(rng.NextDouble(), 1 / shape);
        }
        var d = shape - 1.0 / 3;
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Normal(rng);
                v = 1 + c * x;
            }
            while (v <= 0);
            v = v * v * v;
            var u = rng.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v)))
            {
                return d * v * scale;
            }
        }
    }

    internal static double Beta(Random rng, double a, double b)
    {
        var x = Gamma(rng, a, 1);
        return x / (x + Gamma(rng, b, 1));
    }

    private static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private sealed class Generator(Faker f, Random rng, DateTime now, DateTime start)
    {
        public List<Contact> Contacts { get; } = [];
        public List<Event> Events { get; } = [];
        public List<Order> Orders { get; } = [];

        private readonly HashSet<string> _emails = [];

        // Its own sequence, so adding companions leaves every other draw of the business as it was.
        private readonly Random _companions = new(Seed + 1);
        private readonly List<Contact> _advocates = [];
        private readonly List<Contact> _referable = [];
        private readonly List<Contact> _referableBuyers = [];
        private int _orderNumber = 10000;
        private int _customerNumber = 20000;

        public void Person(Kind kind)
        {
            var first = f.Name.FirstName();
            var last = f.Name.LastName();
            var region = Weighted(Regions, Regions.Select(r => r.Weight).ToArray());
            // Acquisition grows over time: more people arrive in recent months.
            var firstTouch = start + TimeSpan.FromDays(729 * Math.Sqrt(rng.NextDouble()));
            var c = new Contact
            {
                Id = Guid.CreateVersion7(new DateTimeOffset(firstTouch)),
                FirstName = first,
                LastName = last,
                TimeZone = region.Zone,
                Locale = region.Locale,
                CreatedAt = firstTouch,
                UpdatedAt = now,
                Source = kind == Kind.Customer ? Weighted(["shop", "web", "event"], [0.6f, 0.3f, 0.1f]) : "web",
            };
            SetEmail(c, first, last);
            if (f.Random.Bool(0.6f))
            {
                c.Birthday = DateOnly.FromDateTime(f.Date.Between(now.AddYears(-70), now.AddYears(-19)));
            }
            if (f.Random.Bool(0.45f))
            {
                c.Phone = $"+1 ({f.Random.Int(201, 989)}) 555-01{f.Random.Int(0, 99):00}"; // 555-01xx numbers are reserved for fiction
            }
            if (f.Random.Bool(0.65f))
            {
                var channel = Weighted(Channels, Channels.Select(x => x.Weight).ToArray());
                c.UtmSource = channel.Source;
                c.UtmMedium = channel.Medium;
                c.UtmCampaign = f.PickRandom(Campaigns);
            }
            var attributes = new JsonObject();
            if (f.Random.Bool(0.4f))
            {
                attributes["favoriteRoast"] = f.PickRandom("light", "medium", "dark");
            }
            Contacts.Add(c);
            var firstEvent = Events.Count;

            var t = firstTouch;
            t = Browse(c, t, f.Random.Int(1, 4));
            switch (kind)
            {
                case Kind.Lead:
                    _referable.Add(c);
                    break;
                case Kind.Captured:
                    Capture(c, t);
                    _referable.Add(c);
                    break;
                case Kind.Prospect:
                    Prospect(c, t, attributes);
                    break;
                case Kind.Trial:
                    Trial(c, t);
                    break;
                default:
                    if (f.Random.Bool(0.55f))
                    {
                        t = Capture(c, t);
                    }
                    Buy(c, Later(t, 0, 10), attributes);
                    _referableBuyers.Add(c);
                    break;
            }
            c.Attributes = attributes.ToJsonString();
            c.Tags = c.Tags.Distinct().Order(StringComparer.Ordinal).ToList();
            c.LastActivityAt = Events.Count > firstEvent ? Events.Skip(firstEvent).Max(e => e.OccurredAt) : null;
        }

        private void SetEmail(Contact c, string first, string last)
        {
            // Reserved example domains only: a demo must never mail a real person.
            var local = Ascii(first) + "." + Ascii(last);
            var domain = f.PickRandom("example.com", "example.net", "example.org");
            var email = $"{local}@{domain}";
            for (var n = 2; !_emails.Add(email); n++)
            {
                email = $"{local}{n}@{domain}";
            }
            c.Email = email;
            c.EmailNormalized = email;
        }

        private static string Ascii(string name)
        {
            var b = new StringBuilder();
            foreach (var ch in name.Normalize(NormalizationForm.FormD).ToLowerInvariant())
            {
                if (ch is >= 'a' and <= 'z' or >= '0' and <= '9')
                {
                    b.Append(ch);
                }
            }
            return b.Length == 0 ? "guest" : b.ToString();
        }

        /// <summary>A moment some days after <paramref name="t"/>, squeezed in before now when it would be later.</summary>
        private DateTime Later(DateTime t, double minDays, double maxDays)
        {
            var next = t + TimeSpan.FromMinutes(f.Random.Double(minDays, maxDays) * 1440);
            return next < now ? next : t + (now - t) * f.Random.Double(0.1, 0.9);
        }

        public T Weighted<T>(T[] items, float[] weights)
        {
            var sum = weights.Sum();
            return f.Random.WeightedRandom(items, weights.Select(w => w / sum).ToArray());
        }

        private void Add(Contact c, string type, DateTime at, object properties, string? key = null) =>
            Events.Add(new Event
            {
                ContactId = c.Id,
                Type = type,
                OccurredAt = at,
                ReceivedAt = at,
                Properties = JsonSerializer.Serialize(properties, EventJson.Options),
                IdempotencyKey = key,
                Source = Source,
            });

        private DateTime Browse(Contact c, DateTime t, int pages)
        {
            for (var i = 0; i < pages; i++)
            {
                Add(c, "page.viewed", t, new { url = f.PickRandom(Pages), utmSource = c.UtmSource });
                t = Later(t, 0.001, 3);
            }
            return t;
        }

        /// <summary>Newsletter sign-up with consent; a few withdraw it later.</summary>
        private DateTime Capture(Contact c, DateTime t)
        {
            Add(c, "form.submitted", t, new
            {
                form = "newsletter-signup",
                fields = new { email = c.Email, firstName = c.FirstName },
                consentWording = ConsentWording,
            });
            Add(c, "consent.given", t, new { topic = NewsletterTopic, source = "form", wording = ConsentWording });
            var consent = new ContactConsent
            {
                ContactId = c.Id,
                Topic = NewsletterTopic,
                Status = ConsentStatus.Subscribed,
                At = t,
                Source = "form",
                Wording = ConsentWording,
            };
            c.Consents.Add(consent);
            c.Tags.Add("newsletter");
            if (f.Random.Bool(0.06f))
            {
                var withdrawn = Later(t, 20, 300);
                Add(c, "consent.withdrawn", withdrawn, new { topic = NewsletterTopic, source = "unsubscribe" });
                consent.Status = ConsentStatus.Unsubscribed;
                consent.At = withdrawn;
                consent.Source = "unsubscribe";
                c.Tags.Remove("newsletter");
            }
            return Later(t, 0.01, 5);
        }

        /// <summary>A business asking about wholesale or the office box; some of them order.</summary>
        private void Prospect(Contact c, DateTime t, JsonObject attributes)
        {
            c.Tags.Add("wholesale");
            attributes["company"] = f.Company.CompanyName();
            attributes["role"] = f.PickRandom(Roles);
            attributes["budget"] = f.Random.Int(5, 60) * 100;
            var asked = f.Random.Bool(0.5f) ? "quote.requested" : "demo.requested";
            Add(c, asked, t, new { product = "Office Coffee Box", seats = f.Random.Int(5, 80), message = "Looking for coffee for our team." });
            if (f.Random.Bool(0.45f))
            {
                var accepted = Later(t, 1, 14);
                Add(c, "offer.accepted", accepted, new { offer = "WHOLESALE10", discount = 10 });
                c.ExternalId = "NW-" + (++_customerNumber).ToString(CultureInfo.InvariantCulture);
                Buy(c, Later(accepted, 0, 3), attributes, office: true);
            }
        }

        /// <summary>A two-week coffee-club trial: converted, lapsed, or still running.</summary>
        private void Trial(Contact c, DateTime t)
        {
            t = Capture(c, t);
            Add(c, "trial.started", t, new { product = "Monthly Coffee Club", plan = "SUB-CLUB", days = 14, endsAt = t.AddDays(14) });
            var end = t.AddDays(14);
            if (end > now)
            {
                return; // still in the trial
            }
            var converted = f.Random.Bool(0.5f);
            Add(c, "trial.ended", end, new { product = "Monthly Coffee Club", outcome = converted ? "converted" : "lapsed" });
            if (converted)
            {
                Buy(c, Later(end, 0, 1), new JsonObject(), subscriber: true);
            }
        }

        /// <summary>Orders until the customer drops out or the present is reached.</summary>
        private void Buy(Contact c, DateTime t, JsonObject attributes, bool office = false, bool subscriber = false)
        {
            c.ExternalId ??= "NW-" + (++_customerNumber).ToString(CultureInfo.InvariantCulture);
            var primary = office || subscriber ? "Subscriptions" : Weighted(Categories, [0.58f, 0.2f, 0.1f, 0.12f]);
            var crossRate = Beta(rng, 1, 4);                 // how often they also buy from another category
            var rate = Gamma(rng, 0.9, 1 / (40 * 0.9));      // orders per day; mean one every 40 days, heavy-tailed
            if (office || subscriber)
            {
                rate = Math.Max(rate, 1 / 35.0);             // subscribers are billed about monthly
            }
            var dropout = Beta(rng, 1.1, 5);                 // chance to leave after each order
            var orders = 0;
            var spent = 0m;
            var last = t;
            while (t < now && orders < 80)
            {
                spent += Order(c, t, primary, crossRate, first: orders == 0, office);
                last = t;
                orders++;
                if (rng.NextDouble() < dropout)
                {
                    break;
                }
                var gap = -Math.Log(1 - rng.NextDouble()) / rate;
                t += TimeSpan.FromDays(Math.Max(2, gap)) + TimeSpan.FromMinutes(f.Random.Int(0, 1439));
            }
            var active = now - last < TimeSpan.FromDays(120);
            if (orders >= 4 && active)
            {
                if (f.Random.Bool(0.6f))
                {
                    Add(c, "survey.answered", Later(last, 1, 10), new { kind = "nps", score = f.Random.Int(9, 10), comment = f.PickRandom(Comments) });
                    _advocates.Add(c);
                }
                if (f.Random.Bool(0.5f))
                {
                    c.Tags.Add("vip");
                }
            }
            else if (f.Random.Bool(0.15f))
            {
                Add(c, "survey.answered", Later(last, 2, 20), new
                {
                    kind = "nps",
                    score = Weighted([3, 5, 6, 7, 8, 9], [0.1f, 0.1f, 0.2f, 0.25f, 0.2f, 0.15f]),
                    comment = f.Random.Bool(0.4f) ? f.PickRandom(Comments) : null,
                });
            }
            if (spent > 800)
            {
                c.Tags.Add("vip");
            }
            if (office)
            {
                attributes["company"] ??= f.Company.CompanyName();
            }
        }

        private decimal Order(Contact c, DateTime at, string primary, double crossRate, bool first, bool office)
        {
            var lines = new List<OrderLine>();
            var count = office ? 1 : Weighted([1, 2, 3], [0.6f, 0.3f, 0.1f]);
            for (var i = 0; i < count; i++)
            {
                var category = rng.NextDouble() < crossRate ? f.PickRandom(Categories.Where(x => x != primary)) : primary;
                var product = office ? Catalog.Single(p => p.Sku == "SUB-OFFICE")
                    : f.PickRandom(Catalog.Where(p => p.Category == category && (category != "Subscriptions" || p.Sku != "SUB-OFFICE")));
                if (lines.Any(l => l.Sku == product.Sku))
                {
                    continue;
                }
                var quantity = product.Category is "Subscriptions" or "Equipment" ? 1 : Weighted([1, 2, 3], [0.75f, 0.2f, 0.05f]);
                lines.Add(new OrderLine { ContactId = c.Id, Sku = product.Sku, Category = product.Category, Quantity = quantity, Price = product.Price });
            }
            for (var i = 0; i < lines.Count && !office; i++)
            {
                foreach (var (_, with, chance) in Companions.Where(x => x.Sku == lines[i].Sku))
                {
                    if (_companions.NextDouble() < chance && !lines.Any(l => l.Sku == with))
                    {
                        var companion = Catalog.Single(p => p.Sku == with);
                        lines.Add(new OrderLine { ContactId = c.Id, Sku = companion.Sku, Category = companion.Category, Quantity = 1, Price = companion.Price });
                    }
                }
            }
            string? coupon = null;
            var discount = 0m;
            if (first && f.Random.Bool(0.3f))
            {
                (coupon, discount) = ("WELCOME10", 0.10m);
            }
            else if (at.Month is 11 or 12 && f.Random.Bool(0.35f))
            {
                (coupon, discount) = ("HOLIDAY15", 0.15m);
            }
            else if (office)
            {
                (coupon, discount) = ("WHOLESALE10", 0.10m);
            }
            var total = Math.Round(lines.Sum(l => l.Price * l.Quantity) * (1 - discount), 2);
            var orderId = "NR-" + (++_orderNumber).ToString(CultureInfo.InvariantCulture);
            var order = new Order
            {
                Id = Guid.CreateVersion7(new DateTimeOffset(at)),
                ContactId = c.Id,
                ExternalId = orderId,
                Total = total,
                Currency = "USD",
                PlacedAt = at,
                Coupon = coupon,
                Lines = lines,
                CreatedAt = now,
                UpdatedAt = now,
            };
            // The same properties the orders API writes, so the commerce consumer rebuilds this very order.
            Add(c, "order.placed", at, new
            {
                orderId,
                total,
                currency = "USD",
                coupon,
                items = lines.Select(l => new { sku = l.Sku, category = l.Category, name = (string?)null, quantity = l.Quantity, price = l.Price }),
            }, "order:" + orderId);
            Orders.Add(order);
            if (f.Random.Bool(0.03f))
            {
                var refunded = Later(at, 2, 20);
                order.Status = OrderStatus.Refunded;
                order.RefundedAt = refunded;
                Add(c, "order.refunded", refunded, new { orderId, reason = f.PickRandom("damaged in transit", "wrong grind", "changed my mind") },
                    "order-refund:" + orderId);
                return 0;
            }
            return total;
        }

        /// <summary>
        /// Advocates bring friends through their links: most friends sign up and buy (the advocate is thanked with a
        /// coupon, the friend had one on signing up), some have not bought yet, and a few were contacts already and so
        /// were turned down — the referral programme's history as its consumer would have written it.
        /// </summary>
        public DemoReferrals Referrals(DateTime start)
        {
            var friendOffer = new Offer
            {
                Id = Guid.CreateVersion7(new DateTimeOffset(start)),
                Name = "Friend's welcome",
                Title = "15 % off your first order",
                Description = "For friends of our customers, on their first bag.",
                Kind = OfferKind.Percent,
                Value = 15,
                Prefix = "FRIEND-",
                ValidDays = 30,
                CreatedAt = start,
                UpdatedAt = start,
            };
            var referrerOffer = new Offer
            {
                Id = Guid.CreateVersion7(new DateTimeOffset(start)),
                Name = "Thanks for the referral",
                Title = "$10 off, with thanks for spreading the word",
                Kind = OfferKind.Amount,
                Value = 10,
                Currency = "USD",
                Prefix = "THANKS-",
                ValidDays = 90,
                CreatedAt = start,
                UpdatedAt = start,
            };
            var result = new DemoReferrals(friendOffer, referrerOffer, [], [], []);
            var firstOrders = Orders.GroupBy(o => o.ContactId).ToDictionary(g => g.Key, g => g.OrderBy(o => o.PlacedAt).First());
            foreach (var advocate in _advocates.Where(_ => f.Random.Bool(0.35f)))
            {
                var code = string.Concat(Enumerable.Range(0, ReferralRules.CodeLength).Select(_ => f.Random.ArrayElement(ReferralRules.CodeAlphabet.ToCharArray())));
                var friends = 0;
                var lastSignUp = DateTime.MinValue;
                var wanted = Weighted([1, 2, 3, 4], [0.5f, 0.25f, 0.15f, 0.1f]);
                for (var i = 0; i < wanted; i++)
                {
                    var pool = f.Random.Bool(0.65f) ? _referableBuyers : _referable;
                    var friend = pool.FirstOrDefault(x => x.CreatedAt > advocate.CreatedAt.AddDays(30));
                    if (friend is null)
                    {
                        continue;
                    }
                    pool.Remove(friend);
                    // Now and then a known contact comes by the link later on: only new leads count.
                    var known = f.Random.Bool(0.12f) && now - friend.CreatedAt > TimeSpan.FromDays(40);
                    var at = known ? Later(friend.CreatedAt, 20, 120) : friend.CreatedAt;
                    var referral = new Referral
                    {
                        Id = Guid.CreateVersion7(new DateTimeOffset(at)),
                        ReferrerId = advocate.Id,
                        FriendId = friend.Id,
                        Code = code,
                        Source = "form:newsletter",
                        ClickedAt = at.AddMinutes(-f.Random.Int(3, 600)),
                        SignedUpAt = at,
                        Status = known ? ReferralStatus.Rejected : ReferralStatus.SignedUp,
                        RejectionReason = known ? $"{friend.Email} was a contact already (since {friend.CreatedAt:yyyy-MM-dd}) before following the link: only new leads count." : null,
                        CreatedAt = at,
                        UpdatedAt = at,
                    };
                    result.Referrals.Add(referral);
                    friends++;
                    lastSignUp = at > lastSignUp ? at : lastSignUp;
                    if (!known)
                    {
                        friend.Source = "referral";
                        friend.Referrer = $"{ShopUrl}/r/{code}";
                    }
                    if (known)
                    {
                        Told(advocate, friend, referral, "referral.rejected", at, new() { ["reason"] = referral.RejectionReason });
                        continue;
                    }
                    Told(advocate, friend, referral, "referral.signed_up", at, new() { ["source"] = referral.Source });
                    var welcome = Coupon(result, friendOffer, friend, referral, "friend", at);
                    referral.FriendCouponId = welcome.Id;
                    Told(advocate, friend, referral, "referral.rewarded", at, new() { ["couponCode"] = welcome.Code }, only: "friend");
                    if (!firstOrders.TryGetValue(friend.Id, out var first) || first.PlacedAt < at)
                    {
                        continue;
                    }
                    referral.FirstOrderAt = first.PlacedAt;
                    referral.FirstOrderId = first.ExternalId;
                    referral.Status = ReferralStatus.Converted;
                    Told(advocate, friend, referral, "referral.converted", first.PlacedAt,
                        new() { ["orderId"] = first.ExternalId, ["total"] = first.Total, ["currency"] = first.Currency });
                    var qualifying = Orders.Where(o => o.ContactId == friend.Id && o.PlacedAt >= at && o.Total >= 20).OrderBy(o => o.PlacedAt).FirstOrDefault();
                    if (qualifying is null)
                    {
                        continue;
                    }
                    var thanks = Coupon(result, referrerOffer, advocate, referral, "referrer", qualifying.PlacedAt);
                    referral.Status = ReferralStatus.Rewarded;
                    referral.ReferrerCouponId = thanks.Id;
                    referral.ReferrerRewardedAt = qualifying.PlacedAt;
                    referral.UpdatedAt = qualifying.PlacedAt;
                    Told(advocate, friend, referral, "referral.rewarded", qualifying.PlacedAt,
                        new() { ["couponCode"] = thanks.Code, ["orderId"] = qualifying.ExternalId }, only: "referrer");
                }
                if (friends > 0)
                {
                    var made = advocate.CreatedAt.AddDays(30);
                    result.Codes.Add(new ReferralCode
                    {
                        ContactId = advocate.Id,
                        Code = code,
                        CreatedAt = made,
                        Clicks = friends * f.Random.Int(2, 12),
                        LastClickedAt = lastSignUp.AddMinutes(-f.Random.Int(3, 600)),
                    });
                    if (advocate.LastActivityAt is null || advocate.LastActivityAt < lastSignUp)
                    {
                        advocate.LastActivityAt = lastSignUp;
                    }
                }
            }
            return result;
        }

        /// <summary>A reward coupon, with its <c>offer.issued</c> event, as the programme issues it.</summary>
        private Coupon Coupon(DemoReferrals result, Offer offer, Contact to, Referral referral, string role, DateTime at)
        {
            var coupon = new Coupon
            {
                Id = Guid.CreateVersion7(new DateTimeOffset(at)),
                OfferId = offer.Id,
                ContactId = to.Id,
                Code = offer.Prefix + string.Concat(Enumerable.Range(0, 8).Select(_ => f.Random.ArrayElement(ReferralRules.CodeAlphabet.ToCharArray()))),
                IssuedAt = at,
                ExpiresAt = at.AddDays(offer.ValidDays ?? 30),
                Source = "referral",
                IdempotencyKey = $"referral:{referral.Id:N}:{role}",
            };
            result.Coupons.Add(coupon);
            Add(to, "offer.issued", at, new { offerId = offer.Id, offer = offer.Name, code = coupon.Code, expiresAt = coupon.ExpiresAt, source = "referral" });
            return coupon;
        }

        /// <summary>A referral event on the referrer's and the friend's timelines (or one of them), shaped as the programme writes it.</summary>
        private void Told(Contact referrer, Contact friend, Referral r, string type, DateTime at, Dictionary<string, object?> detail, string? only = null)
        {
            foreach (var (role, who) in new[] { ("referrer", referrer), ("friend", friend) })
            {
                if (only is not null && only != role)
                {
                    continue;
                }
                Add(who, type, at, ReferralProjection.EventProperties(r, role, referrer, friend, detail), ReferralProjection.EventKey(type, r, role));
            }
        }
    }
}
