using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Clientele.Accounts;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Outbox;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Clientele.Tests.Outbox;

/// <summary>These run thousands of messages through real servers: alone, so they neither slow nor are slowed by the rest.</summary>
[CollectionDefinition(nameof(HeavyMail), DisableParallelization = true)]
public sealed class HeavyMail;

/// <summary>Broadcasts through a real SMTP peer: a faulty peer, an unsubscribe mid-send (killed servers: Operations/KillLoopTests).</summary>
[Collection(nameof(HeavyMail))]
public sealed class ReliabilityTests
{
    /// <summary>Sending rules without quiet hours or caps, so a test's wall-clock or fake hour does not hold mail back.</summary>
    internal static readonly SendingRules Open = SendingRules.Default with { QuietFrom = null, QuietUntil = null, MinHoursBetweenMarketing = 0, MaxMarketingPerWeek = 0 };

    /// <summary>
    /// <paramref name="count"/> contacts subscribed to the newsletter (r000@example.com, …), in the zones
    /// <paramref name="zone"/> gives, with sending rules that hold nothing back.
    /// </summary>
    internal static async Task SeedAsync(ClienteleDb db, int count, DateTime now, Func<int, string?>? zone = null)
    {
        await SettingsStore.SaveAsync(db, SendingRules.Key, Open, now, CancellationToken.None);
        for (var start = 0; start < count; start += 2000)
        {
            for (var i = start; i < Math.Min(count, start + 2000); i++)
            {
                var id = Guid.CreateVersion7();
                var email = $"r{i:D3}@example.com";
                db.Contacts.Add(new Contact
                {
                    Id = id,
                    Email = email,
                    EmailNormalized = email,
                    FirstName = $"R{i}",
                    TimeZone = zone?.Invoke(i),
                    CreatedAt = now,
                    UpdatedAt = now,
                    Consents = [new ContactConsent { ContactId = id, Topic = "newsletter", Status = ConsentStatus.Subscribed, At = now, Source = "test" }],
                });
            }
            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
        }
    }

    internal static object News => new
    {
        name = "Big news",
        topic = "newsletter",
        subject = "News for {{ contact.first_name }}",
        body = "Hi {{ contact.first_name }}, read [the story](https://shop.example/story).",
    };

    internal static Dictionary<string, int> Delivered(SmtpPeer peer) =>
        peer.AcceptedMessageIds().GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());

    internal static string IdOf(OutboxMessage m) => MailComposer.MessageIdOf(m.Id, "example.com");

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Through_a_faulty_peer_every_retryable_message_arrives_once_and_the_broadcast_waits_for_them(string kind)
    {
        await using var peer = await SmtpPeer.StartAsync("--temp-fail", "0.2", "--perm-fail", "0.01", "--drop", "0.05", "--seed", "11");
        await using var app = await TestApp.StartAsync(kind, settings: new()
        {
            ["Clientele:Smtp:Host"] = "127.0.0.1",
            ["Clientele:Smtp:Port"] = peer.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Clientele:Smtp:Security"] = "none",
        });
        await using (var db = app.NewDb())
        {
            await SeedAsync(db, 400, app.Time.GetUtcNow().UtcDateTime);
        }
        var api = await app.ApiClientAsync("write");
        var created = await api.PostJsonAsync("/api/v1/broadcasts", News);
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        var signal = app.Services.GetRequiredService<OutboxSignal>();

        var rounds = 0;
        while (true)
        {
            // Let every message due now be tried, then look.
            await MailFlowTests.Until(async () =>
            {
                await using var db = app.NewDb();
                var now = app.Time.GetUtcNow().UtcDateTime;
                return await db.OutboxMessages.AnyAsync(m => m.BroadcastId == id)
                    && !await db.OutboxMessages.AnyAsync(m => m.BroadcastId == id
                        && (m.Status == OutboxStatus.Sending || ((m.Status == OutboxStatus.Queued || m.Status == OutboxStatus.Deferred) && m.DueAt <= now)));
            }, "this round's messages were tried", 60);
            await using var db = app.NewDb();
            var deferred = await db.OutboxMessages.CountAsync(m => m.BroadcastId == id && m.Status == OutboxStatus.Deferred);
            var status = (await (await api.GetAsync($"/api/v1/broadcasts/{id}")).ReadJsonAsync()).GetProperty("status").GetString();
            if (deferred == 0)
            {
                await MailFlowTests.FinishedAsync(api, id);
                break;
            }
            Assert.NotEqual("finished", status); // not while retries wait
            Assert.True(++rounds < 12, "retries come to an end");
            app.Time.Advance(TimeSpan.FromHours(1));
            signal.Notify();
        }
        Assert.True(rounds >= 1, "some messages were deferred and retried");

        await using var check = app.NewDb();
        var messages = await check.OutboxMessages.AsNoTracking().Where(m => m.BroadcastId == id).ToListAsync();
        var delivered = Delivered(peer);
        Assert.Equal(400, messages.Count);
        Assert.All(delivered, d => Assert.Equal(1, d.Value));
        var sent = messages.Where(m => m.Status == OutboxStatus.Sent).ToList();
        var failed = messages.Where(m => m.Status == OutboxStatus.Failed).ToList();
        Assert.Equal(400, sent.Count + failed.Count);
        Assert.Equal(sent.Select(IdOf).Order(), delivered.Keys.Order());
        Assert.All(failed, m => Assert.Contains("550", m.LastAnswer));
        Assert.Contains(messages, m => m.Attempts > 1);
        Assert.True(await check.OutboxNotes.AnyAsync(n => n.Text.Contains("deferred")), "retries are in the messages' history");
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_unsubscribe_during_a_send_stops_every_later_message_to_that_contact(string kind)
    {
        await using var peer = await SmtpPeer.StartAsync();
        await using var app = await TestApp.StartAsync(kind, settings: new()
        {
            ["Clientele:Smtp:Host"] = "127.0.0.1",
            ["Clientele:Smtp:Port"] = peer.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Clientele:Smtp:Security"] = "none",
            ["Clientele:Smtp:PerSecond"] = "300", // slow enough to unsubscribe half-way
        });
        await using (var db = app.NewDb())
        {
            await SeedAsync(db, 1500, app.Time.GetUtcNow().UtcDateTime);
        }
        var api = await app.ApiClientAsync("write");
        var id = (await (await api.PostJsonAsync("/api/v1/broadcasts", News)).ReadJsonAsync()).GetProperty("id").GetGuid();
        await MailFlowTests.Until(() => Task.FromResult(peer.AcceptedMessageIds().Count >= 100), "the send is under way");

        OutboxMessage waiting;
        await using (var db = app.NewDb())
        {
            waiting = await db.OutboxMessages.AsNoTracking().Where(m => m.BroadcastId == id && m.Status == OutboxStatus.Queued)
                .OrderByDescending(m => m.Id).FirstAsync();
        }
        var preferences = new Uri(app.Services.GetRequiredService<MailLinks>().Preferences(waiting.ContactId)).PathAndQuery;
        var web = app.CreateClient();
        var saved = await web.PostAsync(preferences, new FormUrlEncodedContent([new("none", "on")]));
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var arrivedBefore = peer.AcceptedMessageIds().Count;
        Assert.True(arrivedBefore < 1500, "the unsubscribe came during the send");

        await MailFlowTests.FinishedAsync(api, id);
        Assert.DoesNotContain(IdOf(waiting), peer.AcceptedMessageIds());
        await using var check = app.NewDb();
        var message = await check.OutboxMessages.AsNoTracking().SingleAsync(m => m.Id == waiting.Id);
        Assert.Equal(OutboxStatus.Suppressed, message.Status);
        Assert.Equal(1499, peer.AcceptedMessageIds().Count);
    }
}
