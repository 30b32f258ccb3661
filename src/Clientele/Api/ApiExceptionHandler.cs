using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace Clientele.Api;

/// <summary>
/// Turns binding failures (malformed JSON, wrong types in a typed body) into problem documents that
/// say what and where, and anything unexpected into a plain 500 problem without internals.
/// </summary>
internal sealed class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        int status;
        string title, detail;
        var extensions = new Dictionary<string, object?>();
        switch (exception)
        {
            case BadHttpRequestException { InnerException: JsonException json }:
                status = StatusCodes.Status400BadRequest;
                title = "Bad request";
                var path = json.Path is { Length: > 1 } p ? "/" + p.TrimStart('$', '.').Replace('.', '/') : "/";
                detail = $"The body could not be read at {path}: {(json.LineNumber is { } l ? $"line {l + 1}, column {json.BytePositionInLine + 1}" : "wrong type")}.";
                extensions["pointer"] = path;
                break;
            case BadHttpRequestException bad:
                status = bad.StatusCode;
                title = "Bad request";
                detail = bad.Message;
                break;
            default:
                log.LogError(exception, "Unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
                status = StatusCodes.Status500InternalServerError;
                title = "Internal error";
                detail = "Something went wrong on our side. The error was logged with the trace id below.";
                break;
        }
        extensions["traceId"] = http.TraceIdentifier;
        http.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail, Instance = http.Request.Path, Extensions = extensions },
        });
    }
}
