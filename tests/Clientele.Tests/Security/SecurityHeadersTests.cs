using System.Net;
using Clientele.Tests.Infrastructure;

namespace Clientele.Tests.Security;

public sealed class SecurityHeadersTests
{
    [Fact]
    public async Task Every_page_and_api_answer_carries_a_content_security_policy_and_cannot_be_framed()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var client = app.CreateClient(new() { AllowAutoRedirect = false });

        foreach (var path in new[] { "/login", "/api/v1/contacts", "/kb", "/contact", "/no-such-page" })
        {
            var response = await client.GetAsync(path);
            var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
            Assert.Contains("object-src 'none'", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("strict-origin-when-cross-origin", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        }
    }

    [Fact]
    public async Task Hosted_forms_and_the_review_widget_may_be_framed_by_the_shop()
    {
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var client = app.CreateClient(new() { AllowAutoRedirect = false });

        var form = await client.GetAsync("/f/no-such-form?embed=1");
        Assert.Contains("frame-ancestors *", string.Join(";", form.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.False(form.Headers.Contains("X-Frame-Options"));

        var widget = await client.GetAsync("/reviews/embed");
        Assert.Equal(HttpStatusCode.OK, widget.StatusCode);
        var csp = Assert.Single(widget.Headers.GetValues("Content-Security-Policy"));
        Assert.StartsWith("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors *", csp, StringComparison.Ordinal);
    }
}
