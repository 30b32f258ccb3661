using Clientele.Accounts;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using MudBlazor;

namespace Clientele.Web;

/// <summary>
/// Who may open which back-office page. Pages say <c>[Authorize(Policy = Access.Marketing)]</c>; the
/// navigation hides what a role may not use. Every policy authenticates with the login cookie only,
/// so an API key never opens a back-office page.
/// </summary>
internal static class Access
{
    /// <summary>Any signed-in user: owners, marketers and support agents.</summary>
    public const string Staff = "ui:staff";

    /// <summary>Owners and marketers: everything but users and API keys.</summary>
    public const string Marketing = "ui:marketing";

    /// <summary>Owners only: users, API keys.</summary>
    public const string Owner = "ui:owner";

    public static AuthorizationBuilder AddBackOfficePolicies(this AuthorizationBuilder builder) => builder
        .AddPolicy(Staff, p => Cookie(p).RequireRole(nameof(Role.Owner), nameof(Role.Marketer), nameof(Role.Agent)))
        .AddPolicy(Marketing, p => Cookie(p).RequireRole(nameof(Role.Owner), nameof(Role.Marketer)))
        .AddPolicy(Owner, p => Cookie(p).RequireRole(nameof(Role.Owner)));

    private static AuthorizationPolicyBuilder Cookie(AuthorizationPolicyBuilder p) =>
        p.AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme).RequireAuthenticatedUser();
}

/// <summary>One entry of the main navigation, and what its page says while the area is still empty.</summary>
internal sealed record Area(string Title, string Href, string Icon, string Policy, string Purpose, string FirstStep);

internal static class Areas
{
    /// <summary>The navigation, in the order an owner thinks.</summary>
    public static readonly IReadOnlyList<Area> All =
    [
        new("Home", "/", Icons.Material.Filled.Home, Access.Staff,
            "How the business is doing at a glance.", ""),
        new("Contacts", "/contacts", Icons.Material.Filled.People, Access.Staff,
            "Everyone the business knows of, with stage, score, health and timeline.", ""),
        new("Segments", "/segments", Icons.Material.Filled.FilterAlt, Access.Marketing,
            "Segments group contacts by who they are and what they did, such as \"bought twice, nothing in 60 days\". Journeys and broadcasts send to segments, and membership updates itself as events arrive.",
            "No segments yet. Bring in contacts first (import, forms or the API); then define a segment to see who is in it."),
        new("Journeys", "/journeys", Icons.Material.Filled.Route, Access.Marketing,
            "Journeys are automated sequences: welcome, trial nudges, thank-yous, replenishment reminders, win-back. Playbooks install a proven journey in one step.",
            "No journeys yet. Set up sending under Settings, then install a playbook such as the welcome series."),
        new("Broadcasts", "/broadcasts", Icons.Material.Filled.Campaign, Access.Marketing,
            "Broadcasts are one-off e-mails to a segment: a newsletter, an announcement, a seasonal offer. Only contacts who consented to the topic receive them.",
            "No broadcasts yet. Create a segment and a template first."),
        new("Templates", "/templates", Icons.Material.Filled.Article, Access.Marketing,
            "Templates are the e-mails journeys and broadcasts send, written in Markdown with merge fields and carrying your brand.",
            "No templates yet. Set your business profile and brand under Settings, then write your first template."),
        new("Forms & pages", "/forms", Icons.Material.Filled.Web, Access.Marketing,
            "Sign-up forms and landing pages capture contacts with consent (double opt-in) and start their journey.",
            "No forms yet. Create a sign-up form and put its link or snippet on your site."),
        new("Offers", "/offers", Icons.Material.Filled.LocalOffer, Access.Marketing,
            "Offers are coupons and incentives: a first-order discount, a trial extension, a VIP reward. Each use is tracked back to the contact.",
            "No offers yet. Create an offer, then use it in a journey or broadcast."),
        new("Referrals", "/referrals", Icons.Material.Filled.Share, Access.Marketing,
            "Referrals turn loyal customers into advocates: each gets a personal link, and both sides are rewarded when a friend buys.",
            "No referral programme yet. Create an offer to use as the reward first."),
        new("Feedback", "/feedback", Icons.Material.Filled.RateReview, Access.Marketing,
            "Feedback collects \"How'm I doing?\" check-ins, NPS and satisfaction surveys and reviews, and feeds the answers back into stage and health.",
            "No surveys yet. Create an NPS survey and add it to a journey after purchase."),
        new("Support", "/support", Icons.Material.Filled.SupportAgent, Access.Staff,
            "Support is the inbox for inquiries and tickets, with response-time targets, auto-responses and a knowledge base.",
            "No tickets yet. Tickets arrive from the contact form, by e-mail or through POST /api/v1/tickets."),
        new("Knowledge base", "/knowledge", Icons.Material.Filled.MenuBook, Access.Marketing,
            "The knowledge base answers the questions customers ask most, in Markdown articles: public at /kb with a search box, and linked in automatic replies.",
            "No articles yet. Write the answers to the questions customers ask most, and publish them."),
        new("Insights", "/insights", Icons.Material.Filled.Insights, Access.Marketing,
            "Insights shows what customers are worth and who is slipping away: customer value, the stage funnel, cohorts, acquisition against retention and a CLV calculator.",
            "Nothing to show yet. Insights need orders: send order.placed events or import orders."),
        new("Outbox", "/outbox", Icons.Material.Filled.Outbox, Access.Marketing,
            "The outbox lists every message the system has queued and sent. Until SMTP is configured, mail stays here in the local outbox so you can read it.",
            "No messages yet. Messages appear here when a journey or broadcast sends."),
        new("Settings", "/settings", Icons.Material.Filled.Settings, Access.Marketing,
            "Business profile, brand, stages, scoring, sending, users, API keys and webhooks.", ""),
    ];

    public static Area? ByPath(string area) =>
        All.FirstOrDefault(a => a.Href.Length > 1 && string.Equals(a.Href[1..], area, StringComparison.OrdinalIgnoreCase));
}
