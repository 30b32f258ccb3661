namespace Clientele.Outbox;

/// <summary>Registers the messaging core: links, consent guard, content, the transport and the senders.</summary>
internal static class Mail
{
    public static void AddMail(IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton<MailLinks>();
        services.AddSingleton<ConsentGuard>();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<OutboxContent>();
        // Until SMTP is configured, mail stays in the local outbox, readable in the back office.
        var smtp = SmtpOptions.From(config);
        services.AddSingleton(smtp);
        if (smtp.IsConfigured)
        {
            services.AddSingleton<IMailTransport, SmtpTransport>();
        }
        else
        {
            services.AddSingleton<IMailTransport, LocalTransport>();
        }
        services.AddSingleton<OutboxSender>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxSender>());
        services.AddHostedService<BounceMailbox>();
    }

    public static void MapMail(WebApplication app)
    {
        Tracking.MapTracking(app);
        // A message kept by the local outbox, as the .eml a mail program opens.
        app.MapGet("/outbox/{id:guid}.eml", async (Guid id, Clientele.Data.ClienteleDatabase database, CancellationToken ct) =>
        {
            await using var db = database.CreateDbContext();
            var mail = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.FirstOrDefaultAsync(db.LocalMail, m => m.MessageId == id, ct);
            return mail is null ? Results.NotFound() : Results.File(mail.Raw, "message/rfc822", $"{id:N}.eml");
        }).RequireAuthorization(Clientele.Web.Access.Marketing).ExcludeFromDescription();
        Preferences.MapPreferences(app);
        Clientele.Feedback.SurveyPages.MapSurveyPages(app);
    }
}
