using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Clientele.Offers;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Journeys;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Offers;

public sealed class OfferTests
{
    private static readonly DateTime Now = new(2026, 11, 24, 12, 0, 0, DateTimeKind.Utc);

    private static Offer TenPercent(Action<Offer>? change = null)
    {
        var offer = new Offer { Id = Guid.NewGuid(), Name = "Ten", Title = "10 % off", Kind = OfferKind.Percent, Value = 10 };
        change?.Invoke(offer);
        return offer;
    }

    [Fact]
    public void The_fatigue_guard_counts_offers_in_the_period_only()
    {
        var fatigue = new OfferFatigue { MaxOffers = 2, PeriodDays = 30 };
        Assert.Null(OfferRules.WhyNot(TenPercent(), Now, [Now.AddDays(-40), Now.AddDays(-31), Now.AddDays(-3)], 0, true, fatigue));
        Assert.Contains("offer-fatigue guard", OfferRules.WhyNot(TenPercent(), Now, [Now.AddDays(-20), Now.AddDays(-3)], 0, true, fatigue));
    }

    [Fact]
    public void An_offer_that_ended_reached_its_limit_or_is_not_for_the_contact_is_not_issued()
    {
        var fatigue = OfferFatigue.Default;
        Assert.Contains("ended", OfferRules.WhyNot(TenPercent(o => o.EndsAt = Now.AddDays(-1)), Now, [], 0, true, fatigue));
        Assert.Contains("its limit", OfferRules.WhyNot(TenPercent(o => o.MaxRedemptions = 3), Now, [], 3, true, fatigue));
        Assert.Contains("segment", OfferRules.WhyNot(TenPercent(o => o.Segment = "VIP"), Now, [], 0, false, fatigue));
        Assert.Contains("archived", OfferRules.WhyNot(TenPercent(o => o.Archived = true), Now, [], 0, true, fatigue));
    }

    [Fact]
    public void Codes_use_letters_and_digits_that_cannot_be_mistaken()
    {
        var codes = Enumerable.Range(0, 200).Select(_ => OfferRules.NewCode("bday-")).ToList();
        Assert.All(codes, c => Assert.Matches("^BDAY-[A-HJKMNP-Z2-9]{8}$", c));
        Assert.Equal(200, codes.Distinct().Count());
    }

    private static async Task<JsonElement> CreateAsync(HttpClient api, object offer)
    {
        var created = await api.PostJsonAsync("/api/v1/offers", offer);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return await created.ReadJsonAsync();
    }

    private static async Task<HttpResponseMessage> IssueAsync(HttpClient api, Guid offer, string email, string? key = null) =>
        await api.PostJsonAsync($"/api/v1/offers/{offer}/issue", new { email, idempotencyKey = key });

    private static async Task OrderAsync(HttpClient api, string email, string orderId, decimal total, string? coupon) =>
        await JourneyFlowTests.SignalAsync(api, email, "order.placed", new { orderId, total, currency = "EUR", coupon });

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Codes_of_their_own_are_redeemed_once_by_their_owner_within_the_limit_and_the_report_counts_them(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync();
        foreach (var email in new[] { "ann@example.com", "bob@example.com", "cy@example.com" })
        {
            await JourneyFlowTests.ContactAsync(api, email);
        }
        var offer = (await CreateAsync(api, new { name = "Come back", title = "10 % off your next bag", kind = "percent", value = 10, prefix = "BACK-", validDays = 30, maxRedemptions = 2 }))
            .GetProperty("id").GetGuid();

        var issued = await IssueAsync(api, offer, "ann@example.com", key: "welcome-back-ann");
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var annCode = (await issued.ReadJsonAsync()).GetProperty("code").GetString()!;
        Assert.StartsWith("BACK-", annCode);
        var again = await IssueAsync(api, offer, "ann@example.com", key: "welcome-back-ann"); // a retry of the same request
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(annCode, (await again.ReadJsonAsync()).GetProperty("code").GetString());
        var bobCode = (await (await IssueAsync(api, offer, "bob@example.com")).ReadJsonAsync()).GetProperty("code").GetString()!;
        var cyCode = (await (await IssueAsync(api, offer, "cy@example.com")).ReadJsonAsync()).GetProperty("code").GetString()!;

        // A checkout asks before taking the code.
        var check = await (await api.GetAsync($"/api/v1/coupons/{annCode.ToLowerInvariant()}?email=ann@example.com")).ReadJsonAsync();
        Assert.True(check.GetProperty("valid").GetBoolean());
        Assert.Equal("10 %", check.GetProperty("discount").GetString());
        var stranger = await (await api.GetAsync($"/api/v1/coupons/{annCode}?email=bob@example.com")).ReadJsonAsync();
        Assert.False(stranger.GetProperty("valid").GetBoolean());
        Assert.Contains("another contact", stranger.GetProperty("reason").GetString());

        await OrderAsync(api, "ann@example.com", "A1", 40, annCode.ToLowerInvariant());
        await OrderAsync(api, "ann@example.com", "A2", 40, annCode); // used already
        await OrderAsync(api, "ann@example.com", "A3", 40, bobCode); // someone else's
        await OrderAsync(api, "bob@example.com", "B1", 60, bobCode);
        await OrderAsync(api, "cy@example.com", "C1", 80, cyCode); // over the limit of two
        await OrderAsync(api, "cy@example.com", "C2", 80, "NOSUCHCODE");
        await app.DrainAsync();

        var report = await (await api.GetAsync($"/api/v1/offers/{offer}")).ReadJsonAsync();
        Assert.Equal(3, report.GetProperty("issued").GetInt32());
        Assert.Equal(2, report.GetProperty("redeemed").GetInt32());
        var revenue = Assert.Single(report.GetProperty("revenue").EnumerateArray());
        Assert.Equal(100m, revenue.GetProperty("amount").GetDecimal());

        await using var db = app.NewDb();
        var refusals = (await db.Events.AsNoTracking().Where(e => e.Type == "offer.refused").Select(e => e.Properties).ToListAsync())
            .Select(p => JsonDocument.Parse(p).RootElement).ToDictionary(p => p.GetProperty("orderId").GetString()!, p => p.GetProperty("reason").GetString()!);
        Assert.Contains("used already", refusals["A2"]);
        Assert.Contains("another contact", refusals["A3"]);
        Assert.Contains("limit", refusals["C1"]);
        Assert.Contains("No offer", refusals["C2"]);
        Assert.Equal(2, await db.Events.CountAsync(e => e.Type == "offer.redeemed"));

        // The limit is reached: no more coupons.
        var full = await IssueAsync(api, offer, "cy@example.com", key: "another");
        Assert.Equal(HttpStatusCode.Conflict, full.StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_fatigue_guard_stops_a_third_offer_in_a_month_and_codes_expire(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.ContactAsync(api, "ann@example.com");
        var offers = new List<Guid>();
        foreach (var name in new[] { "One", "Two", "Three" })
        {
            offers.Add((await CreateAsync(api, new { name, title = name, kind = "amount", value = 5, currency = "EUR", validDays = 7 })).GetProperty("id").GetGuid());
        }
        Assert.Equal(HttpStatusCode.Created, (await IssueAsync(api, offers[0], "ann@example.com")).StatusCode);
        var second = await (await IssueAsync(api, offers[1], "ann@example.com")).ReadJsonAsync();
        var third = await IssueAsync(api, offers[2], "ann@example.com");
        Assert.Equal(HttpStatusCode.Conflict, third.StatusCode);
        Assert.Contains("offer-fatigue guard", await third.Content.ReadAsStringAsync());

        app.Time.Advance(TimeSpan.FromDays(8));
        var code = second.GetProperty("code").GetString();
        var expired = await (await api.GetAsync($"/api/v1/coupons/{code}?email=ann@example.com")).ReadJsonAsync();
        Assert.False(expired.GetProperty("valid").GetBoolean());
        Assert.Contains("expired", expired.GetProperty("reason").GetString());

        app.Time.Advance(TimeSpan.FromDays(23)); // a month after the first two
        Assert.Equal(HttpStatusCode.Created, (await IssueAsync(api, offers[2], "ann@example.com")).StatusCode);

        var bad = await api.PostJsonAsync("/api/v1/offers", new { name = "", kind = "percent", value = 150, sharedCode = "a b" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var body = await bad.Content.ReadAsStringAsync();
        Assert.Contains("/name", body);
        Assert.Contains("/value", body);
        Assert.Contains("/sharedCode", body);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_shared_code_is_used_once_by_each_customer_issued_or_not(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.ContactAsync(api, "ann@example.com");
        await JourneyFlowTests.ContactAsync(api, "bob@example.com");
        var offer = (await CreateAsync(api, new { name = "Spring", title = "A free tote", kind = "freeItem", freeSku = "TOTE", sharedCode = "spring26" })).GetProperty("id").GetGuid();
        Assert.Equal("SPRING26", (await (await IssueAsync(api, offer, "ann@example.com")).ReadJsonAsync()).GetProperty("code").GetString());

        await OrderAsync(api, "ann@example.com", "A1", 30, "SPRING26");
        await OrderAsync(api, "bob@example.com", "B1", 30, "spring26"); // heard of it from ann
        await OrderAsync(api, "bob@example.com", "B2", 30, "spring26"); // once each
        await app.DrainAsync();

        var report = await (await api.GetAsync($"/api/v1/offers/{offer}")).ReadJsonAsync();
        Assert.Equal(1, report.GetProperty("issued").GetInt32());
        Assert.Equal(2, report.GetProperty("redeemed").GetInt32());
        Assert.Equal("a free TOTE", report.GetProperty("discount").GetString());
        await using var db = app.NewDb();
        Assert.Equal(1, await db.Events.CountAsync(e => e.Type == "offer.refused"));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_journey_issues_its_offer_once_per_run_and_the_fatigue_guard_holds_there_too(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.ContactAsync(api, "ann@example.com");
        await JourneyFlowTests.ContactAsync(api, "bob@example.com");
        var offer = (await CreateAsync(api, new { name = "Come back", title = "10 % off", kind = "percent", value = 10, validDays = 14 })).GetProperty("id").GetGuid();
        // Bob has had two offers this month already.
        foreach (var name in new[] { "A", "B" })
        {
            var other = (await CreateAsync(api, new { name, title = name, kind = "percent", value = 5 })).GetProperty("id").GetGuid();
            Assert.Equal(HttpStatusCode.Created, (await IssueAsync(api, other, "bob@example.com")).StatusCode);
            app.Time.Advance(TimeSpan.FromMinutes(1));
        }
        var template = await api.PostJsonAsync("/api/v1/templates", new { name = "Gift", subject = "A gift", body = "Use {{ offer.code }} for {{ offer.discount }} off: {{ offer.title }}." });
        Assert.Equal(HttpStatusCode.Created, template.StatusCode);
        var journey = await JourneyFlowTests.JourneyAsync(api, "Win them back", new
        {
            trigger = new { @event = "vip.flagged" },
            steps = new object[]
            {
                new { id = "gift", type = "offer", offer = "Come back" },
                new { id = "tell", type = "email", template = "Gift", @class = "transactional" },
                new { id = "mark", type = "tag", add = new[] { "offered" } },
            },
        });
        await JourneyFlowTests.SignalAsync(api, "ann@example.com", "vip.flagged");
        await JourneyFlowTests.SignalAsync(api, "bob@example.com", "vip.flagged");
        await JourneyFlowTests.RunDueAsync(app);
        await JourneyFlowTests.RunDueAsync(app);

        await using var db = app.NewDb();
        var coupons = await db.Coupons.AsNoTracking().Where(c => c.OfferId == offer)
            .Join(db.Contacts, c => c.ContactId, k => k.Id, (c, k) => new { k.Email, c.Source, c.ExpiresAt, c.IssuedAt }).ToListAsync();
        var ann = Assert.Single(coupons);
        Assert.Equal("ann@example.com", ann.Email);
        Assert.Equal("journey", ann.Source);
        Assert.Equal(ann.IssuedAt.AddDays(14), ann.ExpiresAt);
        Assert.Equal(1, await db.Events.CountAsync(e => e.Type == "offer.issued" && e.Source == "offers" && e.CauseEventId != null));
        Assert.Equal(2, await db.JourneyRuns.CountAsync(r => r.JourneyId == journey && r.Status == Clientele.Journeys.RunStatus.Completed)); // bob went on without it

        // The e-mail after the offer shows the contact's coupon; bob, refused this one, sees the newest he has.
        var codes = await db.Coupons.AsNoTracking().Join(db.Contacts, c => c.ContactId, k => k.Id, (c, k) => new { k.Email, c.Code, c.IssuedAt }).ToListAsync();
        await Clientele.Tests.Outbox.MailFlowTests.Until(async () =>
        {
            await using var check = app.NewDb();
            return await check.LocalMail.CountAsync() == 2;
        }, "both e-mails were sent");
        var mail = (await db.LocalMail.AsNoTracking().ToListAsync())
            .ToDictionary(m => m.To, m => MimeKit.MimeMessage.Load(new MemoryStream(m.Raw)).TextBody);
        var annCode = codes.Single(c => c.Email == "ann@example.com").Code;
        Assert.Contains($"Use {annCode} for 10 % off: 10 % off.", mail["ann@example.com"]);
        var bobNewest = codes.Where(c => c.Email == "bob@example.com").OrderBy(c => c.IssuedAt).Last().Code;
        Assert.Contains($"Use {bobNewest} for", mail["bob@example.com"]);

        var unknown = await api.PostJsonAsync("/api/v1/journeys", new
        {
            name = "Broken offer",
            definition = new { trigger = new { @event = "vip.flagged" }, steps = new object[] { new { id = "gift", type = "offer", offer = "Nope" } } },
        });
        Assert.Contains("There is no offer", await unknown.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_broadcast_with_an_offer_gives_each_recipient_a_code_of_their_own_within_the_fatigue_guard(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync();
        foreach (var email in new[] { "ann@example.com", "bob@example.com", "cy@example.com" })
        {
            await JourneyFlowTests.ContactAsync(api, email);
        }
        await app.DrainAsync();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await api.PutAsJsonAsync("/api/v1/offers/fatigue", new { maxOffers = 1, periodDays = 30 })).StatusCode);
        var earlier = (await CreateAsync(api, new { name = "Earlier", title = "Free shipping", kind = "amount", value = 5, currency = "EUR", prefix = "SHIP-" })).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.Created, (await IssueAsync(api, earlier, "cy@example.com")).StatusCode); // cy has had one this month

        var offer = (await CreateAsync(api, new { name = "Winter", title = "15 % off beans", kind = "percent", value = 15, prefix = "WINTER-", validDays = 14 })).GetProperty("id").GetGuid();
        var noOffer = await api.PostJsonAsync("/api/v1/broadcasts", new { name = "Winter", topic = "newsletter", subject = "Winter", body = "Hello", offerId = offer });
        Assert.Equal(HttpStatusCode.BadRequest, noOffer.StatusCode);
        Assert.Contains("{{ offer.code }}", await noOffer.Content.ReadAsStringAsync());

        var created = await api.PostJsonAsync("/api/v1/broadcasts", new
        {
            name = "Winter",
            topic = "newsletter",
            subject = "Winter beans",
            offerId = offer,
            body = "Hello {{ contact.first_name }}. {% if offer %}Your code: {{ offer.code }}{% else %}Enjoy the season.{% endif %}",
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        var report = await Clientele.Tests.Outbox.MailFlowTests.FinishedAsync(api, id);
        Assert.Equal(2, report.GetProperty("couponsIssued").GetInt32());

        await using var db = app.NewDb();
        var coupons = await db.Coupons.AsNoTracking().Where(c => c.OfferId == offer).ToListAsync();
        Assert.Equal(2, coupons.Select(c => c.Code).Distinct().Count());
        var texts = new Dictionary<string, string>();
        foreach (var mail in await db.LocalMail.AsNoTracking().Where(m => m.Subject == "Winter beans").ToListAsync())
        {
            texts[mail.To] = MimeKit.MimeMessage.Load(new MemoryStream(mail.Raw)).TextBody!;
        }
        var contacts = await db.Contacts.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Email!);
        foreach (var c in coupons)
        {
            Assert.Contains("Your code: " + c.Code, texts[contacts[c.ContactId]]);
        }
        Assert.Contains("Enjoy the season.", texts["cy@example.com"]);
        Assert.DoesNotContain("WINTER-", texts["cy@example.com"]);
    }
}
