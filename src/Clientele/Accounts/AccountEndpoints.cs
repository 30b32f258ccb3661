using System.Security.Claims;
using Clientele.Api;
using Clientele.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Antiforgery;

namespace Clientele.Accounts;

/// <summary>Signing back-office users in and out with the login cookie.</summary>
internal static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        // Signing out needs the anti-forgery token (checked by the antiforgery middleware); the form is read only after
        // the check has passed, so a forged request is a 400 and never reaches the sign-out.
        app.MapPost("/logout", async (HttpContext http) =>
            {
                if (http.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: false })
                {
                    return ApiProblems.BadRequest("The sign-out form's anti-forgery token is missing or invalid. Reload the page and sign out again.");
                }
                var returnUrl = (await http.Request.ReadFormAsync(http.RequestAborted))["returnUrl"].ToString();
                await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                return Results.LocalRedirect(LocalUrl.IsLocal(returnUrl) ? "/login?ReturnUrl=" + Uri.EscapeDataString(returnUrl) : "/login");
            })
            .WithMetadata(new RequireAntiforgeryTokenAttribute())
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
