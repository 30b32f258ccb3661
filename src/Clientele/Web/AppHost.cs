using Clientele.Accounts;
using Clientele.Api;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.EntityFrameworkCore;
using MudBlazor.Services;
using Scalar.AspNetCore;

namespace Clientele.Web;

/// <summary>Options the <c>serve</c> verb passes in from the command line.</summary>
internal sealed record ServeOptions(string? Db, string? Urls, bool Demo);

/// <summary>Composition root: one place that wires every feature into one web app.</summary>
internal static class AppHost
{
    public static WebApplication Build(string[] args, ServeOptions options)
    {
        // Settings and assets ship beside the executable; relative paths (./data/clientele.db) are the caller's.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (options.Db is not null)
        {
            builder.Configuration["ConnectionStrings:Clientele"] = options.Db;
        }
        if (options.Urls is not null)
        {
            builder.WebHost.UseUrls(options.Urls);
        }
        builder.WebHost.UseStaticWebAssets(); // package assets (MudBlazor, blazor.web.js) also when run from the build output, as `dotnet run` does
        builder.Configuration["Clientele:Demo"] = options.Demo ? "true" : builder.Configuration["Clientele:Demo"];
        AddServices(builder.Services, builder.Configuration);
        var app = builder.Build();
        UsePipeline(app);
        return app;
    }

    public static void AddServices(IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => ClienteleDatabase.Open(config.GetConnectionString("Clientele")));
        services.AddSingleton<IDbContextFactory<ClienteleDb>>(sp => sp.GetRequiredService<ClienteleDatabase>());
        services.AddScoped(sp => sp.GetRequiredService<ClienteleDatabase>().CreateDbContext());
        // On a stop every worker hands back what it holds at the same time, each within the whole shutdown window,
        // rather than one after the other with the last left the time the others did not use.
        services.Configure<HostOptions>(o => o.ServicesStopConcurrently = true);
        services.AddHostedService<DatabaseStartup>();
        services.AddSingleton<Clientele.Privacy.ErasureCompactor>();
        services.AddHostedService(sp => sp.GetRequiredService<Clientele.Privacy.ErasureCompactor>());
        services.AddSingleton<IStartupTask, Clientele.Demo.DemoSeedTask>();
        services.AddMemoryCache();

        services.AddProblemDetails();
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<JsonOptions>(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase)));
        services.AddOpenApi("v1", o => o.AddDocumentTransformer((document, _, _) =>
        {
            // Every API call takes an API key as a bearer token; the reference offers a field for it.
            document.Components ??= new Microsoft.OpenApi.OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, Microsoft.OpenApi.IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["apiKey"] = new Microsoft.OpenApi.OpenApiSecurityScheme
            {
                Type = Microsoft.OpenApi.SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key: 'clientele apikeys create' or Settings → API keys. Scopes: read, write, admin.",
            };
            document.Security = [new Microsoft.OpenApi.OpenApiSecurityRequirement { [new Microsoft.OpenApi.OpenApiSecuritySchemeReference("apiKey", document)] = [] }];
            return Task.CompletedTask;
        }));

        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
                o.AccessDeniedPath = "/denied";
                o.Cookie.Name = "clientele";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = TimeSpan.FromDays(7);
            })
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeys.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeys.ReadPolicy, p => p.AddAuthenticationSchemes(ApiKeys.Scheme).RequireAuthenticatedUser()
                .RequireClaim(ApiKeys.ScopeClaim, "read", "write", "admin"))
            .AddPolicy(ApiKeys.WritePolicy, p => p.AddAuthenticationSchemes(ApiKeys.Scheme).RequireAuthenticatedUser()
                .RequireClaim(ApiKeys.ScopeClaim, "write", "admin"))
            .AddPolicy(ApiKeys.AdminPolicy, p => p.AddAuthenticationSchemes(ApiKeys.Scheme).RequireAuthenticatedUser()
                .RequireClaim(ApiKeys.ScopeClaim, "admin"));

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddCascadingAuthenticationState();
        services.AddMudServices();
        services.AddHttpContextAccessor();

        // The loop's spine: the event log and the consumers that derive state from it.
        services.AddSingleton<EventSignal>();
        services.AddSingleton<EventIngest>();
        services.AddSingleton<EventDispatcher>();
        services.AddHostedService<EventDispatcherService>();
        services.AddSingleton<IEventConsumer, CommerceProjection>();
        services.AddSingleton<IEventConsumer, ConsentProjection>();
        services.AddSingleton<IEventConsumer, ActivityProjection>();
        services.AddSingleton<IEventConsumer, Clientele.Qualification.QualificationProjection>();
        services.AddSingleton<IEventConsumer, Clientele.Lifecycle.StageProjection>();
        services.AddSingleton<IEventConsumer, Clientele.Offers.OfferRedemptions>();
        services.AddSingleton<Clientele.Webhooks.WebhookSubscriptions>();
        services.AddSingleton<IEventConsumer>(sp => sp.GetRequiredService<Clientele.Webhooks.WebhookSubscriptions>());
        services.AddSingleton<IEventConsumer, Clientele.Referrals.ReferralProjection>();
        services.AddSingleton<IEventConsumer, Clientele.Feedback.FeedbackLoop>();
        services.AddSingleton<Clientele.Segments.SegmentProjection>();
        services.AddSingleton<IEventConsumer>(sp => sp.GetRequiredService<Clientele.Segments.SegmentProjection>());
        services.AddSingleton<Clientele.Segments.SegmentRebuilds>();
        services.AddHostedService(sp => sp.GetRequiredService<Clientele.Segments.SegmentRebuilds>());
        services.AddHostedService<Clientele.Segments.SegmentWindowService>();
        services.AddSingleton<Clientele.Lifecycle.StageSweepSignal>();
        services.AddHostedService<Clientele.Lifecycle.StageSweepService>();
        services.AddSingleton<Clientele.Value.ScoringSignal>();
        services.AddHostedService<Clientele.Value.ScoringService>();
        services.AddSingleton<Clientele.Dashboard.DashboardRollup>();
        services.AddHostedService<Clientele.Dashboard.DashboardRollupService>();
        services.AddSingleton<IEventConsumer, Clientele.Dashboard.SalesChanges>();
        services.AddSingleton<BoughtTogetherJob>();
        services.AddHostedService<BoughtTogetherService>();

        Clientele.Outbox.Mail.AddMail(services, config);
        services.AddSingleton<Clientele.Broadcasts.BroadcastSignal>();
        services.AddSingleton<Clientele.Broadcasts.BroadcastRunner>();
        services.AddHostedService<Clientele.Broadcasts.BroadcastService>();
        services.AddSingleton<Clientele.Journeys.JourneySignal>();
        services.AddSingleton<Clientele.Journeys.JourneyRunner>();
        services.AddHostedService<Clientele.Journeys.JourneyService>();
        services.AddSingleton<Clientele.Journeys.JourneyCalendar>();
        services.AddHostedService<Clientele.Journeys.JourneyCalendarService>();
        services.AddSingleton<Clientele.Journeys.JourneyTests>();
        services.AddHostedService<Clientele.Journeys.JourneyTestService>();
        services.AddSingleton<Clientele.Support.SupportMailbox>();
        services.AddHostedService(sp => sp.GetRequiredService<Clientele.Support.SupportMailbox>());
        services.AddSingleton<Clientele.Support.SlaAlerts>();
        services.AddHostedService(sp => sp.GetRequiredService<Clientele.Support.SlaAlerts>());
        services.AddSingleton<Clientele.Webhooks.WebhookSignal>();
        services.AddSingleton<Clientele.Webhooks.WebhookSender>();
        if (config.GetValue("Clientele:Webhooks:Enabled", true))
        {
            services.AddHostedService<Clientele.Webhooks.WebhookService>();
        }
        services.AddSingleton<Clientele.Journeys.JourneyEntry>();
        services.AddSingleton<IEventConsumer>(sp => sp.GetRequiredService<Clientele.Journeys.JourneyEntry>());
        Clientele.Forms.PublicForms.AddPublicForms(services, config);
        WebFeatures.AddServices(services, config);
        Metrics.AddMetrics(services, config);
    }

    public static void UsePipeline(WebApplication app)
    {
        // Behind a reverse proxy on the same machine (nginx, Caddy): the visitor's address and scheme come from its
        // X-Forwarded-For / -Proto headers, so rate limits count visitors, not the proxy. Other proxies are trusted only
        // when listed in Clientele__Proxy__KnownProxies (comma-separated addresses).
        var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto };
        foreach (var proxy in (app.Configuration["Clientele:Proxy:KnownProxies"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (System.Net.IPAddress.TryParse(proxy, out var address))
            {
                forwarded.KnownProxies.Add(address);
            }
        }
        app.UseForwardedHeaders(forwarded);
        app.UseSecurityHeaders();
        Metrics.MapMetrics(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/api"), b => b.UseMiddleware<IdempotencyMiddleware>());
        app.UseAntiforgery();

        app.MapGet("/healthz", async (ClienteleDatabase db, CancellationToken ct) =>
                await db.PingAsync(ct) ? Results.Text("ok") : Results.Problem("The database does not answer.", statusCode: 503))
            .AllowAnonymous()
            .ExcludeFromDescription();
        // The API's description is public, like any API reference; the calls themselves need a key.
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference("/docs", o => o.WithTitle("Clientele API").WithOpenApiRoutePattern("/openapi/{documentName}.json")).AllowAnonymous();

        Clientele.Forms.PublicForms.MapPublicForms(app);
        Clientele.Support.ContactPage.MapContactPage(app);
        Clientele.Forms.LandingPages.MapLandingPages(app);
        Clientele.Referrals.ReferralLinks.MapReferralLinks(app);
        Clientele.Feedback.ReviewPages.MapReviewPages(app);
        Clientele.Outbox.Mail.MapMail(app);
        Clientele.Knowledge.KnowledgePages.MapKnowledgePages(app);

        var api = app.MapGroup("/api/v1");
        api.MapEvents();
        api.MapContacts();
        api.MapCommerce();
        api.MapRecommendations();
        api.MapApiKeys();
        api.MapSystem();
        Clientele.Value.ScoringApi.MapScoring(api);
        Clientele.Lifecycle.ReportsApi.MapReports(api);
        Clientele.Dashboard.DashboardApi.MapDashboard(api);
        Clientele.Lifecycle.StagesApi.MapStages(api);
        Clientele.Qualification.QualificationApi.MapQualification(api);
        Clientele.Segments.SegmentsApi.MapSegments(api);
        Clientele.Broadcasts.BroadcastsApi.MapBroadcasts(api);
        Clientele.Templates.TemplatesApi.MapTemplates(api);
        Clientele.Journeys.JourneysApi.MapJourneys(api);
        Clientele.Webhooks.WebhooksApi.MapWebhooks(api);
        Clientele.Offers.OffersApi.MapOffers(api);
        Clientele.Referrals.ReferralsApi.MapReferrals(api);
        Clientele.Feedback.SurveysApi.MapSurveys(api);
        Clientele.Feedback.ReviewsApi.MapReviews(api);
        Clientele.Support.TicketsApi.MapTickets(api);
        Clientele.Integrations.InboundHooks.MapInboundHooks(app, api);
        Clientele.Knowledge.KnowledgeApi.MapKnowledge(api);
        Clientele.Journeys.Playbooks.MapPlaybooks(api);
        Clientele.Outbox.Bounces.MapBounces(api);
        Clientele.Privacy.PrivacyApi.MapPrivacy(app, api);
        Clientele.Contacts.CsvExports.MapCsvExports(app, api);
        // Unknown API paths get a problem document, not the UI's HTML.
        api.MapFallback(() => ApiProblems.NotFound("There is no such API endpoint. See /docs for the list.")).AllowAnonymous();

        WebFeatures.MapUi(app);
    }
}
