using Clientele.Data;
using MimeKit;

namespace Clientele.Outbox;

/// <summary>
/// The transport until SMTP is configured: keeps each message as its raw .eml in the database, readable in the
/// Outbox page, so nothing leaves the machine by surprise.
/// </summary>
internal sealed class LocalTransport(ClienteleDatabase database, TimeProvider time) : IMailTransport
{
    public string Name => "local";

    public async Task<DeliveryResult> SendAsync(MimeMessage message, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await message.WriteToAsync(buffer, ct);
        var id = MailComposer.OutboxId(message) ?? Guid.CreateVersion7();
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            if (await db.LocalMail.FindAsync([id], ct) is not null)
            {
                return new DeliveryResult(DeliveryOutcome.Sent, "Already in the local outbox.");
            }
            db.LocalMail.Add(new LocalMail
            {
                MessageId = id,
                To = string.Join(", ", message.To.Mailboxes.Select(m => m.Address)),
                Subject = message.Subject ?? "",
                Raw = buffer.ToArray(),
                StoredAt = time.GetUtcNow().UtcDateTime,
            });
            await db.SaveChangesAsync(ct);
        }
        return new DeliveryResult(DeliveryOutcome.Sent, "Kept in the local outbox (SMTP is not configured).");
    }
}
