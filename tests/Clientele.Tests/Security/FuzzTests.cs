using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Segments;
using Clientele.Tests.Infrastructure;

namespace Clientele.Tests.Security;

/// <summary>
/// Seeded fuzzing of the REST API, the CSV importers and the segment parser. The seed is printed with every
/// failure; set CLIENTELE_FUZZ_SEED to run with another one.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("CLIENTELE_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20261124;

    private static readonly string[] Odd =
    [
        "", " ", "\u0000", "\uD800", "\uDC00x", "\u202Eevil\u202C", "\u200B", "\uFEFF", "é", "𝕏", "null", "'; drop table contacts; --",
        "<script>alert(1)</script>", "{{ contact.email }}", "%s%n", "\r\n", "\t", "..\\..", "NaN", "-0", "1e309", "9999999999999999999999999",
        "-9223372036854775809", "true", "[]", "{}",
    ];

    private sealed record Target(string Method, string Path, string Valid);

    private static readonly Target[] Targets =
    [
        new("POST", "/api/v1/events", """{"type":"order.placed","contact":{"email":"ann@example.com"},"occurredAt":"2026-05-01T10:00:00Z","idempotencyKey":"k1","data":{"total":12.5}}"""),
        new("POST", "/api/v1/contacts", """{"email":"fuzz@example.com","firstName":"Ann","tags":["vip"],"attributes":{"size":"M"}}"""),
        new("PATCH", "/api/v1/contacts/{contact}", """{"firstName":"Bea","tags":["x"]}"""),
        new("POST", "/api/v1/orders", """{"externalId":"o-1","contact":{"email":"ann@example.com"},"total":20,"currency":"EUR","placedAt":"2026-05-01T10:00:00Z","items":[{"sku":"A","quantity":1,"price":20}]}"""),
        new("POST", "/api/v1/segments", """{"name":"Fuzz","query":"stage >= Purchase and orders > 1"}"""),
        new("POST", "/api/v1/segments/preview", """{"query":"stage >= Purchase or tag = \"vip\""}"""),
        new("POST", "/api/v1/tickets", """{"contact":{"email":"ann@example.com"},"subject":"Help","body":"It broke","priority":"high"}"""),
        new("POST", "/api/v1/broadcasts", """{"name":"News","segmentId":null,"templateId":null,"subject":"Hi","scheduledAt":"2026-07-01T10:00:00Z"}"""),
        new("POST", "/api/v1/templates", """{"name":"Hello","subject":"Hi {{ contact.firstName }}","body":"Hello"}"""),
        new("POST", "/api/v1/offers", """{"name":"Ten off","kind":"percent","value":10,"validDays":30}"""),
        new("POST", "/api/v1/webhooks/subscriptions", """{"url":"https://example.com/hook","events":["contact.created"]}"""),
    ];

    // ---------------------------------------------------------------- REST API

    [Theory]
    [InlineData(Db.Sqlite, 10_000)]
    [InlineData(Db.Postgres, 1_000)]
    public async Task Malformed_api_requests_never_get_a_server_error_and_every_refusal_is_a_problem_document(string db, int count)
    {
        var seed = Seed + (db == Db.Postgres ? 1 : 0);
        var random = new Random(seed);
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("admin");
        var created = await api.PostRawAsync("/api/v1/contacts", """{"email":"target@example.com"}""");
        var contactId = (await created.ReadJsonAsync()).GetProperty("id").GetString()!;

        var failures = new List<string>();
        for (var i = 0; i < count && failures.Count < 5; i++)
        {
            var target = Targets[random.Next(Targets.Length)];
            var (body, contentType) = MalformedBody(random, target.Valid);
            var path = target.Path.Replace("{contact}", random.Next(8) == 0 ? Guid.NewGuid().ToString() : contactId, StringComparison.Ordinal);
            using var request = new HttpRequestMessage(new HttpMethod(target.Method), path);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                if (contentType is not null)
                    request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }
            using var response = await api.SendAsync(request, TestContext.Current.CancellationToken);
            var problem = await CheckAsync(response);
            if (problem is not null)
                failures.Add($"#{i} {target.Method} {path} ({contentType ?? "no content type"}): {problem}\n  body: {Show(body)}");
        }
        foreach (var f in failures)
            output.WriteLine(f);
        Assert.True(failures.Count == 0, $"Seed {seed}: {failures.Count} bad answers, first:\n{failures.FirstOrDefault()}");

        var after = await api.PostRawAsync("/api/v1/contacts", """{"email":"still-alive@example.com"}""");
        Assert.True(after.IsSuccessStatusCode, $"after fuzzing a valid request got {(int)after.StatusCode}");
    }

    private static async Task<string?> CheckAsync(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (status >= 500)
            return $"{status}: {await response.Content.ReadAsStringAsync()}";
        if (status < 400)
            return null;
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            return $"{status} with content type {response.Content.Headers.ContentType?.MediaType ?? "none"}";
        var json = await response.ReadJsonAsync();
        var title = json.TryGetProperty("title", out var t) ? t.GetString() : null;
        var detail = json.TryGetProperty("detail", out var d) ? d.GetString() : null;
        return string.IsNullOrWhiteSpace(title) && string.IsNullOrWhiteSpace(detail) ? $"{status} problem without title or detail" : null;
    }

    private static (byte[]? Body, string? ContentType) MalformedBody(Random random, string valid)
    {
        const string json = "application/json";
        switch (random.Next(14))
        {
            case 0: return (null, null);
            case 1: return ([], json);
            case 2: return (Utf8(valid[..random.Next(valid.Length)]), json);
            case 3: return (Utf8(valid), random.Next(3) switch { 0 => "text/plain", 1 => "application/x-www-form-urlencoded", _ => "application/xml" });
            case 4: return (Utf8(new string('[', random.Next(10, 5000)) + new string(']', random.Next(0, 5000))), json);
            case 5: return (Utf8("{" + string.Concat(Enumerable.Repeat("\"a\":{", random.Next(10, 400))) + "}"), json);
            case 6: return (RandomBytes(random), json);
            case 7: return (Utf8(random.Next(6) switch { 0 => "null", 1 => "[]", 2 => "42", 3 => "\"text\"", 4 => "true", _ => "{}" }), json);
            case 8:
                var dup = valid.TrimStart('{');
                return (Utf8("{" + dup.TrimEnd('}') + "," + dup), json);
            case 9: return (Utf8(valid.Replace("}", ",}", StringComparison.Ordinal)), json);
            default: return (Utf8(Mutate(random, valid)), json);
        }
    }

    /// <summary>Replaces some values of a valid body with wrong types, odd strings, huge numbers or nesting.</summary>
    private static string Mutate(Random random, string valid)
    {
        using var doc = JsonDocument.Parse(valid);
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
            Write(writer, doc.RootElement, random, 0);
        var text = Encoding.UTF8.GetString(buffer.ToArray());
        // Lone surrogates and NUL cannot pass through the writer unescaped; put some in by hand.
        return random.Next(4) == 0 ? text.Replace("\"Ann\"", "\"\\uD800\\u0000\"", StringComparison.Ordinal).Replace("\"Hi\"", "\"\\uDFFF\"", StringComparison.Ordinal) : text;
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element, Random random, int depth)
    {
        if (depth > 0 && random.Next(4) == 0)
        {
            WriteJunk(writer, random);
            return;
        }
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var p in element.EnumerateObject())
                {
                    if (random.Next(8) == 0)
                        continue;
                    writer.WritePropertyName(random.Next(20) == 0 ? p.Name.ToUpperInvariant() : p.Name);
                    Write(writer, p.Value, random, depth + 1);
                }
                if (random.Next(6) == 0)
                {
                    writer.WritePropertyName(Odd[random.Next(Odd.Length)] + "x");
                    WriteJunk(writer, random);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                    Write(writer, item, random, depth + 1);
                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }

    private static void WriteJunk(Utf8JsonWriter writer, Random random)
    {
        switch (random.Next(11))
        {
            case 0: writer.WriteNullValue(); break;
            case 1: writer.WriteRawValue(random.Next(2) == 0 ? "1e308" : "-99999999999999999999999999999999999999", skipInputValidation: true); break;
            case 2: writer.WriteNumberValue(random.Next(2) == 0 ? long.MaxValue : long.MinValue); break;
            case 3: writer.WriteStringValue(new string('x', random.Next(1000, 200_000))); break;
            case 4: writer.WriteStringValue(Odd[random.Next(Odd.Length)]); break;
            case 5: writer.WriteBooleanValue(random.Next(2) == 0); break;
            case 6:
                writer.WriteStartArray();
                writer.WriteStringValue(Odd[random.Next(Odd.Length)]);
                writer.WriteNumberValue(-1);
                writer.WriteEndArray();
                break;
            case 7:
                var depth = random.Next(5, 60);
                for (var i = 0; i < depth; i++)
                {
                    writer.WriteStartObject();
                    writer.WritePropertyName("a");
                }
                writer.WriteNumberValue(1);
                for (var i = 0; i < depth; i++)
                    writer.WriteEndObject();
                break;
            case 8: writer.WriteStringValue(random.Next(2) == 0 ? "0001-01-01T00:00:00Z" : "9999-12-31T23:59:59.9999999+14:00"); break;
            case 9: writer.WriteStringValue(Guid.Empty); break;
            default: writer.WriteNumberValue(random.Next(2) == 0 ? -1.5 : 0); break;
        }
    }

    // ---------------------------------------------------------------- CSV importers

    [Fact]
    public async Task Malformed_csv_files_are_refused_with_a_message_or_every_row_is_accounted_for()
    {
        var seed = Seed;
        var random = new Random(seed);
        await using var app = await TestApp.StartAsync(Db.Sqlite);
        var inputs = 0;
        var file = 0;
        while (inputs < 10_000)
        {
            var orders = file % 3 == 2;
            var header = orders
                ? "order_id,email,date,total,currency,sku,quantity,price"
                : "email,first_name,last_name,tags,consent,birthday,company";
            var (csv, rows) = MalformedCsv(random, header, random.Next(10, 40));
            inputs += rows;
            var name = $"fuzz-{file++}.csv";
            var options = new ImportOptions { Name = name, DryRun = random.Next(3) == 0 };
            try
            {
                var report = orders
                    ? await OrderImport.RunAsync(app.Database, new MemoryStream(csv), options, app.Time, TestContext.Current.CancellationToken)
                    : await ContactImport.RunAsync(app.Database, new MemoryStream(csv), options, app.Time, TestContext.Current.CancellationToken);
                Assert.True(report.Rows == report.Imported + report.Updated + report.Skipped + report.Failed,
                    $"Seed {seed}, {name}: {report.Rows} rows but {report.Imported}+{report.Updated}+{report.Skipped}+{report.Failed}\n{Show(csv)}");
            }
            catch (ImportFileException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message), $"Seed {seed}, {name}: refused without a message");
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"Seed {seed}, {name}: {e.GetType().Name}: {e.Message}\n{Show(csv)}\n{e.StackTrace}");
            }
        }
    }

    private static (byte[] Csv, int Rows) MalformedCsv(Random random, string header, int rows)
    {
        var text = new StringBuilder();
        var prefix = random.Next(5) switch { 0 => "\uFEFF", 1 => "\uFEFF\uFEFF", _ => "" };
        text.Append(prefix);
        if (random.Next(12) != 0)
            text.Append(random.Next(8) == 0 ? header.Replace(',', ';') : header).Append(random.Next(4) == 0 ? "\r\n" : "\n");
        var columns = header.Split(',').Length;
        for (var r = 0; r < rows; r++)
        {
            var cells = random.Next(6) == 0 ? random.Next(0, columns * 2) : columns;
            for (var c = 0; c < cells; c++)
            {
                if (c > 0)
                    text.Append(random.Next(25) == 0 ? (random.Next(2) == 0 ? ';' : '\t') : ',');
                text.Append(Cell(random, c));
            }
            text.Append(random.Next(10) == 0 ? "\r" : random.Next(5) == 0 ? "\r\n" : "\n");
        }
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        if (random.Next(10) == 0)
        {
            // Binary garbage over part of the file.
            var at = random.Next(bytes.Length);
            var junk = RandomBytes(random);
            bytes = [.. bytes[..at], .. junk, .. bytes[at..]];
        }
        if (random.Next(15) == 0)
            bytes = bytes[..random.Next(bytes.Length)];
        return (bytes, rows);
    }

    private static string Cell(Random random, int column) => random.Next(14) switch
    {
        0 => "\"unclosed " + Odd[random.Next(Odd.Length)],
        1 => "\"a\"\"b\"c\"",
        2 => "x\"y",
        3 => new string('z', random.Next(1000, 70_000)),
        4 => Odd[random.Next(Odd.Length)],
        5 => "\"line\nbreak\"",
        6 => random.Next(2) == 0 ? "-1e400" : "99999999999999999999999",
        7 => random.Next(2) == 0 ? "2026-02-30" : "yesterday",
        8 => "",
        _ => column switch
        {
            0 => $"p{random.Next(500)}@example.com",
            1 => random.Next(2) == 0 ? "Ann" : $"p{random.Next(500)}@example.com",
            2 => random.Next(2) == 0 ? "2026-05-01" : "Lee",
            3 => random.Next(2) == 0 ? "12.50" : "vip;news",
            4 => random.Next(2) == 0 ? "EUR" : "yes",
            _ => random.Next(2) == 0 ? "2" : "A-1",
        },
    };

    // ---------------------------------------------------------------- Segment parser

    private static readonly string[] SegmentTokens =
    [
        "stage", "orders", "tag", "email", "lastOrder", "attribute", "score", "nosuchfield", "field.sub", "(", ")", "((", "))", "and", "or",
        "not", "=", "!=", "<", "<=", ">", ">=", "contains", "within", ",", ":", "\"vip\"", "\"unclosed", "\"\\\"", "90d", "12h", "4w",
        "999999999999999999999999999", "-1", "1e400", "0.5", "Purchase", "Lead", "purchases(", "count(", "sum(days:", "\u0000", "\uD800", "\u202E",
        "é", "'", "#", "@", "$", "\\", "\n", "\t", "--", "/*", "🙂",
    ];

    [Fact]
    public void Malformed_segment_queries_fail_only_with_a_positioned_query_error()
    {
        var seed = Seed;
        var random = new Random(seed);
        var parsed = 0;
        for (var i = 0; i < 10_000; i++)
        {
            var query = MalformedQuery(random);
            try
            {
                SegmentParser.Parse(query);
                parsed++;
            }
            catch (SegmentQueryException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message), $"Seed {seed}, #{i}: empty message for {Show(query)}");
                Assert.True(e.Line >= 1 && e.Column >= 1, $"Seed {seed}, #{i}: position {e.Line}:{e.Column} for {Show(query)}");
            }
            catch (Exception e)
            {
                Assert.Fail($"Seed {seed}, #{i}: {e.GetType().Name}: {e.Message} for {Show(query)}\n{e.StackTrace}");
            }
        }
        output.WriteLine($"{parsed} of 10000 generated queries parsed");
    }

    [Theory]
    [InlineData(Db.Sqlite)]
    [InlineData(Db.Postgres)]
    public async Task Malformed_segment_queries_through_the_api_never_get_a_server_error(string db)
    {
        var seed = Seed + 2;
        var random = new Random(seed);
        await using var app = await TestApp.StartAsync(db);
        var api = await app.ApiClientAsync("admin");
        for (var i = 0; i < 300; i++)
        {
            var query = MalformedQuery(random);
            var body = JsonSerializer.Serialize(new { name = $"Fuzz {i}", query });
            var path = i % 2 == 0 ? "/api/v1/segments/preview" : "/api/v1/segments";
            var response = await api.PostRawAsync(path, body);
            var problem = await CheckAsync(response);
            Assert.True(problem is null, $"Seed {seed}, #{i} {path} {Show(query)}: {problem}");
        }
    }

    private static string MalformedQuery(Random random)
    {
        switch (random.Next(10))
        {
            case 0:
                var depth = random.Next(1, 3000);
                return new string('(', depth) + "stage >= Purchase" + new string(')', random.Next(depth + 2));
            case 1:
                return string.Concat(Enumerable.Repeat("not ", random.Next(1, 3000))) + "orders > 1";
            case 2:
                return string.Join(" and ", Enumerable.Repeat("orders > 1", random.Next(1, 2000)));
            default:
                var parts = new List<string>();
                var n = random.Next(0, 15);
                for (var i = 0; i < n; i++)
                    parts.Add(SegmentTokens[random.Next(SegmentTokens.Length)]);
                return string.Join(random.Next(4) == 0 ? "" : " ", parts);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(1, 400)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string Show(byte[]? body) => body is null ? "(none)" : Show(Encoding.UTF8.GetString(body));

    private static string Show(string s)
    {
        var shown = s.Length > 400 ? s[..400] + $"… ({s.Length} chars)" : s;
        var escaped = new StringBuilder();
        foreach (var ch in shown)
            escaped.Append(char.IsControl(ch) || char.IsSurrogate(ch) ? $"\\u{(int)ch:X4}" : ch.ToString());
        return escaped.ToString();
    }
}
