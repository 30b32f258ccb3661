using System.Globalization;
using Clientele.Templates;
using static Clientele.Tests.Templates.Messages;

namespace Clientele.Tests.Templates;

public sealed class FilterTests
{
    private static string Text(string liquid, MessageModel model) => TextBody(Markdown(liquid).Render(model).Text);

    [Theory]
    [InlineData(null, "EUR", "€12.50")]
    [InlineData(null, "USD", "$12.50")]
    [InlineData(null, "CHF", "12.50 CHF")]
    [InlineData(null, "JPY", "¥13")]
    [InlineData("de-DE", "EUR", "12,50 €")]
    [InlineData("de-DE", "USD", "12,50 $")]
    [InlineData("en-GB", "GBP", "£12.50")]
    [InlineData("fr-FR", "CHF", "12,50 CHF")]
    [InlineData("en-US", null, "$12.50")]
    public void Money_is_written_the_way_the_contacts_locale_writes_it(string? locale, string? currency, string expected)
    {
        var message = Markdown("{{ order.total | money: order.currency }}");

        var text = TextBody(message.Render(Model(locale: locale, order: new MessageOrder { Total = 12.5m, Currency = currency })).Text);

        Assert.Equal(expected.Replace('\u00a0', ' ').Replace('\u202f', ' '), text.Replace('\u00a0', ' ').Replace('\u202f', ' '));
    }

    [Fact]
    public void Money_without_a_currency_uses_the_brands()
    {
        var brand = Brand();
        brand.Currency = "EUR";

        Assert.Equal("€9.00", TextBody(Markdown("{{ 9 | money }}", brand: brand).Render(Model()).Text));
    }

    [Fact]
    public void Dates_are_shown_in_the_contacts_time_zone()
    {
        // 20:00 UTC on 23 November is already 09:00 on the 24th in Auckland, and still noon on the 23rd in Los Angeles.
        var order = new MessageOrder { PlacedAt = Now, Number = "1" };
        const string liquid = "{{ order.placed_at | local_date }} {{ order.placed_at | local_time }} | {{ order.placed_at | date: \"%Y-%m-%d %H:%M\" }} | {{ now | local_date: \"%A\" }}";

        Assert.Equal("24 November 2026 9:00 AM | 2026-11-24 09:00 | Tuesday", Text(liquid, Model(zone: "Pacific/Auckland", order: order)));
        Assert.Equal("23 November 2026 12:00 PM | 2026-11-23 12:00 | Monday", Text(liquid, Model(zone: "America/Los_Angeles", order: order)));
        Assert.Equal("23 November 2026 8:00 PM | 2026-11-23 20:00 | Monday", Text(liquid, Model(zone: "Mars/Olympus_Mons", order: order)));
        Assert.Equal("24 novembre 2026 09:00 | 2026-11-24 09:00 | mardi", Text(liquid, Model(zone: "Pacific/Auckland", locale: "fr-FR", order: order)));
    }

    [Fact]
    public void Days_until_and_since_count_calendar_days_in_the_contacts_zone()
    {
        var model = Model(zone: "Pacific/Auckland", data: new Dictionary<string, object?>
        {
            ["expires"] = new DateTimeOffset(2026, 11, 30, 23, 0, 0, TimeSpan.Zero),
            ["joined"] = new DateOnly(2026, 11, 1),
        });

        // Now is 24 November in Auckland; 30 November 23:00 UTC is 1 December there.
        Assert.Equal("7 23 1", Text("{{ data.expires | days_until }} {{ data.joined | days_since }} {{ contact.next_birthday | days_until }}", model));
        Assert.Equal("25 November", Text("{{ contact.next_birthday | local_date: \"%-d %B\" }}", model));
    }

    [Theory]
    [InlineData("Ann", "Ann")]
    [InlineData("  ANN ", "Ann")]
    [InlineData("mary-ann", "Mary-Ann")]
    [InlineData("McKenzie", "McKenzie")]
    [InlineData("", "there")]
    [InlineData("ann@example.com", "there")]
    [InlineData(null, "there")]
    public void First_name_or_tidies_the_name_or_falls_back(string? firstName, string expected)
    {
        Assert.Equal(expected, Text("{{ contact.first_name | first_name_or: \"there\" }}", Model(firstName: firstName)));
    }

    [Fact]
    public void Json_shows_the_model_without_reaching_into_dotnet_objects()
    {
        var text = Text("{{ contact.attributes | json }}", Model(attributes: """{"plan": "gold", "seats": 3, "tags": ["a"], "x": null}"""));

        Assert.Equal("""{"plan":"gold","seats":3,"tags":["a"],"x":null}""", text);
    }

    [Fact]
    public void Next_birthday_of_a_leap_day_falls_on_the_28th_in_other_years()
    {
        Assert.Equal(new DateOnly(2027, 2, 28), LiquidModel.NextBirthday(new DateOnly(2000, 2, 29), new DateOnly(2026, 11, 24)));
        Assert.Equal(new DateOnly(2026, 11, 24), LiquidModel.NextBirthday(new DateOnly(1990, 11, 24), new DateOnly(2026, 11, 24)));
        Assert.Equal("1,234.50 CHF", LiquidFilters.FormatMoney(1234.5m, "chf", CultureInfo.GetCultureInfo("en-US")));
    }
}
