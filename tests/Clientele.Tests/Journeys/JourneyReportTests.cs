using System.Net;
using Clientele.Journeys;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Journeys;

public sealed class JourneyReportTests
{
    [Fact]
    public void The_lift_interval_matches_newcombes_worked_example()
    {
        // Newcombe (1998), Statistics in Medicine 17:873–890, example (a): 56/70 against 48/80, method 10: 0.0524 to 0.3339.
        var lift = Lift.Compute(70, 56, 80, 48)!;
        Assert.Equal(0.2, lift.Difference, 6);
        Assert.Equal(0.0524, lift.Low, 3);
        Assert.Equal(0.3339, lift.High, 3);
    }

    [Fact]
    public void The_lift_interval_stays_within_bounds_at_the_extremes_and_needs_both_groups()
    {
        var all = Lift.Compute(10, 10, 10, 0)!;
        Assert.Equal(1.0, all.Difference, 6);
        Assert.InRange(all.Low, 0.4, 1.0);
        Assert.InRange(all.High, 0.99, 1.0);
        var none = Lift.Compute(25, 0, 25, 0)!;
        Assert.True(none.Low < 0 && none.High > 0, "no orders anywhere: no lift either way");
        Assert.Null(Lift.Compute(25, 3, 0, 0));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task The_report_counts_orders_after_each_email_as_revenue_and_compares_with_the_control_group(string kind)
    {
        await using var app = await JourneyFlowTests.StartAsync(kind);
        var api = await app.ApiClientAsync();
        await JourneyFlowTests.TemplateAsync(api, "Welcome");
        var journey = await JourneyFlowTests.JourneyAsync(api, "Measured", new
        {
            trigger = new { @event = "account.created" },
            holdout = 50,
            steps = new object[] { new { id = "welcome", type = "email", template = "Welcome", @class = "transactional" } },
        });
        for (var i = 0; i < 40; i++)
        {
            await JourneyFlowTests.ContactAsync(api, $"c{i}@example.com");
            await JourneyFlowTests.SignalAsync(api, $"c{i}@example.com");
        }
        await JourneyFlowTests.RunDueAsync(app);
        await Clientele.Tests.Outbox.MailFlowTests.Until(async () =>
        {
            await using var check = app.NewDb();
            return await check.OutboxMessages.CountAsync(m => m.JourneyId == journey && m.SentAt != null) == await check.OutboxMessages.CountAsync(m => m.JourneyId == journey);
        }, "the journey's e-mails were sent");
        List<(string Email, bool Holdout)> runs;
        await using (var db = app.NewDb())
        {
            runs = (await db.JourneyRuns.AsNoTracking().Where(r => r.JourneyId == journey)
                .Join(db.Contacts, r => r.ContactId, c => c.Id, (r, c) => new { c.Email, r.Holdout }).ToListAsync())
                .Select(r => (r.Email!, r.Holdout)).ToList();
        }
        var treated = runs.Where(r => !r.Holdout).Select(r => r.Email).ToList();
        var control = runs.Where(r => r.Holdout).Select(r => r.Email).ToList();
        Assert.True(treated.Count >= 4 && control.Count >= 2, "both groups have members");

        // Four who got the e-mail order two days later; one in the control group does too; one more orders after 40 days.
        app.Time.Advance(TimeSpan.FromDays(2));
        var buyers = treated.Take(4).Append(control[0]).ToList();
        var n = 0;
        foreach (var email in buyers)
        {
            await JourneyFlowTests.SignalAsync(api, email, "order.placed", new { orderId = $"O{n++}", total = 25, currency = "EUR" });
        }
        app.Time.Advance(TimeSpan.FromDays(38));
        await JourneyFlowTests.SignalAsync(api, treated[5 % treated.Count], "order.placed", new { orderId = "LATE", total = 99, currency = "EUR" });
        await app.DrainAsync();

        var report = await (await api.GetAsync($"/api/v1/journeys/{journey}")).ReadJsonAsync();
        var attribution = report.GetProperty("attribution");
        Assert.Equal(30, attribution.GetProperty("days").GetInt32());
        var revenue = Assert.Single(attribution.GetProperty("revenue").EnumerateArray());
        Assert.Equal("EUR", revenue.GetProperty("currency").GetString());
        Assert.Equal(100m, revenue.GetProperty("amount").GetDecimal()); // the four within 30 days of their e-mail; the control group got none
        Assert.Equal(4, report.GetProperty("steps")[0].GetProperty("converted").GetInt32());
        var lift = attribution.GetProperty("lift");
        Assert.Equal(treated.Count, lift.GetProperty("treated").GetInt32());
        Assert.Equal(4, lift.GetProperty("treatedConverted").GetInt32());
        Assert.Equal(1, lift.GetProperty("controlConverted").GetInt32());
        var expected = Lift.Compute(treated.Count, 4, control.Count, 1)!;
        Assert.Equal(expected.Low, lift.GetProperty("low").GetDouble(), 9);

        var wider = await (await api.GetAsync($"/api/v1/journeys/{journey}?days=60")).ReadJsonAsync();
        Assert.Equal(199m, wider.GetProperty("attribution").GetProperty("revenue")[0].GetProperty("amount").GetDecimal());
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync($"/api/v1/journeys/{journey}?days=400")).StatusCode);
    }
}
