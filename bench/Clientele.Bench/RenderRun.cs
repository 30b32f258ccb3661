using System.Diagnostics;
using System.Globalization;
using Clientele.Templates;

namespace Clientele.Bench;

/// <summary>
/// Message rendering on one thread: a typical personalised newsletter (about 2 KB of Markdown with a few variables, a
/// loop over three recommendations, three links rewritten for click tracking, the brand layout and the text part),
/// rendered for a thousand different contacts in turn. The baseline, in the same run, makes the same messages
/// without a template engine: <c>string.Replace</c> of the same fields (name, products, prices, rewritten links) in a
/// finished message.
/// </summary>
internal static class RenderRun
{
    private const string Subject = "{{ contact.first_name | first_name_or: \"Friend\" }}, fresh from the roaster";

    private const string Preheader = "Three coffees we think you'll like, and {{ offer.discount }} off until {{ offer.expires_at | local_date: \"%-d %B\" }}";

    private const string Newsletter = """
        # Hello {{ contact.first_name | default: "there" }},

        Autumn is here, and with it the first lots of this year's harvest from the highlands. We spent October
        cupping more than forty samples so you would not have to; the three below made the cut, and we think they
        suit the way you brew.

        {% if contact.tags contains "subscriber" %}
        As a subscriber, your next box ships on the first of the month. You can swap any bag for one of these.
        {% else %}
        Not a subscriber yet? A bag every month, roasted the day before it ships, and you can pause at any time.
        {% endif %}

        ## Picked for you

        {% for r in recommendations %}
        ### [{{ r.name }}]({{ r.url }})
        {{ r.price | money: r.currency }} per 250 g bag. Roasted to order, shipped within two days.
        {% endfor %}

        ## This month's offer

        Use the code **{{ offer.code }}** at checkout for {{ offer.discount }} off your next order. The code works
        until {{ offer.expires_at | local_date }} and can be combined with free shipping on orders over $40.

        ## Brewing tip

        If your pour-over tastes thin, grind a little finer and keep the water just off the boil (about 94 °C).
        For a French press, go coarser and give it four minutes. Weigh your coffee: 60 g per litre is a good start,
        then adjust to taste. Fresh beans are best between one and four weeks after roasting, so buy little and
        often, and keep the bag sealed, away from light and heat.

        ## From the roastery

        We moved the drum roaster to the new space on Harbour Street last month. Come by on a Saturday morning for a
        free tasting: we open at nine, the kettle is always on, and we will grind a bag for your brewer while you wait.
        Parking is round the back, and dogs are welcome.

        Thank you for being a customer since {{ contact.created_at | local_date: "%B %Y" }}. Reply to this e-mail if
        you have a question — a real person reads every one.

        Warm regards,
        The Roastery team
        """;

    public static int Run(string[] args)
    {
        var messages = IngestRun.IntArg(args, "--messages", 200_000);
        var contacts = IngestRun.IntArg(args, "--contacts", 1_000);
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; one thread");

        var brand = new Brand { BusinessName = "The Roastery", PostalAddress = "12 Harbour Street\nWellington 6011", FooterText = "You receive this because you bought from us.", LogoUrl = "https://roastery.example/logo.png" };
        var compileWatch = Stopwatch.StartNew();
        var compiled = MessageTemplate.Compile(new TemplateSource(Subject, Newsletter, BodyFormat.Markdown, Preheader), brand);
        compileWatch.Stop();
        var models = Enumerable.Range(0, contacts).Select(Model).ToArray();
        LinkRewriter rewrite = url => "https://t.roastery.example/c/" + Uri.EscapeDataString(url);

        var sample = compiled.Render(models[0], rewrite);
        Console.WriteLine($"template: {Newsletter.Length:N0} chars of Markdown, compiled in {compileWatch.Elapsed.TotalMilliseconds:N1} ms; " +
            $"message: {sample.Html.Length:N0} chars of HTML, {sample.Text.Length:N0} of text");

        string[] Fields(MessageModel m) =>
        [
            m.Contact.FirstName!, .. m.Recommendations.Select(r => r.Name!),
            .. m.Recommendations.Select(r => rewrite(r.Url!)), .. m.Recommendations.Select(r => LiquidFilters.FormatMoney(r.Price, r.Currency, CultureInfo.GetCultureInfo("en-US"))),
        ];
        var from = Fields(models[0]);
        RenderedMessage Replace(MessageModel m)
        {
            var to = Fields(m);
            string subject = sample.Subject, html = sample.Html, text = sample.Text;
            for (var k = 0; k < from.Length; k++)
            {
                subject = subject.Replace(from[k], to[k], StringComparison.Ordinal);
                html = html.Replace(from[k], to[k], StringComparison.Ordinal);
                text = text.Replace(from[k], to[k], StringComparison.Ordinal);
            }
            return new RenderedMessage(subject, html, text);
        }

        // Warm-up: tiering, caches (zones, cultures, number formats).
        Measure(Math.Min(messages, 20_000), i => compiled.Render(models[i % contacts], rewrite));
        Measure(Math.Min(messages, 20_000), i => Replace(models[i % contacts]));

        var (renderRate, renderBytes) = Measure(messages, i => compiled.Render(models[i % contacts], rewrite));
        var (replaceRate, replaceBytes) = Measure(messages, i => Replace(models[i % contacts]));
        Console.WriteLine($"{"",-34}{"messages/s",14}{"µs/message",12}{"KB allocated",14}");
        Console.WriteLine($"{"Liquid render (this code)",-34}{renderRate,14:N0}{1e6 / renderRate,12:N1}{renderBytes / 1024.0,14:N1}");
        Console.WriteLine($"{"string.Replace baseline",-34}{replaceRate,14:N0}{1e6 / replaceRate,12:N1}{replaceBytes / 1024.0,14:N1}");
        Console.WriteLine($"ratio render / baseline: {renderRate / replaceRate:N2}   target: ≥ 20,000 messages/s");
        return 0;
    }

    private static (double PerSecond, double BytesPerMessage) Measure(int count, Func<int, RenderedMessage> render)
    {
        var length = 0L;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            length += render(i).Html.Length;
        }
        watch.Stop();
        GC.KeepAlive(length);
        return (count / watch.Elapsed.TotalSeconds, (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)count);
    }

    private static MessageModel Model(int i)
    {
        var names = new[] { "Ann", "Bob", "Cleo", "Dinesh", "Eva", "Farid", "Grace", "Hiro" };
        var zones = new[] { "Europe/Berlin", "America/New_York", "Pacific/Auckland", "Asia/Tokyo", "UTC" };
        var now = new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);
        return new MessageModel
        {
            Contact = new MessageContact
            {
                Id = Guid.CreateVersion7(now),
                Email = $"person{i}@example.com",
                FirstName = names[i % names.Length] + i.ToString(CultureInfo.InvariantCulture),
                TimeZone = zones[i % zones.Length],
                Tags = i % 3 == 0 ? ["subscriber", "vip"] : ["newsletter"],
                CreatedAt = now.AddDays(-30 - i % 700),
            },
            Links = new MessageLinks { Unsubscribe = $"https://roastery.example/u/{i}", Preferences = $"https://roastery.example/p/{i}" },
            Offer = new MessageOffer { Code = "AUTUMN" + (i % 100).ToString(CultureInfo.InvariantCulture), Discount = "15%", ExpiresAt = now.AddDays(14) },
            Recommendations =
            [
                new("K1", $"Kenya Nyeri AA #{i % 17}", 14.5m + i % 5, "USD", $"https://roastery.example/p/kenya-{i % 17}", null),
                new("C2", $"Colombia Huila #{i % 13}", 12.0m + i % 4, "USD", $"https://roastery.example/p/colombia-{i % 13}", null),
                new("E3", $"Ethiopia Guji #{i % 11}", 15.25m + i % 3, "USD", $"https://roastery.example/p/ethiopia-{i % 11}", null),
            ],
            Now = now,
        };
    }
}
