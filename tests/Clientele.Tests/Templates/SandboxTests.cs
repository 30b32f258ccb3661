using System.Diagnostics;
using Clientele.Templates;
using static Clientele.Tests.Templates.Messages;

namespace Clientele.Tests.Templates;

public sealed class SandboxTests
{
    private static TemplateError CompileError(string body, string subject = "Hello", BodyFormat format = BodyFormat.Markdown) =>
        Assert.Throws<TemplateCompileException>(() => MessageTemplate.Compile(new TemplateSource(subject, body, format), Brand())).Error;

    private static string RenderError(string body, RenderLimits? limits = null) =>
        Assert.Throws<TemplateRenderException>(() => Markdown(body, limits: limits).Render(Model())).Message;

    [Fact]
    public void Compile_errors_name_the_part_line_and_column()
    {
        var filter = CompileError("Hello\n\nYour total is {{ order.total | moneyy: order.currency }}.");
        var unclosed = CompileError("Hi\n{% if contact.first_name %}\nthere");
        var subject = CompileError("Body is fine", subject: "Hi {{ contact.first_name | upcase ");
        var tag = CompileError("one\ntwo {% bogus %}");

        Assert.Equal(new TemplateError("body", 3, 32, "unknown filter 'moneyy'; did you mean 'money'?"), filter);
        Assert.Equal("Body, line 3, column 32: unknown filter 'moneyy'; did you mean 'money'?", filter.ToString());
        Assert.Equal(("body", 3), (unclosed.Part, unclosed.Line));
        Assert.Contains("{% endif %}", unclosed.Message);
        Assert.Equal(("subject", 1, 4), (subject.Part, subject.Line, subject.Column));
        Assert.Contains("never closed", subject.Message);
        Assert.Equal(("body", 2, 5), (tag.Part, tag.Line, tag.Column));
        Assert.Contains("Unknown tag 'bogus'", tag.Message);
        Assert.False(MessageTemplate.TryCompile(new TemplateSource("x", "{{ a | nope }}"), Brand(), out _, out var error));
        Assert.Equal("unknown filter 'nope'", error.Message);
    }

    [Theory]
    [InlineData("Before\n{% include 'footer' %}", "'include' is not available")]
    [InlineData("{% render 'footer', x: 1 %}", "'render' is not available")]
    public void Templates_cannot_load_other_templates(string body, string message)
    {
        var error = CompileError(body);

        Assert.Contains(message, error.Message);
        Assert.Equal("body", error.Part);
    }

    [Fact]
    public void A_huge_loop_is_stopped_by_the_step_limit_with_a_clear_message()
    {
        var watch = Stopwatch.StartNew();
        var forLoop = RenderError("{% for i in (1..100000000) %}{% endfor %}");
        var nested = RenderError("{% for i in (1..1000) %}{% for j in (1..1000) %}{% endfor %}{% endfor %}");
        var assigned = RenderError("{% assign all = (1..100000000) %}{{ all | size }}");

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), watch.Elapsed.ToString());
        Assert.Contains("the range (1..100000000) has more than 100,000 numbers", forLoop);
        Assert.Contains("more than 100,000 steps", nested);
        Assert.Contains("more than 100,000 numbers", assigned);
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_refused_before_the_parser_recurses()
    {
        var deep = string.Concat(Enumerable.Repeat("{% if true %}", 5000)) + "x" + string.Concat(Enumerable.Repeat("{% endif %}", 5000));
        var fine = string.Concat(Enumerable.Repeat("{% if true %}", 20)) + "x" + string.Concat(Enumerable.Repeat("{% endif %}", 20));

        var error = CompileError(deep);

        Assert.Equal(("body", 1, 261), (error.Part, error.Line, error.Column));
        Assert.Contains("nested more than 20 deep", error.Message);
        Assert.Equal("x", TextBody(Markdown(fine).Render(Model()).Text));
        Assert.Contains("nested too deeply", CompileError(new string('>', 5000) + " deep").Message);
    }

    [Fact]
    public void Output_over_the_cap_stops_the_render()
    {
        var big = RenderError("{% for i in (1..20000) %}{{ '0123456789012345678901234567890123456789012345678901234567890123456789' }}{% endfor %}");
        var doubled = RenderError("{% assign s = 'ab' %}{% for i in (1..30) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}");
        var captured = RenderError("{% assign s = '0123456789' %}{% for i in (1..30) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}");

        Assert.Contains("output larger than 1 MB", big);
        Assert.Contains("a value grew larger than 1 MB", doubled);
        Assert.Contains("larger than 1 MB", captured);
    }

    [Fact]
    public void A_render_that_runs_out_of_time_stops_with_a_clear_message()
    {
        var limits = new RenderLimits(MaxSteps: 1_000_000, MaxOutputChars: 64 * 1024 * 1024, TimeLimit: TimeSpan.FromMilliseconds(50));
        var watch = Stopwatch.StartNew();

        var message = RenderError("{% for i in (1..900000) %}{{ i | plus: 1 | times: 2 | append: 'x' }}{% endfor %}", limits);

        Assert.Contains("the message took longer than 50 ms to render", message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), watch.Elapsed.ToString());
    }

    [Fact]
    public void Html_sanitising_removes_scripts_event_handlers_forms_and_frames()
    {
        var message = Html("""
            <p onclick="steal()" style="color:#ff0000">Hi {{ contact.first_name }}</p>
            <script>alert(1)</script><iframe src="https://evil.example"></iframe>
            <form action="https://evil.example"><input name="card"><button>Pay</button></form>
            <a href="javascript:alert(1)">bad</a> <img src="https://cdn.example/a.png" onerror="x()" width="100">
            """);

        var html = Body(message.Render(Model()).Html);

        Assert.DoesNotContain("script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("onclick", html);
        Assert.DoesNotContain("onerror", html);
        Assert.DoesNotContain("iframe", html);
        Assert.DoesNotContain("<form", html);
        Assert.DoesNotContain("<input", html);
        Assert.DoesNotContain("javascript:", html);
        Assert.Contains("<p style=\"color: #ff0000\">Hi Ann</p>", html);
        Assert.Contains("<img src=\"https://cdn.example/a.png\" width=\"100\"", html);
    }

    [Fact]
    public void Liquid_in_markup_the_sanitiser_removes_is_reported_where_it_stands()
    {
        var error = CompileError("<p>Hi</p>\n<p onclick=\"{{ contact.id }}\">x</p>", format: BodyFormat.Html);

        Assert.Equal((2, 13), (error.Line, error.Column));
        Assert.Contains("removed for safety", error.Message);
    }

    [Fact]
    public void No_dotnet_member_is_reachable_from_a_template()
    {
        var text = TextBody(Markdown("[{{ contact.GetType }}][{{ contact.Contact.Email }}][{{ data.obj.Length }}][{{ data.obj }}][{{ contact.attributes.plan.Length }}]")
            .Render(Model(attributes: """{"plan": "gold"}""", data: new Dictionary<string, object?> { ["obj"] = new Uri("https://x.example/") })).Text);

        Assert.Equal("[][][][https://x.example/][]", text);
    }

    /// <summary>
    /// Payloads from public lists of template-injection attacks on Liquid and other engines. Each is refused with a
    /// message, or renders text that shows nothing of the server; none runs past the render limits (100,000 steps,
    /// 1 MB, 1 s by default) and the next message renders as usual.
    /// </summary>
    [Theory]
    [InlineData("{{ 7*7 }}")]
    [InlineData("${7*7} #{7*7} <%= 7*7 %> @(7*7) *{7*7}")]
    [InlineData("{{ contact.__class__ }}{{ contact.GetType().Assembly }}{{ self }}{{ this }}")]
    [InlineData("{{ ''.__class__.__mro__[1].__subclasses__() }}")]
    [InlineData("{% include '/etc/passwd' %}")]
    [InlineData("{% render '../../appsettings.json' %}")]
    [InlineData("{% include 'file:///etc/passwd' %}")]
    [InlineData("{{ '/etc/passwd' | read_file }}{{ 'ls' | system }}{{ 'ls' | exec }}")]
    [InlineData("{% for i in (1..2147483647) %}x{% endfor %}")]
    [InlineData("{% for a in (1..100000) %}{% for b in (1..100000) %}{% for c in (1..100000) %}x{% endfor %}{% endfor %}{% endfor %}")]
    [InlineData("{% assign s = 'x' %}{% for i in (1..64) %}{% assign s = s | append: s | append: s %}{% endfor %}{{ s }}")]
    [InlineData("{{ 1 | times: 99999999999999999999999999 | times: 99999999999999999999999999 }}")]
    [InlineData("{{ 'x' | replace: 'x', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' | replace: 'x', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' | replace: 'x', 'xxxxxxxxxxxxxxxxxxxxxxxx' | replace: 'x', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }}")]
    [InlineData("{% cycle %}{% tablerow x in %}{% endtablerow %}")]
    [InlineData("{% capture a %}{% capture b %}{% capture c %}{{ a }}{{ b }}{% endcapture %}{% endcapture %}{% endcapture %}{{ a }}")]
    [InlineData("{{ contact.attributes.constructor.constructor('return process')() }}")]
    [InlineData("{% liquid\n assign x = 'a'\n for i in (1..9999999)\n assign x = x | append: x\n endfor %}")]
    public void Known_template_injection_payloads_are_refused_or_render_harmlessly(string payload)
    {
        string? text = null;
        try
        {
            text = Markdown(payload).Render(Model()).Text;
        }
        catch (TemplateCompileException ex)
        {
            Assert.False(string.IsNullOrWhiteSpace(ex.Error.Message));
        }
        catch (TemplateRenderException ex)
        {
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        }
        if (text is not null)
        {
            Assert.True(text.Length <= 1024 * 1024, "output beyond the cap");
            foreach (var leak in new[] { "System.", "Clientele.", "root:x:", "ConnectionStrings", "process", "Assembly" })
            {
                Assert.DoesNotContain(leak, text, StringComparison.Ordinal);
            }
        }
        // The engine is unharmed: the next message renders as usual.
        Assert.Equal("Hi Ann", TextBody(Markdown("Hi {{ contact.first_name }}").Render(Model()).Text));
    }
}
