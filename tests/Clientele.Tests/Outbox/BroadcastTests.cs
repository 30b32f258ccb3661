using System.Security.Cryptography;
using Clientele.Broadcasts;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Clientele.Tests.Outbox;

/// <summary>A/B tests, local-time sends and DKIM signatures, with the local outbox transport.</summary>
public sealed class BroadcastTests
{
    private static async Task SeedAsync(TestApp app, int count, Func<int, string?>? zone = null)
    {
        await using var db = app.NewDb();
        await ReliabilityTests.SeedAsync(db, count, app.Time.GetUtcNow().UtcDateTime, zone);
    }

    private static async Task<int> CountAsync(TestApp app, Func<ClienteleDb, Task<int>> count)
    {
        await using var db = app.NewDb();
        return await count(db);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_AB_test_sends_the_sample_first_and_the_variant_opened_more_to_everyone_else(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        await SeedAsync(app, 100);
        var api = await app.ApiClientAsync("write");
        var created = await api.PostJsonAsync("/api/v1/broadcasts", new
        {
            name = "Sale",
            topic = "newsletter",
            subject = "A: our sale",
            body = "Hello {{ contact.first_name }}",
            abTest = new { subject = "B: 20% off everything", percent = 30, metric = "opens", hours = 4 },
        });
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();

        // The sample goes out; the rest waits.
        var sample = 0;
        await MailFlowTests.Until(async () =>
        {
            sample = await CountAsync(app, db => db.OutboxMessages.CountAsync(m => m.BroadcastId == id));
            return sample > 0 && await CountAsync(app, db => db.LocalMail.CountAsync()) == sample;
        }, "the sample was sent");
        Assert.InRange(sample, 15, 45);
        var report = await (await api.GetAsync($"/api/v1/broadcasts/{id}")).ReadJsonAsync();
        Assert.Equal("sending", report.GetProperty("status").GetString());

        // Readers open variant B more.
        app.Time.Advance(TimeSpan.FromMinutes(10));
        var links = app.Services.GetRequiredService<MailLinks>();
        List<OutboxMessage> sampled;
        await using (var db = app.NewDb())
        {
            sampled = await db.OutboxMessages.AsNoTracking().Where(m => m.BroadcastId == id).ToListAsync();
        }
        Assert.Contains(sampled, m => m.Variant == "A");
        Assert.Contains(sampled, m => m.Variant == "B");
        var web = app.CreateClient();
        web.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (Windows NT 10.0) Thunderbird/128.0");
        foreach (var m in sampled.Where(m => m.Variant == "B"))
        {
            await web.GetAsync(new Uri(links.OpenPixel(m.Id)).PathAndQuery);
        }

        app.Time.Advance(TimeSpan.FromHours(4));
        app.Services.GetRequiredService<BroadcastSignal>().Notify();
        await MailFlowTests.FinishedAsync(api, id);

        report = await (await api.GetAsync($"/api/v1/broadcasts/{id}")).ReadJsonAsync();
        Assert.Equal("B", report.GetProperty("winner").GetString());
        Assert.Equal(100, report.GetProperty("counts").GetProperty("sent").GetInt32());
        await using var check = app.NewDb();
        var rest = await check.OutboxMessages.AsNoTracking().Where(m => m.BroadcastId == id && !sampled.Select(s => s.Id).Contains(m.Id)).ToListAsync();
        Assert.Equal(100 - sample, rest.Count);
        Assert.All(rest, m => Assert.Equal("B", m.Variant));
        var subjects = (await check.LocalMail.AsNoTracking().Select(m => m.Subject).ToListAsync()).GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(sampled.Count(m => m.Variant == "A"), subjects["A: our sale"]);
        Assert.Equal(100 - sampled.Count(m => m.Variant == "A"), subjects["B: 20% off everything"]);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task A_local_time_broadcast_reaches_each_contact_at_that_hour_in_their_own_zone(string kind)
    {
        await using var app = await TestApp.StartAsync(kind);
        await SeedAsync(app, 2, i => i == 0 ? "Asia/Tokyo" : "America/New_York");
        var api = await app.ApiClientAsync("write");
        // 09:00 on 2 June, wall clock: 00:00 UTC in Tokyo (UTC+9), 13:00 UTC in New York (UTC-4).
        var created = await api.PostJsonAsync("/api/v1/broadcasts", new
        {
            name = "Morning",
            topic = "newsletter",
            subject = "Good morning",
            body = "Coffee?",
            sendAt = "2026-06-02T09:00:00",
            localTime = true,
        });
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();

        // The test clock starts at 1 June 12:00 UTC: queuing starts 14 hours before 09:00 in the earliest zone.
        app.Time.Advance(TimeSpan.FromHours(7));
        app.Services.GetRequiredService<BroadcastSignal>().Notify();
        await MailFlowTests.Until(async () => await CountAsync(app, db => db.OutboxMessages.CountAsync(m => m.BroadcastId == id)) == 2, "both were queued");
        await using var db = app.NewDb();
        var due = await db.OutboxMessages.AsNoTracking().Where(m => m.BroadcastId == id).OrderBy(m => m.To).Select(m => m.DueAt).ToListAsync();
        Assert.Equal([new DateTime(2026, 6, 2, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 6, 2, 13, 0, 0, DateTimeKind.Utc)], due);
        Assert.Equal(0, await db.LocalMail.CountAsync());

        app.Time.Advance(TimeSpan.FromHours(5)); // 2 June 00:00 UTC: Tokyo's turn
        app.Services.GetRequiredService<OutboxSignal>().Notify();
        await MailFlowTests.Until(async () => await CountAsync(app, d => d.LocalMail.CountAsync()) == 1, "Tokyo got it");
        await using var check = app.NewDb();
        Assert.Equal("r000@example.com", (await check.LocalMail.AsNoTracking().SingleAsync()).To);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    public async Task Messages_carry_a_DKIM_signature_that_verifies_with_the_published_key(string kind)
    {
        using var rsa = RSA.Create(2048);
        var keyFile = Path.Combine(Path.GetTempPath(), "clientele-dkim-" + Guid.NewGuid().ToString("N")[..8] + ".pem");
        await File.WriteAllTextAsync(keyFile, rsa.ExportRSAPrivateKeyPem());
        try
        {
            await using var app = await TestApp.StartAsync(kind, settings: new()
            {
                ["Clientele:Dkim:Domain"] = "example.com",
                ["Clientele:Dkim:Selector"] = "s1",
                ["Clientele:Dkim:PrivateKeyPath"] = keyFile,
            });
            await SeedAsync(app, 1);
            var api = await app.ApiClientAsync("write");
            await api.PostJsonAsync("/api/v1/broadcasts", new { name = "Signed", topic = "newsletter", subject = "Signed news", body = "Hello {{ contact.first_name }}" });
            await MailFlowTests.Until(async () => await CountAsync(app, db => db.LocalMail.CountAsync()) == 1, "sent");

            await using var db = app.NewDb();
            var message = MimeMessage.Load(new MemoryStream((await db.LocalMail.AsNoTracking().SingleAsync()).Raw));
            var signature = message.Headers[message.Headers.IndexOf(HeaderId.DkimSignature)];
            Assert.Contains("d=example.com", signature.Value);
            Assert.Contains("s=s1", signature.Value);
            var verifier = new DkimVerifier(new Locator(Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo())));
            Assert.True(verifier.Verify(message, signature));

            // A changed subject no longer verifies.
            message.Subject = "Tampered";
            Assert.False(verifier.Verify(message, message.Headers[message.Headers.IndexOf(HeaderId.DkimSignature)]));
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    private sealed class Locator(string publicKey) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            GetPublicKey($"v=DKIM1; k=rsa; p={publicKey}");

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }
}
