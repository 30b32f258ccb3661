using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;
using Clientele.Events;

namespace Clientele.Integrations;

/// <summary>
/// <c>POST /hooks/{name}</c>: a shop's own webhooks (Shopify, WooCommerce, or any system mapped by configuration), checked
/// against the source's secret and stored as events like <c>POST /api/v1/events</c>. The sources are configured with
/// <c>GET</c>/<c>PUT /api/v1/integrations/inbound</c>.
/// </summary>
internal static class InboundHooks
{
    public const string Key = "integrations.inbound";
    private const int MaxBody = 1024 * 1024;

    public static void MapInboundHooks(this IEndpointRouteBuilder app, RouteGroupBuilder api)
    {
        app.MapPost("/hooks/{name}", ReceiveAsync).AllowAnonymous().DisableAntiforgery().WithTags("Integrations")
            .WithSummary("A shop's webhook: Shopify (X-Shopify-Topic, X-Shopify-Hmac-Sha256), WooCommerce (X-WC-Webhook-Topic, X-WC-Webhook-Signature) or a generic system (X-Clientele-Signature: sha256=hex HMAC of the body)");
        var group = api.MapGroup("/integrations").WithTags("Integrations");
        group.MapGet("/inbound", async (ClienteleDb db, CancellationToken ct) =>
                TypedResults.Ok(new SourcesOutput((await LoadAsync(db, ct)).Select(s => s with { Secret = Mask(s.Secret) }))))
            .RequireAuthorization(ApiKeys.AdminPolicy).WithSummary("The systems that post their webhooks to /hooks/{name} (secrets masked)");
        group.MapPut("/inbound", SaveAsync).RequireAuthorization(ApiKeys.AdminPolicy).Accepts<SourcesInput>("application/json")
            .WithSummary("Set the inbound sources: {\"sources\": [{\"name\", \"platform\": \"shopify\"|\"woocommerce\"|\"generic\", \"secret\", \"mapping\"}]}");
    }

    private static string Mask(string secret) => secret.Length <= 4 ? "****" : new string('*', secret.Length - 4) + secret[^4..];

    public static Task<List<InboundSource>> LoadAsync(ClienteleDb db, CancellationToken ct) => SettingsStore.LoadAsync(db, Key, new List<InboundSource>(), ct);

    /// <summary>Whether the call carries the platform's signature of its body made with the source's secret.</summary>
    public static bool Signed(InboundSource source, IHeaderDictionary headers, byte[] body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(source.Secret), body);
        var (header, expected) = source.Platform switch
        {
            "shopify" => ("X-Shopify-Hmac-Sha256", Convert.ToBase64String(mac)),
            "woocommerce" => ("X-WC-Webhook-Signature", Convert.ToBase64String(mac)),
            _ => ("X-Clientele-Signature", "sha256=" + Convert.ToHexStringLower(mac)),
        };
        var given = headers[header].FirstOrDefault() ?? "";
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given.Trim()), Encoding.UTF8.GetBytes(expected));
    }

    private static string? Topic(InboundSource source, IHeaderDictionary headers) => source.Platform switch
    {
        "shopify" => headers["X-Shopify-Topic"].FirstOrDefault(),
        "woocommerce" => headers["X-WC-Webhook-Topic"].FirstOrDefault(),
        _ => null,
    };

    private static async Task<IResult> ReceiveAsync(string name, HttpRequest request, ClienteleDb db, EventIngest ingest, CancellationToken ct)
    {
        var source = (await LoadAsync(db, ct)).FirstOrDefault(s => s.Name == name);
        if (source is null)
        {
            return ApiProblems.NotFound($"No inbound source is called \"{name}\": set it up with PUT /api/v1/integrations/inbound.");
        }
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, ct);
        if (buffer.Length > MaxBody)
        {
            return ApiProblems.Make(StatusCodes.Status413PayloadTooLarge, "Too large", "A webhook body is at most 1 MiB.", null, null);
        }
        var body = buffer.ToArray();
        if (!Signed(source, request.Headers, body))
        {
            return ApiProblems.Make(StatusCodes.Status401Unauthorized, "Not signed", $"The call does not carry a valid signature made with the secret of \"{name}\".", null, null);
        }
        if (source.Platform == "woocommerce" && request.HasFormContentType)
        {
            return TypedResults.Ok(new { received = 0, note = "ping" }); // WooCommerce's test call when a webhook is made
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            return ApiProblems.BadRequest("The body is not JSON: " + ex.Message);
        }
        using (doc)
        {
            var topic = Topic(source, request.Headers);
            var (events, problem) = InboundMapping.Map(source, topic, doc.RootElement);
            if (problem is not null)
            {
                return ApiProblems.Invalid("", problem);
            }
            if (events.Count == 0)
            {
                // A topic nothing here needs: answered 200 so the platform does not retry or switch the webhook off.
                return TypedResults.Ok(new { received = 0, ignored = topic ?? "(no topic)" });
            }
            var elements = events.Select(e => JsonSerializer.SerializeToElement(e)).ToList();
            var results = await ingest.IngestAsync(elements, "hook:" + name, ct);
            return TypedResults.Ok(new { received = results.Count, results });
        }
    }

    private static async Task<IResult> SaveAsync(HttpRequest request, ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync<SourcesInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (body!.Sources is not { } input)
        {
            return ApiProblems.Invalid("/sources", "The list of sources (empty for none).");
        }
        await using var db = database.CreateDbContext();
        var before = await LoadAsync(db, ct);
        var errors = new List<FieldError>();
        var sources = new List<InboundSource>();
        for (var i = 0; i < input.Count; i++)
        {
            var s = input[i];
            if (s.Name is not { Length: > 0 and <= 50 } || !s.Name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                errors.Add(new($"/sources/{i}/name", "A name of 1 to 50 lower-case letters, digits and dashes: it is the end of the address /hooks/{name}."));
            }
            else if (input.Take(i).Any(o => o.Name == s.Name))
            {
                errors.Add(new($"/sources/{i}/name", $"\"{s.Name}\" is named twice."));
            }
            if (!InboundMapping.Platforms.Contains(s.Platform))
            {
                errors.Add(new($"/sources/{i}/platform", "The platform is shopify, woocommerce or generic."));
            }
            // A masked secret sent back unchanged keeps the stored one.
            var secret = s.Secret.Contains("****", StringComparison.Ordinal) ? before.FirstOrDefault(b => b.Name == s.Name)?.Secret ?? "" : s.Secret;
            if (secret.Length < 16)
            {
                errors.Add(new($"/sources/{i}/secret", "A secret of at least 16 characters, the same as in the shop's webhook settings."));
            }
            if (s.Platform == "generic" && s.Mapping is null)
            {
                errors.Add(new($"/sources/{i}/mapping", "A generic source needs its mapping: at least {\"type\", \"email\"}."));
            }
            sources.Add(s with { Secret = secret });
        }
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        using (await database.EnterWriteAsync(ct))
        {
            await SettingsStore.SaveAsync(db, Key, sources, time.GetUtcNow().UtcDateTime, ct);
        }
        return TypedResults.Ok(new SourcesOutput(sources.Select(s => s with { Secret = Mask(s.Secret) })));
    }

    internal sealed record SourcesInput(List<InboundSource>? Sources);

    /// <summary>The inbound sources as the API shows them, secrets masked.</summary>
    internal sealed record SourcesOutput(IEnumerable<InboundSource> Sources);
}
