using Microsoft.EntityFrameworkCore;
using System.Net;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Lifecycle;
using Clientele.Segments;
using Clientele.Support;
using Clientele.Tests.Infrastructure;

namespace Clientele.Tests.Segments;

public sealed class SegmentQueryTests
{
    [Fact]
    public void Parses_and_or_not_and_parentheses_with_and_binding_tighter()
    {
        var node = SegmentParser.Parse("""stage >= Purchase and not tag = "vip" or (score > 10 and orders.count(within: 90d) >= 2)""");

        var or = Assert.IsType<SegmentNode.Or>(node);
        var and = Assert.IsType<SegmentNode.And>(or.Left);
        Assert.Equal("stage", Assert.IsType<SegmentNode.Compare>(and.Left).Field);
        Assert.IsType<SegmentNode.Not>(and.Right);
        var call = Assert.IsType<SegmentNode.Call>(Assert.IsType<SegmentNode.And>(or.Right).Right);
        Assert.Equal("orders.count", call.Name);
        Assert.Equal(TimeSpan.FromDays(90), call.Args["within"].Duration);
        Assert.Equal(">=", call.Op);
    }

    [Theory]
    [InlineData("stage >= ", 1, 10, "Expected a value")]
    [InlineData("stage >= Purchase and", 1, 22, "Expected a condition")]
    [InlineData("(score > 1", 1, 11, "Expected \")\" to close the \"(\" at line 1, column 1")]
    [InlineData("tag = \"vip", 1, 7, "never closed")]
    [InlineData("score > 1\nand stage ? Lead", 2, 11, "Unexpected character '?'")]
    [InlineData("score 5", 1, 7, "Expected a comparison")]
    public void Syntax_errors_say_where_and_what_was_expected(string query, int line, int column, string message)
    {
        var ex = Assert.Throws<SegmentQueryException>(() => SegmentParser.Parse(query));

        Assert.Equal((line, column), (ex.Line, ex.Column));
        Assert.Contains(message, ex.Message);
    }

    private static readonly DateTime Now = new(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData("scroe > 5", "Did you mean score?")]
    [InlineData("stage >= Purchased", "is not a stage")]
    [InlineData("orders.count(within: 90d)", "is a number: compare it")]
    [InlineData("bought(category: \"Coffee\") > 1", "is true or false")]
    [InlineData("orders.cuont(within: 9d) > 1", "Did you mean orders.count?")]
    public void Meaning_errors_point_at_the_problem_with_a_suggestion(string query, string message)
    {
        using var db = Clientele.Data.ClienteleDatabase.Open("Data Source=:memory:").CreateDbContext();
        var ex = Assert.Throws<SegmentQueryException>(() => SegmentCompiler.Compile(SegmentParser.Parse(query), db, Now));
        Assert.Contains(message, ex.Message);
        Assert.Equal(1, ex.Line);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Every_kind_of_condition_runs_inside_the_database(string db)
    {
        // The rows below are written as they are; derivation (scores from these events) would change them mid-test.
        await using var app = await TestApp.StartAsync(db, settings: new() { ["Clientele:Dispatcher:Enabled"] = "false" });
        var now = app.Time.GetUtcNow().UtcDateTime;
        await using (var data = app.NewDb())
        {
            Contact Person(string name, Stage stage, int score, params string[] tags)
            {
                var c = new Contact { Id = Guid.CreateVersion7(), Email = name + "@example.com", EmailNormalized = name + "@example.com", FirstName = name, Stage = stage, Score = score, Tags = [.. tags], CreatedAt = now.AddDays(-100), UpdatedAt = now };
                data.Contacts.Add(c);
                return c;
            }
            var ann = Person("ann", Stage.RePurchase, 40, "vip");
            var bob = Person("bob", Stage.Purchase, 5);
            var cleo = Person("cleo", Stage.Lead, 70);
            ann.Birthday = new DateOnly(1990, 6, 4);
            ann.Attributes = """{"role": "owner", "company": "Ann's Office"}""";
            bob.Attributes = """{"role": "barista"}""";
            ann.Value = new ContactValueScores { ProbabilityAlive = 0.9, PredictedValue = 300, Currency = "EUR", RfmCell = "555", ScoredAt = now };
            bob.Value = new ContactValueScores { ProbabilityAlive = 0.2, PredictedValue = 20, Currency = "EUR", RfmCell = "211", ScoredAt = now };
            cleo.Consents.Add(new ContactConsent { ContactId = cleo.Id, Topic = "newsletter", Status = ConsentStatus.Subscribed, At = now, Source = "test" });
            void Buy(Contact c, string id, double daysAgo, decimal total, string category)
            {
                var order = new Order { Id = Guid.CreateVersion7(), ContactId = c.Id, ExternalId = id, Total = total, Currency = "EUR", PlacedAt = now.AddDays(-daysAgo), Status = OrderStatus.Placed, CreatedAt = now, UpdatedAt = now };
                order.Lines.Add(new OrderLine { ContactId = c.Id, Sku = category + "-1", Category = category, Quantity = 1, Price = total });
                data.Orders.Add(order);
            }
            Buy(ann, "1", 10, 30, "Coffee");
            Buy(ann, "2", 40, 50, "Accessories");
            Buy(ann, "3", 200, 25, "Coffee");
            Buy(bob, "4", 5, 12, "Coffee");
            data.Events.Add(new Clientele.Events.Event { ContactId = cleo.Id, Type = "email.opened", OccurredAt = now.AddDays(-3), ReceivedAt = now, Properties = "{}", Source = "test" });
            data.Events.Add(new Clientele.Events.Event { ContactId = cleo.Id, Type = "page.viewed", OccurredAt = now.AddDays(-1), ReceivedAt = now, Properties = """{"path": "/pricing"}""", Source = "test" });
            data.Events.Add(new Clientele.Events.Event { ContactId = ann.Id, Type = "page.viewed", OccurredAt = now.AddDays(-100), ReceivedAt = now, Properties = """{"path": "/pricing"}""", Source = "test" });
            data.Events.Add(new Clientele.Events.Event { ContactId = ann.Id, Type = "page.viewed", OccurredAt = now.AddDays(-1), ReceivedAt = now, Properties = """{"path": "/"}""", Source = "test" });
            data.Events.Add(new Clientele.Events.Event { ContactId = bob.Id, Type = "email.clicked", OccurredAt = now.AddDays(-1), ReceivedAt = now, Properties = """{"campaign": "spring", "step": 2}""", Source = "test" });
            data.Events.Add(new Clientele.Events.Event { ContactId = cleo.Id, Type = "page.viewed", OccurredAt = now.AddDays(-2), ReceivedAt = now, Properties = "{}", Source = "test" });
            await data.SaveChangesAsync();
        }
        var client = await app.ApiClientAsync("read");
        Task<string[]> Members(string query) => MembersAsync(app, client, now, query);

        Assert.Equal(["ann", "bob"], await Members("stage >= Purchase"));
        Assert.Equal(["ann"], await Members("""tag = "vip" """));
        Assert.Equal(["bob", "cleo"], await Members("""not tag = "vip" """));
        Assert.Equal(["ann", "cleo"], await Members("score >= 40"));
        Assert.Equal(["ann"], await Members("orders.count(within: 90d) >= 2"));
        Assert.Equal(["bob", "cleo"], await Members("orders.count(within: 90d) < 2"));
        Assert.Equal(["cleo"], await Members("orders.count() = 0"));
        Assert.Equal(["ann", "bob"], await Members("orders.count() != 0"));
        Assert.Equal(["bob", "cleo"], await Members("orders.revenue(within: 365d) <= 100"));
        Assert.Equal(["bob"], await Members("""events.count(type: "page.viewed") < 2"""));
        Assert.Equal(["ann"], await Members("orders.revenue(within: 365d) > 100"));
        Assert.Equal(["bob"], await Members("""bought(category: "Coffee") and not bought(category: "Accessories")"""));
        Assert.Equal(["bob"], await Members("pAlive < 0.5"));
        Assert.Equal(["ann"], await Members("""clv >= 100 and rfm = "555" """));
        Assert.Equal(["cleo"], await Members("consent.newsletter = subscribed"));
        Assert.Equal(["cleo"], await Members("""opened(within: 7d) and events.count(type: "page.viewed", within: 30d) >= 2"""));
        Assert.Equal(["ann", "cleo"], await Members("""events.count(type: "page.viewed", path: "/pricing") >= 1"""));
        Assert.Equal(["cleo"], await Members("""events.count(type: "page.viewed", path: "/pricing", within: 30d) >= 1"""));
        Assert.Equal(["cleo"], await Members("""events.first(type: "page.viewed", within: 30d)"""));
        Assert.Equal(["ann", "cleo"], await Members("""events.last(type: "page.viewed", within: 30d)"""));
        Assert.Equal(["ann"], await Members("""not events.last(type: "page.viewed", path: "/pricing", within: 30d) and events.count(type: "page.viewed", path: "/pricing") >= 1"""));
        Assert.Equal(["bob"], await Members("""clicked(within: 7d, campaign: "spring", step: 2)"""));
        Assert.Empty(await Members("""clicked(within: 7d, campaign: "autumn")"""));
        Assert.Equal(["bob"], await Members("orders.first(within: 30d)"));
        Assert.Equal(["ann", "bob"], await Members("orders.last(within: 30d)"));
        Assert.Equal(["ann"], await Members("orders.last(within: 90d) and not orders.last(within: 7d)"));
        Assert.Equal(["ann"], await Members("birthday within 7d"));
        Assert.Equal(["ann"], await Members("""attributes.role = "owner" """));
        Assert.Equal(["bob", "cleo"], await Members("""attributes.role != "owner" """));
        Assert.Equal(["ann"], await Members("""attributes.company contains "Office" """));
        Assert.Equal(["ann", "bob"], await Members("""email contains "ann@" or firstName = "bob" """));
        Assert.Equal(["ann"], await Members("""stage >= Purchase and orders.count(within: 90d) >= 2 and not bought(category: "Garden") and pAlive > 0.5 and tag = "vip" and birthday within 7d"""));

        var bad = await client.PostJsonAsync("/api/v1/segments/preview", new { query = "stage >= Purchase\nand scroe > 5" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.ReadJsonAsync();
        Assert.Equal(2, problem.GetProperty("line").GetInt32());
        Assert.Equal(5, problem.GetProperty("column").GetInt32());
        Assert.Contains("Did you mean score?", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Survey_answers_and_tickets_are_fields_for_segments_inside_the_database(string db)
    {
        await using var app = await TestApp.StartAsync(db, settings: new() { ["Clientele:Dispatcher:Enabled"] = "false" });
        var now = app.Time.GetUtcNow().UtcDateTime;
        await using (var data = app.NewDb())
        {
            Contact Person(string name)
            {
                var c = new Contact { Id = Guid.CreateVersion7(), Email = name + "@example.com", EmailNormalized = name + "@example.com", FirstName = name, CreatedAt = now.AddDays(-100), UpdatedAt = now };
                data.Contacts.Add(c);
                return c;
            }
            var ann = Person("ann");
            var bob = Person("bob");
            var cleo = Person("cleo");
            var dan = Person("dan");
            var eve = Person("eve");
            var gus = Person("gus");
            void Answer(Contact c, double daysAgo, string properties) =>
                data.Events.Add(new Clientele.Events.Event { ContactId = c.Id, Type = "survey.answered", OccurredAt = now.AddDays(-daysAgo), ReceivedAt = now, Properties = properties, Source = "test" });
            // Ann first said 3, then changed her mind to 9: the latest answer counts.
            Answer(ann, 10, """{"survey": "NPS", "kind": "nps", "score": 3}""");
            Answer(ann, 2, """{"survey": "NPS", "kind": "nps", "score": 9}""");
            Answer(bob, 40, """{"survey": "NPS", "kind": "nps", "score": 5}""");
            Answer(bob, 1, """{"survey": "After your ticket", "kind": "csat", "score": 2}""");
            Answer(cleo, 3, """{"kind": "nps", "score": "10"}"""); // sent by a shop, the score as text
            Answer(cleo, 3, """{"survey": "Grinder", "kind": "rating", "score": 5, "sku": "GR-1"}""");
            void Ticket(Contact c, TicketStatus status, double hoursAgo, string channel = "api", bool responded = false, double? breachIn = null) => data.Tickets.Add(new Ticket
            {
                Id = Guid.CreateVersion7(),
                ContactId = c.Id,
                Subject = "Help",
                Status = status,
                Channel = channel,
                CreatedAt = now.AddHours(-hoursAgo),
                FirstResponseDue = now.AddHours(24 - hoursAgo),
                FirstRespondedAt = responded ? now.AddHours(1 - hoursAgo) : null,
                BreachAt = breachIn is { } h ? now.AddHours(h) : null,
                SolvedAt = status == TicketStatus.Solved ? now.AddHours(2 - hoursAgo) : null,
                UpdatedAt = now,
            });
            Ticket(ann, TicketStatus.Solved, 300);
            Ticket(bob, TicketStatus.Open, 50, channel: "survey", breachIn: -2); // past its 48-hour limit without an answer
            Ticket(cleo, TicketStatus.Pending, 1);
            Ticket(dan, TicketStatus.Open, 72, responded: true);
            Ticket(eve, TicketStatus.Open, 30); // from before breach times were kept: measured against the setting
            Ticket(gus, TicketStatus.Open, 60, breachIn: 5); // counted in business hours: a weekend between
            await data.SaveChangesAsync();
        }
        var client = await app.ApiClientAsync("read");
        Task<string[]> Members(string query) => MembersAsync(app, client, now, query);

        Assert.Equal(["ann", "cleo"], await Members("nps >= 9"));
        Assert.Equal(["bob"], await Members("nps <= 6"));
        Assert.Equal(["bob"], await Members("nps.category = detractor"));
        Assert.Equal(["ann", "cleo"], await Members("""nps.category = "promoter" """));
        Assert.Equal(["bob"], await Members("nps.category != promoter")); // only those who answered
        Assert.Equal(["bob", "dan", "eve", "gus"], await Members("not nps.category = promoter"));
        Assert.Equal(["ann", "bob", "cleo"], await Members("survey.answered(within: 7d)"));
        Assert.Equal(["ann"], await Members("""survey.answered(survey: "NPS", within: 30d)"""));
        Assert.Equal(["bob"], await Members("""survey.score(kind: "csat") <= 2"""));
        Assert.Equal(["cleo"], await Members("""survey.score(kind: "rating", sku: "GR-1") = 5"""));
        Assert.Equal(["bob"], await Members("""survey.score(kind: "nps") < 7"""));
        Assert.Empty(await Members("""survey.score(kind: "nps", within: 30d) < 7"""));
        Assert.Equal(["bob", "cleo", "dan", "eve", "gus"], await Members("tickets.open > 0"));
        Assert.Equal(["ann"], await Members("tickets.open = 0"));
        Assert.Equal(["bob"], await Members("tickets.breached > 0"));
        Assert.Equal(["bob"], await Members("""tickets.count(channel: "survey", within: 7d) >= 1"""));
        Assert.Equal(["ann"], await Members("nps.category = promoter and tickets.open = 0"));

        // A shorter response limit in the support settings makes older tickets without a breach time breached.
        await using (var data = app.NewDb())
        {
            await Clientele.Data.SettingsStore.SaveAsync(data, SlaPolicy.Key, new SlaPolicy { TargetHours = 12, LimitHours = 24 }, now, CancellationToken.None);
        }
        Assert.Equal(["bob", "eve"], await Members("tickets.breached > 0"));

        foreach (var (query, message) in new[]
        {
            ("nps.category = grumpy", "is not an NPS category"),
            ("nps contains 5", "Scores compare with"),
            ("survey.score(kind: \"nps\")", "is a number: compare it"),
            ("tickets.count(status: \"open\") > 1", "takes within:, channel: only"),
            ("tickets.opne > 0", "Did you mean tickets.open?"),
        })
        {
            var bad = await client.PostJsonAsync("/api/v1/segments/preview", new { query });
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains(message, (await bad.ReadJsonAsync()).GetProperty("detail").GetString());
        }
    }

    /// <summary>
    /// The first names of the contacts a query matches, through the preview API; the form for a few contacts and the
    /// compiled one-contact lookup are checked to agree with it.
    /// </summary>
    private static async Task<string[]> MembersAsync(TestApp app, HttpClient client, DateTime now, string query)
    {
        var response = await client.PostJsonAsync("/api/v1/segments/preview", new { query });
        var json = await response.ReadJsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
        var names = json.GetProperty("sample").EnumerateArray().Select(m => m.GetProperty("firstName").GetString()!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(json.GetProperty("count").GetInt32(), names.Length);
        // The form for a few contacts (membership updates) agrees with the form for everyone (counts, rebuilds).
        await using var check = app.NewDb();
        var everyone = await check.Contacts.Select(c => c.Id).ToListAsync();
        var few = await check.Contacts.Where(c => everyone.Contains(c.Id)).Where(SegmentCompiler.Compile(SegmentParser.Parse(query), check, now, few: true))
            .Select(c => c.FirstName!).ToListAsync();
        Assert.Equal(names, few.Order(StringComparer.Ordinal).ToArray());
        // So does the compiled one-contact lookup that single events use.
        var node = SegmentParser.Parse(query);
        var looked = new List<string>();
        foreach (var person in await check.Contacts.Select(c => new { c.Id, c.FirstName }).ToListAsync())
        {
            if (await SegmentLookup.MatchesAsync(check, query, node, person.Id, now))
            {
                looked.Add(person.FirstName!);
            }
        }
        Assert.Equal(names, looked.Order(StringComparer.Ordinal).ToArray());
        return names;
    }
}

public sealed class SegmentGuessTests
{
    private static readonly string[] Queries =
    [
        "stage >= Purchase", "stage = Lead", "stage != Trial", "score > 40", "score <= 10", "health = at-risk", "health != unknown",
        """tag = "vip" """, """tag != "vip" """, "consent.newsletter = subscribed", "consent.newsletter != unsubscribed",
        "pAlive < 0.5", "clv >= 100", "expectedPurchases90 > 0.2", "birthday within 7d", "createdAt within 30d", "lastActivity within 14d",
        """not (stage >= Purchase or tag = "vip") and score >= 0""", "stage >= Purchase and orders.count() >= 1", "stage >= Purchase or orders.count() >= 1",
        """email contains "a" """,
    ];

    /// <summary>What the contact row alone says (when it says anything) is what the database says.</summary>
    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_guess_from_the_contact_row_never_contradicts_the_database(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var now = app.Time.GetUtcNow().UtcDateTime;
        var random = new Random(3);
        await using (var data = app.NewDb())
        {
            for (var i = 0; i < 60; i++)
            {
                var c = new Contact
                {
                    Id = Guid.CreateVersion7(),
                    Email = $"p{i}@example.com",
                    EmailNormalized = $"p{i}@example.com",
                    Stage = (Stage)random.Next(1, 11),
                    Score = random.Next(0, 80),
                    Health = (Health)random.Next(0, 4),
                    Tags = random.Next(3) == 0 ? ["vip"] : [],
                    Birthday = random.Next(2) == 0 ? DateOnly.FromDateTime(now).AddDays(random.Next(-10, 20)).AddYears(-30) : null,
                    CreatedAt = now.AddDays(-random.Next(0, 90)),
                    UpdatedAt = now,
                    LastActivityAt = random.Next(4) == 0 ? null : now.AddDays(-random.Next(0, 30)),
                    DeletedAt = i % 17 == 0 ? now : null,
                    Value = random.Next(3) == 0 ? null : new ContactValueScores { ProbabilityAlive = random.NextDouble(), ExpectedPurchases90 = random.NextDouble(), PredictedValue = random.Next(0, 300), Currency = "EUR", RfmCell = "333", ScoredAt = now },
                };
                if (random.Next(3) > 0)
                {
                    c.Consents.Add(new ContactConsent { ContactId = c.Id, Topic = "newsletter", Status = (ConsentStatus)random.Next(0, 3), At = now, Source = "test" });
                }
                data.Contacts.Add(c);
            }
            await data.SaveChangesAsync();
        }
        await using var check = app.NewDb();
        var people = await check.Contacts.AsNoTracking().Include(c => c.Consents).ToListAsync();
        var decided = 0;
        foreach (var query in Queries)
        {
            var node = SegmentParser.Parse(query);
            var matching = (await check.Contacts.Where(c => c.DeletedAt == null).Where(SegmentCompiler.Compile(node, check, now)).Select(c => c.Id).ToListAsync()).ToHashSet();
            foreach (var person in people)
            {
                if (SegmentCompiler.Guess(node, person, now) is { } guess)
                {
                    decided++;
                    Assert.True(guess == matching.Contains(person.Id), $"{query} for {person.Email}: guessed {guess}");
                }
            }
        }
        Assert.True(decided > Queries.Length * people.Count / 2, "the guess decides most contact-row conditions");
        // For a contact who is not erased (an erased one is known to match nothing), rows alone cannot tell these.
        var someone = people.First(p => p.DeletedAt is null);
        Assert.Null(SegmentCompiler.Guess(SegmentParser.Parse("orders.count() >= 1"), someone, now));
        Assert.Null(SegmentCompiler.Guess(SegmentParser.Parse("""email contains "a" """), someone, now));
    }
}
