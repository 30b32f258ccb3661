using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Contacts;

/// <summary>
/// Imports contacts from a CSV file: one row per person, matched by external id, then e-mail.
/// Rows go through <see cref="ContactChanges"/> and <see cref="ContactStore"/> with origin "import",
/// so an import never overwrites a recorded consent. Good rows are stored even when others fail.
/// </summary>
internal static partial class ContactImport
{
    public const string Origin = "import";

    /// <summary>Field names accepted by <c>--map</c>, besides <c>consent:TOPIC</c>, <c>attribute:NAME</c> and <c>ignore</c>.</summary>
    public static readonly string[] Fields =
    [
        "email", "externalId", "firstName", "lastName", "phone", "birthday", "timeZone", "locale", "tags", "source", "referrer",
        "utmSource", "utmMedium", "utmCampaign", "utmTerm", "utmContent", "consent",
    ];

    // Header names (compared by ImportCsv.Key: case, spaces and punctuation do not matter) → field.
    private static readonly Dictionary<string, string> Aliases = new()
    {
        ["email"] = "email",
        ["emailaddress"] = "email",
        ["mail"] = "email",
        ["externalid"] = "externalId",
        ["customerid"] = "externalId",
        ["customernumber"] = "externalId",
        ["clientid"] = "externalId",
        ["firstname"] = "firstName",
        ["givenname"] = "firstName",
        ["forename"] = "firstName",
        ["first"] = "firstName",
        ["lastname"] = "lastName",
        ["surname"] = "lastName",
        ["familyname"] = "lastName",
        ["last"] = "lastName",
        ["phone"] = "phone",
        ["phonenumber"] = "phone",
        ["mobile"] = "phone",
        ["mobilephone"] = "phone",
        ["telephone"] = "phone",
        ["tel"] = "phone",
        ["birthday"] = "birthday",
        ["dateofbirth"] = "birthday",
        ["birthdate"] = "birthday",
        ["dob"] = "birthday",
        ["timezone"] = "timeZone",
        ["tz"] = "timeZone",
        ["locale"] = "locale",
        ["language"] = "locale",
        ["tags"] = "tags",
        ["tag"] = "tags",
        ["labels"] = "tags",
        ["source"] = "source",
        ["leadsource"] = "source",
        ["referrer"] = "referrer",
        ["referer"] = "referrer",
        ["utmsource"] = "utmSource",
        ["utmmedium"] = "utmMedium",
        ["utmcampaign"] = "utmCampaign",
        ["utmterm"] = "utmTerm",
        ["utmcontent"] = "utmContent",
        ["consent"] = "consent:" + ConsentProjection.DefaultTopic,
        ["marketingconsent"] = "consent:" + ConsentProjection.DefaultTopic,
        ["acceptsmarketing"] = "consent:" + ConsentProjection.DefaultTopic,
        ["acceptsemailmarketing"] = "consent:" + ConsentProjection.DefaultTopic,
    };

    // Names that say "identifier" only when nothing else does: an "id" next to "customer_id" is someone else's id.
    private static readonly Dictionary<string, string> WeakAliases = new() { ["id"] = "externalId" };

    public static async Task<ImportReport> RunAsync(ClienteleDatabase database, Stream csv, ImportOptions options, TimeProvider time, CancellationToken ct)
    {
        await using var file = await ImportCsv.OpenAsync(csv, options.Name, ct);
        var header = file.Header;
        var columns = ResolveColumns(header, options.Map, options.Name);
        var report = new ImportReport { Kind = "contacts", DryRun = options.DryRun };
        report.Columns.AddRange(columns.Select(c => (c.Header, c.Field)));
        var now = time.GetUtcNow().UtcDateTime;

        await using var db = database.CreateDbContext();
        // Looking at db.Set.Local would otherwise scan every tracked row for changes, once per row of the batch.
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        // A dry run does all the work in one transaction and rolls it back, so its counts are exact.
        await using var dryRun = options.DryRun ? await db.Database.BeginTransactionAsync(ct) : null;
        var batch = new List<(CsvRow Row, ContactChanges Changes)>(options.BatchSize);
        await foreach (var row in file.ReadRowsAsync(ct))
        {
            report.Rows++;
            var (changes, errors) = ParseRow(columns, header.Length, row);
            if (row.BadData is null && row.IsBlank)
            {
                report.Skipped++; // a spreadsheet's empty row
            }
            else if (changes is null)
            {
                report.Failed++;
                report.Errors.AddRange(errors);
            }
            else
            {
                batch.Add((row, changes));
            }
            if (report.Rows % options.BatchSize == 0)
            {
                await FlushAsync(db, columns, batch, report, now, ct);
                options.Progress?.Invoke(report.Rows);
            }
        }
        await FlushAsync(db, columns, batch, report, now, ct);
        options.Progress?.Invoke(report.Rows);
        if (dryRun is not null)
        {
            await dryRun.RollbackAsync(ct);
        }
        return report;
    }

    public static List<ImportColumn> ResolveColumns(string[] header, IReadOnlyList<string> map, string name)
    {
        var columns = ImportColumns.Resolve(header, map, name, Known, MapField, h => "attribute:" + h, FieldList);
        if (!columns.Any(c => c.Field is "email" or "externalId"))
        {
            throw new ImportFileException(
                $"{name} has no column for the e-mail or the external id, so no row says who it is about. " +
                "Name one with --map, e.g. --map \"E-Mail Adresse=email\" or --map \"Kundennummer=externalId\".");
        }
        return columns;
    }

    private static string FieldList => string.Join(", ", Fields) + ", consent:TOPIC, attribute:NAME, ignore";

    private static (string? Field, bool Weak) Known(string header)
    {
        if (Prefixed(header) is { } prefixed)
        {
            return (prefixed, false);
        }
        var key = ImportCsv.Key(header);
        return Aliases.TryGetValue(key, out var field) ? (field, false)
            : WeakAliases.TryGetValue(key, out field) ? (field, true)
            : (null, false);
    }

    /// <summary>"consent:newsletter" and "attribute:company" as a header or a <c>--map</c> field.</summary>
    private static string? Prefixed(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1)
        {
            return null;
        }
        var prefix = text[..colon].Trim().ToLowerInvariant();
        var rest = text[(colon + 1)..].Trim();
        return prefix switch
        {
            "consent" => "consent:" + rest,
            "attribute" or "attr" => "attribute:" + rest,
            _ => null,
        };
    }

    private static string? MapField(string text)
    {
        if (Prefixed(text) is { } prefixed)
        {
            return prefixed;
        }
        if (text.Equals(ImportColumn.Ignore, StringComparison.OrdinalIgnoreCase))
        {
            return ImportColumn.Ignore;
        }
        var key = ImportCsv.Key(text);
        if (Fields.FirstOrDefault(f => f.Equals(text, StringComparison.OrdinalIgnoreCase)) is { } exact)
        {
            return exact == "consent" ? "consent:" + ConsentProjection.DefaultTopic : exact;
        }
        return Aliases.TryGetValue(key, out var field) || WeakAliases.TryGetValue(key, out field) ? field : null;
    }

    // Plain decimal numbers without leading zeros or signs; "0042" (a zip code), "+49 30…" and "1e5" stay text.
    [GeneratedRegex(@"^-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,10})?$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainNumber();

    /// <summary>A custom attribute's JSON value: a number when the cell is clearly one, otherwise the text.</summary>
    internal static JsonNode AttributeValue(string cell) =>
        PlainNumber().IsMatch(cell) && decimal.TryParse(cell, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)
            ? JsonValue.Create(number)
            : JsonValue.Create(cell);

    /// <summary>Reads one row into changes; pure, so every rule is checked without a database.</summary>
    internal static (ContactChanges? Changes, List<ImportIssue> Errors) ParseRow(IReadOnlyList<ImportColumn> columns, int headerLength, CsvRow row)
    {
        var errors = new List<ImportIssue>();
        if (row.BadData is { } bad)
        {
            errors.Add(new ImportIssue(row.Row, row.Line, null,
                $"{bad}: a cell holding the separator, a quote or a line break must be in quotes, with inner quotes doubled (\"\")"));
            return (null, errors);
        }
        if (row.Cells.Length > headerLength && row.Cells.Skip(headerLength).Any(c => c.Trim().Length > 0))
        {
            errors.Add(new ImportIssue(row.Row, row.Line, null,
                $"{row.Cells.Length} cells but the header names {headerLength} columns; quote cells that contain the separator"));
            return (null, errors);
        }
        var c = new ContactChanges();
        foreach (var column in columns)
        {
            var value = row.Cell(column.Index);
            if (value is null || column.Field == ImportColumn.Ignore)
            {
                continue; // an empty cell changes nothing
            }
            switch (column.Field)
            {
                case "email":
                    c.Email = value;
                    break;
                case "externalId":
                    c.ExternalId = value;
                    break;
                case "birthday":
                    if (!ContactChanges.TryDate(value, out var day))
                    {
                        errors.Add(new ImportIssue(row.Row, row.Line, column.Header, $"\"{Shorten(value)}\" is not a date as YYYY-MM-DD"));
                        break;
                    }
                    c.BirthdaySet = true;
                    c.Birthday = day;
                    break;
                case "tags":
                    (c.AddTags ??= []).AddRange(value.Split([';', '|'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case var f when f.StartsWith("consent:", StringComparison.Ordinal):
                    if (!ConsentRules.TryParseStatus(ConsentWord(value), out var status))
                    {
                        errors.Add(new ImportIssue(row.Row, row.Line, column.Header,
                            $"\"{Shorten(value)}\" is not a consent: use subscribed, unsubscribed, pending, yes, no, true or false"));
                        break;
                    }
                    c.Consent[f["consent:".Length..]] = status;
                    break;
                case var f when f.StartsWith("attribute:", StringComparison.Ordinal):
                    (c.Attributes ??= new(StringComparer.Ordinal))[f["attribute:".Length..]] = AttributeValue(value);
                    break;
                default:
                    c.Fields[column.Field] = value;
                    break;
            }
        }
        if (Contact.Normalize(c.Email) is null && string.IsNullOrWhiteSpace(c.ExternalId) && errors.Count == 0)
        {
            var column = columns.FirstOrDefault(x => x.Field == "email") ?? columns.First(x => x.Field == "externalId");
            errors.Add(new ImportIssue(row.Row, row.Line, column.Header, "empty: a row needs an e-mail or an external id to say who it is about"));
        }
        foreach (var error in c.Check())
        {
            errors.Add(new ImportIssue(row.Row, row.Line, ColumnOf(columns, error.Field), error.Message));
        }
        return (errors.Count == 0 ? c : null, errors);
    }

    private static string ConsentWord(string value) => value.Trim().ToLowerInvariant() switch
    {
        "1" or "y" => "yes",
        "0" or "n" => "no",
        var other => other,
    };

    private static string? ColumnOf(IReadOnlyList<ImportColumn> columns, string pointer)
    {
        var field = pointer.TrimStart('/');
        if (field.StartsWith("consent/", StringComparison.Ordinal))
        {
            field = "consent:" + field["consent/".Length..];
        }
        return columns.FirstOrDefault(c => string.Equals(c.Field, field, StringComparison.OrdinalIgnoreCase))?.Header;
    }

    private static string Shorten(string value) => value.Length <= 60 ? value : value[..57] + "...";

    private enum RowResult
    {
        Created,
        Updated,
        Unchanged,
        Failed,
    }

    private sealed record RowOutcome(RowResult Result, List<ImportIssue> Issues);

    /// <summary>Stores a batch in one transaction; when that fails (a concurrent writer), row by row, so one bad row costs only itself.</summary>
    private static async Task FlushAsync(ClienteleDb db, List<ImportColumn> columns, List<(CsvRow Row, ContactChanges Changes)> batch, ImportReport report, DateTime now, CancellationToken ct)
    {
        if (batch.Count == 0)
        {
            return;
        }
        try
        {
            Tally(report, await StoreAsync(db, columns, batch, now, ct));
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            foreach (var item in batch)
            {
                try
                {
                    Tally(report, await StoreAsync(db, columns, [item], now, ct));
                }
                catch (DbUpdateException ex)
                {
                    report.Failed++;
                    report.Errors.Add(new ImportIssue(item.Row.Row, item.Row.Line, null, "could not be stored: " + (ex.InnerException ?? ex).Message));
                }
                db.ChangeTracker.Clear();
            }
        }
        db.ChangeTracker.Clear();
        batch.Clear();
    }

    private static void Tally(ImportReport report, List<RowOutcome> outcomes)
    {
        foreach (var outcome in outcomes)
        {
            switch (outcome.Result)
            {
                case RowResult.Created:
                    report.Imported++;
                    break;
                case RowResult.Updated:
                    report.Updated++;
                    break;
                case RowResult.Unchanged:
                    report.Skipped++;
                    break;
                default:
                    report.Failed++;
                    break;
            }
            (outcome.Result == RowResult.Failed ? report.Errors : report.Notes).AddRange(outcome.Issues);
        }
    }

    /// <summary>
    /// Applies a batch with one lookup query instead of two per row, then one SaveChanges.
    /// Matching follows <see cref="ContactStore.UpsertAsync"/> (external id first, then e-mail) and the
    /// changes go through <see cref="ContactStore.ApplyAsync"/>, so consent follows <see cref="ConsentRules.Decide"/>.
    /// </summary>
    private static async Task<List<RowOutcome>> StoreAsync(ClienteleDb db, List<ImportColumn> columns, List<(CsvRow Row, ContactChanges Changes)> batch, DateTime now, CancellationToken ct)
    {
        var emails = batch.Select(b => Contact.Normalize(b.Changes.Email)).OfType<string>().Distinct().ToList();
        var externals = batch.Select(b => b.Changes.ExternalId).Where(x => !string.IsNullOrWhiteSpace(x)).Select(x => x!).Distinct().ToList();
        var found = await db.Contacts.Include(c => c.Consents)
            .Where(Contact.NamedBy(emails, externals))
            .ToListAsync(ct);
        var byEmail = found.Where(c => c.EmailNormalized is not null).ToDictionary(c => c.EmailNormalized!);
        var byExternal = found.Where(c => c.ExternalId is not null).ToDictionary(c => c.ExternalId!);

        var outcomes = new List<RowOutcome>(batch.Count);
        foreach (var (row, changes) in batch)
        {
            var email = Contact.Normalize(changes.Email);
            var externalId = string.IsNullOrWhiteSpace(changes.ExternalId) ? null : changes.ExternalId;
            var withExternal = externalId is null ? null : byExternal.GetValueOrDefault(externalId);
            var withEmail = email is null ? null : byEmail.GetValueOrDefault(email);
            if (withExternal is not null && withEmail is not null && withExternal.Id != withEmail.Id)
            {
                outcomes.Add(Failed(row, "email", $"{changes.Email} belongs to another contact than external id {externalId}"));
                continue;
            }
            var contact = withExternal ?? withEmail;
            if (contact is not null && externalId is not null && contact.ExternalId is not null && contact.ExternalId != externalId)
            {
                outcomes.Add(Failed(row, "externalId", $"{changes.Email} already has the external id {contact.ExternalId}"));
                continue;
            }
            var wasDeleted = contact?.DeletedAt is not null;
            var emailBefore = contact?.EmailNormalized;
            var outcome = await ContactStore.ApplyAsync(db, contact, changes, Origin, now, ct);
            if (outcome.Error is { } error)
            {
                outcomes.Add(Failed(row, error.Field.TrimStart('/'), error.Message));
                continue;
            }
            contact = outcome.Contact!;
            if (emailBefore is not null && emailBefore != contact.EmailNormalized)
            {
                byEmail.Remove(emailBefore);
            }
            if (contact.EmailNormalized is not null)
            {
                byEmail[contact.EmailNormalized] = contact;
            }
            if (contact.ExternalId is not null)
            {
                byExternal[contact.ExternalId] = contact;
            }
            var notes = outcome.Notes.Select(n => new ImportIssue(row.Row, row.Line, null, n)).ToList();
            var result = outcome.Created ? RowResult.Created : outcome.Changed || wasDeleted ? RowResult.Updated : RowResult.Unchanged;
            outcomes.Add(new RowOutcome(result, notes));
        }
        db.ChangeTracker.DetectChanges();
        await db.SaveChangesAsync(ct);
        return outcomes;

        RowOutcome Failed(CsvRow row, string field, string message) =>
            new(RowResult.Failed, [new ImportIssue(row.Row, row.Line, ColumnOf(columns, field), message)]);
    }
}
