using System.Diagnostics;
using Clientele.Outbox;
using Clientele.Templates;
using MimeKit;

namespace Clientele.Bench;

/// <summary>
/// The per-message work of a broadcast without the database or the network, on one thread: render for the contact
/// (with tracked links and pixel), build the MIME message with its unsubscribe headers, and write it out as the SMTP
/// transport would. Shows where a message's CPU time goes.
/// </summary>
internal static class ComposeRun
{
    public static int Run(string[] args)
    {
        var count = IngestRun.IntArg(args, "--messages", 50_000);
        var body = BroadcastRun.Body + "\n\n[Visit the shop](https://shop.example/)";
        var compiled = MessageTemplate.Compile(new TemplateSource("News for {{ contact.first_name }}", body), new Brand { BusinessName = "Bench Shop", PostalAddress = "1 Main Street" });
        var now = TimeProvider.System.GetUtcNow();
        var contacts = Enumerable.Range(0, 1000).Select(i => new MessageContact
        {
            Id = Guid.CreateVersion7(),
            Email = $"reader{i}@bench.example",
            FirstName = $"Reader{i}",
            LastName = "Bench",
            TimeZone = "Europe/Berlin",
            Attributes = MessageContact.ParseAttributes("{\"plan\":\"gold\",\"points\":" + i + "}"),
        }).ToArray();
        var from = new MailboxAddress("Bench Shop", "news@bench.example");
        var key = new byte[32];
        string Sign(Guid id, string url)
        {
            Span<byte> mac = stackalloc byte[32];
            System.Security.Cryptography.HMACSHA256.HashData(key, System.Text.Encoding.UTF8.GetBytes($"c:{id:N}|{url}"), mac);
            return $"https://app.example/t/c/{id:N}.{Convert.ToBase64String(mac[..12])}?u={Uri.EscapeDataString(url)}";
        }
        RenderedMessage Render(int i, Guid id) => compiled.Render(new MessageModel
        {
            Contact = contacts[i % contacts.Length],
            Links = new MessageLinks { Unsubscribe = $"https://app.example/u/{id:N}.x", Preferences = "https://app.example/preferences/x" },
            Now = now,
        }, url => Sign(id, url), $"https://app.example/t/o/{id:N}.x");
        MimeMessage Compose(int i)
        {
            var id = Guid.CreateVersion7();
            var r = Render(i, id);
            var m = new OutboxMessage { Id = id, To = contacts[i % contacts.Length].Email!, Class = MessageClass.Marketing };
            return MailComposer.Compose(m, from, null, new ComposedContent(r.Subject, r.Html, r.Text), $"https://app.example/u/{id:N}.x", now.UtcDateTime);
        }

        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; {count:N0} messages on one thread");
        Measure("render (tracked links, pixel, layout, text part)", count, i => Render(i, Guid.CreateVersion7()));
        Measure("render + MIME message with unsubscribe headers", count, i => Compose(i));
        Measure("render + MIME + written out as for SMTP", count, i => Compose(i).WriteTo(Stream.Null));
        return 0;
    }

    private static void Measure(string name, int count, Action<int> work)
    {
        for (var i = 0; i < 2000; i++)
        {
            work(i);
        }
        GC.Collect();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            work(i);
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var kb = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1024.0 / count;
        Console.WriteLine($"{name,-52} {count / seconds,10:N0} messages/s  {seconds * 1e6 / count,7:N1} µs  {kb,6:N1} KB allocated each");
    }
}
