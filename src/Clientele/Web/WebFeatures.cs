namespace Clientele.Web;

/// <summary>The back-office UI and the public pages: services and endpoints.</summary>
internal static class WebFeatures
{
    public static void AddServices(IServiceCollection services, IConfiguration config)
    {
    }

    public static void MapUi(WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
    }
}
