using System.Net;
using System.Text.RegularExpressions;
using Clientele.Contacts;
using Clientele.Forms;
using Clientele.Lifecycle;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Forms;

public sealed partial class PublicFormTests
{
    private const string Wording = "Yes, send me the Northwind newsletter (about twice a month). I can unsubscribe at any time.";

    [GeneratedRegex("name=\"_t\" value=\"([^\"]+)\"")]
    private static partial Regex TimeToken();

    [GeneratedRegex("https?://[^/]+(/f/confirm/[^\\s]+)")]
    private static partial Regex ConfirmLink();

    private static async Task<Form> CreateFormAsync(TestApp app, bool doubleOptIn = true, string slug = "newsletter")
    {
        await using var db = app.NewDb();
        var now = app.Time.GetUtcNow().UtcDateTime;
        var form = new Form
        {
            Id = Guid.CreateVersion7(),
            Slug = slug,
            Name = "Newsletter",
            Title = "Join the newsletter",
            Intro = "Fresh roasts, first.",
            ConsentWording = Wording,
            Topics = ["newsletter"],
            DoubleOptIn = doubleOptIn,
            ThankYouText = "Welcome aboard!",
            CreatedAt = now,
            UpdatedAt = now,
        };
        form.SetFields([
            new FormField("email", "E-mail", "email", Required: true),
            new FormField("firstName", "First name"),
            new FormField("role", "Your role", "select", Options: ["owner", "barista", "other"]),
            new FormField("interest", "What are you after?", "textarea"),
            new FormField("budget", "Monthly budget", "number"),
            new FormField("company", "Company"),
        ]);
        db.Forms.Add(form);
        await db.SaveChangesAsync();
        return form;
    }

    /// <summary>Loads the form like a browser, waits like a person, and posts it.</summary>
    private static async Task<HttpResponseMessage> SubmitAsync(TestApp app, HttpClient browser, Dictionary<string, string> fields,
        string query = "", bool wait = true, string slug = "newsletter")
    {
        var page = await browser.GetStringAsync($"/f/{slug}{query}");
        var token = TimeToken().Match(page).Groups[1].Value;
        var hidden = Regex.Matches(page, "<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")
            .ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
        if (wait)
        {
            app.Time.Advance(TimeSpan.FromSeconds(8));
        }
        var body = new Dictionary<string, string>(hidden) { ["_t"] = token };
        foreach (var (k, v) in fields)
        {
            body[k] = v;
        }
        return await browser.PostAsync($"/f/{slug}", new FormUrlEncodedContent(body));
    }

    [Fact]
    public async Task The_hosted_form_is_plain_labelled_html_that_needs_no_script()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        await CreateFormAsync(app);
        var browser = app.CreateClient();

        var response = await browser.GetAsync("/f/newsletter");
        var html = await response.Content.ReadAsStringAsync();
        var missing = await browser.GetAsync("/f/nothing-here");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("<script", html);
        Assert.Contains("<label for=\"f-email\">E-mail", html);
        Assert.Contains("id=\"f-email\" name=\"email\"", html);
        Assert.Contains(System.Text.Encodings.Web.HtmlEncoder.Default.Encode(Wording), html);
        Assert.Contains("name=\"website\"", html); // the honeypot, hidden from people
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_visitor_signs_up_confirms_qualifies_trials_and_buys_up_the_ladder(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await CreateFormAsync(app);
        var browser = app.CreateClient();
        browser.DefaultRequestHeaders.Referrer = new Uri("https://blog.example/best-beans");

        var submitted = await SubmitAsync(app, browser, new()
        {
            ["email"] = "Ann@Example.com",
            ["firstName"] = "Ann",
            ["role"] = "owner",
            ["interest"] = "office coffee",
            ["budget"] = "400",
            ["company"] = "Ann's Office",
            ["consent"] = "yes",
        }, "?utm_source=blog&utm_campaign=spring");

        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
        var thanks = await submitted.Content.ReadAsStringAsync();
        Assert.Contains("Welcome aboard!", thanks);
        Assert.Contains("confirm", thanks);
        await app.DrainAsync();
        Guid id;
        string confirm;
        await using (var data = app.NewDb())
        {
            var contact = await data.Contacts.Include(c => c.Consents).AsNoTracking().SingleAsync();
            id = contact.Id;
            Assert.Equal("Ann", contact.FirstName);
            Assert.Equal("form:newsletter", contact.Source);
            Assert.Equal("blog", contact.UtmSource);
            Assert.Equal("spring", contact.UtmCampaign);
            Assert.Equal("https://blog.example/best-beans", contact.Referrer);
            Assert.Contains("\"role\":\"owner\"", contact.Attributes.Replace(" ", "", StringComparison.Ordinal));
            var consent = Assert.Single(contact.Consents);
            Assert.Equal(ConsentStatus.Pending, consent.Status); // counts only after confirmation
            Assert.Equal(Wording, consent.Wording);
            Assert.Equal(Stage.Lead, contact.Stage);
            Assert.Equal(1, await data.Events.CountAsync(e => e.Type == "form.submitted"));
            var message = await data.OutboxMessages.AsNoTracking().SingleAsync();
            Assert.Equal("Ann@Example.com", message.To);
            confirm = ConfirmLink().Match(message.TextBody).Groups[1].Value;
        }

        var confirmed = await browser.GetAsync(confirm);
        await app.DrainAsync();
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Contains("confirmed", await confirmed.Content.ReadAsStringAsync());
        Assert.Equal(Stage.Capture, await SettledStageAsync(app, id, Stage.Capture));

        var api = await app.ApiClientAsync("write");
        var now = app.Time.GetUtcNow();
        async Task<Stage> AfterAsync(object e, Stage expected)
        {
            Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/api/v1/events", new { events = new[] { e } })).StatusCode);
            return await SettledStageAsync(app, id, expected);
        }
        object Order(string orderId, string category, double minutes) => new
        {
            type = "order.placed",
            email = "ann@example.com",
            occurredAt = now.AddMinutes(minutes),
            properties = new { orderId, total = 30, currency = "EUR", items = new[] { new { sku = category + "-1", category, quantity = 1, price = 30 } } },
        };

        Assert.Equal(Stage.Qualify, await AfterAsync(new { type = "page.viewed", email = "ann@example.com", occurredAt = now, properties = new { url = "/pricing" } }, Stage.Qualify));
        Assert.Equal(Stage.Trial, await AfterAsync(new { type = "trial.started", email = "ann@example.com", occurredAt = now.AddMinutes(1), properties = new { days = 14 } }, Stage.Trial));
        Assert.Equal(Stage.Purchase, await AfterAsync(Order("W1", "coffee", 2), Stage.Purchase));
        Assert.Equal(Stage.RePurchase, await AfterAsync(Order("W2", "coffee", 3), Stage.RePurchase));
        Assert.Equal(Stage.CrossPurchase, await AfterAsync(Order("W3", "grinders", 4), Stage.CrossPurchase));
    }

    /// <summary>
    /// The contact's stage once the consumers have caught up: drains the log until the stage is the one expected or
    /// five rounds have passed (the stage consumer runs after the ones it reads, so one round may not be enough on a
    /// busy machine), then returns what it is.
    /// </summary>
    private static async Task<Stage> SettledStageAsync(TestApp app, Guid id, Stage expected)
    {
        for (var round = 0; round < 5; round++)
        {
            await app.DrainAsync();
            if (await StageAsync(app, id) == expected)
            {
                break;
            }
            await Task.Delay(200);
        }
        return await StageAsync(app, id);
    }

    private static async Task<Stage> StageAsync(TestApp app, Guid id)
    {
        await using var data = app.NewDb();
        return (await data.Contacts.AsNoTracking().SingleAsync(c => c.Id == id)).Stage;
    }

    [Fact]
    public async Task Spam_is_rejected_without_creating_anything()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite, settings: new() { ["Clientele:Forms:SubmissionsPerMinutePerAddress"] = "4" });
        await CreateFormAsync(app);
        var browser = app.CreateClient();

        var honeypot = await SubmitAsync(app, browser, new() { ["email"] = "bot@example.com", ["website"] = "http://spam.example" });
        var tooFast = await SubmitAsync(app, browser, new() { ["email"] = "bot2@example.com" }, wait: false);
        var forged = await browser.PostAsync("/f/newsletter", new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = "bot3@example.com", ["_t"] = "forged" }));
        var fourth = await SubmitAsync(app, browser, new() { ["email"] = "ok@example.com" });
        var limited = await SubmitAsync(app, browser, new() { ["email"] = "fifth@example.com" });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, honeypot.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooFast.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fourth.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        await using var data = app.NewDb();
        Assert.Equal(["ok@example.com"], await data.Contacts.Select(c => c.EmailNormalized).ToListAsync());
        Assert.Equal(1, await data.Events.CountAsync(e => e.Type == "form.submitted"));
    }

    [Fact]
    public async Task Invalid_input_renders_the_form_again_with_each_error_and_the_values_kept()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        await CreateFormAsync(app);
        var browser = app.CreateClient();

        var response = await SubmitAsync(app, browser, new() { ["email"] = "not an address", ["firstName"] = "Ann", ["budget"] = "lots", ["role"] = "pilot" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("role=\"alert\"", html);
        Assert.Contains("aria-invalid=\"true\" aria-describedby=\"f-email-error\"", html);
        Assert.Contains("Please enter an e-mail address", html);
        Assert.Contains("Please enter a number.", html);
        Assert.Contains("Please choose one of the options.", html);
        Assert.Contains("value=\"Ann\"", html);
        await using var data = app.NewDb();
        Assert.Equal(0, await data.Contacts.CountAsync());
        Assert.Equal(0, await data.Events.CountAsync());
    }

    [Fact]
    public async Task A_second_submission_updates_the_same_contact_and_never_weakens_consent()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        await CreateFormAsync(app, doubleOptIn: false);
        var browser = app.CreateClient();

        await SubmitAsync(app, browser, new() { ["email"] = "ann@example.com", ["firstName"] = "Ann", ["company"] = "Old Co", ["consent"] = "yes" });
        await SubmitAsync(app, browser, new() { ["email"] = "ANN@example.com", ["company"] = "New Co" }, "?utm_source=ads");

        await using var data = app.NewDb();
        var contact = await data.Contacts.Include(c => c.Consents).AsNoTracking().SingleAsync();
        Assert.Equal("Ann", contact.FirstName); // not cleared by a form that left it empty
        Assert.Contains("New Co", contact.Attributes);
        Assert.Null(contact.UtmSource); // where the contact first came from is kept
        Assert.Equal(ConsentStatus.Subscribed, Assert.Single(contact.Consents).Status);
        var submissions = await data.Events.Where(e => e.Type == "form.submitted").OrderBy(e => e.Id).Select(e => e.Properties).ToListAsync();
        Assert.Equal(2, submissions.Count);
        Assert.Contains("Old Co", submissions[0]); // both values stay in the history
        Assert.Contains("New Co", submissions[1]);
    }

    [Fact]
    public async Task The_confirmation_waits_readable_in_the_outbox_and_a_retry_queues_it_once()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        await CreateFormAsync(app);
        var browser = app.CreateClient();

        await SubmitAsync(app, browser, new() { ["email"] = "ann@example.com", ["consent"] = "yes" });
        await SubmitAsync(app, browser, new() { ["email"] = "ann@example.com", ["consent"] = "yes" }); // sent twice the same day
        var marketer = await Clientele.Tests.Web.BackOffice.SignedInAsync(app, Clientele.Accounts.Role.Marketer);
        var html = await marketer.GetStringAsync("/outbox");

        Assert.Contains("Please confirm: Join the newsletter", html);
        Assert.Contains("ann@example.com", html);
        await using var data = app.NewDb();
        Assert.Equal(1, await data.OutboxMessages.CountAsync());
    }
}
