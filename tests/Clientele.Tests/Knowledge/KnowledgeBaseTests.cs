using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Clientele.Knowledge;
using Clientele.Tests.Infrastructure;

namespace Clientele.Tests.Knowledge;

/// <summary>The knowledge base through its API and its search, as the support desk and the public pages use it.</summary>
public sealed class KnowledgeBaseTests
{
    /// <summary>A small help centre of a coffee roaster. Most articles say "coffee"; each has words of its own.</summary>
    internal static readonly object[] Library =
    [
        new
        {
            title = "How long does shipping take?", category = "Shipping", published = true,
            body = "We roast your coffee Monday to Thursday and dispatch it within one working day. Delivery takes 2–4 working days in the US and 5–10 days to Europe.",
        },
        new
        {
            title = "How do I track my order?", category = "Shipping", published = true, tags = new[] { "parcel" },
            body = "When your coffee leaves the roastery we e-mail you a tracking link from the carrier. \"Label created\" means it is packed but not yet scanned.",
        },
        new
        {
            title = "Returns and refunds", category = "Orders", published = true,
            body = "Unused equipment can be returned within 30 days. If you do not love a coffee, we refund it. Refunds reach your card within 5–7 working days.",
        },
        new
        {
            title = "How do I reset my password?", category = "Account", published = true,
            body = "Choose Forgot password on the sign-in page and we send you a link to choose a new password. The link works for one hour.",
        },
        new
        {
            title = "Cleaning the burr grinder", category = "Equipment", published = true,
            body = "Brush the burrs every week and use cleaning tablets once a month. Old coffee oils make fresh coffee bitter.",
        },
        new
        {
            title = "Warranty on brewing equipment", category = "Equipment", published = true,
            body = "The grinder has a two-year warranty. A grinder that stops, a grinder motor that hums, a grinder hopper that cracks: "
                + "we repair or replace the grinder. Glass is not covered. Coffee machines from other shops are not ours to repair.",
        },
    ];

    private static async Task<Dictionary<string, JsonElement>> WriteLibraryAsync(HttpClient api)
    {
        var saved = new Dictionary<string, JsonElement>();
        foreach (var article in Library)
        {
            var response = await api.PostJsonAsync("/api/v1/kb/articles", article);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var json = await response.ReadJsonAsync();
            saved[json.GetProperty("title").GetString()!] = json;
        }
        return saved;
    }

    private static async Task<List<string>> TitlesAsync(HttpClient api, string q)
    {
        var response = await api.GetAsync("/api/v1/kb/search?q=" + Uri.EscapeDataString(q));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.ReadJsonAsync()).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("title").GetString()!)];
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Search_follows_articles_as_they_are_written_changed_withdrawn_and_deleted_through_the_API(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        var saved = await WriteLibraryAsync(api);
        var password = saved["How do I reset my password?"];
        var id = password.GetProperty("id").GetGuid();
        Assert.Equal("how-do-i-reset-my-password", password.GetProperty("slug").GetString());
        Assert.Equal("API key test-write", password.GetProperty("updatedBy").GetString());

        Assert.Equal("How do I reset my password?", Assert.Single(await TitlesAsync(api, "forgot password")));

        // The text changes: the old words no longer find it, the new ones do; the address stays.
        app.Time.Advance(TimeSpan.FromHours(1));
        var changed = await api.PutAsJsonAsync($"/api/v1/kb/articles/{id}", new
        {
            title = "Signing in with a magic link",
            body = "We no longer use passphrases: type your e-mail address and we send you a one-time sign-in link.",
        }, HttpJson.Options);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var after = await changed.ReadJsonAsync();
        Assert.Equal("how-do-i-reset-my-password", after.GetProperty("slug").GetString());
        Assert.Equal("Account", after.GetProperty("category").GetString()); // left out, so kept
        Assert.True(after.GetProperty("updatedAt").GetDateTime() > after.GetProperty("createdAt").GetDateTime());
        Assert.Empty(await TitlesAsync(api, "forgot password"));
        Assert.Equal("Signing in with a magic link", Assert.Single(await TitlesAsync(api, "magic")));

        // Withdrawn: out of the search and the public pages, still there to edit.
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/kb/articles/{id}/unpublish", null)).StatusCode);
        Assert.Empty(await TitlesAsync(api, "magic"));
        var browser = app.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync("/kb/how-do-i-reset-my-password")).StatusCode);
        var drafts = await (await api.GetAsync("/api/v1/kb/articles?published=false")).ReadJsonAsync();
        Assert.Equal(id, Assert.Single(drafts.EnumerateArray()).GetProperty("id").GetGuid());
        var listed = await (await api.GetAsync("/api/v1/kb/articles?q=magic")).ReadJsonAsync();
        Assert.Equal(id, Assert.Single(listed.EnumerateArray()).GetProperty("id").GetGuid()); // the back office finds drafts too

        // Published again, then deleted.
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/kb/articles/{id}/publish", null)).StatusCode);
        Assert.Equal("Signing in with a magic link", Assert.Single(await TitlesAsync(api, "magic")));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/kb/how-do-i-reset-my-password")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/v1/kb/articles/{id}")).StatusCode);
        Assert.Empty(await TitlesAsync(api, "magic"));
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/v1/kb/articles/{id}")).StatusCode);
        Assert.Equal(5, (await (await api.GetAsync("/api/v1/kb/articles")).ReadJsonAsync()).GetArrayLength());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_article_whose_title_matches_ranks_above_one_that_only_mentions_the_words(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        await WriteLibraryAsync(api);

        // The warranty article says "grinder" five times in its text; the cleaning article has it once, in its title.
        Assert.Equal("Cleaning the burr grinder", (await TitlesAsync(api, "grinder"))[0]);
        Assert.Equal("Warranty on brewing equipment", (await TitlesAsync(api, "grinder warranty"))[0]);
        Assert.Equal("Returns and refunds", (await TitlesAsync(api, "refund"))[0]);
        // A word still being typed matches as a prefix.
        Assert.Equal("How do I track my order?", (await TitlesAsync(api, "track my ord"))[0]);
        Assert.Equal("Cleaning the burr grinder", (await TitlesAsync(api, "grind"))[0]);
    }

    private const string CustomerEmail = """
        Hi there!!

        I placed order #100234 (two bags of the "Kenya AA") last week AND it still hasn't arrived... The tracking page just says
        *label created* -- is that normal?? Has the parcel been scanned by the carrier OR is it stuck? NEAR(my, door) lol :-)
        Please advise ASAP; (I'm going away on Friday) -- [urgent] {order} ^^ ~~ "unbalanced quote * OR AND NOT

        Thanks so much,
        Ann

        --
        Ann Baker | Head of Warranty Claims, Grinder Repairs Inc.
        Sent from my iPhone

        On Mon, 1 Jun 2026 at 10:00, Northwind Roasters <hello@example.com> wrote:
        > Thanks for your order! Our returns policy: refunds reach your card within 5-7 working days.
        > Ask us anything about the warranty of your grinder.
        """;

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_whole_customer_email_finds_the_article_it_asks_about_whatever_punctuation_and_operators_it_holds(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        await WriteLibraryAsync(api);
        await using var data = app.NewDb();

        var hits = await KnowledgeBase.SearchAsync(data, CustomerEmail, 3, CancellationToken.None);

        Assert.Equal("How do I track my order?", hits[0].Title);
        // Articles sharing only a stray word with it ("page", "week") are not offered.
        Assert.DoesNotContain(hits, h => h.Title is "How do I reset my password?" or "Cleaning the burr grinder");
        // Neither the quoted earlier message (refunds, warranty) nor the signature (warranty, grinder) pulls in their articles.
        Assert.DoesNotContain(hits, h => h.Title is "Returns and refunds" or "Warranty on brewing equipment");
        Assert.Contains("tracking", hits[0].Snippet);
        Assert.InRange(hits[0].Snippet.Length, 20, KnowledgeBase.SnippetLength + 2);
        Assert.DoesNotContain("*", hits[0].Snippet);

        // The same through the API, as a body too long for an address.
        var posted = await (await api.PostJsonAsync("/api/v1/kb/search", new { text = CustomerEmail, limit = 1 })).ReadJsonAsync();
        var item = Assert.Single(posted.GetProperty("items").EnumerateArray());
        Assert.Equal("how-do-i-track-my-order", item.GetProperty("slug").GetString());
        Assert.EndsWith("/kb/how-do-i-track-my-order", item.GetProperty("url").GetString());

        // Nothing anyone types reaches the query syntax of either database.
        string[] nasty =
        [
            "\"", "\"\"\"", "*", "**", "(", ")", "())(", "AND", "OR", "NOT", "NEAR", "NEAR(a b, 2)", "a AND", "OR b", "title:refund", "body:*",
            "refund*", "-refund", "+refund", "^refund", "refund^2", "'; DROP TABLE kb_articles; --", "a & b | !c <-> d", "foo:* & bar:*",
            "{refund}", "[refund]", "refund~", "\\", "\0", "ﬁ ß İ ǅ", "😀 coffee 😀", "refund\u200b", new string('x', 5000),
            string.Join(' ', Enumerable.Range(0, 2000).Select(i => "word" + i)), "   ", "",
        ];
        foreach (var text in nasty)
        {
            await KnowledgeBase.SearchAsync(data, text, 5, CancellationToken.None);
            var response = await api.PostJsonAsync("/api/v1/kb/search", new { text });
            Assert.Equal(string.IsNullOrWhiteSpace(text) ? HttpStatusCode.BadRequest : HttpStatusCode.OK, response.StatusCode);
            var page = await app.CreateClient().GetAsync("/kb?q=" + Uri.EscapeDataString(text.Length > 1000 ? text[..1000] : text));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }
        Assert.Equal("Returns and refunds", (await KnowledgeBase.SearchAsync(data, "refund*", 5, CancellationToken.None))[0].Title);
        Assert.Equal("Returns and refunds", (await KnowledgeBase.SearchAsync(data, "NEAR(refund)", 5, CancellationToken.None))[0].Title);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Text_of_only_common_words_finds_nothing(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        await WriteLibraryAsync(api);
        await using var data = app.NewDb();

        Assert.Empty(await KnowledgeBase.SearchAsync(data, "Hi, thanks! Could you please let me know? Best regards", 5, CancellationToken.None));
        Assert.Empty(await KnowledgeBase.SearchAsync(data, "the and of to in it is was", 5, CancellationToken.None));
        Assert.Empty(await TitlesAsync(api, "how do I"));
        // A message whose only telling word is one most articles use ("coffee") points at none of them…
        Assert.Empty(await KnowledgeBase.SearchAsync(data,
            "Hello! I just wanted to say that your coffee is delicious, we enjoy a cup of your coffee every morning. Keep it up!", 5, CancellationToken.None));
        // …while a search for it finds them all.
        Assert.Equal(5, (await KnowledgeBase.SearchAsync(data, "coffee", 10, CancellationToken.None)).Count);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Unpublished_articles_never_appear_publicly(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        await WriteLibraryAsync(api);
        var draft = await (await api.PostJsonAsync("/api/v1/kb/articles", new
        {
            title = "Secret summer roast launch",
            category = "Coming soon",
            body = "Our secret Geisha roast launches in July. Tracking and shipping as usual.",
        })).ReadJsonAsync();
        Assert.False(draft.GetProperty("published").GetBoolean()); // a new article is a draft unless published is given
        var browser = app.CreateClient();
        await using var data = app.NewDb();

        Assert.Empty(await TitlesAsync(api, "geisha"));
        Assert.Empty(await KnowledgeBase.SearchAsync(data, "secret geisha", 5, CancellationToken.None));
        Assert.DoesNotContain(await KnowledgeBase.SearchAsync(data, CustomerEmail + " Is the secret Geisha roast out?", 10, CancellationToken.None),
            h => h.Title.Contains("Geisha", StringComparison.Ordinal));
        var index = await browser.GetStringAsync("/kb");
        Assert.DoesNotContain("Geisha", index);
        Assert.DoesNotContain("Coming soon", index);
        Assert.DoesNotContain("Geisha", await browser.GetStringAsync("/kb?q=secret+geisha"));
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync("/kb/" + draft.GetProperty("slug").GetString())).StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_public_help_centre_lists_searches_and_shows_articles_on_the_brand_and_escapes_script(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await using (var data = app.NewDb())
        {
            await Clientele.Data.SettingsStore.SaveAsync(data, Clientele.Outbox.OutboxContent.BrandKey, new Clientele.Templates.Brand
            {
                BusinessName = "Northwind Roasters",
                PrimaryColor = "#7a3e12",
                LogoUrl = "https://northwind.example/logo.png",
            }, app.Time.GetUtcNow().UtcDateTime, CancellationToken.None);
        }
        var browser = app.CreateClient();
        var empty = await browser.GetAsync("/kb");
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        Assert.Contains("There are no articles here yet", await empty.Content.ReadAsStringAsync());

        var api = await app.ApiClientAsync("write");
        await WriteLibraryAsync(api);
        var hostile = await api.PostJsonAsync("/api/v1/kb/articles", new
        {
            title = "Brewing <b>tips</b> & tricks",
            category = "Brewing",
            published = true,
            body = "Use **fresh** water.\n\n<script>alert('kb')</script>\n\n<img src=\"x\" onerror=\"alert(1)\">\n\n[Click me](javascript:alert(2))\n\n- one\n- two",
        });
        Assert.Equal(HttpStatusCode.Created, hostile.StatusCode);
        var slug = (await hostile.ReadJsonAsync()).GetProperty("slug").GetString();
        Assert.Equal("brewing-b-tips-b-tricks", slug);

        var index = await browser.GetStringAsync("/kb");
        Assert.Contains("Northwind Roasters", index);
        Assert.Contains("#7a3e12", index);
        Assert.Contains("https://northwind.example/logo.png", index);
        Assert.Contains("<h2>Shipping</h2>", index);
        Assert.Contains("<h2>Equipment</h2>", index);
        Assert.Contains("href=\"/kb/how-do-i-track-my-order\"", index);
        Assert.True(index.IndexOf("<h2>Account</h2>", StringComparison.Ordinal) < index.IndexOf("<h2>Shipping</h2>", StringComparison.Ordinal));
        Assert.Contains("Brewing &lt;b&gt;tips&lt;/b&gt; &amp; tricks", index);

        var results = await browser.GetStringAsync("/kb?q=" + Uri.EscapeDataString("refund <script>"));
        Assert.Contains("Returns and refunds", results);
        Assert.Contains("Refunds reach your card", results);
        Assert.Contains("refund &lt;script&gt;", results);
        Assert.DoesNotContain("<script>", results);
        Assert.Contains("No articles match", await browser.GetStringAsync("/kb?q=zeppelin"));

        var page = await browser.GetAsync("/kb/" + slug);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<h1>Brewing &lt;b&gt;tips&lt;/b&gt; &amp; tricks</h1>", html);
        Assert.Contains("<strong>fresh</strong>", html);
        Assert.Contains("<li>two</li>", html);
        Assert.DoesNotContain("<script>alert", html);
        Assert.DoesNotContain("onerror", html);
        Assert.DoesNotContain("javascript:", html);
        Assert.Contains("Brewing", html); // the category, as a breadcrumb

        foreach (var unknown in new[] { "/kb/no-such-article", "/kb/UPPER", "/kb/" + Uri.EscapeDataString("a b\"<x>") })
        {
            var missing = await browser.GetAsync(unknown);
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            var text = await missing.Content.ReadAsStringAsync();
            Assert.Contains("Article not found", text);
            Assert.DoesNotContain("<x>", text);
        }
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Mistakes_are_problems_that_point_at_the_field_and_slugs_stay_unique(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");

        var bad = await api.PostJsonAsync("/api/v1/kb/articles", new { title = " ", slug = "Not A Slug!", tags = new[] { "ok", " " }, summary = new string('s', 501) });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        var errors = (await bad.ReadJsonAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name).Order().ToList();
        Assert.Equal(["/body", "/slug", "/summary", "/tags/1", "/title"], errors);
        var wrongType = await api.PostRawAsync("/api/v1/kb/articles", "{\"title\": \"x\", \"body\": \"y\", \"published\": \"yes\"}");
        Assert.Equal("/published", (await wrongType.ReadJsonAsync()).GetProperty("errors").EnumerateObject().Single().Name);

        var first = await (await api.PostJsonAsync("/api/v1/kb/articles", new { title = "Shipping times", body = "Fast." })).ReadJsonAsync();
        var second = await (await api.PostJsonAsync("/api/v1/kb/articles", new { title = "Shipping times!", body = "Faster." })).ReadJsonAsync();
        Assert.Equal("shipping-times", first.GetProperty("slug").GetString());
        Assert.Equal("shipping-times-2", second.GetProperty("slug").GetString());
        var taken = await api.PostJsonAsync("/api/v1/kb/articles", new { title = "Other", body = "x", slug = "shipping-times" });
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        Assert.Equal("/slug", (await taken.ReadJsonAsync()).GetProperty("pointer").GetString());
        var moved = await api.PutAsJsonAsync($"/api/v1/kb/articles/{second.GetProperty("id").GetGuid()}",
            new { title = "Shipping times!", body = "Faster.", slug = "shipping-speed" }, HttpJson.Options);
        Assert.Equal("shipping-speed", (await moved.ReadJsonAsync()).GetProperty("slug").GetString());
        Assert.Equal("Shipping times!", (await (await api.GetAsync("/api/v1/kb/articles/shipping-speed")).ReadJsonAsync()).GetProperty("title").GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await api.PutAsJsonAsync($"/api/v1/kb/articles/{Guid.NewGuid()}", new { title = "x", body = "y" }, HttpJson.Options)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsync($"/api/v1/kb/articles/{Guid.NewGuid()}/publish", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.DeleteAsync($"/api/v1/kb/articles/{Guid.NewGuid()}")).StatusCode);
        var noQuery = await api.GetAsync("/api/v1/kb/search");
        Assert.Equal(HttpStatusCode.BadRequest, noQuery.StatusCode);
        Assert.Equal("query:q", (await noQuery.ReadJsonAsync()).GetProperty("pointer").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync("/api/v1/kb/search?q=x&limit=500")).StatusCode);

        // Reading needs the read scope, changing the write scope.
        var reader = await app.ApiClientAsync("read");
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/kb/articles")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/kb/search?q=shipping")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostJsonAsync("/api/v1/kb/articles", new { title = "x", body = "y" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.DeleteAsync($"/api/v1/kb/articles/{first.GetProperty("id").GetGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().GetAsync("/api/v1/kb/articles")).StatusCode);
    }

    [Fact]
    public async Task Article_links_are_absolute_on_the_configured_public_address()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, settings: new() { ["Clientele:PublicUrl"] = "https://help.northwind.example/" });
        var api = await app.ApiClientAsync("write");
        await WriteLibraryAsync(api);

        var hit = (await (await api.GetAsync("/api/v1/kb/search?q=refund")).ReadJsonAsync()).GetProperty("items")[0];
        var links = app.Services.GetService(typeof(Clientele.Outbox.MailLinks)) as Clientele.Outbox.MailLinks;

        Assert.Equal("https://help.northwind.example/kb/returns-and-refunds", hit.GetProperty("url").GetString());
        Assert.Equal("https://help.northwind.example/kb/returns-and-refunds", KnowledgeBase.ArticleUrl(links!, "returns-and-refunds"));
        Assert.Equal("https://shop.example/help/kb/a-b", KnowledgeBase.ArticleUrl("https://shop.example/help/", "a-b"));
    }
}
