using Clientele.Templates;
using static Clientele.Tests.Templates.Messages;

namespace Clientele.Tests.Templates;

public sealed class RenderingTests
{
    [Fact]
    public void Variables_show_the_contacts_values_and_defaults_fill_the_gaps()
    {
        var message = Markdown("""
            Hi {{ contact.first_name | default: "there" }} {{ contact.last_name }}, plan {{ contact.attributes.plan }} ({{ contact.attributes.seats }} seats).
            {{ contact.name }} · {{ contact.email }} · {{ business.name }} · {{ contact.tags | join: "," }} · {{ data.campaign }}
            """, subject: "Welcome, {{ contact.first_name | default: \"friend\" }}!");

        var ann = message.Render(Model(attributes: """{"plan": "gold", "seats": 3}""", data: new Dictionary<string, object?> { ["campaign"] = "spring" }));
        var nobody = message.Render(Model(firstName: null));

        Assert.Equal("Welcome, Ann!", ann.Subject);
        Assert.Contains("Hi Ann Lee, plan gold (3 seats).", ann.Text);
        Assert.Contains("Ann Lee · ann@example.com · Bean &amp; Co · vip · spring", ann.Html);
        Assert.Equal("Welcome, friend!", nobody.Subject);
        Assert.Contains("Hi there Lee, plan  ( seats).", nobody.Text);
    }

    [Fact]
    public void Markdown_becomes_html_and_the_text_part_shows_links_as_text_and_address()
    {
        var message = Markdown("""
            # Autumn news

            Our **new** roast is in. Read [the story](https://shop.example/story) or write to [us](mailto:hi@example.com).

            - Kenya
            - Colombia

            See https://shop.example/all for more.
            """);

        var rendered = message.Render(Model());

        var body = Body(rendered.Html);
        Assert.Contains(">Autumn news</h1>", body);
        Assert.Contains("<strong>new</strong>", body);
        Assert.Contains("<a href=\"https://shop.example/story\"", body);
        Assert.Contains(">Kenya</li>", body);
        Assert.Equal("""
            Autumn news

            Our new roast is in. Read the story (https://shop.example/story) or write to us (hi@example.com).

            - Kenya
            - Colombia

            See https://shop.example/all for more.
            """.ReplaceLineEndings("\n"), TextBody(rendered.Text));
    }

    [Fact]
    public void Liquid_inside_markdown_links_and_headings_survives_the_conversion()
    {
        var message = Markdown("""
            ## Hello {{ contact.first_name | upcase }}

            [Your **{{ order.number }}** order]({{ data.track_url }}?ref={{ contact.id }}), ![{{ contact.first_name }}]({{ data.image }})
            """);

        var rendered = message.Render(Model(order: new MessageOrder { Number = "1001" },
            data: new Dictionary<string, object?> { ["track_url"] = "https://shop.example/track/1001", ["image"] = "https://cdn.example/a.png" }));

        var body = Body(rendered.Html);
        Assert.Contains(">Hello ANN</h2>", body);
        Assert.Contains("<a href=\"https://shop.example/track/1001?ref=0190b2a8-0000-7000-8000-000000000001\"", body);
        Assert.Contains("Your <strong>1001</strong> order</a>", body);
        Assert.Contains("<img src=\"https://cdn.example/a.png\" alt=\"Ann\"", body);
        Assert.Contains("Your 1001 order (https://shop.example/track/1001?ref=0190b2a8-0000-7000-8000-000000000001)", rendered.Text);
    }

    [Fact]
    public void If_blocks_on_their_own_lines_leave_no_empty_paragraphs_or_extra_blank_lines()
    {
        var message = Markdown("""
            First paragraph.
            {% if contact.tags contains "vip" %}
            Thanks for being a VIP.
            {% else %}
            Become a VIP today.
            {% endif %}
            Last paragraph.

            {% for r in recommendations %}
              {% if r.price > 10 %}
            ### {{ r.name }}
              {% endif %}
            {% endfor %}
            """);

        var vip = message.Render(Model(recommendations: [new("A", "Dear", 12m, "USD", null, null), new("B", "Cheap", 5m, "USD", null, null)]));
        var other = message.Render(Model(tags: []));

        var body = Body(vip.Html);
        Assert.DoesNotContain("<p></p>", body);
        Assert.DoesNotContain("<p style=\"margin:0 0 16px 0;\"></p>", body);
        Assert.DoesNotContain("<pre", body);
        Assert.Contains("<p style=\"margin:0 0 16px 0;\">First paragraph.</p>", body);
        Assert.Contains("<p style=\"margin:0 0 16px 0;\">Thanks for being a VIP.</p>", body);
        Assert.DoesNotContain("Become a VIP", body);
        Assert.Contains(">Dear</h3>", body);
        Assert.DoesNotContain("Cheap", body);
        Assert.Equal("First paragraph.\n\nThanks for being a VIP.\n\nLast paragraph.\n\nDear", TextBody(vip.Text));
        Assert.Equal("First paragraph.\n\nBecome a VIP today.\n\nLast paragraph.", TextBody(other.Text));
    }

    [Fact]
    public void A_loop_around_a_markdown_list_item_makes_one_list()
    {
        var message = Markdown("""
            Our picks:
            {% for r in recommendations %}
            - [{{ r.name }}]({{ r.url }}) for {{ r.price | money: r.currency }}
            {% endfor %}

            Enjoy.
            """);

        var rendered = message.Render(Model(recommendations: [new("A", "Kenya", 14.5m, "USD", "https://shop.example/a", null), new("B", "Peru", 12m, "USD", "https://shop.example/b", null)]));

        var body = Body(rendered.Html);
        Assert.Single(body.Split("<ul").Skip(1));
        Assert.Equal(2, body.Split("<li").Length - 1);
        Assert.Equal("Our picks:\n\n- Kenya (https://shop.example/a) for $14.50\n- Peru (https://shop.example/b) for $12.00\n\nEnjoy.", TextBody(rendered.Text));
    }

    [Fact]
    public void Html_bodies_keep_tables_and_inline_styles_and_loop_over_table_rows()
    {
        var message = Html("""
            <h1 style="color:#112233">Hi {{ contact.first_name }}</h1>
            <table width="100%" cellpadding="4" style="border:1px solid #cccccc">
              <tr><th>Product</th><th>Price</th></tr>
              {% for r in recommendations %}
              <tr><td><a href="{{ r.url }}">{{ r.name }}</a></td><td>{{ r.price | money: r.currency }}</td></tr>
              {% endfor %}
            </table>
            <p>Questions? <a href="mailto:hi@example.com">Write to us</a>.</p>
            """);

        var rendered = message.Render(Model(recommendations: [new("A", "Kenya", 14.5m, "USD", "https://shop.example/a", null), new("B", "Peru", 12m, "EUR", "https://shop.example/b", null)]));

        var body = Body(rendered.Html);
        Assert.Contains("<h1 style=\"color: #112233\">Hi Ann</h1>", body);
        Assert.Contains("<table width=\"100%\" cellpadding=\"4\" style=\"border: 1px solid #cccccc\">", body);
        Assert.Matches("<tr><td><a href=\"https://shop.example/a\"[^>]*>Kenya</a></td><td>\\$14.50</td></tr>\\s*<tr><td><a href=\"https://shop.example/b\"[^>]*>Peru</a></td><td>€12.00</td></tr>", body);
        Assert.Equal("Hi Ann\n\nProduct Price\nKenya (https://shop.example/a) $14.50\nPeru (https://shop.example/b) €12.00\n\nQuestions? Write to us (hi@example.com).", TextBody(rendered.Text));
    }

    [Fact]
    public void A_contacts_markup_is_shown_as_text_in_the_html_part()
    {
        var message = Markdown("Hello {{ contact.first_name }}, {{ contact.first_name | raw }}, {{ contact.first_name | newline_to_br }}", subject: "Hi {{ contact.first_name }}");

        var rendered = message.Render(Model(firstName: "<b>Ann</b><script>x()</script>"));

        Assert.DoesNotContain("<b>Ann", rendered.Html);
        Assert.DoesNotContain("<script", rendered.Html);
        Assert.Contains("Hello &lt;b&gt;Ann&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt;, &lt;b&gt;", Body(rendered.Html));
        Assert.Equal("Hi <b>Ann</b><script>x()</script>", rendered.Subject);
        Assert.Contains("Hello <b>Ann</b><script>x()</script>", rendered.Text);
    }

    [Fact]
    public void The_brand_footer_shows_the_postal_address_and_the_contacts_links()
    {
        var brand = Brand();
        brand.LogoUrl = "https://cdn.example/logo.png";
        brand.PrimaryColor = "#aa0000";
        var message = Markdown("Hi [there](https://shop.example)", brand: brand, preheader: "Autumn {{ contact.first_name }}");

        var rendered = message.Render(Model(links: new MessageLinks { Unsubscribe = "https://app.example/u/abc", Preferences = "https://app.example/p/abc", ViewOnline = "https://app.example/v/abc" }));
        var transactional = message.Render(Model(links: new MessageLinks()));

        Assert.Contains("12 Harbour Street<br>Wellington 6011", rendered.Html);
        Assert.Contains("You receive this because you bought from us.", rendered.Html);
        Assert.Contains("<a href=\"https://app.example/u/abc\"", rendered.Html);
        Assert.Contains(">Unsubscribe</a>", rendered.Html);
        Assert.Contains("<a href=\"https://app.example/p/abc\"", rendered.Html);
        Assert.Contains("<a href=\"https://app.example/v/abc\"", rendered.Html);
        Assert.Contains("<img src=\"https://cdn.example/logo.png\" alt=\"Bean &amp; Co\"", rendered.Html);
        Assert.Contains("style=\"color:#aa0000;\">there</a>", rendered.Html);
        Assert.Matches("<div style=\"display:none;[^\"]*\">Autumn Ann&#847;", rendered.Html);
        Assert.Contains("max-width:600px", rendered.Html);
        Assert.EndsWith("--\nBean & Co\n12 Harbour Street\nWellington 6011\nYou receive this because you bought from us.\n\nView in browser: https://app.example/v/abc\nEmail preferences: https://app.example/p/abc\nUnsubscribe: https://app.example/u/abc\n", rendered.Text);
        Assert.DoesNotContain("Unsubscribe", transactional.Html);
        Assert.DoesNotContain("Unsubscribe", transactional.Text);
    }

    [Fact]
    public void A_bad_brand_colour_falls_back_and_never_reaches_the_css()
    {
        var brand = Brand();
        brand.PrimaryColor = "red;} body{display:none";
        brand.BackgroundColor = "#12345";

        var html = Markdown("[x](https://shop.example)", brand: brand).Render(Model()).Html;

        Assert.DoesNotContain("display:none}", html);
        Assert.DoesNotContain("red;", html);
        Assert.Contains("a{color:#3558d8;}", html);
        Assert.Contains("background-color:#f4f5f7;", html);
        Assert.Equal(2, brand.Validate().Count(p => p.Contains("colour", StringComparison.Ordinal)));
        Assert.Empty(Brand().Validate());
    }

    [Fact]
    public void Raw_text_in_the_subject_cannot_leave_the_html_title()
    {
        var rendered = Markdown("x", subject: "{% raw %}</title><script>x()</script>{% endraw %}").Render(Model());

        Assert.Equal("</title><script>x()</script>", rendered.Subject);
        Assert.DoesNotContain("<script>", rendered.Html);
    }

    [Fact]
    public void The_subject_is_one_trimmed_line()
    {
        var message = Markdown("x", subject: "  {{ data.a }}\n{% if true %}  Sale \r\n{% endif %} today  ");

        Assert.Equal("Big Sale today", message.Render(Model(data: new Dictionary<string, object?> { ["a"] = "Big\r\n" })).Subject);
    }

    [Fact]
    public void Markdown_buttons_use_the_brand_colour()
    {
        var html = Markdown("[Shop now](https://shop.example){.button}").Render(Model()).Html;

        Assert.Matches("<a href=\"https://shop.example\" class=\"button\" style=\"display:inline-block;padding:12px 22px;background-color:#3558d8;color:#ffffff;", html);
    }

    [Fact]
    public void Raw_blocks_show_liquid_as_text_and_cannot_smuggle_markup()
    {
        var html = Body(Html("<p>{% raw %}{{ contact.first_name }} <script>alert(1)</script>{% endraw %}</p>").Render(Model()).Html);

        Assert.Equal("<p style=\"margin:0 0 16px 0;\">{{ contact.first_name }} &lt;script&gt;alert(1)&lt;/script&gt;</p>", html);
    }

    [Fact]
    public async Task One_compiled_template_renders_from_many_threads_at_once()
    {
        var message = Markdown("""
            Hi {{ contact.first_name }}, {{ order.total | money: order.currency }} on {{ order.placed_at | local_date }}.
            {% for r in recommendations %}[{{ r.name }}]({{ r.url }}) {% endfor %}
            """, subject: "For {{ contact.first_name }}");
        MessageModel For(int i) => Model(firstName: "Person" + i, zone: i % 2 == 0 ? "Pacific/Auckland" : "America/Los_Angeles", locale: i % 3 == 0 ? "de-DE" : "en-US",
            order: new MessageOrder { Total = i, Currency = "EUR", PlacedAt = Now },
            recommendations: [new("A", "Item" + i, 1, "USD", "https://shop.example/" + i, null)]);
        var expected = Enumerable.Range(0, 64).Select(i => message.Render(For(i), url => url + "?m=" + i)).ToArray();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            var mismatches = 0;
            for (var round = 0; round < 200; round++)
            {
                var i = (round * 7 + worker) % 64;
                mismatches += message.Render(For(i), url => url + "?m=" + i) == expected[i] ? 0 : 1;
            }
            return mismatches;
        })));

        Assert.All(results, mismatches => Assert.Equal(0, mismatches));
        Assert.Contains("24 November 2026", expected[0].Text);
        Assert.Contains("23 November 2026", expected[1].Text);
        Assert.Contains("0,00 €", expected[0].Text);
        Assert.Contains("https://shop.example/5?m=5", expected[5].Html);
    }

    [Fact]
    public void A_template_says_whether_it_shows_recommendations_so_they_are_looked_up_only_then()
    {
        Assert.True(Markdown("{% for r in recommendations %}- {{ r.name }}\n{% endfor %}").ReadsRecommendations);
        Assert.True(Markdown("{% if recommendations.size > 0 %}Picked for you{% endif %}").ReadsRecommendations);
        Assert.True(Markdown("Hi", subject: "Try {{ recommendations.first.name }}").ReadsRecommendations);
        Assert.True(Html("<p>{% assign picks = recommendations | slice: 0, 2 %}{% for r in picks %}{{ r.name }}{% endfor %}</p>").ReadsRecommendations);

        Assert.False(Markdown("Hello {{ contact.first_name }}, see {{ data.recommendations }}.").ReadsRecommendations);
        Assert.False(Markdown("{{ \"recommendations\" | upcase }} {% raw %}{{ recommendations }}{% endraw %}").ReadsRecommendations);
        Assert.False(Markdown("{% comment %}{{ recommendations }}{% endcomment %}No picks here.").ReadsRecommendations);
    }
}
