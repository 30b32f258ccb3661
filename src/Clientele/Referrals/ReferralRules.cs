using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Clientele.Api;

namespace Clientele.Referrals;

/// <summary>One side of a referral as the fraud limits see it.</summary>
/// <param name="Addresses">Postal addresses known for the contact, each as <see cref="ReferralRules.CanonicalAddress"/> gives it.</param>
internal sealed record ReferralParty(Guid Id, string? Email, string Name, DateTime CreatedAt, IReadOnlyCollection<string> Addresses);

/// <summary>What is known when a friend signs up with a code.</summary>
/// <param name="ClickedAt">The last click on the referrer's link at or before the sign-up; null when the link was never clicked (a code typed in).</param>
/// <param name="ReferredBy">The name of another referrer the friend already counts for, if any.</param>
/// <param name="InPeriod">The referrer's referrals that count, in the cap's period up to now.</param>
/// <param name="Total">The referrer's referrals that count, in all.</param>
internal sealed record SignUpFacts(ReferralParty Referrer, ReferralParty Friend, DateTime SignedUpAt, DateTime? ClickedAt, string? ReferredBy, int InPeriod, int Total);

/// <summary>The decisions of the referral programme, as pure functions of what is known.</summary>
internal static partial class ReferralRules
{
    /// <summary>Letters and digits that cannot be mistaken for each other when read aloud or typed (no 0/O, 1/I/L).</summary>
    public const string CodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

    public const int CodeLength = 8;

    public static string NewCode() =>
        string.Concat(Enumerable.Range(0, CodeLength).Select(_ => CodeAlphabet[RandomNumberGenerator.GetInt32(CodeAlphabet.Length)]));

    /// <summary>A code from a link, a form or the API in its stored form (upper case, no spaces or dashes); null when it cannot be one.</summary>
    public static string? NormalizeCode(string? code)
    {
        if (string.IsNullOrWhiteSpace(code) || code.Length > 40)
        {
            return null;
        }
        var plain = code.Trim().Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();
        return CodePattern().IsMatch(plain) ? plain : null;
    }

    [GeneratedRegex("^[A-Z0-9]{4,20}$")]
    private static partial Regex CodePattern();

    /// <summary>
    /// The mailbox an address reaches, so one person's variants compare equal: lower case, without a <c>+tag</c>, and for
    /// Gmail without dots (<c>A.Nn+x@googlemail.com</c> and <c>ann@gmail.com</c> are one mailbox).
    /// </summary>
    public static string? CanonicalEmail(string? email)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return null;
        }
        var text = email.Trim().ToLowerInvariant();
        var at = text.LastIndexOf('@');
        if (at <= 0)
        {
            return text;
        }
        var local = text[..at];
        var domain = text[(at + 1)..];
        if (local.IndexOf('+', StringComparison.Ordinal) is > 0 and var plus)
        {
            local = local[..plus];
        }
        if (domain is "gmail.com" or "googlemail.com")
        {
            local = local.Replace(".", "", StringComparison.Ordinal);
            domain = "gmail.com";
        }
        return local + "@" + domain;
    }

    /// <summary>An address as words of letters and digits in lower case ("12 Main St." and "12 main st" are one); null when empty.</summary>
    public static string? CanonicalAddress(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return null;
        }
        var b = new StringBuilder(address.Length);
        foreach (var ch in address.Normalize(NormalizationForm.FormD).ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(ch))
            {
                b.Append(ch);
            }
            else if (CharUnicodeInfo.GetUnicodeCategory(ch) != UnicodeCategory.NonSpacingMark && b.Length > 0 && b[^1] != ' ')
            {
                b.Append(' ');
            }
        }
        var words = b.ToString().Trim();
        return words.Length == 0 ? null : words;
    }

    private static readonly string[] AddressParts = ["line1", "line2", "street", "houseNumber", "postalCode", "zip", "city", "country"];

    /// <summary>
    /// An address written as text or as an object of the usual parts (<c>line1</c>, <c>line2</c>, <c>street</c>,
    /// <c>postalCode</c>/<c>zip</c>, <c>city</c>, <c>country</c>); null when there is none.
    /// </summary>
    public static string? AddressOf(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return CanonicalAddress(value.GetString());
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var parts = AddressParts.Select(p => value.TryGetProperty(p, out var v) && v.ValueKind is JsonValueKind.String or JsonValueKind.Number ? v.ToString() : null)
            .Where(p => !string.IsNullOrWhiteSpace(p));
        return CanonicalAddress(string.Join(' ', parts));
    }

    /// <summary>
    /// The postal addresses in a contact's attributes: <c>address</c> (text or parts), <c>shippingAddress</c>,
    /// <c>billingAddress</c>, or the parts as attributes of their own (<c>street</c>, <c>postalCode</c>, <c>city</c>, …).
    /// </summary>
    public static List<string> AddressesOf(string? attributes)
    {
        var found = new List<string>();
        if (string.IsNullOrWhiteSpace(attributes))
        {
            return found;
        }
        try
        {
            using var doc = JsonDocument.Parse(attributes);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return found;
            }
            foreach (var name in new[] { "address", "shippingAddress", "billingAddress" })
            {
                if (root.TryGetProperty(name, out var v) && AddressOf(v) is { } a)
                {
                    found.Add(a);
                }
            }
            if ((root.TryGetProperty("street", out _) || root.TryGetProperty("line1", out _)) && AddressOf(root) is { } loose)
            {
                found.Add(loose);
            }
        }
        catch (JsonException)
        {
            // attributes are a JSON object by construction; anything else has no address
        }
        return found.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The shipping address an <c>order.placed</c> event names (<c>shippingAddress</c> or <c>shipping.address</c>), if any.</summary>
    public static string? ShippingAddressOf(string properties)
    {
        try
        {
            using var doc = JsonDocument.Parse(properties);
            var p = doc.RootElement;
            if (p.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            if (p.TryGetProperty("shippingAddress", out var direct))
            {
                return AddressOf(direct);
            }
            return p.TryGetProperty("shipping", out var shipping) && shipping.ValueKind == JsonValueKind.Object && shipping.TryGetProperty("address", out var nested)
                ? AddressOf(nested)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Why a friend's sign-up with a referrer's code does not count; null when it does. In order: self-referral, the
    /// same address, a contact who was there before the link was followed, a friend another referrer has, a sign-up
    /// outside the attribution window, and the referrer's caps.
    /// </summary>
    public static string? WhyNot(SignUpFacts f, ReferralProgram program)
    {
        var (referrer, friend) = (f.Referrer, f.Friend);
        if (referrer.Id == friend.Id)
        {
            return "Self-referral: the friend is the referrer.";
        }
        if (CanonicalEmail(referrer.Email) is { } a && a == CanonicalEmail(friend.Email))
        {
            return $"Self-referral: {friend.Email} is the referrer's own mailbox ({referrer.Email}).";
        }
        if (SameAddress(referrer.Addresses, friend.Addresses))
        {
            return "Same address: the friend lives at the referrer's address.";
        }
        var reference = f.ClickedAt ?? f.SignedUpAt;
        if (friend.CreatedAt < reference)
        {
            var before = f.ClickedAt is null ? "before signing up with the code" : "before following the link";
            return $"{friend.Email ?? "The friend"} was a contact already (since {friend.CreatedAt:yyyy-MM-dd}) {before}: only new leads count.";
        }
        if (f.ReferredBy is { } other)
        {
            return $"Referred by {other} already: a friend counts for one referrer only.";
        }
        if (f.ClickedAt is { } clicked && f.SignedUpAt - clicked > TimeSpan.FromDays(program.WindowDays))
        {
            var days = (int)Math.Floor((f.SignedUpAt - clicked).TotalDays);
            return $"Signed up {days} days after the last click on the link, outside the {program.WindowDays}-day attribution window.";
        }
        if (program.MaxPerPeriod is { } perPeriod && f.InPeriod >= perPeriod)
        {
            return $"{referrer.Name} has {f.InPeriod} referrals in the last {program.PeriodDays} days, the programme's cap.";
        }
        if (program.MaxTotal is { } total && f.Total >= total)
        {
            return $"{referrer.Name} has {f.Total} referrals in all, the programme's cap.";
        }
        return null;
    }

    public static bool SameAddress(IReadOnlyCollection<string> a, IReadOnlyCollection<string> b) => a.Any(b.Contains);

    /// <summary>Whether an order of this total earns the referrer's reward.</summary>
    public static bool Qualifies(decimal total, ReferralProgram program) => program.MinOrderTotal is not { } min || total >= min;

    /// <summary>The start of the cap's period.</summary>
    public static DateTime PeriodStart(DateTime now, ReferralProgram program) => now.AddDays(-program.PeriodDays);

    [GeneratedRegex("^/(?<kind>[fp])/(?<slug>[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?)$")]
    private static partial Regex LocalLanding();

    [GeneratedRegex("^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")]
    private static partial Regex HostName();

    /// <summary>A landing of the app itself: (<c>f</c> or <c>p</c>, slug); null for anything else.</summary>
    public static (string Kind, string Slug)? LocalTarget(string landing) =>
        LocalLanding().Match(landing) is { Success: true } m ? (m.Groups["kind"].Value, m.Groups["slug"].Value) : null;

    /// <summary>
    /// Whether <paramref name="landing"/> may be a link's destination: a form or landing page of the app, or an http(s)
    /// address without user name whose host is one of the business's own. Anything else — another site, <c>//host</c>,
    /// a backslash, <c>javascript:</c> — is refused, so a link can never send a visitor to someone else's site.
    /// </summary>
    public static string? WhyNotLanding(string landing, IReadOnlyCollection<string> allowedHosts)
    {
        if (landing.Length > 2000 || landing.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c == '\\'))
        {
            return "An address without spaces or backslashes, at most 2,000 characters.";
        }
        if (landing.StartsWith('/'))
        {
            return LocalTarget(landing) is null ? "A form (/f/slug) or a landing page (/p/slug) of Clientele, or a full http(s) address." : null;
        }
        if (!Uri.TryCreate(landing, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return "A form (/f/slug) or a landing page (/p/slug) of Clientele, or a full http(s) address.";
        }
        if (uri.UserInfo.Length > 0)
        {
            return "An address without a user name.";
        }
        if (!allowedHosts.Contains(uri.IdnHost, StringComparer.OrdinalIgnoreCase))
        {
            return $"{uri.IdnHost} is not one of the allowed hosts: add the business's own site to allowedHosts first.";
        }
        return null;
    }

    /// <summary>The address a link redirects to: the landing with <c>ref={code}</c> added to its query.</summary>
    public static string Destination(string landing, string code) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(landing, "ref", code);

    /// <summary>A host as it is stored in the allowed list (lower case), or null when it is not a host name.</summary>
    public static string? NormalizeHost(string? host)
    {
        var h = host?.Trim().TrimEnd('.').ToLowerInvariant();
        return h is { Length: > 0 } && HostName().IsMatch(h) ? h : null;
    }

    /// <summary>Everything wrong with programme settings, by field.</summary>
    /// <param name="forms">Slugs of active forms.</param>
    /// <param name="pages">Slugs of active landing pages.</param>
    /// <param name="offers">Ids of offers still issued (not archived).</param>
    public static List<FieldError> Check(ReferralProgram p, IReadOnlySet<string> forms, IReadOnlySet<string> pages, IReadOnlySet<Guid> offers)
    {
        var errors = new List<FieldError>();
        for (var i = 0; i < p.AllowedHosts.Count; i++)
        {
            if (NormalizeHost(p.AllowedHosts[i]) is null)
            {
                errors.Add(new($"/allowedHosts/{i}", $"\"{p.AllowedHosts[i]}\" is not a host name such as shop.example.com (no scheme, path or port)."));
            }
        }
        if (string.IsNullOrWhiteSpace(p.Landing))
        {
            if (p.Enabled)
            {
                errors.Add(new("/landing", "Say where a referral link leads (a form /f/slug, a landing page /p/slug or the shop's address) before turning the programme on."));
            }
        }
        else if (WhyNotLanding(p.Landing, p.AllowedHosts.Select(NormalizeHost).OfType<string>().ToList()) is { } why)
        {
            errors.Add(new("/landing", why));
        }
        else if (LocalTarget(p.Landing) is { } target && !(target.Kind == "f" ? forms : pages).Contains(target.Slug))
        {
            errors.Add(new("/landing", target.Kind == "f" ? $"There is no open form \"{target.Slug}\"." : $"There is no active landing page \"{target.Slug}\"."));
        }
        if (p.FriendOfferId is { } friend && !offers.Contains(friend))
        {
            errors.Add(new("/friendOfferId", $"There is no offer {friend} still issued."));
        }
        if (p.ReferrerOfferId is { } referrer && !offers.Contains(referrer))
        {
            errors.Add(new("/referrerOfferId", $"There is no offer {referrer} still issued."));
        }
        if (p.MinOrderTotal is < 0)
        {
            errors.Add(new("/minOrderTotal", "Zero or more (or leave it out for any order)."));
        }
        if (p.MaxPerPeriod is < 1)
        {
            errors.Add(new("/maxPerPeriod", "At least one referral (or leave it out for no cap)."));
        }
        if (p.PeriodDays is < 1 or > 365)
        {
            errors.Add(new("/periodDays", "Between 1 and 365 days."));
        }
        if (p.MaxTotal is < 1)
        {
            errors.Add(new("/maxTotal", "At least one referral (or leave it out for no cap)."));
        }
        if (p.WindowDays is < 1 or > 365)
        {
            errors.Add(new("/windowDays", "Between 1 and 365 days."));
        }
        return errors;
    }
}
