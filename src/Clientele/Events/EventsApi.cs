using System.Text.Json;
using Clientele.Accounts;
using Clientele.Api;

namespace Clientele.Events;

internal static class EventsApi
{
    public static RouteGroupBuilder MapEvents(this RouteGroupBuilder api)
    {
        api.MapPost("/events", Ingest)
            .WithTags("Events")
            .RequireAuthorization(ApiKeys.WritePolicy)
            .Accepts<JsonElement>("application/json")
            .Produces<IngestResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Ingest a batch of up to 1,000 events")
            .WithDescription("Each event names its contact by email, externalId or contactId; unknown people are created as Leads. Bad items are rejected by index and never fail the batch; items whose idempotencyKey was seen before come back as duplicates.");
        return api;
    }

    internal static async Task<IResult> Ingest(HttpRequest request, EventIngest ingest, CancellationToken ct)
    {
        var (doc, problem) = await JsonBody.ReadAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        using (doc)
        {
            var root = doc!.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array)
            {
                return ApiProblems.BadRequest("Send a batch: {\"events\": [ {\"type\": \"order.placed\", \"email\": \"ann@example.com\", …} ]}.", "/events");
            }
            var count = events.GetArrayLength();
            if (count == 0)
            {
                return ApiProblems.BadRequest("The batch is empty: send at least one event.", "/events");
            }
            if (count > EventRules.MaxBatch)
            {
                return ApiProblems.Make(StatusCodes.Status413PayloadTooLarge, "Batch too large",
                    $"A batch holds at most {EventRules.MaxBatch:N0} events; this one has {count:N0}. Split it and send the parts.", "/events", null);
            }
            var results = await ingest.IngestAsync(events.EnumerateArray().ToList(), "api", ct);
            return TypedResults.Ok(new IngestResponse(results.Select(r => new IngestItem(
                r.Index, r.Status, r.EventId?.ToString(System.Globalization.CultureInfo.InvariantCulture), r.ContactId,
                r.Error is null ? null : new IngestError(r.Error.Field, "/events/" + r.Index + (r.Error.Field.Length > 0 ? "/" + r.Error.Field : ""), r.Error.Message))).ToList()));
        }
    }
}

internal sealed record IngestItem(int Index, string Status, string? EventId, Guid? ContactId, IngestError? Error);

/// <summary>Why an item was rejected: the field, its JSON pointer in the request, and what to fix.</summary>
internal sealed record IngestError(string Field, string Pointer, string Message);

internal sealed record IngestResponse(List<IngestItem> Results);
