using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Clientele.Accounts;
using Clientele.Forms;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Journeys;
using Clientele.Tests.Web;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Referrals;

public sealed partial class ReferralProgramTests
{
    private const string PublicUrl = "https://club.example.com";

    [GeneratedRegex("name=\"_t\" value=\"([^\"]+)\"")]
    private static partial Regex TimeToken();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")]
    private static partial Regex Hidden();

    private static Task<TestApp> StartAsync(string kind) => TestApp.StartAsync(kind, settings: new() { ["Clientele:PublicUrl"] = PublicUrl });

    private static async Task CreateFormAsync(TestApp app, string slug = "join")
    {
        await using var db = app.NewDb();
        var now = app.Time.GetUtcNow().UtcDateTime;
        var form = new Form { Id = Guid.CreateVersion7(), Slug = slug, Name = "Join", Title = "Join the club", ThankYouText = "Welcome!", CreatedAt = now, UpdatedAt = now };
        form.SetFields([new FormField("email", "E-mail", "email", Required: true), new FormField("firstName", "First name")]);
        db.Forms.Add(form);
        await db.SaveChangesAsync();
    }

    private static async Task<Guid> OfferAsync(HttpClient api, object offer)
    {
        var created = await api.PostJsonAsync("/api/v1/offers", offer);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    private static async Task<JsonElement> ProgramAsync(HttpClient api, object program)
    {
        var saved = await api.PutAsJsonAsync("/api/v1/referrals/program", program);
        Assert.True(saved.StatusCode == HttpStatusCode.OK, await saved.Content.ReadAsStringAsync());
        return await saved.ReadJsonAsync();
    }

    private static async Task<Guid> ContactAsync(HttpClient api, object contact)
    {
        var response = await api.PostJsonAsync("/api/v1/contacts", contact);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    private static async Task<JsonElement> ReferralOfAsync(HttpClient api, Guid contact)
    {
        var response = await api.GetAsync($"/api/v1/contacts/{contact}/referral");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadJsonAsync();
    }

    /// <summary>A person's browser: keeps cookies, shows redirects, says it is a browser.</summary>
    private static HttpClient Visitor(TestApp app)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        client.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0");
        return client;
    }

    /// <summary>Opens the hosted form like a browser, waits like a person and sends it with its hidden fields.</summary>
    private static async Task<(HttpResponseMessage Response, Dictionary<string, string> Hidden)> SignUpAsync(TestApp app, HttpClient visitor, string email,
        string query = "")
    {
        var page = await visitor.GetStringAsync("/f/join" + query);
        var hidden = Hidden().Matches(page).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
        app.Time.Advance(TimeSpan.FromSeconds(8));
        var body = new Dictionary<string, string>(hidden) { ["_t"] = TimeToken().Match(page).Groups[1].Value, ["email"] = email };
        var response = await visitor.PostAsync("/f/join", new FormUrlEncodedContent(body));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (response, hidden);
    }

    private static async Task<List<JsonElement>> ReferralsAsync(HttpClient api, string query = "")
    {
        var response = await api.GetAsync("/api/v1/referrals" + query);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return [.. (await response.ReadJsonAsync()).GetProperty("items").EnumerateArray()];
    }

    private static async Task<List<string>> TimelineAsync(TestApp app, string email)
    {
        await using var db = app.NewDb();
        var events = await db.Events.AsNoTracking().Join(db.Contacts.Where(c => c.EmailNormalized == email), e => e.ContactId, c => c.Id, (e, c) => e)
            .OrderBy(e => e.Id).ToListAsync();
        return events.Select(e => JsonDocument.Parse(e.Properties).RootElement.TryGetProperty("role", out var role) ? $"{e.Type} ({role.GetString()})" : e.Type).ToList();
    }

    private static async Task<List<(string Offer, string Code)>> CouponsAsync(TestApp app, string email)
    {
        await using var db = app.NewDb();
        var rows = await db.Coupons.AsNoTracking().Join(db.Contacts.Where(c => c.EmailNormalized == email), k => k.ContactId, c => c.Id, (k, c) => k)
            .Join(db.Offers, k => k.OfferId, o => o.Id, (k, o) => new { o.Name, k.Code, k.Source }).ToListAsync();
        Assert.All(rows, r => Assert.Equal("referral", r.Source));
        return rows.Select(r => (r.Name, r.Code)).ToList();
    }

    private static Task OrderAsync(HttpClient api, string email, string orderId, decimal total, object? shipping = null) =>
        JourneyFlowTests.SignalAsync(api, email, "order.placed", new { orderId, total, currency = "EUR", shippingAddress = shipping });

    /// <summary>A program on the hosted form "join" with a coupon for each side; returns the two offers' ids.</summary>
    private static async Task<(Guid Friend, Guid Referrer)> RewardsAsync(HttpClient api)
    {
        var friend = await OfferAsync(api, new { name = "Friend's welcome", title = "10 % off your first order", kind = "percent", value = 10, prefix = "FRIEND-", validDays = 30 });
        var referrer = await OfferAsync(api, new { name = "Thanks", title = "10 EUR off", kind = "amount", value = 10, currency = "EUR", prefix = "THANKS-", validDays = 90 });
        return (friend, referrer);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_friend_who_follows_the_link_signs_up_and_buys_rewards_both_sides_once_and_lifts_the_referrer_on_the_leaderboard(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        await CreateFormAsync(app);
        var ann = await ContactAsync(api, new { email = "ann@example.com", firstName = "Ann" });
        var (friendOffer, referrerOffer) = await RewardsAsync(api);
        await ProgramAsync(api, new { enabled = true, landing = "/f/join", friendOfferId = friendOffer, referrerOfferId = referrerOffer, minOrderTotal = 20 });

        // Ann's code and link, made on first request and the same after.
        var mine = await ReferralOfAsync(api, ann);
        var code = mine.GetProperty("code").GetString()!;
        Assert.Matches("^[A-HJKMNP-Z2-9]{8}$", code);
        Assert.Equal($"{PublicUrl}/r/{code}", mine.GetProperty("link").GetString());
        Assert.Equal(code, (await ReferralOfAsync(api, ann)).GetProperty("code").GetString());

        // Bob follows Ann's link: a click on her timeline, a cookie, and on to the form with the code.
        app.Time.Advance(TimeSpan.FromHours(1));
        var bob = Visitor(app);
        var visit = await bob.GetAsync($"/r/{code.ToLowerInvariant()}");
        Assert.Equal(HttpStatusCode.Redirect, visit.StatusCode);
        Assert.Equal($"/f/join?ref={code}", visit.Headers.Location!.OriginalString);
        var cookie = Assert.Single(visit.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith($"clientele_ref={code};", cookie);
        Assert.Contains("max-age=2592000", cookie); // the 30-day attribution window
        var (_, hidden) = await SignUpAsync(app, bob, "bob@example.com", $"?ref={code}");
        Assert.Equal(code, hidden["_ref"]);
        await app.DrainAsync();

        var signedUp = Assert.Single(await ReferralsAsync(api));
        Assert.Equal("signedUp", signedUp.GetProperty("status").GetString());
        Assert.Equal("ann@example.com", signedUp.GetProperty("referrer").GetProperty("email").GetString());
        Assert.Equal("bob@example.com", signedUp.GetProperty("friend").GetProperty("email").GetString());
        Assert.Equal("form:join", signedUp.GetProperty("source").GetString());
        Assert.Equal(JsonValueKind.String, signedUp.GetProperty("clickedAt").ValueKind);
        Assert.Equal("issued", signedUp.GetProperty("friendReward").GetProperty("status").GetString());
        Assert.Equal("pending", signedUp.GetProperty("referrerReward").GetProperty("status").GetString());
        var welcome = Assert.Single(await CouponsAsync(app, "bob@example.com"));
        Assert.Equal("Friend's welcome", welcome.Offer);
        Assert.Equal(welcome.Code, signedUp.GetProperty("friendReward").GetProperty("couponCode").GetString());
        Assert.Empty(await CouponsAsync(app, "ann@example.com"));

        // The friend's first order converts the referral and thanks Ann; a second order rewards nobody again.
        await OrderAsync(api, "bob@example.com", "B-1", 40);
        await app.DrainAsync();
        var rewarded = Assert.Single(await ReferralsAsync(api));
        Assert.Equal("rewarded", rewarded.GetProperty("status").GetString());
        Assert.Equal("B-1", rewarded.GetProperty("firstOrderId").GetString());
        var thanks = Assert.Single(await CouponsAsync(app, "ann@example.com"));
        Assert.Equal("Thanks", thanks.Offer);
        Assert.StartsWith("THANKS-", thanks.Code);

        await OrderAsync(api, "bob@example.com", "B-2", 60);
        await SignUpAsync(app, bob, "bob@example.com"); // the same friend with the same code again (the cookie carries it)
        await app.DrainAsync();
        Assert.Single(await CouponsAsync(app, "ann@example.com"));
        Assert.Single(await CouponsAsync(app, "bob@example.com"));
        Assert.Single(await ReferralsAsync(api));

        Assert.Equal(["referral.clicked", "referral.signed_up (referrer)", "referral.converted (referrer)", "offer.issued", "referral.rewarded (referrer)"],
            (await TimelineAsync(app, "ann@example.com")).Where(t => t.StartsWith("referral.", StringComparison.Ordinal) || t == "offer.issued"));
        Assert.Equal(["referral.signed_up (friend)", "offer.issued", "referral.rewarded (friend)", "referral.converted (friend)"],
            (await TimelineAsync(app, "bob@example.com")).Where(t => t.StartsWith("referral.", StringComparison.Ordinal) || t == "offer.issued"));
        await using (var db = app.NewDb())
        {
            // The click says which link, not who clicked.
            var click = await db.Events.AsNoTracking().SingleAsync(e => e.Type == "referral.clicked");
            Assert.Equal(["code", "landing"], JsonDocument.Parse(click.Properties).RootElement.EnumerateObject().Select(p => p.Name));
        }

        var board = await (await api.GetAsync("/api/v1/referrals/leaderboard?days=30")).ReadJsonAsync();
        var top = Assert.Single(board.GetProperty("items").EnumerateArray());
        Assert.Equal(1, top.GetProperty("rank").GetInt32());
        Assert.Equal("Ann", top.GetProperty("referrer").GetProperty("name").GetString());
        Assert.Equal(code, top.GetProperty("code").GetString());
        Assert.Equal((1, 1, 1, 1, 0), (top.GetProperty("clicks").GetInt32(), top.GetProperty("friends").GetInt32(), top.GetProperty("converted").GetInt32(),
            top.GetProperty("rewarded").GetInt32(), top.GetProperty("rejected").GetInt32()));
        var revenue = Assert.Single(top.GetProperty("revenue").EnumerateArray());
        Assert.Equal(("EUR", 100m, 2), (revenue.GetProperty("currency").GetString(), revenue.GetProperty("amount").GetDecimal(), revenue.GetProperty("orders").GetInt32()));
        var standing = await ReferralOfAsync(api, ann);
        Assert.Equal((1, 1, 1), (standing.GetProperty("friends").GetInt32(), standing.GetProperty("converted").GetInt32(), standing.GetProperty("rewarded").GetInt32()));
        var bobId = Assert.Single(await ReferralsAsync(api)).GetProperty("friend").GetProperty("id").GetGuid();
        Assert.Equal("ann@example.com", (await ReferralOfAsync(api, bobId)).GetProperty("referredBy").GetProperty("referrer").GetProperty("email").GetString());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Self_referrals_shared_addresses_and_known_contacts_are_turned_down_with_the_reason_and_no_reward(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        await CreateFormAsync(app);
        var ann = await ContactAsync(api, new { email = "ann.lee@gmail.com", firstName = "Ann", attributes = new { address = "12 Main St., Springfield" } });
        await ContactAsync(api, new { email = "eve@example.com", firstName = "Eve" });
        var (friendOffer, referrerOffer) = await RewardsAsync(api);
        await ProgramAsync(api, new { enabled = true, landing = "/f/join", friendOfferId = friendOffer, referrerOfferId = referrerOffer });
        var code = (await ReferralOfAsync(api, ann)).GetProperty("code").GetString()!;
        app.Time.Advance(TimeSpan.FromHours(1));

        // Ann through her own link, first as herself, then with another spelling of her mailbox.
        var annBrowser = Visitor(app);
        Assert.Equal(HttpStatusCode.Redirect, (await annBrowser.GetAsync($"/r/{code}")).StatusCode);
        await SignUpAsync(app, annBrowser, "ann.lee@gmail.com");
        await SignUpAsync(app, annBrowser, "annlee+friends@googlemail.com");
        // Eve was a contact before she followed the link.
        var eve = Visitor(app);
        await eve.GetAsync($"/r/{code}");
        await SignUpAsync(app, eve, "eve@example.com");
        // Dan, through the shop's own sign-up, lives at Ann's address.
        await ContactAsync(api, new { email = "dan@example.com", referralCode = code.ToLowerInvariant(), attributes = new { address = new { line1 = "12 main st", city = "SPRINGFIELD" } } });
        // A code nobody has, and a code that is not text.
        await ContactAsync(api, new { email = "zed@example.com", referralCode = "ZZZZ9999" });
        var bad = await api.PostJsonAsync("/api/v1/contacts", new { email = "yan@example.com", referralCode = 42 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("/referralCode", await bad.Content.ReadAsStringAsync());
        await app.DrainAsync();

        var referrals = await ReferralsAsync(api, "?status=rejected");
        var reasons = referrals.ToDictionary(r => r.GetProperty("friend").GetProperty("email").GetString()!, r => r.GetProperty("reason").GetString()!);
        Assert.Equal(4, reasons.Count);
        Assert.Equal("Self-referral: the friend is the referrer.", reasons["ann.lee@gmail.com"]);
        Assert.Equal("Self-referral: annlee+friends@googlemail.com is the referrer's own mailbox (ann.lee@gmail.com).", reasons["annlee+friends@googlemail.com"]);
        Assert.StartsWith("eve@example.com was a contact already", reasons["eve@example.com"]);
        Assert.Equal("Same address: the friend lives at the referrer's address.", reasons["dan@example.com"]);
        Assert.All(referrals, r => Assert.Equal("none", r.GetProperty("friendReward").GetProperty("status").GetString()));
        Assert.Empty(await ReferralsAsync(api, "?status=signedUp"));
        await using (var db = app.NewDb())
        {
            Assert.Equal(0, await db.Coupons.CountAsync());
            var unknown = await db.Events.AsNoTracking().Join(db.Contacts.Where(c => c.EmailNormalized == "zed@example.com"), e => e.ContactId, c => c.Id, (e, c) => e)
                .SingleAsync(e => e.Type == "referral.rejected");
            Assert.Contains("No customer has the referral code", unknown.Properties);
        }
        Assert.Equal(4, (await TimelineAsync(app, "ann.lee@gmail.com")).Count(t => t == "referral.rejected (referrer)"));
        Assert.Contains("referral.rejected (friend)", await TimelineAsync(app, "dan@example.com"));
        var board = await (await api.GetAsync("/api/v1/referrals/leaderboard")).ReadJsonAsync();
        var row = Assert.Single(board.GetProperty("items").EnumerateArray());
        Assert.Equal((0, 4), (row.GetProperty("friends").GetInt32(), row.GetProperty("rejected").GetInt32()));

        // A friend's order that ships to the referrer's address does not earn the referrer a reward.
        await ContactAsync(api, new { email = "fay@example.com", referralCode = code });
        await app.DrainAsync();
        await OrderAsync(api, "fay@example.com", "F-1", 50, new { line1 = "12 Main St", city = "Springfield" });
        await app.DrainAsync();
        var fay = Assert.Single(await ReferralsAsync(api), r => r.GetProperty("friend").GetProperty("email").GetString() == "fay@example.com");
        Assert.Equal("rejected", fay.GetProperty("status").GetString());
        Assert.Equal("Same address: the friend's order F-1 ships to the referrer's address.", fay.GetProperty("reason").GetString());
        Assert.Equal("issued", fay.GetProperty("friendReward").GetProperty("status").GetString()); // given on signing up, before the order showed it
        Assert.Empty(await CouponsAsync(app, "ann.lee@gmail.com"));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Sign_ups_long_after_the_click_and_referrers_over_their_caps_are_turned_down(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        await CreateFormAsync(app);
        var ann = await ContactAsync(api, new { email = "ann@example.com", firstName = "Ann" });
        var (friendOffer, _) = await RewardsAsync(api);
        await ProgramAsync(api, new { enabled = true, landing = "/f/join", friendOfferId = friendOffer, maxPerPeriod = 2, periodDays = 30, maxTotal = 3, windowDays = 30 });
        var code = (await ReferralOfAsync(api, ann)).GetProperty("code").GetString()!;
        app.Time.Advance(TimeSpan.FromHours(1));

        // Wendy clicks, and signs up 31 days later: the window has passed.
        var wendy = Visitor(app);
        await wendy.GetAsync($"/r/{code}");
        app.Time.Advance(TimeSpan.FromDays(31));
        await SignUpAsync(app, wendy, "wendy@example.com");
        await app.DrainAsync();
        Assert.Equal("Signed up 31 days after the last click on the link, outside the 30-day attribution window.",
            Assert.Single(await ReferralsAsync(api)).GetProperty("reason").GetString());
        await Visitor(app).GetAsync($"/r/{code}"); // someone follows the link again

        // Two friends a month at most, three in all: by the contacts API, an event of the shop's and the hosted form.
        await ContactAsync(api, new { email = "f1@example.com", referralCode = code });
        await JourneyFlowTests.SignalAsync(api, "f2@example.com", "account.created", new { referralCode = code });
        await ContactAsync(api, new { email = "f3@example.com", referralCode = code });
        await app.DrainAsync();
        app.Time.Advance(TimeSpan.FromDays(31));
        var f4 = Visitor(app);
        await f4.GetAsync($"/r/{code}");
        await SignUpAsync(app, f4, "f4@example.com");
        await app.DrainAsync();
        await ContactAsync(api, new { email = "f5@example.com", referralCode = code });
        await app.DrainAsync();

        var all = (await ReferralsAsync(api)).ToDictionary(r => r.GetProperty("friend").GetProperty("email").GetString()!);
        Assert.Equal(["signedUp", "signedUp", "rejected", "signedUp", "rejected"],
            new[] { "f1", "f2", "f3", "f4", "f5" }.Select(f => all[f + "@example.com"].GetProperty("status").GetString()));
        Assert.Equal(["api", "account.created", "form:join"], new[] { "f1", "f2", "f4" }.Select(f => all[f + "@example.com"].GetProperty("source").GetString()));
        Assert.Equal("Ann has 2 referrals in the last 30 days, the programme's cap.", all["f3@example.com"].GetProperty("reason").GetString());
        Assert.Equal("Ann has 3 referrals in all, the programme's cap.", all["f5@example.com"].GetProperty("reason").GetString());
        await using var db = app.NewDb();
        Assert.Equal(3, await db.Coupons.CountAsync(c => c.OfferId == friendOffer));

        // A page over several requests.
        var first = await (await api.GetAsync("/api/v1/referrals?limit=4")).ReadJsonAsync();
        var next = first.GetProperty("next").GetString();
        var second = await (await api.GetAsync($"/api/v1/referrals?limit=4&cursor={next}")).ReadJsonAsync();
        Assert.Equal(6, first.GetProperty("items").GetArrayLength() + second.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync("/api/v1/referrals?status=maybe")).StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_link_never_leads_off_the_business_own_sites_and_an_unknown_code_gets_a_friendly_page(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        var ann = await ContactAsync(api, new { email = "ann@example.com" });
        var code = (await ReferralOfAsync(api, ann)).GetProperty("code").GetString()!;
        var visitor = Visitor(app);

        // Not turned on yet.
        var inactive = await visitor.GetAsync($"/r/{code}");
        Assert.Equal(HttpStatusCode.NotFound, inactive.StatusCode);
        Assert.Contains("not active", await inactive.Content.ReadAsStringAsync());

        foreach (var landing in new[] { "https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "https://shop.example.com@evil.example/" })
        {
            var refused = await api.PutAsJsonAsync("/api/v1/referrals/program", new { enabled = true, landing, allowedHosts = new[] { "shop.example.com" } });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var problem = await refused.ReadJsonAsync();
            Assert.True(problem.GetProperty("errors").TryGetProperty("/landing", out _), landing);
        }
        var unknownForm = await api.PutAsJsonAsync("/api/v1/referrals/program", new { enabled = true, landing = "/f/nowhere" });
        Assert.Contains("There is no open form", await unknownForm.Content.ReadAsStringAsync());

        var saved = await ProgramAsync(api, new { enabled = true, landing = "https://shop.example.com/welcome?src=friends", allowedHosts = new[] { "Shop.Example.com" } });
        Assert.Equal("shop.example.com", Assert.Single(saved.GetProperty("allowedHosts").EnumerateArray()).GetString());
        var visit = await visitor.GetAsync($"/r/{code}?to=https://evil.example/&redirect=//evil.example&ref=OTHER");
        Assert.Equal(HttpStatusCode.Redirect, visit.StatusCode);
        Assert.Equal($"https://shop.example.com/welcome?src=friends&ref={code}", visit.Headers.Location!.ToString());

        foreach (var path in new[] { "/r/NOSUCH99", "/r/%3Cscript%3Ealert(1)%3C%2Fscript%3E" })
        {
            var missing = await visitor.GetAsync(path);
            var html = await missing.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("text/html", missing.Content.Headers.ContentType!.MediaType);
            Assert.Contains("This referral link is not one we know", html);
            Assert.DoesNotContain("<script>", html);
            Assert.DoesNotContain("Exception", html);
        }
        // Software fetching a link (a chat app's preview) is sent on but not counted.
        var preview = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        preview.DefaultRequestHeaders.UserAgent.ParseAdd("Slackbot-LinkExpanding 1.0");
        Assert.Equal(HttpStatusCode.Redirect, (await preview.GetAsync($"/r/{code}")).StatusCode);
        Assert.Equal(1, (await ReferralOfAsync(api, ann)).GetProperty("clicks").GetInt32());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_email_asks_for_referrals_with_the_contacts_own_code_and_link(string kind)
    {
        await using var app = await StartAsync(kind);
        var api = await app.ApiClientAsync();
        await CreateFormAsync(app);
        await ContactAsync(api, new { email = "ann@example.com", firstName = "Ann" });
        var created = await api.PostJsonAsync("/api/v1/templates", new
        {
            name = "Refer a friend",
            subject = "A gift for a friend",
            body = "{% if referral %}Share [your link]({{ referral.link }}) or the code {{ referral.code }}.{% else %}No programme.{% endif %}",
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var template = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        async Task<string> PreviewAsync()
        {
            var preview = await api.PostJsonAsync($"/api/v1/templates/{template}/preview", new { email = "ann@example.com" });
            Assert.True(preview.StatusCode == HttpStatusCode.OK, await preview.Content.ReadAsStringAsync());
            return (await preview.ReadJsonAsync()).GetProperty("text").GetString()!;
        }

        Assert.Contains("No programme.", await PreviewAsync()); // off: no link that leads nowhere
        await using (var db = app.NewDb())
        {
            Assert.Equal(0, await db.ReferralCodes.CountAsync());
        }

        await ProgramAsync(api, new { enabled = true, landing = "/f/join" });
        var plain = await api.PostJsonAsync("/api/v1/templates", new { name = "Hello", subject = "Hello", body = "Hello {{ contact.first_name }}." });
        var plainId = (await plain.ReadJsonAsync()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync($"/api/v1/templates/{plainId}/preview", new { email = "ann@example.com" })).StatusCode);
        await using (var db = app.NewDb())
        {
            Assert.Equal(0, await db.ReferralCodes.CountAsync()); // a template that does not show it makes no code
        }
        var text = await PreviewAsync();
        await using (var db = app.NewDb())
        {
            var code = (await db.ReferralCodes.AsNoTracking().SingleAsync()).Code;
            Assert.Contains($"{PublicUrl}/r/{code}", text);
            Assert.Contains($"or the code {code}.", text);
        }
        Assert.Equal(text, await PreviewAsync()); // the same code every time
    }

    [Fact]
    public async Task The_referrals_page_explains_how_to_start_then_shows_the_leaderboard_and_why_referrals_were_turned_down()
    {
        await using var app = await StartAsync(Db.Sqlite);
        var owner = await app.SignedInAsync(Role.Owner);
        var empty = await owner.GetStringAsync("/referrals");
        Assert.Contains("No referrals yet", empty);
        Assert.Contains("{{ referral.link }}", empty);

        var api = await app.ApiClientAsync();
        await CreateFormAsync(app);
        var ann = await ContactAsync(api, new { email = "ann@example.com", firstName = "Ann", lastName = "Lee" });
        await ProgramAsync(api, new { enabled = true, landing = "/f/join" });
        var code = (await ReferralOfAsync(api, ann)).GetProperty("code").GetString()!;
        app.Time.Advance(TimeSpan.FromHours(1));
        await ContactAsync(api, new { email = "bob@example.com", firstName = "Bob", referralCode = code });
        await ContactAsync(api, new { email = "ann+alias@example.com", referralCode = code });
        await app.DrainAsync();
        await OrderAsync(api, "bob@example.com", "B-1", 42);
        await app.DrainAsync();

        var html = WebUtility.HtmlDecode(await owner.GetStringAsync("/referrals"));
        Assert.DoesNotContain("No referrals yet", html);
        Assert.Contains("Top advocates", html);
        Assert.Contains("Ann Lee", html);
        Assert.Contains(code, html);
        Assert.Contains("42.00 EUR", html);
        Assert.Contains("Self-referral: ann+alias@example.com is the referrer's own mailbox (ann@example.com).", html);
        Assert.Contains("converted", html);
        Assert.Contains("Form: Join (/f/join)", html);
        var agent = await app.SignedInAsync(Role.Agent);
        Assert.Equal(HttpStatusCode.Redirect, (await agent.GetAsync("/referrals")).StatusCode);
    }

    [Fact]
    public async Task The_demo_business_has_a_running_programme_with_advocates_friends_and_a_turned_down_referral()
    {
        await using var app = await StartAsync(Db.Sqlite);
        await Clientele.Demo.DemoSeed.SeedAsync(app.Database, app.Time, CancellationToken.None);
        int coupons;
        await using (var db = app.NewDb())
        {
            coupons = await db.Coupons.CountAsync(c => c.Source != "order");
        }
        await app.DrainAsync();
        var api = await app.ApiClientAsync();

        var program = await (await api.GetAsync("/api/v1/referrals/program")).ReadJsonAsync();
        Assert.True(program.GetProperty("enabled").GetBoolean());
        var board = (await (await api.GetAsync("/api/v1/referrals/leaderboard")).ReadJsonAsync()).GetProperty("items").EnumerateArray().ToList();
        Assert.True(board.Count >= 5, $"{board.Count} advocates");
        Assert.True(board[0].GetProperty("converted").GetInt32() >= 1);
        Assert.NotEmpty(board[0].GetProperty("revenue").EnumerateArray());
        var referrals = await ReferralsAsync(api, "?limit=200");
        foreach (var status in new[] { "signedUp", "rewarded", "rejected" })
        {
            Assert.Contains(referrals, r => r.GetProperty("status").GetString() == status);
        }
        await using (var db = app.NewDb())
        {
            // The consumers, catching up with two years of history, add no rewards of their own (the shop's shared
            // codes that orders carried are recorded as those customers' coupons, which is no reward).
            Assert.Equal(coupons, await db.Coupons.CountAsync(c => c.Source != "order"));
            Assert.Equal(0, await db.ConsumerFailures.CountAsync());
        }
        var visit = await Visitor(app).GetAsync($"/r/{board[0].GetProperty("code").GetString()}");
        Assert.Equal("/p/club?ref=" + board[0].GetProperty("code").GetString(), visit.Headers.Location!.OriginalString);
    }
}
