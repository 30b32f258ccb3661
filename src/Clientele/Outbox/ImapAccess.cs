using MailKit;
using MailKit.Net.Imap;

namespace Clientele.Outbox;

/// <summary>
/// Opens a mailbox folder read-write from a configuration section (<c>Host</c>, <c>Port</c>, <c>Security</c>: auto, none,
/// ssl or starttls, <c>Username</c>, <c>Password</c>, <c>Folder</c>), for the bounce and support mailboxes.
/// </summary>
internal static class ImapAccess
{
    public static async Task<(ImapClient Client, IMailFolder Folder)> OpenAsync(IConfigurationSection section, CancellationToken ct)
    {
        var imap = new ImapClient();
        try
        {
            var security = section.GetValue("Security", "auto")!.ToLowerInvariant() switch
            {
                "none" => MailKit.Security.SecureSocketOptions.None,
                "ssl" => MailKit.Security.SecureSocketOptions.SslOnConnect,
                "starttls" => MailKit.Security.SecureSocketOptions.StartTls,
                _ => MailKit.Security.SecureSocketOptions.Auto,
            };
            await imap.ConnectAsync(section["Host"]!, section.GetValue("Port", 993), security, ct);
            if (section["Username"] is { Length: > 0 } user)
            {
                await imap.AuthenticateAsync(user, section["Password"] ?? "", ct);
            }
            var folder = await imap.GetFolderAsync(section.GetValue("Folder", "INBOX"), ct);
            await folder.OpenAsync(FolderAccess.ReadWrite, ct);
            return (imap, folder);
        }
        catch
        {
            imap.Dispose();
            throw;
        }
    }
}
