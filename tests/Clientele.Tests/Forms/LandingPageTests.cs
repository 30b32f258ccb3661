using System.Net;
using System.Text.RegularExpressions;
using Clientele.Forms;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Forms;

public sealed partial class LandingPageTests
{
    [Fact]
    public void The_z_test_matches_a_worked_example_and_needs_enough_data()
    {
        // 200/1000 against 150/1000: pooled 0.175, z = 0.05 / sqrt(0.175 · 0.825 · 0.002) = 2.9425, two-sided p = 0.003256.
        Assert.Equal(0.003256, AbTest.PValue(1000, 200, 1000, 150)!.Value, 6);
        var clear = AbTest.Compare([("A", 1000, 200), ("B", 1000, 150)]);
        var close = AbTest.Compare([("A", 1000, 160), ("B", 1000, 150)]);
        var small = AbTest.Compare([("A", 40, 20), ("B", 40, 2)]);
        // Three variants: the leader must beat both at 0.05 / 2.
        var three = AbTest.Compare([("A", 1000, 150), ("B", 1000, 200), ("C", 1000, 185)]);

        Assert.Equal("A", clear.Winner);
        Assert.Null(close.Winner);
        Assert.Contains("No significant difference", close.Explanation);
        Assert.Null(small.Winner); // large effect, too few views
        Assert.Contains("Not enough data", small.Explanation);
        Assert.Null(three.Winner); // B beats A clearly but not C
        Assert.True(three.Variants.Single(v => v.Key == "C").PValue > 0.025);
    }

    [Fact]
    public void Traffic_is_split_by_weight()
    {
        (string, int)[] weights = [("A", 1), ("B", 3)];
        Assert.Equal("A", AbTest.Pick(weights, 0.0));
        Assert.Equal("A", AbTest.Pick(weights, 0.24));
        Assert.Equal("B", AbTest.Pick(weights, 0.25));
        Assert.Equal("B", AbTest.Pick(weights, 0.99));
    }

    [GeneratedRegex("name=\"_t\" value=\"([^\"]+)\"")]
    private static partial Regex TimeToken();

    [Fact]
    public async Task Visitors_keep_their_variant_views_and_conversions_are_counted_and_a_promoted_winner_is_shown_to_all()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        Guid pageId;
        await using (var db = app.NewDb())
        {
            var now = app.Time.GetUtcNow().UtcDateTime;
            var form = new Form { Id = Guid.CreateVersion7(), Slug = "signup", Name = "Sign-up", Title = "Sign up", CreatedAt = now, UpdatedAt = now, DoubleOptIn = false };
            form.SetFields([new FormField("email", "E-mail", "email", true)]);
            db.Forms.Add(form);
            var page = new LandingPage { Id = Guid.CreateVersion7(), Slug = "spring", Name = "Spring", FormId = form.Id, CreatedAt = now, UpdatedAt = now };
            page.Variants.Add(new LandingVariant { Id = Guid.CreateVersion7(), Key = "A", Title = "Fresh beans", Content = "# Fresh\n\nRoasted **this week**.<script>alert(1)</script>", Weight = 1 });
            page.Variants.Add(new LandingVariant { Id = Guid.CreateVersion7(), Key = "B", Title = "Coffee club", Content = "Join the *club*.", Weight = 1 });
            db.LandingPages.Add(page);
            await db.SaveChangesAsync();
            pageId = page.Id;
        }

        // Ten visitors, each with their own cookie jar; one of them comes back.
        var seen = new List<string>();
        HttpClient? returning = null;
        for (var i = 0; i < 10; i++)
        {
            var visitor = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { HandleCookies = true });
            var html = await visitor.GetStringAsync("/p/spring");
            seen.Add(html.Contains("Fresh beans", StringComparison.Ordinal) ? "A" : "B");
            Assert.DoesNotContain("<script", html);
            returning ??= visitor;
        }
        var again = await returning!.GetStringAsync("/p/spring");
        Assert.Equal(seen[0], again.Contains("Fresh beans", StringComparison.Ordinal) ? "A" : "B");

        // The returning visitor signs up through the page's form.
        var token = TimeToken().Match(again).Groups[1].Value;
        var lp = Regex.Match(again, "name=\"_lp\" value=\"([^\"]+)\"").Groups[1].Value;
        app.Time.Advance(TimeSpan.FromSeconds(10));
        var posted = await returning.PostAsync("/f/signup", new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = "lp@example.com", ["_t"] = token, ["_lp"] = lp }));
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        // A forged variant id credits nobody.
        var forged = await returning.PostAsync("/f/signup", new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = "lp2@example.com", ["_t"] = token, ["_lp"] = pageId.ToString() }));
        Assert.Equal(HttpStatusCode.OK, forged.StatusCode);

        await using (var db = app.NewDb())
        {
            var variants = await db.LandingVariants.AsNoTracking().Where(v => v.PageId == pageId).ToDictionaryAsync(v => v.Key);
            Assert.Equal(seen.Count(s => s == "A"), variants["A"].Views);
            Assert.Equal(seen.Count(s => s == "B"), variants["B"].Views);
            Assert.Equal(1, variants[seen[0]].Conversions);
            Assert.Equal(0, variants[seen[0] == "A" ? "B" : "A"].Conversions);
            await db.LandingPages.Where(p => p.Id == pageId).ExecuteUpdateAsync(s => s.SetProperty(p => p.WinnerKey, "B"));
        }
        var afterPromotion = await returning.GetStringAsync("/p/spring");
        Assert.Contains("Coffee club", afterPromotion);
        Assert.Contains("<em>club</em>", afterPromotion);
    }

    [Fact]
    public async Task The_page_editor_shows_each_variants_results_and_offers_to_promote_a_significant_winner()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        Guid pageId;
        await using (var db = app.NewDb())
        {
            var now = app.Time.GetUtcNow().UtcDateTime;
            var form = new Form { Id = Guid.CreateVersion7(), Slug = "signup", Name = "Sign-up", Title = "Sign up", CreatedAt = now, UpdatedAt = now };
            form.SetFields([new FormField("email", "E-mail", "email", true)]);
            db.Forms.Add(form);
            var page = new LandingPage { Id = Guid.CreateVersion7(), Slug = "spring", Name = "Spring offer", FormId = form.Id, CreatedAt = now, UpdatedAt = now };
            page.Variants.Add(new LandingVariant { Id = Guid.CreateVersion7(), Key = "A", Title = "A", Views = 1000, Conversions = 200 });
            page.Variants.Add(new LandingVariant { Id = Guid.CreateVersion7(), Key = "B", Title = "B", Views = 1000, Conversions = 150 });
            db.LandingPages.Add(page);
            await db.SaveChangesAsync();
            pageId = page.Id;
        }
        var marketer = await Clientele.Tests.Web.BackOffice.SignedInAsync(app, Clientele.Accounts.Role.Marketer);

        var editor = await marketer.GetStringAsync($"/pages/{pageId}");
        var list = await marketer.GetStringAsync("/forms");

        Assert.Contains("data-test=\"ab-results\"", editor);
        Assert.Contains("20.0 %", editor);
        Assert.Contains("0.003", editor); // B's p-value against A
        Assert.Contains("Variant A converts better", editor);
        Assert.Contains("Promote variant A", editor);
        Assert.Contains("Spring offer", list);
        Assert.Contains("/p/spring", list);
    }
}
