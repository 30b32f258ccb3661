using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Clientele.Api;

/// <summary>RFC 9457 problem documents that say what was wrong and where.</summary>
internal static class ApiProblems
{
    public static ProblemHttpResult BadRequest(string detail, string? pointer = null, IDictionary<string, object?>? extra = null) =>
        Make(StatusCodes.Status400BadRequest, "Bad request", detail, pointer, extra);

    public static ProblemHttpResult NotFound(string detail) =>
        Make(StatusCodes.Status404NotFound, "Not found", detail, null, null);

    public static ProblemHttpResult Conflict(string detail, string? pointer = null) =>
        Make(StatusCodes.Status409Conflict, "Conflict", detail, pointer, null);

    public static ProblemHttpResult Make(int status, string title, string detail, string? pointer, IDictionary<string, object?>? extra)
    {
        var extensions = new Dictionary<string, object?>(extra ?? new Dictionary<string, object?>());
        if (pointer is not null)
        {
            extensions["pointer"] = pointer;
        }
        return TypedResults.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);
    }

    /// <summary>400 with an <c>errors</c> map of JSON pointer → messages.</summary>
    public static ValidationProblem Invalid(IEnumerable<FieldError> errors) =>
        TypedResults.ValidationProblem(
            errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()),
            detail: string.Join(" ", errors.Select(e => $"{e.Field}: {e.Message}")),
            title: "The request has invalid fields");

    public static ValidationProblem Invalid(string field, string message) => Invalid([new FieldError(field, message)]);

    /// <summary>A problem's words, for a page that shares the API's checks.</summary>
    public static string Describe(IResult? problem) => problem switch
    {
        ValidationProblem v => string.Join(" ", v.ProblemDetails.Errors.SelectMany(e => e.Value)),
        ProblemHttpResult p => p.ProblemDetails.Detail ?? "Not valid.",
        _ => "Not valid.",
    };

    /// <summary>400 from a settings validator's messages by field name (each becomes the pointer /name).</summary>
    public static ValidationProblem Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        Invalid(errors.SelectMany(e => e.Value.Select(m => new FieldError("/" + e.Key, m))));
}

internal sealed record FieldError(string Field, string Message);

/// <summary>Reads request bodies by hand so a malformed one gets a precise problem, never a bare 400 or a 500.</summary>
internal static class JsonBody
{
    public static async Task<(JsonDocument? Document, IResult? Problem)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, ApiProblems.Make(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"Send the body as application/json, not {type}.", null, null));
        }
        try
        {
            var doc = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 64 }, ct);
            if (BrokenText(doc.RootElement, "") is { } pointer)
            {
                doc.Dispose();
                return (null, ApiProblems.Invalid(pointer.Length == 0 ? "/" : pointer,
                    "The text is not valid Unicode: it escapes a lone surrogate (\\uD800–\\uDFFF without its pair)."));
            }
            return (doc, null);
        }
        catch (JsonException ex)
        {
            var line = (ex.LineNumber ?? 0) + 1;
            var column = (ex.BytePositionInLine ?? 0) + 1;
            return (null, ApiProblems.BadRequest(
                $"The body is not valid JSON: error at line {line}, column {column}.",
                extra: new Dictionary<string, object?> { ["line"] = line, ["column"] = column }));
        }
    }

    /// <summary>The JSON pointer of the first string or name that cannot be read as text (an escaped lone surrogate), if any.</summary>
    private static string? BrokenText(JsonElement element, string pointer)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Readable(() => element.GetString()) ? null : pointer;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (BrokenText(item, $"{pointer}/{i++}") is { } found)
                    {
                        return found;
                    }
                }
                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return pointer + "/";
                    }
                    if (BrokenText(property.Value, pointer + "/" + name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)) is { } found)
                    {
                        return found;
                    }
                }
                return null;
            default:
                return null;
        }
    }

    private static bool Readable(Func<string?> read)
    {
        try
        {
            read();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Reads the body and binds it to <typeparamref name="T"/>: the value, or the problem to answer with.</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, CancellationToken ct)
    {
        var (doc, problem) = await ReadAsync(request, ct);
        if (problem is not null)
        {
            return (default, problem);
        }
        using (doc)
        {
            return Bind<T>(doc!.RootElement);
        }
    }

    /// <summary>Binds a JSON value to <typeparamref name="T"/>; a wrong type is reported with its path.</summary>
    public static (T? Value, IResult? Problem) Bind<T>(JsonElement element, string pointerPrefix = "")
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return (default, ApiProblems.Invalid(pointerPrefix.Length == 0 ? "/" : pointerPrefix, "Expected a JSON object."));
        }
        try
        {
            return (element.Deserialize<T>(ApiJson.Options), null);
        }
        catch (JsonException ex)
        {
            var path = ex.Path is { Length: > 1 } p ? pointerPrefix + "/" + p.TrimStart('$', '.').Replace('.', '/') : pointerPrefix + "/";
            return (default, ApiProblems.Invalid(path, "The value has the wrong type."));
        }
    }
}

internal static class ApiJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip,
    };
}
