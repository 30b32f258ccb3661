using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Clientele.Api;
using Clientele.Events;

namespace Clientele.Contacts;

/// <summary>
/// What a request or an import row says about a contact. Only the fields it names are changed;
/// a JSON <c>null</c> clears a field, an absent one leaves it alone.
/// </summary>
internal sealed class ContactChanges
{
    public string? Email { get; set; }
    public string? ExternalId { get; set; }
    public Dictionary<string, string?> Fields { get; } = new(StringComparer.Ordinal);
    public DateOnly? Birthday { get; set; }
    public bool BirthdaySet { get; set; }
    public List<string>? Tags { get; set; }
    public List<string>? AddTags { get; set; }
    public Dictionary<string, JsonNode?>? Attributes { get; set; }
    public Dictionary<string, ConsentStatus> Consent { get; } = new(StringComparer.OrdinalIgnoreCase);
    public string? ConsentWording { get; set; }

    public static readonly string[] TextFields =
        ["firstName", "lastName", "phone", "timeZone", "locale", "source", "referrer", "utmSource", "utmMedium", "utmCampaign", "utmTerm", "utmContent"];

    /// <summary>Reads a JSON contact body; every bad field is reported with its JSON pointer.</summary>
    public static (ContactChanges Changes, List<FieldError> Errors) Parse(JsonElement body)
    {
        var c = new ContactChanges();
        var errors = new List<FieldError>();
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("/", "Expected a JSON object."));
            return (c, errors);
        }
        foreach (var p in body.EnumerateObject())
        {
            var pointer = "/" + p.Name;
            switch (p.Name)
            {
                case "email":
                case "externalId":
                    if (p.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                    {
                        errors.Add(new FieldError(pointer, "Expected a string."));
                        break;
                    }
                    if (p.Name == "email")
                    {
                        c.Email = p.Value.GetString()?.Trim();
                    }
                    else
                    {
                        c.ExternalId = p.Value.GetString()?.Trim();
                    }
                    break;
                case "birthday":
                    c.BirthdaySet = true;
                    if (p.Value.ValueKind == JsonValueKind.Null)
                    {
                        break;
                    }
                    if (p.Value.ValueKind != JsonValueKind.String || !TryDate(p.Value.GetString()!, out var day))
                    {
                        errors.Add(new FieldError(pointer, "Expected a date as \"YYYY-MM-DD\"."));
                        break;
                    }
                    c.Birthday = day;
                    break;
                case "tags":
                    if (p.Value.ValueKind != JsonValueKind.Array || p.Value.EnumerateArray().Any(t => t.ValueKind != JsonValueKind.String))
                    {
                        errors.Add(new FieldError(pointer, "Expected an array of strings."));
                        break;
                    }
                    c.Tags = p.Value.EnumerateArray().Select(t => t.GetString()!).ToList();
                    break;
                case "attributes":
                    if (p.Value.ValueKind != JsonValueKind.Object)
                    {
                        errors.Add(new FieldError(pointer, "Expected a JSON object."));
                        break;
                    }
                    c.Attributes = JsonNode.Parse(p.Value.GetRawText())!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value?.DeepClone());
                    break;
                case "consent":
                    ParseConsent(p.Value, c, errors);
                    break;
                case "utm":
                    if (p.Value.ValueKind != JsonValueKind.Object)
                    {
                        errors.Add(new FieldError(pointer, "Expected a JSON object."));
                        break;
                    }
                    foreach (var u in p.Value.EnumerateObject())
                    {
                        var name = "utm" + char.ToUpperInvariant(u.Name[0]) + u.Name[1..];
                        if (!TextFields.Contains(name) || u.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                        {
                            errors.Add(new FieldError($"/utm/{u.Name}", "Expected one of source, medium, campaign, term, content as a string."));
                            continue;
                        }
                        c.Fields[name] = u.Value.GetString();
                    }
                    break;
                default:
                    if (TextFields.Contains(p.Name))
                    {
                        if (p.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                        {
                            errors.Add(new FieldError(pointer, "Expected a string."));
                            break;
                        }
                        c.Fields[p.Name] = p.Value.GetString()?.Trim();
                    }
                    // Read-only fields (id, stage, score, …) sent back from a GET are ignored.
                    break;
            }
        }
        errors.AddRange(c.Check());
        return (c, errors);
    }

    private static void ParseConsent(JsonElement value, ContactChanges c, List<FieldError> errors)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("/consent", "Expected an object of topic → \"subscribed\" | \"unsubscribed\" | \"pending\"."));
            return;
        }
        foreach (var topic in value.EnumerateObject())
        {
            var statusText = topic.Value.ValueKind switch
            {
                JsonValueKind.String => topic.Value.GetString(),
                JsonValueKind.Object when topic.Value.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String => s.GetString(),
                _ => null,
            };
            if (!ConsentRules.TryParseStatus(statusText, out var status))
            {
                errors.Add(new FieldError($"/consent/{topic.Name}", "Expected \"subscribed\", \"unsubscribed\" or \"pending\"."));
                continue;
            }
            c.Consent[topic.Name] = status;
            // The words the person agreed to, kept in the consent log: {"newsletter": {"status": "subscribed", "wording": "…"}}.
            if (topic.Value.ValueKind == JsonValueKind.Object && topic.Value.TryGetProperty("wording", out var w))
            {
                if (w.ValueKind != JsonValueKind.String || w.GetString()!.Length > 2000)
                {
                    errors.Add(new FieldError($"/consent/{topic.Name}/wording", "Expected the consent wording as a string of at most 2,000 characters."));
                    continue;
                }
                c.ConsentWording = w.GetString()!.Trim();
            }
        }
    }

    public static bool TryDate(string text, out DateOnly day) =>
        DateOnly.TryParseExact(text.Trim(), ["yyyy-MM-dd", "yyyy-M-d"], CultureInfo.InvariantCulture, DateTimeStyles.None, out day);

    /// <summary>Checks values whose form is known: e-mail, time zone, locale, lengths.</summary>
    public List<FieldError> Check()
    {
        var errors = new List<FieldError>();
        if (Email is { Length: > 0 } e && !EventRules.IsValidEmail(e))
        {
            errors.Add(new FieldError("/email", $"\"{e}\" is not a valid e-mail address."));
        }
        if (ExternalId is { Length: > 200 })
        {
            errors.Add(new FieldError("/externalId", "At most 200 characters."));
        }
        if (Fields.TryGetValue("timeZone", out var tz) && tz is { Length: > 0 } && !TimeZoneInfo.TryFindSystemTimeZoneById(tz, out _))
        {
            errors.Add(new FieldError("/timeZone", $"\"{tz}\" is not an IANA time zone such as \"Europe/Berlin\"."));
        }
        if (Fields.TryGetValue("locale", out var locale) && locale is { Length: > 0 } && !IsLocale(locale))
        {
            errors.Add(new FieldError("/locale", $"\"{locale}\" is not a locale such as \"en-US\"."));
        }
        foreach (var (name, value) in Fields)
        {
            if (value is { Length: > 200 } && name != "referrer")
            {
                errors.Add(new FieldError("/" + name, "At most 200 characters."));
            }
        }
        if (Tags?.Any(t => t.Length is 0 or > 64) == true || AddTags?.Any(t => t.Length is 0 or > 64) == true)
        {
            errors.Add(new FieldError("/tags", "Each tag is 1 to 64 characters."));
        }
        foreach (var topic in Consent.Keys.Where(t => t.Length is 0 or > 100))
        {
            errors.Add(new FieldError("/consent/" + topic, "A topic name is 1 to 100 characters."));
        }
        return errors;
    }

    private static bool IsLocale(string name)
    {
        try
        {
            return CultureInfo.GetCultureInfo(name, predefinedOnly: true) is { } c && c.Name.Length > 0;
        }
        catch (CultureNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Copies the named fields onto <paramref name="contact"/>. Returns true when anything changed.</summary>
    public bool ApplyTo(Contact contact)
    {
        var before = Snapshot(contact);
        if (Email is not null)
        {
            contact.Email = Email.Length == 0 ? null : Email;
            contact.EmailNormalized = Contact.Normalize(Email);
        }
        if (ExternalId is not null)
        {
            contact.ExternalId = ExternalId.Length == 0 ? null : ExternalId;
        }
        foreach (var (name, raw) in Fields)
        {
            var value = string.IsNullOrEmpty(raw) ? null : raw;
            switch (name)
            {
                case "firstName": contact.FirstName = value; break;
                case "lastName": contact.LastName = value; break;
                case "phone": contact.Phone = value; break;
                case "timeZone": contact.TimeZone = value; break;
                case "locale": contact.Locale = value; break;
                case "source": contact.Source = value; break;
                case "referrer": contact.Referrer = value; break;
                case "utmSource": contact.UtmSource = value; break;
                case "utmMedium": contact.UtmMedium = value; break;
                case "utmCampaign": contact.UtmCampaign = value; break;
                case "utmTerm": contact.UtmTerm = value; break;
                case "utmContent": contact.UtmContent = value; break;
            }
        }
        if (BirthdaySet)
        {
            contact.Birthday = Birthday;
        }
        if (Tags is not null)
        {
            contact.Tags = Tags.Select(t => t.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
        }
        if (AddTags is not null)
        {
            contact.Tags = contact.Tags.Concat(AddTags.Select(t => t.Trim())).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
        }
        if (Attributes is not null)
        {
            var current = JsonNode.Parse(contact.Attributes) as JsonObject ?? [];
            foreach (var (key, value) in Attributes)
            {
                if (value is null)
                {
                    current.Remove(key);
                }
                else
                {
                    current[key] = value.DeepClone();
                }
            }
            contact.Attributes = current.ToJsonString();
        }
        return before != Snapshot(contact);
    }

    private static string Snapshot(Contact c) => JsonSerializer.Serialize(new object?[]
    {
        c.Email, c.ExternalId, c.FirstName, c.LastName, c.Phone, c.TimeZone, c.Locale, c.Source, c.Referrer,
        c.UtmSource, c.UtmMedium, c.UtmCampaign, c.UtmTerm, c.UtmContent, c.Birthday, c.Tags, c.Attributes,
    });
}

/// <summary>Who may change a consent, and how. Withdrawing is always allowed; giving back is not.</summary>
internal static class ConsentRules
{
    public static bool TryParseStatus(string? text, out ConsentStatus status)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "subscribed" or "yes" or "true" or "opted_in" or "opted-in" or "given":
                status = ConsentStatus.Subscribed;
                return true;
            case "unsubscribed" or "no" or "false" or "opted_out" or "opted-out" or "withdrawn":
                status = ConsentStatus.Unsubscribed;
                return true;
            case "pending":
                status = ConsentStatus.Pending;
                return true;
            default:
                status = default;
                return false;
        }
    }

    public static string ToApi(this ConsentStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>
    /// Decides whether <paramref name="incoming"/> may replace <paramref name="current"/>.
    /// Imports never overwrite a recorded consent. Other sources may withdraw, and may upgrade
    /// pending to subscribed, but cannot turn a "no" into a "yes": only the person can, by a new opt-in.
    /// </summary>
    public static (bool Apply, string? Reason) Decide(ConsentStatus? current, ConsentStatus incoming, bool isImport)
    {
        if (current is null)
        {
            return (true, null);
        }
        if (current == incoming)
        {
            return (false, null);
        }
        if (isImport)
        {
            return (false, $"kept the recorded consent ({current.Value.ToApi()}); imports never overwrite consent");
        }
        return (current.Value, incoming) switch
        {
            (_, ConsentStatus.Unsubscribed) => (true, null),
            (ConsentStatus.Pending, ConsentStatus.Subscribed) => (true, null),
            (ConsentStatus.Unsubscribed, _) => (false, "the contact withdrew consent; only a new opt-in by the person (form or consent.given event) restores it"),
            _ => (false, $"kept the stronger recorded consent ({current.Value.ToApi()})"),
        };
    }
}
