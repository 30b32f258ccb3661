using Clientele.Templates;
using static Clientele.Tests.Templates.Messages;

namespace Clientele.Tests.Templates;

public sealed class LinkTests
{
    private static readonly LinkRewriter Track = url => "https://t.example/c?u=" + Uri.EscapeDataString(url);

    [Fact]
    public void Rewriting_touches_http_links_only_and_never_the_unsubscribe_or_preference_links()
    {
        var message = Markdown("""
            [Shop](https://shop.example/?a=1&b=2) [Top](#top) [Mail](mailto:hi@example.com) [Call](tel:+6441234567) [Plain](http://old.example/)
            [Leave]({{ links.unsubscribe }}) [Settings]({{ links.preferences }}) [Product]({{ data.url }})
            """);
        var calls = new List<string>();

        var rendered = message.Render(Model(data: new Dictionary<string, object?> { ["url"] = "https://shop.example/p/1?x=<y>" }), url =>
        {
            calls.Add(url);
            return Track(url);
        });

        var body = Body(rendered.Html);
        Assert.Contains("<a href=\"https://t.example/c?u=https%3A%2F%2Fshop.example%2F%3Fa%3D1%26b%3D2\"", body);
        Assert.Contains("<a href=\"https://t.example/c?u=http%3A%2F%2Fold.example%2F\"", body);
        Assert.Contains("<a href=\"https://t.example/c?u=https%3A%2F%2Fshop.example%2Fp%2F1%3Fx%3D%3Cy%3E\"", body);
        Assert.Contains("<a href=\"#top\"", body);
        Assert.Contains("<a href=\"mailto:hi@example.com\"", body);
        Assert.Contains("<a href=\"tel:+6441234567\"", body);
        Assert.Contains("<a href=\"https://app.example/u/abc\"", body);
        Assert.Contains("<a href=\"https://app.example/p/abc\"", body);
        Assert.Equal(["https://shop.example/?a=1&b=2", "http://old.example/", "https://shop.example/p/1?x=<y>"], calls);
        Assert.Contains("Shop (https://t.example/c?u=https%3A%2F%2Fshop.example%2F%3Fa%3D1%26b%3D2)", rendered.Text);
        Assert.Contains("Leave (https://app.example/u/abc)", rendered.Text);
        Assert.Contains("Unsubscribe: https://app.example/u/abc", rendered.Text);
        Assert.Contains("Product (https://t.example/c?u=https%3A%2F%2Fshop.example%2Fp%2F1%3Fx%3D%3Cy%3E)", rendered.Text);
    }

    [Fact]
    public void Without_a_rewriter_links_are_left_as_written()
    {
        var rendered = Markdown("[Shop](https://shop.example/?a=1&b=2)").Render(Model());

        Assert.Contains("<a href=\"https://shop.example/?a=1&amp;b=2\"", rendered.Html);
        Assert.Contains("Shop (https://shop.example/?a=1&b=2)", rendered.Text);
        Assert.DoesNotContain('\u0001', rendered.Html + rendered.Text);
        Assert.DoesNotContain('\u0003', rendered.Html);
    }

    [Fact]
    public void An_unsafe_address_from_contact_data_becomes_harmless()
    {
        var message = Markdown("[Open]({{ data.url }}) [Again]({{ data.other }})");

        var rendered = message.Render(Model(data: new Dictionary<string, object?> { ["url"] = "javascript:alert(document.cookie)", ["other"] = " java\tscript:alert(1)" }), Track);

        Assert.DoesNotContain("javascript", rendered.Html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("script:", rendered.Text);
        Assert.Contains("<a href=\"#\"", rendered.Html);
    }

    [Fact]
    public void A_contact_value_cannot_fake_a_tracked_link()
    {
        var message = Markdown("Hi {{ data.name }}");

        var rendered = message.Render(Model(data: new Dictionary<string, object?> { ["name"] = "\u0001abc https://evil.example\u0002 \u0003" }), Track);

        Assert.DoesNotContain("t.example", rendered.Html + rendered.Text);
    }

    [Fact]
    public void The_open_pixel_is_added_at_the_end_of_the_html_when_asked_for()
    {
        var message = Markdown("Hi");
        var model = Model();

        var with = message.Render(new MessageModel { Contact = model.Contact, Links = model.Links, Now = model.Now, OpenPixelUrl = "https://t.example/o/1.gif?s=a&b" });
        var viaArgument = message.Render(model, openPixelUrl: "https://t.example/o/2.gif");
        var without = message.Render(model);

        Assert.EndsWith("<img src=\"https://t.example/o/1.gif?s=a&amp;b\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;width:1px;height:1px;border:0;\">\n</body>\n</html>\n", with.Html);
        Assert.Contains("<img src=\"https://t.example/o/2.gif\"", viaArgument.Html);
        Assert.DoesNotContain("width=\"1\"", without.Html);
    }

    [Fact]
    public void The_same_address_is_rewritten_once_per_message_and_alike_in_both_parts()
    {
        var message = Markdown("[A](https://shop.example/a) and [again](https://shop.example/a)");
        var count = 0;

        var rendered = message.Render(Model(), url => $"https://t.example/{++count}");

        Assert.Equal(1, count);
        Assert.Contains("A (https://t.example/1) and again (https://t.example/1)", rendered.Text);
        Assert.Equal(2, rendered.Html.Split("href=\"https://t.example/1\"").Length - 1);
    }
}
