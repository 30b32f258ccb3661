using System.Net;
using System.Net.Sockets;

namespace Clientele.Webhooks;

/// <summary>A call that must not be made: its address is inside the business's own network or the machine itself.</summary>
internal sealed class WebhookRefusedException(string message) : Exception(message);

/// <summary>
/// Which addresses a webhook may reach. Every address a host name resolves to is checked when the connection is made
/// (so a name that later points inside is caught too): loopback, private, shared (CGNAT), link-local (including the
/// cloud metadata address 169.254.169.254), multicast, reserved and unspecified ranges are refused, also when written
/// as IPv4 inside IPv6.
/// </summary>
internal static class WebhookGuard
{
    private static readonly IPNetwork[] Refused =
    [
        IPNetwork.Parse("0.0.0.0/8"),
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("224.0.0.0/4"),
        IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("::1/128"),
        IPNetwork.Parse("fc00::/7"),
        IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("fec0::/10"),
        IPNetwork.Parse("ff00::/8"),
    ];

    /// <summary>IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64).</summary>
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    public static bool IsRefused(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        else if (address.AddressFamily == AddressFamily.InterNetworkV6 && Nat64.Contains(address))
        {
            address = new IPAddress(address.GetAddressBytes()[12..]);
        }
        return Refused.Any(n => n.Contains(address));
    }

    /// <summary>Whether <c>Clientele:Webhooks:AllowPrivateAddresses</c> lets webhooks reach the business's own network (off by default).</summary>
    public static bool AllowsPrivate(IConfiguration config) => config.GetValue("Clientele:Webhooks:AllowPrivateAddresses", false);

    /// <summary>What is wrong with a webhook address as written, before anything is resolved; null when it may be tried.</summary>
    public static string? Check(string? url, bool allowPrivate = false)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            return "The address is a full http:// or https:// URL.";
        }
        if (uri.UserInfo.Length > 0)
        {
            return "The address carries no user name or password; the call is signed instead.";
        }
        if (allowPrivate)
        {
            return null;
        }
        if (IPAddress.TryParse(uri.IdnHost, out var literal) && IsRefused(literal))
        {
            return $"{uri.IdnHost} is inside a private network or this machine; webhooks only reach addresses on the internet.";
        }
        if (uri.IdnHost.Equals("localhost", StringComparison.OrdinalIgnoreCase) || uri.IdnHost.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return "localhost is this machine; webhooks only reach addresses on the internet.";
        }
        return null;
    }

    /// <summary>
    /// Opens the connection for the HTTP client: resolves the host and connects to the first address that is not refused
    /// (unless <paramref name="allowPrivate"/>), so the address checked is the address used.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var allowed = allowPrivate ? addresses : addresses.Where(a => !IsRefused(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new WebhookRefusedException(addresses.Length == 0
                ? $"{host} does not resolve to any address."
                : $"{host} resolves only to addresses inside a private network or this machine ({string.Join(", ", addresses.Select(a => a.ToString()))}); webhooks only reach addresses on the internet.");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
