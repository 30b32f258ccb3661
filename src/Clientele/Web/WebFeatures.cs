using Clientele.Accounts;
using Clientele.Data;

namespace Clientele.Web;

/// <summary>The back-office UI and the public pages: services and endpoints.</summary>
internal static class WebFeatures
{
    public static void AddServices(IServiceCollection services, IConfiguration config)
    {
        services.AddAuthorizationBuilder().AddBackOfficePolicies();
        services.AddSingleton<IStartupTask, FirstRun>();
        services.AddSingleton<OwnerSetup>();
        services.AddSingleton(sp => BreachedPasswords.FromConfiguration(config, sp.GetRequiredService<ILogger<BreachedPasswords>>()));
    }

    public static void MapUi(WebApplication app)
    {
        app.MapStaticAssets();
        app.MapAccountEndpoints();
        Clientele.Lifecycle.ReportsApi.MapFunnelExport(app);
        Clientele.Value.InsightsExports.MapInsightsExports(app);
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
    }
}
