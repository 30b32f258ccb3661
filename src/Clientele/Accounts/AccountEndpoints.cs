using System.Security.Claims;
using Clientele.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;

namespace Clientele.Accounts;

/// <summary>Signing back-office users in and out with the login cookie.</summary>
internal static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        // A form parameter makes the endpoint require a valid antiforgery token.
        app.MapPost("/logout", async (HttpContext http, [FromForm] string? returnUrl) =>
            {
                await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                return TypedResults.LocalRedirect(LocalUrl.IsLocal(returnUrl) ? "/login?ReturnUrl=" + Uri.EscapeDataString(returnUrl!) : "/login");
            })
            .AllowAnonymous() // signing out needs no sign-in, only the anti-forgery token
            .ExcludeFromDescription();
        return app;
    }

    public static ClaimsPrincipal Principal(User user) =>
        new(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()),
                new Claim(ClaimTypes.Name, user.Email),
                new Claim(ClaimTypes.Role, user.Role.ToString()),
            ],
            CookieAuthenticationDefaults.AuthenticationScheme, ClaimTypes.Name, ClaimTypes.Role));

    public static Task SignInAsync(HttpContext http, User user) =>
        http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, Principal(user), new AuthenticationProperties { IsPersistent = true });
}
