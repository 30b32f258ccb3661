using System.Text.Json;
using System.Text.RegularExpressions;

namespace Clientele.Forms;

/// <summary>A sign-up or contact form, hosted at <c>/f/{slug}</c> and embeddable anywhere.</summary>
internal sealed class Form
{
    public Guid Id { get; set; }

    /// <summary>The address: lower-case letters, digits and dashes.</summary>
    public string Slug { get; set; } = "";

    /// <summary>For the back office.</summary>
    public string Name { get; set; } = "";

    /// <summary>The heading visitors see.</summary>
    public string Title { get; set; } = "";

    public string? Intro { get; set; }

    /// <summary><see cref="FormField"/>s as JSON, in display order.</summary>
    public string Fields { get; set; } = "[]";

    /// <summary>The consent checkbox's exact wording; no checkbox when empty. Stored with every consent it records.</summary>
    public string? ConsentWording { get; set; }

    /// <summary>Topics the consent is for (e.g. newsletter).</summary>
    public List<string> Topics { get; set; } = [];

    /// <summary>Consent counts only after the person confirms by e-mail.</summary>
    public bool DoubleOptIn { get; set; } = true;

    public string? ThankYouText { get; set; }

    /// <summary>Where to send the visitor after a submission instead of the thank-you text (absolute http or https URL).</summary>
    public string? RedirectUrl { get; set; }

    public bool Active { get; set; } = true;

    public int Submissions { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public IReadOnlyList<FormField> FieldList => JsonSerializer.Deserialize<List<FormField>>(Fields, Json) ?? [];

    public void SetFields(IEnumerable<FormField> fields) => Fields = JsonSerializer.Serialize(fields.ToList(), Json);
}

/// <summary>One input of a form. Names email, firstName, lastName and phone fill the contact; any other name is a custom attribute.</summary>
/// <param name="Name">Identifier: letters, digits and underscores, starting with a letter.</param>
/// <param name="Label">What the visitor reads.</param>
/// <param name="Type">text, email, tel, textarea, select, checkbox or number.</param>
/// <param name="Required">Whether it must be filled.</param>
/// <param name="Options">Choices of a select.</param>
internal sealed record FormField(string Name, string Label, string Type = "text", bool Required = false, IReadOnlyList<string>? Options = null);

/// <summary>Checks a form definition before it is saved; messages are keyed by field.</summary>
internal static partial class FormRules
{
    public static readonly string[] Types = ["text", "email", "tel", "textarea", "select", "checkbox", "number"];

    /// <summary>Fields that fill the contact itself; the rest become attributes.</summary>
    public static readonly string[] ContactFields = ["email", "firstName", "lastName", "phone"];

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")]
    private static partial Regex SlugPattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,63}$")]
    private static partial Regex NamePattern();

    public static Dictionary<string, string> Validate(Form form, IReadOnlyList<FormField> fields)
    {
        var errors = new Dictionary<string, string>();
        if (!SlugPattern().IsMatch(form.Slug))
        {
            errors["slug"] = "Lower-case letters, digits and dashes, e.g. newsletter-signup.";
        }
        if (string.IsNullOrWhiteSpace(form.Name))
        {
            errors["name"] = "Give the form a name.";
        }
        if (string.IsNullOrWhiteSpace(form.Title))
        {
            errors["title"] = "Give the form a heading.";
        }
        if (!fields.Any(f => f.Name == "email" && f.Required))
        {
            errors["fields"] = "A form needs a required field named email: it says who signed up.";
        }
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < fields.Count; i++)
        {
            var f = fields[i];
            if (!NamePattern().IsMatch(f.Name))
            {
                errors[$"fields/{i}/name"] = "Letters, digits and underscores, starting with a letter.";
            }
            else if (!seen.Add(f.Name))
            {
                errors[$"fields/{i}/name"] = $"\"{f.Name}\" is used twice.";
            }
            if (string.IsNullOrWhiteSpace(f.Label))
            {
                errors[$"fields/{i}/label"] = "Give the field a label.";
            }
            if (!Types.Contains(f.Type))
            {
                errors[$"fields/{i}/type"] = $"One of {string.Join(", ", Types)}.";
            }
            if (f.Type == "select" && (f.Options is null || f.Options.Count == 0))
            {
                errors[$"fields/{i}/options"] = "A choice needs options.";
            }
        }
        if (form.ConsentWording is { Length: > 0 } && form.Topics.Count == 0)
        {
            errors["topics"] = "Name the topic the consent is for, e.g. newsletter.";
        }
        if (form.RedirectUrl is { Length: > 0 } url
            && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            errors["redirectUrl"] = "An absolute http or https address.";
        }
        return errors;
    }
}
