using System.Net;
using Clientele.Outbox;

namespace Clientele.Tests.Outbox;

public sealed class MachineActivityTests
{
    private static readonly DateTime Sent = new(2026, 11, 24, 9, 0, 0, DateTimeKind.Utc);
    private const string Thunderbird = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.0";

    [Theory]
    [InlineData("email.opened", Thunderbird, "203.0.113.9", 600, false)]
    [InlineData("email.clicked", Thunderbird, "203.0.113.9", 600, false)]
    [InlineData("email.opened", Thunderbird, "17.58.101.7", 600, true)] // Apple Mail Privacy Protection fetches from Apple's network
    [InlineData("email.opened", Thunderbird, "::ffff:17.58.101.7", 600, true)]
    [InlineData("email.opened", "", "203.0.113.9", 600, true)] // no agent at all
    [InlineData("email.clicked", "Mozilla/5.0 (compatible; Barracuda Sentinel)", "203.0.113.9", 600, true)]
    [InlineData("email.clicked", "python-requests/2.31", "203.0.113.9", 600, true)]
    [InlineData("email.opened", Thunderbird, "203.0.113.9", 1, true)] // an image fetched the second it arrived
    [InlineData("email.opened", Thunderbird, "203.0.113.9", 3, false)]
    [InlineData("email.clicked", Thunderbird, "203.0.113.9", 5, true)] // every link followed within seconds
    [InlineData("email.clicked", Thunderbird, "203.0.113.9", 30, false)]
    public void Tells_software_from_people(string type, string agent, string address, int secondsAfterSending, bool machine) =>
        Assert.Equal(machine, MachineActivity.IsMachine(type, agent, IPAddress.Parse(address), Sent, Sent.AddSeconds(secondsAfterSending)));

    [Fact]
    public void A_message_with_no_recorded_sending_time_is_judged_by_agent_and_address_alone() =>
        Assert.False(MachineActivity.IsMachine("email.opened", Thunderbird, null, null, Sent));
}
