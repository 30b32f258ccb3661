using System.Net;
using System.Text.Json;
using Clientele.Accounts;
using Clientele.Feedback;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using Clientele.Tests.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Clientele.Tests.Feedback;

public sealed class ReviewTests
{
    private static object Consent(string wording = "I agree that Northwind may publish my review.") => new { wording, givenAt = "2026-05-30T09:00:00Z" };

    [Fact]
    public void Names_are_shown_as_the_customer_chose_and_survey_scores_become_stars()
    {
        Assert.Equal("Anna K.", ReviewRules.DisplayName("Anna", "kowalski", "first-initial"));
        Assert.Equal("Anna", ReviewRules.DisplayName("Anna", "Kowalski", "first"));
        Assert.Equal("Anna Kowalski", ReviewRules.DisplayName(" Anna ", "Kowalski", "full"));
        Assert.Equal("A customer", ReviewRules.DisplayName("Anna", "Kowalski", "anonymous"));
        Assert.Equal("Anna", ReviewRules.DisplayName("Anna", null, "first-initial"));
        Assert.Equal("A customer", ReviewRules.DisplayName(null, "", "full"));
        Assert.Equal([1, 1, 2, 3, 4, 5, 5], new[] { 0, 1, 3, 5, 7, 9, 10 }.Select(s => ReviewRules.RatingFromSurvey("nps", s)));
        Assert.Equal(4, ReviewRules.RatingFromSurvey("csat", 4));
        Assert.Equal("★★★★☆", ReviewRules.Stars(4));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_shops_reviews_need_consent_are_moderated_and_only_approved_ones_with_consent_are_published(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync("write");
        await api.PostJsonAsync("/api/v1/contacts", new { email = "anna@example.com", firstName = "Anna", lastName = "Kowalski" });

        var bad = await api.PostJsonAsync("/api/v1/reviews", new { email = "anna@example.com", rating = 6, text = "" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadAsStringAsync();
        Assert.Contains("/rating", problem);
        Assert.Contains("/text", problem);
        Assert.Contains("/consent", problem);

        async Task<JsonElement> Review(object body, string? key = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/reviews") { Content = System.Net.Http.Json.JsonContent.Create(body, options: HttpJson.Options) };
            if (key is not null)
            {
                request.Headers.Add("Idempotency-Key", key);
            }
            var response = await api.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            return await response.ReadJsonAsync();
        }
        var anna = await Review(new { email = "anna@example.com", rating = 5, text = "Best <script>alert(1)</script> beans in town.", sku = "GR-1", consent = Consent() }, "r-1");
        var again = await api.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/reviews")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { email = "anna@example.com", rating = 5, text = "Best <script>alert(1)</script> beans in town.", sku = "GR-1", consent = Consent() }, options: HttpJson.Options),
            Headers = { { "Idempotency-Key", "r-1" } },
        });
        Assert.Equal(anna.GetProperty("id").GetGuid(), (await again.ReadJsonAsync()).GetProperty("id").GetGuid());
        app.Time.Advance(TimeSpan.FromMinutes(1));
        var ben = await Review(new { email = "ben@example.com", rating = 2, text = "Slow delivery.", displayName = "Ben from Leeds", consent = Consent() });
        app.Time.Advance(TimeSpan.FromMinutes(1));
        var cleo = await Review(new { email = "cleo@example.com", rating = 4, text = "=HYPERLINK(\"x\")", consent = Consent() });

        Assert.Equal("pending", anna.GetProperty("status").GetString());
        Assert.Equal("Anna K.", anna.GetProperty("displayName").GetString());
        Assert.Equal("I agree that Northwind may publish my review.", anna.GetProperty("consent").GetProperty("wording").GetString());
        Assert.Equal(new DateTime(2026, 5, 30, 9, 0, 0, DateTimeKind.Utc), anna.GetProperty("consent").GetProperty("at").GetDateTime().ToUniversalTime());
        Assert.Equal("Ben from Leeds", ben.GetProperty("displayName").GetString());
        var pending = await (await api.GetAsync("/api/v1/reviews?status=pending")).ReadJsonAsync();
        Assert.Equal(3, pending.GetProperty("items").GetArrayLength());
        Assert.Empty((await (await api.GetAsync("/api/v1/reviews?status=approved")).ReadJsonAsync()).GetProperty("items").EnumerateArray());

        var approved = await (await api.PostAsync($"/api/v1/reviews/{anna.GetProperty("id")}/approve", null)).ReadJsonAsync();
        Assert.Equal("approved", approved.GetProperty("status").GetString());
        Assert.True(approved.GetProperty("published").GetBoolean());
        Assert.Equal("api key test-write", approved.GetProperty("moderatedBy").GetString());
        await api.PostAsync($"/api/v1/reviews/{cleo.GetProperty("id")}/approve", null);
        var rejected = await api.PostJsonAsync($"/api/v1/reviews/{ben.GetProperty("id")}/reject", new { note = "About the courier, not us." });
        Assert.Equal("About the courier, not us.", (await rejected.ReadJsonAsync()).GetProperty("note").GetString());

        var list = await (await api.GetAsync("/api/v1/reviews?status=approved")).ReadJsonAsync();
        Assert.Equal(["=HYPERLINK(\"x\")", "Best <script>alert(1)</script> beans in town."],
            list.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("text").GetString()));
        var csv = await (await api.GetAsync("/api/v1/reviews/export?format=csv")).Content.ReadAsStringAsync();
        Assert.StartsWith("id,rating,text,sku,name,created_at,consent_at\r\n", csv);
        Assert.Contains(",5,Best <script>alert(1)</script> beans in town.,GR-1,Anna K.,", csv);
        Assert.Contains(",4,\"'=HYPERLINK(\"\"x\"\")\",,", csv); // not run as a formula by a spreadsheet
        Assert.DoesNotContain("Slow delivery", csv);
        var json = await (await api.GetAsync("/api/v1/reviews/export?format=json&sku=GR-1")).ReadJsonAsync();
        Assert.Equal("Anna K.", Assert.Single(json.EnumerateArray()).GetProperty("name").GetString());

        // The widget for the business's site: published reviews only, the customer's words encoded, and the average.
        var anonymous = app.CreateClient();
        var embed = await anonymous.GetAsync("/reviews/embed");
        var html = await embed.Content.ReadAsStringAsync();
        Assert.Equal("text/html; charset=utf-8", embed.Content.Headers.ContentType?.ToString());
        Assert.Contains("frame-ancestors *", embed.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("Best &lt;script&gt;alert(1)&lt;/script&gt; beans in town.", html);
        Assert.DoesNotContain("<script>", html);
        Assert.DoesNotContain("Slow delivery", html);
        Assert.Contains("data-average=\"4.5\"", html);
        Assert.Contains("2 reviews", html);
        Assert.Contains("data-average=\"5.0\"", await anonymous.GetStringAsync("/reviews/embed?sku=GR-1"));

        // Anna asks for her review to be taken down: it leaves every published list and cannot come back.
        var withdrawn = await (await api.PostJsonAsync($"/api/v1/reviews/{anna.GetProperty("id")}/withdraw", new { note = "Asked by phone." })).ReadJsonAsync();
        Assert.Equal("withdrawn", withdrawn.GetProperty("status").GetString());
        Assert.NotEqual(JsonValueKind.Null, withdrawn.GetProperty("consent").GetProperty("withdrawnAt").ValueKind);
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsync($"/api/v1/reviews/{anna.GetProperty("id")}/approve", null)).StatusCode);
        Assert.DoesNotContain("beans in town", await anonymous.GetStringAsync("/reviews/embed"));
        Assert.DoesNotContain("beans in town", await (await api.GetAsync("/api/v1/reviews/export?format=csv")).Content.ReadAsStringAsync());
        Assert.Single((await (await api.GetAsync("/api/v1/reviews?status=approved")).ReadJsonAsync()).GetProperty("items").EnumerateArray());

        await using var db = app.NewDb();
        var timeline = await db.Events.AsNoTracking().Where(e => e.ContactId == anna.GetProperty("contactId").GetGuid() && e.Type.StartsWith("review."))
            .OrderBy(e => e.Id).Select(e => e.Type).ToListAsync();
        Assert.Equal(["review.submitted", "review.approved", "review.withdrawn"], timeline);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_customer_writes_a_review_on_their_own_page_from_the_link_in_an_email_and_can_take_their_consent_back(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        var api = await app.ApiClientAsync();
        var contact = await (await api.PostJsonAsync("/api/v1/contacts", new { email = "anna@example.com", firstName = "Anna", lastName = "Kowalski" })).ReadJsonAsync();
        var id = contact.GetProperty("id").GetGuid();
        Assert.True((await api.PostJsonAsync("/api/v1/products", new { sku = "GR-1", name = "Burr grinder", category = "Grinders", price = 89, currency = "EUR" })).IsSuccessStatusCode);

        // The template's review.link is the contact's own signed page.
        var template = await (await api.PostJsonAsync("/api/v1/templates", new { name = "Ask", subject = "Your review", body = "[Write a review]({{ review.link }})" })).ReadJsonAsync();
        var preview = await (await api.PostJsonAsync($"/api/v1/templates/{template.GetProperty("id")}/preview", new { email = "anna@example.com" })).ReadJsonAsync();
        var link = app.Services.GetRequiredService<MailLinks>().Review(id);
        Assert.Contains(WebUtility.HtmlEncode(link), preview.GetProperty("html").GetString());
        var path = new Uri(link).PathAndQuery;

        var browser = app.CreateClient(new() { AllowAutoRedirect = false });
        var form = await browser.GetStringAsync(path + "?sku=GR-1");
        Assert.Contains("Tell others what you think of Burr grinder.", form);
        Assert.Contains("<input type=\"checkbox\" id=\"consent\" name=\"consent\" value=\"yes\">", form); // not ticked for them
        Assert.Contains("Anna K.", form);
        Assert.Contains("Anna Kowalski", form);
        var nonce = System.Text.RegularExpressions.Regex.Match(form, "name=\"nonce\" value=\"([0-9a-f]{32})\"").Groups[1].Value;

        var missing = await browser.PostAsync(path, new FormUrlEncodedContent([new("text", "Great grinder"), new("nonce", nonce), new("sku", "GR-1")]));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var again = await missing.Content.ReadAsStringAsync();
        Assert.Contains("Choose a rating from 1 to 5.", again);
        Assert.Contains(">Great grinder</textarea>", again); // what was typed is kept

        FormUrlEncodedContent Filled(string consent) => new([new("rating", "5"), new("text", "Great grinder, even grind."), new("name", "full"), new("consent", consent), new("nonce", nonce), new("sku", "GR-1")]);
        var sent = await browser.PostAsync(path, Filled("yes"));
        Assert.Contains("It will appear once we have read it.", await sent.Content.ReadAsStringAsync());
        await browser.PostAsync(path, Filled("yes")); // sent twice: one review
        var review = Assert.Single((await (await api.GetAsync("/api/v1/reviews")).ReadJsonAsync()).GetProperty("items").EnumerateArray());
        Assert.Equal("page", review.GetProperty("source").GetString());
        Assert.Equal("GR-1", review.GetProperty("sku").GetString());
        Assert.Equal("Anna Kowalski", review.GetProperty("displayName").GetString());
        Assert.StartsWith("I agree that Our shop may publish this review", review.GetProperty("consent").GetProperty("wording").GetString());

        // Without the box ticked it stays private feedback: it cannot be approved.
        var secondForm = await browser.GetStringAsync(path);
        var secondNonce = System.Text.RegularExpressions.Regex.Match(secondForm, "name=\"nonce\" value=\"([0-9a-f]{32})\"").Groups[1].Value;
        var kept = await browser.PostAsync(path, new FormUrlEncodedContent([new("rating", "3"), new("text", "Shipping was slow."), new("nonce", secondNonce)]));
        Assert.Contains("we keep your review to ourselves", await kept.Content.ReadAsStringAsync());
        var items = (await (await api.GetAsync("/api/v1/reviews")).ReadJsonAsync()).GetProperty("items").EnumerateArray().ToList();
        var private_ = items.Single(r => r.GetProperty("text").GetString() == "Shipping was slow.");
        Assert.False(private_.GetProperty("consent").GetProperty("given").GetBoolean());
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsync($"/api/v1/reviews/{private_.GetProperty("id")}/approve", null)).StatusCode);

        // Published, then taken back by the customer from their own page.
        await api.PostAsync($"/api/v1/reviews/{review.GetProperty("id")}/approve", null);
        Assert.Contains("Great grinder, even grind.", await browser.GetStringAsync("/reviews/embed"));
        var page = await browser.GetStringAsync(path);
        Assert.Contains("Do not publish it any more", page);
        var taken = await browser.PostAsync(path + "/withdraw", new FormUrlEncodedContent([new("review", review.GetProperty("id").GetGuid().ToString("N"))]));
        Assert.Equal(HttpStatusCode.OK, taken.StatusCode);
        Assert.DoesNotContain("Great grinder", await browser.GetStringAsync("/reviews/embed"));
        var after = await (await api.GetAsync($"/api/v1/reviews/{review.GetProperty("id")}")).ReadJsonAsync();
        Assert.Equal("withdrawn", after.GetProperty("status").GetString());
        Assert.Equal("the customer", after.GetProperty("moderatedBy").GetString());

        var forged = await browser.GetAsync(path[..^3] + "xyz");
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
    }

    [Fact]
    public async Task The_feedback_page_lists_reviews_waiting_to_be_read_for_owners_and_marketers()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var marketer = await app.SignedInAsync(Role.Marketer);
        Assert.Contains("No reviews yet", await marketer.GetStringAsync("/feedback"));

        var api = await app.ApiClientAsync("write");
        await api.PostJsonAsync("/api/v1/reviews", new { email = "anna@example.com", rating = 4, text = "Friendly & quick.", consent = Consent() });
        var html = await marketer.GetStringAsync("/feedback");
        Assert.Contains("Friendly &amp; quick.", html);
        Assert.Contains("Approve", html);
        Assert.Contains("Agreed 2026-05-30 09:00 UTC", html);
        var csv = await marketer.GetStringAsync("/feedback/reviews.csv");
        Assert.StartsWith("id,rating,text", csv);

        var agent = await app.SignedInAsync(Role.Agent);
        Assert.Equal(HttpStatusCode.Redirect, (await agent.GetAsync("/feedback")).StatusCode);
    }
}
