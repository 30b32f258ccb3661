using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Clientele.Cli;
using Clientele.Data;
using Clientele.Offers;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Demo;

internal sealed record DemoSeedResult(bool Seeded, string Message, int Contacts, int Orders, int Events);

/// <summary>
/// Stores the demo business in one transaction. Events are written as the log rows they would be, and
/// orders, consents and products as the rows the consumers derive from them, so the app has something
/// to show at once and the consumers, catching up later, arrive at the same state.
/// </summary>
internal static class DemoSeed
{
    /// <summary>Set in the same transaction as the data, so a second run (or a second instance) adds nothing.</summary>
    public const string MarkerKey = "demo.seededAt";

    public static async Task<DemoSeedResult> SeedAsync(ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        if (await db.Settings.AnyAsync(s => s.Key == MarkerKey, ct))
        {
            return Skipped();
        }
        var data = DemoBusiness.Generate(now);
        var sample = data.Contacts.Take(100).Select(c => c.EmailNormalized).ToList();
        if (await db.Contacts.AnyAsync(c => sample.Contains(c.EmailNormalized), ct))
        {
            return Skipped();
        }

        db.ChangeTracker.AutoDetectChangesEnabled = false;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        try
        {
            db.Settings.Add(new Setting { Key = MarkerKey, Value = now.ToString("O", CultureInfo.InvariantCulture), UpdatedAt = now });
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            return Skipped(); // another instance is seeding, or has just seeded
        }
        var skus = await db.Products.Select(p => p.Sku).ToListAsync(ct);
        db.Products.AddRange(data.Products.Where(p => !skus.Contains(p.Sku)));
        db.Contacts.AddRange(data.Contacts);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        foreach (var chunk in data.Events.Chunk(2000))
        {
            db.Events.AddRange(chunk);
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
        }
        foreach (var chunk in data.Orders.Chunk(1000))
        {
            db.Orders.AddRange(chunk);
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
        }
        AddShowcase(db, now);
        AddReferrals(db, data.Referrals);
        db.Offers.AddRange(ShopOffers(data.Orders.Count > 0 ? data.Orders.Min(o => o.PlacedAt).AddDays(-1) : now));
        await db.SaveChangesAsync(ct);
        await SettingsStore.SaveAsync(db, Clientele.Referrals.ReferralProgram.Key, new Clientele.Referrals.ReferralProgram
        {
            Enabled = true,
            Landing = "/p/club",
            FriendOfferId = data.Referrals.FriendOffer.Id,
            ReferrerOfferId = data.Referrals.ReferrerOffer.Id,
            MinOrderTotal = 20,
            MaxPerPeriod = 5,
            PeriodDays = 30,
            MaxTotal = 25,
            WindowDays = 30,
        }, now, ct);
        // What the roaster spends to win customers per channel, so the dashboard can set their value against it.
        await SettingsStore.SaveAsync(db, Clientele.Dashboard.AcquisitionSpend.Key, new Clientele.Dashboard.AcquisitionSpend("USD",
        [
            new("google", 14_000), new("instagram", 7_500), new("facebook", 6_500), new("brewcast", 2_400), new("cafe-partner", 1_800), new("newsletter", 400),
        ]), now, ct);
        await tx.CommitAsync(ct);
        // Journeys from the playbooks: most running (they act on what happens from now on), one left as a draft to edit.
        foreach (var (playbook, publish) in new[] { ("welcome", true), ("thank-you", true), ("win-back", true), ("birthday", true), ("holiday-greetings", false) })
        {
            await Clientele.Journeys.Playbooks.InstallCoreAsync(playbook, publish, database, null, null, now, ct);
        }

        var n = (int x) => x.ToString("N0", CultureInfo.InvariantCulture);
        return new DemoSeedResult(true,
            $"Added {DemoBusiness.Name}: {n(data.Contacts.Count)} contacts, {data.Products.Count} products, {n(data.Orders.Count)} orders " +
            $"and {n(data.Events.Count)} events over the last two years ({clock.Elapsed.TotalSeconds:0.0} s).",
            data.Contacts.Count, data.Orders.Count, data.Events.Count);

        static DemoSeedResult Skipped() =>
            new(false, $"The demo business ({DemoBusiness.Name}) is already in this database: nothing added.", 0, 0, 0);
    }

    /// <summary>The shop's own codes that the demo orders carry, so each order redeems its offer.</summary>
    internal static Offer[] ShopOffers(DateTime since) =>
    [
        new() { Id = Guid.CreateVersion7(), Name = "Welcome", Title = "10 % off your first bag", Kind = OfferKind.Percent, Value = 10, SharedCode = "WELCOME10", CreatedAt = since, UpdatedAt = since },
        new() { Id = Guid.CreateVersion7(), Name = "Holidays", Title = "15 % off for the holidays", Kind = OfferKind.Percent, Value = 15, SharedCode = "HOLIDAY15", CreatedAt = since, UpdatedAt = since },
        new() { Id = Guid.CreateVersion7(), Name = "Wholesale", Title = "10 % off for cafés and offices", Kind = OfferKind.Percent, Value = 10, SharedCode = "WHOLESALE10", CreatedAt = since, UpdatedAt = since },
    ];

    /// <summary>The referral programme's offers, advocates' codes, their friends and the coupons they were given.</summary>
    private static void AddReferrals(ClienteleDb db, DemoReferrals referrals)
    {
        db.Offers.AddRange(referrals.FriendOffer, referrals.ReferrerOffer);
        db.Coupons.AddRange(referrals.Coupons);
        db.ReferralCodes.AddRange(referrals.Codes);
        db.Referrals.AddRange(referrals.Referrals);
    }

    /// <summary>A sign-up form, a landing page with two variants, three segments and the knowledge base, so every area has something to show (journeys follow from the playbooks).</summary>
    private static void AddShowcase(ClienteleDb db, DateTime now)
    {
        var form = new Clientele.Forms.Form
        {
            Id = Guid.CreateVersion7(),
            Slug = "newsletter",
            Name = "Newsletter sign-up",
            Title = "Fresh roasts, first",
            Intro = "New single origins, brewing tips and the occasional offer, about twice a month.",
            ConsentWording = "Yes, send me the Northwind Roasters newsletter. I can unsubscribe at any time.",
            Topics = ["newsletter"],
            DoubleOptIn = true,
            ThankYouText = "Thanks! Check your inbox to confirm.",
            CreatedAt = now,
            UpdatedAt = now,
        };
        form.SetFields([
            new Clientele.Forms.FormField("email", "E-mail", "email", Required: true),
            new Clientele.Forms.FormField("firstName", "First name"),
            new Clientele.Forms.FormField("brew", "How do you brew?", "select", Options: ["Espresso", "Filter", "French press", "Moka pot"]),
        ]);
        db.Forms.Add(form);
        var page = new Clientele.Forms.LandingPage { Id = Guid.CreateVersion7(), Slug = "club", Name = "Coffee Club offer", FormId = form.Id, CreatedAt = now, UpdatedAt = now };
        page.Variants.Add(new Clientele.Forms.LandingVariant
        {
            Id = Guid.CreateVersion7(),
            Key = "A",
            Title = "Never run out of good coffee",
            Weight = 1,
            Content = "Join the **Monthly Coffee Club**: two freshly roasted bags every month, delivered the week they are roasted.",
        });
        page.Variants.Add(new Clientele.Forms.LandingVariant
        {
            Id = Guid.CreateVersion7(),
            Key = "B",
            Title = "Your first month on us",
            Weight = 1,
            Content = "Try the **Monthly Coffee Club** free for 14 days. Cancel any time.",
        });
        db.LandingPages.Add(page);
        foreach (var (name, query) in new[]
        {
            ("Loyal customers", "stage >= Loyalty"),
            ("Slipping away", "stage >= Purchase and pAlive < 0.3"),
            ("Coffee, no equipment yet", "bought(category: \"Coffee\") and not bought(category: \"Equipment\")"),
        })
        {
            db.Segments.Add(new Clientele.Segments.Segment { Id = Guid.CreateVersion7(), Name = name, Query = query, CreatedAt = now, UpdatedAt = now });
        }
        db.KnowledgeArticles.AddRange(DemoArticles.Create(now));
    }

    /// <summary><c>clientele demo</c>.</summary>
    public static Command Command()
    {
        var contacts = new Option<int?>("--contacts")
        {
            Description = "Generate the business at scale instead: this many contacts, with ten events and two orders each (e.g. 1000000)",
        };
        var force = new Option<bool>("--force") { Description = "With --contacts: add the data even though the database already has contacts" };
        var command = new Command("demo", $"Add {DemoBusiness.Name}, a small business with two years of contacts, orders and events, to the database")
        {
            contacts,
            force,
        };
        command.SetAction(async (result, ct) =>
        {
            var database = await CliApp.OpenMigratedAsync(result, ct);
            if (result.GetValue(contacts) is { } size)
            {
                var large = await LargeDemo.SeedAsync(database, size, result.GetValue(force), TimeProvider.System, Console.Out, ct);
                if (!large.Seeded)
                {
                    await Console.Error.WriteLineAsync(large.Message);
                    return 1;
                }
                Console.WriteLine(large.Message);
                Console.WriteLine("Start it with `clientele serve`, and add a login with `clientele users add --email you@example.com`.");
                return 0;
            }
            var outcome = await SeedAsync(database, TimeProvider.System, ct);
            Console.WriteLine(outcome.Message);
            if (outcome.Seeded)
            {
                Console.WriteLine("Start it with `clientele serve --demo`, which also prints a demo login.");
            }
            return 0;
        });
        return command;
    }
}

/// <summary><c>serve --demo</c>: seeds the demo business on first start, when the database has no contacts yet.</summary>
internal sealed class DemoSeedTask(IConfiguration config, ClienteleDatabase database, TimeProvider time, ILogger<DemoSeedTask> log) : IStartupTask
{
    public async Task RunAsync(CancellationToken ct)
    {
        if (!string.Equals(config["Clientele:Demo"], "true", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }
        await using (var db = database.CreateDbContext())
        {
            if (await db.Contacts.AnyAsync(ct))
            {
                log.LogInformation("Demo mode: the database already has contacts, so no demo data was added.");
                return;
            }
        }
        var outcome = await DemoSeed.SeedAsync(database, time, ct);
        log.LogInformation("{Message}", outcome.Message);
    }
}
