using System.Text;
using System.Text.Json;
using Clientele.Contacts;
using Clientele.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Tests.Import;

public sealed class ContactImportTests
{
    internal static Task<ImportReport> ImportAsync(TestApp app, string csv, bool dryRun = false, params string[] map) =>
        ContactImport.RunAsync(app.Database, new MemoryStream(Encoding.UTF8.GetBytes(csv)),
            new ImportOptions { Name = "contacts.csv", DryRun = dryRun, Map = map }, app.Time, CancellationToken.None);

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Every_row_is_counted_once_as_imported_updated_skipped_or_error_and_good_rows_are_stored(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        await api.PostJsonAsync("/api/v1/contacts", new { email = "dan@example.com", firstName = "Dan" });

        var report = await ImportAsync(app, """
            Email Address,First Name,last_name,birthday,tags,consent,Company,zip
            ann@example.com,Ann,Lee,1990-04-01,vip;newsletter,yes,Acme,0042
            x@,Bad,Email,,,,,
            bob@example.com,Bob,Stone,1990-13-01,,,,
            cid@example.com,Cid,,,,no,,
            dan@example.com,Dan,,,,,,
            ANN@example.com,Annie,,,wholesale|vip,,,
            ,,,,,,,
            """);

        Assert.Equal(7, report.Rows);
        Assert.Equal(2, report.Imported);
        Assert.Equal(1, report.Updated);
        Assert.Equal(2, report.Skipped);
        Assert.Equal(2, report.Failed);
        Assert.Equal(report.Rows, report.Imported + report.Updated + report.Skipped + report.Failed);
        Assert.Equal(2, report.ExitCode);
        Assert.Equal(
            ["row 2 (line 3), column \"Email Address\": \"x@\" is not a valid e-mail address",
             "row 3 (line 4), column \"birthday\": \"1990-13-01\" is not a date as YYYY-MM-DD"],
            report.Errors.Select(e => e.ToString()));

        await using var data = app.NewDb();
        Assert.Equal(["ann@example.com", "cid@example.com", "dan@example.com"], await data.Contacts.OrderBy(c => c.EmailNormalized).Select(c => c.EmailNormalized!).ToListAsync());
        var ann = await data.Contacts.Include(c => c.Consents).SingleAsync(c => c.EmailNormalized == "ann@example.com");
        Assert.Equal("Annie", ann.FirstName); // the later row for the same person wins
        Assert.Equal("Lee", ann.LastName);   // and its empty cells change nothing
        Assert.Equal(new DateOnly(1990, 4, 1), ann.Birthday);
        Assert.Equal(["newsletter", "vip", "wholesale"], ann.Tags);
        var attributes = JsonDocument.Parse(ann.Attributes).RootElement;
        Assert.Equal("Acme", attributes.GetProperty("Company").GetString());
        Assert.Equal("0042", attributes.GetProperty("zip").GetString());
        Assert.Equal(ConsentStatus.Subscribed, Assert.Single(ann.Consents).Status);
        Assert.Equal("import", ann.Source);
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task An_import_never_overwrites_a_recorded_consent_and_says_so_on_the_row(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("write");
        await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com", consent = new { marketing = "subscribed" } });
        await api.PostJsonAsync("/api/v1/contacts", new { email = "ann@example.com", consent = new { marketing = "unsubscribed" } });

        var report = await ImportAsync(app, """
            email,first_name,consent
            ann@example.com,Ann,subscribed
            """);

        Assert.Equal(1, report.Updated); // the name is stored
        var note = Assert.Single(report.Notes);
        Assert.Equal(1, note.Row);
        Assert.Contains("kept the recorded consent (unsubscribed)", note.Message);
        await using var data = app.NewDb();
        var ann = await data.Contacts.Include(c => c.Consents).SingleAsync();
        Assert.Equal("Ann", ann.FirstName);
        Assert.Equal(ConsentStatus.Unsubscribed, Assert.Single(ann.Consents).Status);
        Assert.Equal(1, await data.Events.CountAsync(e => e.Type == "consent.given"));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task A_dry_run_reports_what_would_happen_and_writes_nothing(string db)
    {
        await using var app = await TestApp.StartAsync(db);

        var report = await ImportAsync(app, """
            email,first_name,consent
            ann@example.com,Ann,yes
            bob@example.com,Bob,no
            ann@example.com,Annie,
            nope,,
            """, dryRun: true);

        Assert.True(report.DryRun);
        Assert.Equal((4, 2, 1, 0, 1), (report.Rows, report.Imported, report.Updated, report.Skipped, report.Failed));
        await using var data = app.NewDb();
        Assert.Equal(0, await data.Contacts.CountAsync());
        Assert.Equal(0, await data.Consents.CountAsync());
        Assert.Equal(0, await data.Events.CountAsync());
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Columns_with_other_names_are_read_as_the_fields_map_says(string db)
    {
        await using var app = await TestApp.StartAsync(db);

        var report = await ImportAsync(app, """
            E-Mail Adresse;Vorname;Kundennummer;Newsletter;Notiz;Firma
            ann@example.com;Ann;K-100;ja;ruft gern an;Acme
            """, false,
            "E-Mail Adresse=email", "Vorname=firstName", "Kundennummer=externalId", "notiz=ignore", "Newsletter=consent:newsletter");

        // "ja" is no consent word: the row is an error naming the column, and nothing is stored.
        Assert.Equal(1, report.Failed);
        Assert.Equal("Newsletter", Assert.Single(report.Errors).Column);

        report = await ImportAsync(app, """
            E-Mail Adresse;Vorname;Kundennummer;Newsletter;Notiz;Firma
            ann@example.com;Ann;K-100;yes;ruft gern an;Acme
            """, false,
            "E-Mail Adresse=email", "Vorname=firstName", "Kundennummer=externalId", "notiz=ignore", "Newsletter=consent:newsletter");

        Assert.Equal(1, report.Imported);
        Assert.Contains(("Firma", "attribute:Firma"), report.Columns);
        Assert.Contains(("Notiz", "ignore"), report.Columns);
        await using var data = app.NewDb();
        var ann = await data.Contacts.Include(c => c.Consents).SingleAsync();
        Assert.Equal(("ann@example.com", "Ann", "K-100"), (ann.Email, ann.FirstName, ann.ExternalId));
        var attributes = JsonDocument.Parse(ann.Attributes).RootElement;
        Assert.Equal(["Firma"], attributes.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Acme", attributes.GetProperty("Firma").GetString());
        var consent = Assert.Single(ann.Consents);
        Assert.Equal(("newsletter", ConsentStatus.Subscribed, "import"), (consent.Topic, consent.Status, consent.Source));
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Contacts_are_matched_by_external_id_before_email(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await ImportAsync(app, "customer_id,email,first_name\nC-1,ann@example.com,Ann\nC-2,bob@example.com,Bob\n");

        var report = await ImportAsync(app, """
            customer_id,email,first_name
            C-1,ann@new.example.com,Ann
            C-2,ann@new.example.com,Bob
            C-3,bob@example.com,Robert
            """);

        Assert.Equal((1, 2), (report.Updated, report.Failed));
        Assert.Equal([2, 3], report.Errors.Select(e => e.Row));
        Assert.Contains("belongs to another contact", report.Errors[0].Message);
        Assert.Contains("already has the external id C-2", report.Errors[1].Message);
        await using var data = app.NewDb();
        Assert.Equal("ann@new.example.com", (await data.Contacts.SingleAsync(c => c.ExternalId == "C-1")).EmailNormalized);
    }

    [Fact]
    public async Task Rows_and_lines_are_numbered_as_people_see_them_in_an_excel_file()
    {
        // Excel writes a byte order mark and, in many countries, semicolons; a quoted cell may span lines.
        var csv = "\uFEFFemail;note;tags\r\n\r\nann@example.com;\"first line\r\nsecond; line\";vip,gold\r\nbob@example.com;ok\r\n;;\r\n";
        await using var file = await ImportCsv.OpenAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "excel.csv", CancellationToken.None);
        var rows = new List<CsvRow>();
        await foreach (var row in file.ReadRowsAsync(CancellationToken.None))
        {
            rows.Add(row);
        }

        Assert.Equal(["email", "note", "tags"], file.Header);
        Assert.Equal([(1, 3), (2, 5), (3, 6)], rows.Select(r => (r.Row, r.Line)));
        Assert.Equal("first line\r\nsecond; line", rows[0].Cell(1));
        Assert.Equal("vip,gold", rows[0].Cell(2));
        Assert.Null(rows[1].Cell(2));
        Assert.True(rows[2].IsBlank);
    }

    [Fact]
    public void Known_column_names_are_recognised_in_any_spelling_and_the_rest_become_attributes()
    {
        var columns = ContactImport.ResolveColumns(
            ["E-Mail", "FirstName", "Last Name", "Date of Birth", "Time Zone", "Customer ID", "id", "UTM_Source", "consent:sms", "Budget"], [], "f.csv");

        Assert.Equal(
            ["email", "firstName", "lastName", "birthday", "timeZone", "externalId", "attribute:id", "utmSource", "consent:sms", "attribute:Budget"],
            columns.Select(c => c.Field));
        Assert.Equal("externalId", ContactImport.ResolveColumns(["email", "id"], [], "f.csv")[1].Field);
    }

    [Fact]
    public void A_file_that_cannot_say_who_a_row_is_about_or_a_bad_map_is_refused_as_a_whole()
    {
        var noIdentity = Assert.Throws<ImportFileException>(() => ContactImport.ResolveColumns(["name", "phone"], [], "f.csv"));
        Assert.Contains("--map", noIdentity.Message);
        Assert.Throws<ImportFileException>(() => ContactImport.ResolveColumns(["email"], ["email=shoe size"], "f.csv"));
        Assert.Throws<ImportFileException>(() => ContactImport.ResolveColumns(["email"], ["mail=email"], "f.csv"));
        var twice = Assert.Throws<ImportFileException>(() => ContactImport.ResolveColumns(["email", "E-Mail"], [], "f.csv"));
        Assert.Contains("--map E-Mail=ignore", twice.Message);
    }

    [Theory]
    [InlineData("42", true)]
    [InlineData("-3.5", true)]
    [InlineData("0042", false)]
    [InlineData("+49 30 1234", false)]
    [InlineData("1e5", false)]
    [InlineData("1,000", false)]
    [InlineData("12345678901234567890", false)]
    public void Custom_attributes_are_numbers_only_when_clearly_numeric(string cell, bool number)
    {
        var value = ContactImport.AttributeValue(cell);

        Assert.Equal(number ? JsonValueKind.Number : JsonValueKind.String, value.GetValueKind());
        Assert.Equal(cell, number ? value.GetValue<decimal>().ToString(System.Globalization.CultureInfo.InvariantCulture) : value.GetValue<string>());
    }
}
