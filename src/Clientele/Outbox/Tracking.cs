using System.Net;
using System.Text.Json;
using Clientele.Data;
using Clientele.Events;
using Clientele.Forms;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Outbox;

/// <summary>
/// Open pixel and click redirect. Both carry a signed token: a click goes only to the address signed into its link,
/// so the app is never an open redirect. Opens and clicks land on the contact's timeline as <c>email.opened</c> and
/// <c>email.clicked</c>; those made by machines (privacy proxies prefetching images, link scanners) are flagged.
/// </summary>
internal static class Tracking
{
    private static readonly byte[] Pixel = Convert.FromBase64String("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");

    public static void MapTracking(WebApplication app)
    {
        app.MapGet("/t/o/{token}", OpenAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/t/c/{token}", ClickAsync).AllowAnonymous().ExcludeFromDescription();
    }

    private static async Task<IResult> OpenAsync(string token, HttpContext http, MailLinks links, ClienteleDatabase database,
        EventSignal signal, TimeProvider time, CancellationToken ct)
    {
        http.Response.Headers.CacheControl = "no-store, no-cache, must-revalidate";
        if (links.Verify("o", token) is { } id)
        {
            await RecordAsync(database, signal, time, id, "email.opened", null, http, ct);
        }
        // A forged or stale pixel still gets an image: a broken one in the reader's mail helps nobody.
        return Results.Bytes(Pixel, "image/gif");
    }

    private static async Task<IResult> ClickAsync(string token, string? u, HttpContext http, MailLinks links, ClienteleDatabase database,
        EventSignal signal, TimeProvider time, CancellationToken ct)
    {
        if (u is null || links.Verify("c", token, u) is not { } id
            || !Uri.TryCreate(u, UriKind.Absolute, out var target) || target.Scheme is not ("http" or "https"))
        {
            return PublicForms.HtmlResult(StatusCodes.Status400BadRequest, PublicForms.Page("Link not valid",
                "<p>This link is damaged or was not made by us, so it does not lead anywhere. Please use the link in the original e-mail.</p>", false));
        }
        await RecordAsync(database, signal, time, id, "email.clicked", u, http, ct);
        return Results.Redirect(target.AbsoluteUri);
    }

    private static async Task RecordAsync(ClienteleDatabase database, EventSignal signal, TimeProvider time, Guid messageId, string type,
        string? url, HttpContext http, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = database.CreateDbContext();
        var message = await db.OutboxMessages.AsNoTracking().Where(m => m.Id == messageId)
            .Select(m => new { m.ContactId, m.SentAt, m.BroadcastId, m.Variant }).FirstOrDefaultAsync(ct);
        if (message is null)
        {
            return;
        }
        var agent = http.Request.Headers.UserAgent.ToString();
        var machine = MachineActivity.IsMachine(type, agent, http.Connection.RemoteIpAddress, message.SentAt, now);
        // One entry per message, kind, link and minute: a reader reloading an image is not ten opens.
        var key = $"{type}:{messageId:N}:{(url is null ? "" : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(url)))[..16])}:{now:yyyyMMddHHmm}";
        using var gate = await database.EnterWriteAsync(ct);
        if (await db.Events.AnyAsync(e => e.IdempotencyKey == key, ct))
        {
            return;
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.Events.Add(new Event
        {
            ContactId = message.ContactId,
            Type = type,
            OccurredAt = now,
            ReceivedAt = now,
            Source = "tracking",
            IdempotencyKey = key,
            Properties = JsonSerializer.Serialize(new { messageId, url, machine, broadcastId = message.BroadcastId, variant = message.Variant }, EventJson.Options),
        });
        await db.SaveChangesAsync(ct);
        if (!machine)
        {
            if (type == "email.opened")
            {
                await db.OutboxMessages.Where(m => m.Id == messageId && m.OpenedAt == null).ExecuteUpdateAsync(s => s.SetProperty(m => m.OpenedAt, now), ct);
            }
            else
            {
                // A click proves the message was opened, even with images off.
                await db.OutboxMessages.Where(m => m.Id == messageId && m.ClickedAt == null).ExecuteUpdateAsync(s => s.SetProperty(m => m.ClickedAt, now), ct);
                await db.OutboxMessages.Where(m => m.Id == messageId && m.OpenedAt == null).ExecuteUpdateAsync(s => s.SetProperty(m => m.OpenedAt, now), ct);
            }
        }
        await tx.CommitAsync(ct);
        signal.Notify();
    }
}

/// <summary>Tells opens and clicks made by software (image proxies prefetching, security scanners) from people's.</summary>
internal static class MachineActivity
{
    private static readonly string[] Agents =
    [
        "bot", "crawler", "spider", "scanner", "preview", "python", "curl", "wget", "go-http-client", "java/", "okhttp",
        "barracuda", "mimecast", "proofpoint", "symantec", "messagelabs", "trendmicro", "forcepoint", "sophos", "fireeye",
        "microsoft office protocol discovery", "yahoomailproxy",
    ];

    /// <summary>Apple Mail Privacy Protection fetches every image from Apple's network as soon as mail arrives.</summary>
    private static readonly IPNetwork Apple = IPNetwork.Parse("17.0.0.0/8");

    public static bool IsMachine(string type, string? userAgent, IPAddress? address, DateTime? sentAt, DateTime now)
    {
        var agent = (userAgent ?? "").ToLowerInvariant();
        if (agent.Length == 0 || Agents.Any(agent.Contains))
        {
            return true;
        }
        if (address is not null && Apple.Contains(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address))
        {
            return true;
        }
        // Scanners follow every link within seconds of delivery; people take longer.
        var soon = type == "email.clicked" ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(2);
        return sentAt is { } sent && now - sent < soon;
    }
}
