using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bogus;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Events;
using Clientele.Lifecycle;

namespace Clientele.Demo;

/// <summary>One slice of the large demo business, ready to store: contacts with their consents, events, orders with lines, trials and stage facts.</summary>
internal sealed record LargeDemoChunk(
    List<Contact> Contacts, List<Event> Events, List<Order> Orders, List<Trial> Trials, List<(Guid ContactId, string Facts)> StageFacts);

/// <summary>
/// Northwind Roasters at scale: the small demo's people (leads, newsletter sign-ups, wholesale prospects, coffee-club
/// trials and customers, in the same proportions, with the same catalogue, coupons, companions and refunds), generated a
/// slice of contacts at a time so a million of them never sit in memory together. Each slice has exactly two orders and
/// ten events per contact: every buyer orders once, the rest of the slice's orders go to buyers in proportion to their
/// own buying rate (skewed, so a few buy very often) and how long they stayed; those who lapsed stop buying and go quiet.
/// The remaining events are what people do between orders: page views, and e-mails sent, opened and clicked for
/// subscribers. Stage, stage facts and last activity are derived here exactly as the consumers would from the same
/// events (<see cref="StageProjection.Apply"/>, <see cref="Ladder.Decide"/>). Deterministic: each slice has its own
/// seed, ids included, so the same <c>now</c> and size give the same business.
/// </summary>
internal sealed class LargeDemoBusiness(DateTime now, int total, LadderSettings ladder, string? tag)
{
    public const int OrdersPerContact = 2;
    public const int EventsPerContact = 10;

    private readonly DateTime _start = now - DemoBusiness.History;
    private readonly HashSet<string> _emails = new(StringComparer.Ordinal);
    private readonly StageProjection _stages = new();
    private int _orderNumber = 10000;
    private int _customerNumber = 20000;
    private Random _rng = new(DemoBusiness.Seed);
    private Faker _f = new("en");

    private enum Kind
    {
        Lead,
        Captured,
        Prospect,
        Trial,
        Customer,
    }

    private sealed class Person(Contact contact, Kind kind)
    {
        public Contact Contact { get; } = contact;
        public Kind Kind { get; } = kind;
        public List<Event> Events { get; } = [];
        public DateTime? BuyFrom { get; set; }
        public DateTime ActiveUntil { get; set; }
        public double Weight { get; set; }
        public int Orders { get; set; }
        public bool Office { get; set; }
        public bool Subscriber { get; set; }
        public DateTime? SubscribedAt { get; set; }
        public DateTime? UnsubscribedAt { get; set; }
        public JsonObject Attributes { get; } = [];
    }

    /// <summary>Contacts <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> − 1 of the business.</summary>
    public LargeDemoChunk Next(int first, int count)
    {
        var seed = unchecked(DemoBusiness.Seed * 1_000_003 + first);
        _rng = new Random(seed);
        _f = new Faker("en") { Random = new Randomizer(seed) };
        var people = new List<Person>(count);
        for (var i = 0; i < count; i++)
        {
            people.Add(NewPerson(first + i));
        }
        var orders = new List<Order>();
        var trials = new List<Trial>();
        AllotOrders(people, OrdersPerContact * count);
        foreach (var p in people.Where(p => p.Orders > 0))
        {
            Buy(p, orders);
        }
        foreach (var p in people.Where(p => p.Kind == Kind.Trial))
        {
            trials.Add(TrialOf(p));
        }
        Fill(people, EventsPerContact * count);

        var facts = new List<(Guid, string)>(count);
        foreach (var p in people)
        {
            Derive(p, facts);
        }
        // Within the slice the log is written in the order things happened; a contact's events are all in one slice.
        var events = people.SelectMany(p => p.Events).OrderBy(e => e.OccurredAt).ThenBy(e => e.Type == "order.placed" ? 0 : 1).ToList();
        return new LargeDemoChunk(people.Select(p => p.Contact).ToList(), events, orders, trials, facts);
    }

    private Person NewPerson(int index)
    {
        var kind = Weighted([Kind.Lead, Kind.Captured, Kind.Prospect, Kind.Trial, Kind.Customer], [0.16f, 0.14f, 0.05f, 0.07f, 0.58f]);
        var firstName = _f.Name.FirstName();
        var lastName = _f.Name.LastName();
        var region = Weighted(DemoBusiness.Regions, DemoBusiness.Regions.Select(r => r.Weight).ToArray());
        // Acquisition grows over time, and contacts arrive in order: more of them in recent months.
        var firstTouch = _start + TimeSpan.FromDays(729 * Math.Sqrt((index + _rng.NextDouble()) / total));
        var c = new Contact
        {
            Id = NewId(firstTouch),
            FirstName = firstName,
            LastName = lastName,
            TimeZone = region.Zone,
            Locale = region.Locale,
            CreatedAt = firstTouch,
            UpdatedAt = now,
            Source = kind == Kind.Customer ? Weighted(["shop", "web", "event"], [0.6f, 0.3f, 0.1f]) : "web",
        };
        SetEmail(c, firstName, lastName);
        if (_f.Random.Bool(0.6f))
        {
            c.Birthday = DateOnly.FromDateTime(_f.Date.Between(now.AddYears(-70), now.AddYears(-19)));
        }
        if (_f.Random.Bool(0.45f))
        {
            c.Phone = $"+1 ({_f.Random.Int(201, 989)}) 555-01{_f.Random.Int(0, 99):00}"; // 555-01xx numbers are reserved for fiction
        }
        if (_f.Random.Bool(0.65f))
        {
            var channel = Weighted(DemoBusiness.Channels, DemoBusiness.Channels.Select(x => x.Weight).ToArray());
            c.UtmSource = channel.Source;
            c.UtmMedium = channel.Medium;
            c.UtmCampaign = _f.PickRandom(DemoBusiness.Campaigns);
        }
        var p = new Person(c, kind);
        if (_f.Random.Bool(0.4f))
        {
            p.Attributes["favoriteRoast"] = _f.PickRandom("light", "medium", "dark");
        }
        var t = firstTouch;
        for (var i = _f.Random.Int(1, 3); i > 0; i--)
        {
            PageView(p, t);
            t = Later(t, 0.001, 3);
        }
        switch (kind)
        {
            case Kind.Captured:
                Capture(p, t);
                break;
            case Kind.Prospect:
                Prospect(p, t);
                break;
            case Kind.Trial:
                TrialRun(p, t);
                break;
            case Kind.Customer:
                if (_f.Random.Bool(0.55f))
                {
                    t = Capture(p, t);
                }
                StartBuying(p, Later(t, 0, 10));
                break;
        }
        return p;
    }

    private void SetEmail(Contact c, string first, string last)
    {
        // Reserved example domains only: a demo must never mail a real person.
        var local = Ascii(first) + "." + Ascii(last);
        var domain = _f.PickRandom("example.com", "example.net", "example.org");
        if (tag is not null)
        {
            domain = tag + "." + domain;
        }
        var email = $"{local}@{domain}";
        for (var n = 2; !_emails.Add(email); n++)
        {
            email = $"{local}{n.ToString(CultureInfo.InvariantCulture)}@{domain}";
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

    private DateTime Capture(Person p, DateTime t)
    {
        var c = p.Contact;
        Add(p, "form.submitted", t, new
        {
            form = "newsletter-signup",
            fields = new { email = c.Email, firstName = c.FirstName },
            consentWording = DemoBusiness.ConsentWording,
        });
        Add(p, "consent.given", t, new { topic = DemoBusiness.NewsletterTopic, source = "form", wording = DemoBusiness.ConsentWording });
        var consent = new ContactConsent
        {
            ContactId = c.Id,
            Topic = DemoBusiness.NewsletterTopic,
            Status = ConsentStatus.Subscribed,
            At = t,
            Source = "form",
            Wording = DemoBusiness.ConsentWording,
        };
        c.Consents.Add(consent);
        p.SubscribedAt = t;
        if (_f.Random.Bool(0.06f))
        {
            var withdrawn = Later(t, 20, 300);
            Add(p, "consent.withdrawn", withdrawn, new { topic = DemoBusiness.NewsletterTopic, source = "unsubscribe" });
            consent.Status = ConsentStatus.Unsubscribed;
            consent.At = withdrawn;
            consent.Source = "unsubscribe";
            p.UnsubscribedAt = withdrawn;
        }
        else
        {
            c.Tags.Add("newsletter");
        }
        return Later(t, 0.01, 5);
    }

    private void Prospect(Person p, DateTime t)
    {
        p.Contact.Tags.Add("wholesale");
        p.Attributes["company"] = _f.Company.CompanyName();
        p.Attributes["role"] = _f.PickRandom(DemoBusiness.Roles);
        p.Attributes["budget"] = _f.Random.Int(5, 60) * 100;
        var asked = _f.Random.Bool(0.5f) ? "quote.requested" : "demo.requested";
        Add(p, asked, t, new { product = "Office Coffee Box", seats = _f.Random.Int(5, 80), message = "Looking for coffee for our team." });
        if (_f.Random.Bool(0.45f))
        {
            var accepted = Later(t, 1, 14);
            Add(p, "offer.accepted", accepted, new { offer = "WHOLESALE10", discount = 10 });
            p.Office = true;
            StartBuying(p, Later(accepted, 0, 3));
        }
    }

    private void TrialRun(Person p, DateTime t)
    {
        t = Capture(p, t);
        Add(p, "trial.started", t, new { product = "Monthly Coffee Club", plan = "SUB-CLUB", days = 14, endsAt = t.AddDays(14) });
        var end = t.AddDays(14);
        if (end > now)
        {
            return; // still in the trial
        }
        var converted = _f.Random.Bool(0.5f);
        Add(p, "trial.ended", end, new { product = "Monthly Coffee Club", outcome = converted ? "converted" : "lapsed" });
        if (converted)
        {
            p.Subscriber = true;
            StartBuying(p, Later(end, 0, 1));
        }
    }

    private Trial TrialOf(Person p)
    {
        var started = p.Events.First(e => e.Type == "trial.started").OccurredAt;
        var ended = p.Events.FirstOrDefault(e => e.Type == "trial.ended");
        return new Trial
        {
            Id = NewId(started),
            ContactId = p.Contact.Id,
            Product = "Monthly Coffee Club",
            StartedAt = started,
            EndsAt = started.AddDays(14),
            EndedAt = ended?.OccurredAt,
            Outcome = ended is null ? null : p.Subscriber ? TrialOutcome.Converted : TrialOutcome.Lapsed,
        };
    }

    /// <summary>A buyer's own rate (skewed: a few buy very often) and how long they keep buying (some lapse).</summary>
    private void StartBuying(Person p, DateTime from)
    {
        p.BuyFrom = from;
        p.Weight = DemoBusiness.Gamma(_rng, 0.9, 1);
        if (p.Office || p.Subscriber)
        {
            p.Weight = Math.Max(p.Weight, 1.2); // billed about monthly
        }
        var lapses = !p.Office && !p.Subscriber ? _rng.NextDouble() < 0.45 : _rng.NextDouble() < 0.25;
        p.ActiveUntil = lapses ? from + (now - from) * Math.Pow(_rng.NextDouble(), 1.5) : now;
    }

    /// <summary>Every buyer orders once; the rest of the slice's orders go to buyers by rate times the months they stayed.</summary>
    private void AllotOrders(List<Person> people, int orders)
    {
        var buyers = people.Where(p => p.BuyFrom is not null).ToList();
        foreach (var b in buyers.Take(orders))
        {
            b.Orders = 1;
        }
        var left = orders - Math.Min(orders, buyers.Count);
        if (left == 0 || buyers.Count == 0)
        {
            return;
        }
        var cumulative = new double[buyers.Count];
        var sum = 0.0;
        for (var i = 0; i < buyers.Count; i++)
        {
            var months = (buyers[i].ActiveUntil - buyers[i].BuyFrom!.Value).TotalDays / 30 + 0.5;
            sum += buyers[i].Weight * months;
            cumulative[i] = sum;
        }
        while (left > 0)
        {
            var at = Array.BinarySearch(cumulative, _rng.NextDouble() * sum);
            var b = buyers[Math.Min(buyers.Count - 1, at < 0 ? ~at : at)];
            if (b.Orders < 120)
            {
                b.Orders++;
                left--;
            }
        }
    }

    private void Buy(Person p, List<Order> orders)
    {
        var c = p.Contact;
        c.ExternalId = (tag is null ? "NW-" : $"NW-{tag}-") + (++_customerNumber).ToString(CultureInfo.InvariantCulture);
        var primary = p.Office || p.Subscriber ? "Subscriptions" : Weighted(DemoBusiness.Categories, [0.58f, 0.2f, 0.1f, 0.12f]);
        var crossRate = DemoBusiness.Beta(_rng, 1, 4);
        var from = p.BuyFrom!.Value;
        var span = p.ActiveUntil - from;
        var times = new List<DateTime> { from };
        for (var i = 1; i < p.Orders; i++)
        {
            times.Add(from + span * _rng.NextDouble());
        }
        times.Sort();
        var spent = 0m;
        for (var i = 0; i < times.Count; i++)
        {
            spent += Order(p, times[i], primary, crossRate, first: i == 0, orders);
        }
        var last = times[^1];
        if (p.Orders >= 4 && now - last < TimeSpan.FromDays(120))
        {
            if (_f.Random.Bool(0.6f))
            {
                Add(p, "survey.answered", Later(last, 1, 10), new { kind = "nps", score = _f.Random.Int(9, 10), comment = _f.PickRandom(DemoBusiness.Comments) });
            }
            if (_f.Random.Bool(0.5f))
            {
                c.Tags.Add("vip");
            }
        }
        else if (_f.Random.Bool(0.15f))
        {
            Add(p, "survey.answered", Later(last, 2, 20), new
            {
                kind = "nps",
                score = Weighted([3, 5, 6, 7, 8, 9], [0.1f, 0.1f, 0.2f, 0.25f, 0.2f, 0.15f]),
                comment = _f.Random.Bool(0.4f) ? _f.PickRandom(DemoBusiness.Comments) : null,
            });
        }
        if (spent > 800)
        {
            c.Tags.Add("vip");
        }
        if (p.Office)
        {
            p.Attributes["company"] ??= _f.Company.CompanyName();
        }
    }

    private static readonly (string Sku, string Name, string Category, decimal Price) Office = DemoBusiness.Catalog.Single(p => p.Sku == "SUB-OFFICE");

    private static readonly Dictionary<string, (string Sku, string Name, string Category, decimal Price)[]> ByCategory =
        DemoBusiness.Catalog.Where(p => p.Sku != "SUB-OFFICE").GroupBy(p => p.Category).ToDictionary(g => g.Key, g => g.ToArray());

    private decimal Order(Person p, DateTime at, string primary, double crossRate, bool first, List<Order> orders)
    {
        var c = p.Contact;
        var lines = new List<OrderLine>();
        var count = p.Office ? 1 : Weighted([1, 2, 3], [0.6f, 0.3f, 0.1f]);
        for (var i = 0; i < count; i++)
        {
            var category = _rng.NextDouble() < crossRate ? _f.PickRandom(DemoBusiness.Categories.Where(x => x != primary)) : primary;
            var product = p.Office ? Office : _f.PickRandom(ByCategory[category]);
            if (lines.Any(l => l.Sku == product.Sku))
            {
                continue;
            }
            var quantity = product.Category is "Subscriptions" or "Equipment" ? 1 : Weighted([1, 2, 3], [0.75f, 0.2f, 0.05f]);
            lines.Add(new OrderLine { ContactId = c.Id, Sku = product.Sku, Category = product.Category, Quantity = quantity, Price = product.Price });
        }
        for (var i = 0; i < lines.Count && !p.Office; i++)
        {
            foreach (var (_, with, chance) in DemoBusiness.Companions.Where(x => x.Sku == lines[i].Sku))
            {
                if (_rng.NextDouble() < chance && !lines.Any(l => l.Sku == with))
                {
                    var companion = DemoBusiness.Catalog.Single(x => x.Sku == with);
                    lines.Add(new OrderLine { ContactId = c.Id, Sku = companion.Sku, Category = companion.Category, Quantity = 1, Price = companion.Price });
                }
            }
        }
        string? coupon = null;
        var discount = 0m;
        if (first && _f.Random.Bool(0.3f))
        {
            (coupon, discount) = ("WELCOME10", 0.10m);
        }
        else if (at.Month is 11 or 12 && _f.Random.Bool(0.35f))
        {
            (coupon, discount) = ("HOLIDAY15", 0.15m);
        }
        else if (p.Office)
        {
            (coupon, discount) = ("WHOLESALE10", 0.10m);
        }
        var total = Math.Round(lines.Sum(l => l.Price * l.Quantity) * (1 - discount), 2);
        var orderId = (tag is null ? "NR-" : $"NR-{tag}-") + (++_orderNumber).ToString(CultureInfo.InvariantCulture);
        var order = new Order
        {
            Id = NewId(at),
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
        foreach (var line in lines)
        {
            line.OrderId = order.Id;
        }
        // The same properties the orders API writes, so the commerce consumer would rebuild this very order.
        Add(p, "order.placed", at, new
        {
            orderId,
            total,
            currency = "USD",
            coupon,
            items = lines.Select(l => new { sku = l.Sku, category = l.Category, name = (string?)null, quantity = l.Quantity, price = l.Price }),
        }, "order:" + orderId);
        orders.Add(order);
        if (_f.Random.Bool(0.03f))
        {
            var refunded = Later(at, 2, 20);
            order.Status = OrderStatus.Refunded;
            order.RefundedAt = refunded;
            Add(p, "order.refunded", refunded, new { orderId, reason = _f.PickRandom("damaged in transit", "wrong grind", "changed my mind") }, "order-refund:" + orderId);
            return 0;
        }
        return total;
    }

    /// <summary>
    /// Tops the slice up to exactly its events with what people do between orders: subscribers get the newsletter (sent,
    /// often opened, sometimes clicked), everyone browses, those who lapsed only around the time they still bought.
    /// When the fixed events alone are more than the slice's share (tiny slices only), later page views are dropped.
    /// </summary>
    private void Fill(List<Person> people, int events)
    {
        var have = people.Sum(p => p.Events.Count);
        for (var i = people.Count - 1; have > events && i >= 0; i--)
        {
            var views = people[i].Events.Where(e => e.Type == "page.viewed").Skip(1).ToList();
            foreach (var view in views.Take(have - events))
            {
                people[i].Events.Remove(view);
                have--;
            }
        }
        if (have > events)
        {
            throw new InvalidOperationException($"A slice of {people.Count} contacts needs more than {events} events.");
        }
        var cumulative = new double[people.Count];
        var sum = 0.0;
        for (var i = 0; i < people.Count; i++)
        {
            var p = people[i];
            sum += 1 + (p.Contact.Tags.Contains("newsletter") ? 2 : 0) + (p.Orders > 0 ? 1 + Math.Min(p.Orders, 10) * 0.2 : 0);
            cumulative[i] = sum;
        }
        while (have < events)
        {
            var at = Array.BinarySearch(cumulative, _rng.NextDouble() * sum);
            var p = people[Math.Min(people.Count - 1, at < 0 ? ~at : at)];
            if (p.SubscribedAt is { } since && events - have >= 3 && _rng.NextDouble() < 0.6)
            {
                var until = p.UnsubscribedAt ?? now;
                var sent = since + (until - since) * _rng.NextDouble();
                var campaign = _f.PickRandom(DemoBusiness.Campaigns);
                Add(p, "email.sent", sent, new { campaign, subject = Subject(campaign) });
                have++;
                if (_rng.NextDouble() < 0.45)
                {
                    var opened = Later(sent, 0.01, 2);
                    Add(p, "email.opened", opened, new { campaign });
                    have++;
                    if (_rng.NextDouble() < 0.25)
                    {
                        Add(p, "email.clicked", Later(opened, 0.001, 0.01), new { campaign, url = DemoBusiness.ShopUrl + _f.PickRandom(DemoBusiness.Pages) });
                        have++;
                    }
                }
                continue;
            }
            var from = p.Contact.CreatedAt;
            var to = p.BuyFrom is not null && p.ActiveUntil < now ? Min(now, p.ActiveUntil.AddDays(30)) : now;
            PageView(p, from + (to - from) * _rng.NextDouble());
            have++;
        }
    }

    private static string Subject(string campaign) => campaign switch
    {
        "spring-roasts" => "Spring roasts are here",
        "holiday-gifts" => "Gifts for the coffee lovers in your life",
        "brew-guide" => "Brew better: our guide to the pour-over",
        "cold-brew-summer" => "Cold brew season",
        "office-coffee" => "Good coffee for your team",
        _ => "Free shipping on your first bag",
    };

    private void PageView(Person p, DateTime at) =>
        Add(p, "page.viewed", at, new { url = _f.PickRandom(DemoBusiness.Pages), utmSource = p.Contact.UtmSource });

    /// <summary>Stage, its start, the stage facts and the last activity, as the stage and activity consumers would leave them.</summary>
    private void Derive(Person p, List<(Guid, string)> facts)
    {
        var c = p.Contact;
        p.Events.Sort((a, b) => a.OccurredAt.CompareTo(b.OccurredAt));
        var current = new StageFacts();
        var touched = false;
        foreach (var e in p.Events)
        {
            if (!ActivityProjection.IsNotActivity(e.Type) && (c.LastActivityAt is null || c.LastActivityAt < e.OccurredAt))
            {
                c.LastActivityAt = e.OccurredAt;
            }
            if (!_stages.Wants(e.Type))
            {
                continue;
            }
            touched = true;
            var changedAt = e.OccurredAt < now ? e.OccurredAt : now;
            current = StageProjection.Apply(current, e);
            var decision = Ladder.Decide(current, ladder, now, changedAt);
            current = current with { LoyalSince = decision.LoyalSince };
            if (decision.Stage != c.Stage)
            {
                c.Stage = decision.Stage;
                c.StageSince = changedAt;
            }
        }
        if (touched)
        {
            facts.Add((c.Id, JsonSerializer.Serialize(current, StageProjection.Json)));
        }
        c.Attributes = p.Attributes.ToJsonString();
        c.Tags = c.Tags.Distinct().Order(StringComparer.Ordinal).ToList();
    }

    private void Add(Person p, string type, DateTime at, object properties, string? key = null) =>
        p.Events.Add(new Event
        {
            ContactId = p.Contact.Id,
            Type = type,
            OccurredAt = at,
            ReceivedAt = at,
            Properties = JsonSerializer.Serialize(properties, EventJson.Options),
            IdempotencyKey = key,
            Source = DemoBusiness.Source,
        });

    private DateTime Later(DateTime t, double minDays, double maxDays)
    {
        var next = t + TimeSpan.FromMinutes(_f.Random.Double(minDays, maxDays) * 1440);
        return next < now ? next : t + (now - t) * _f.Random.Double(0.1, 0.9);
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private T Weighted<T>(T[] items, float[] weights)
    {
        var sum = weights.Sum();
        return _f.Random.WeightedRandom(items, weights.Select(w => w / sum).ToArray());
    }

    /// <summary>A version 7 id for <paramref name="at"/> whose random part comes from the slice's seed, so ids repeat too.</summary>
    private Guid NewId(DateTime at)
    {
        Span<byte> b = stackalloc byte[16];
        _rng.NextBytes(b);
        var ms = new DateTimeOffset(at).ToUnixTimeMilliseconds();
        for (var i = 0; i < 6; i++)
        {
            b[i] = (byte)(ms >> (8 * (5 - i)));
        }
        b[6] = (byte)(0x70 | (b[6] & 0x0F));
        b[8] = (byte)(0x80 | (b[8] & 0x3F));
        return new Guid(b, bigEndian: true);
    }
}
