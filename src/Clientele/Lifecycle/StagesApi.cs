using System.Text.Json;
using System.Text.Json.Nodes;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;

namespace Clientele.Lifecycle;

/// <summary><c>/api/v1/stages/settings</c>: the stage rules' knobs.</summary>
internal static class StagesApi
{
    public static RouteGroupBuilder MapStages(this RouteGroupBuilder api)
    {
        var stages = api.MapGroup("/stages").WithTags("Stages");
        stages.MapGet("/settings", async (ClienteleDb db, CancellationToken ct) => TypedResults.Ok(await StageProjection.LoadSettingsAsync(db, ct)))
            .RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("The stage rules' settings");
        stages.MapPut("/settings", PutStageSettings).RequireAuthorization(ApiKeys.AdminPolicy).Accepts<LadderSettings>("application/json")
            .WithSummary("Change the stage rules; fields left out keep their value. Every contact is decided again at once.");
        return api;
    }

    internal static async Task<IResult> PutStageSettings(HttpRequest request, ClienteleDb db, TimeProvider time, StageSweepSignal sweep, CancellationToken ct)
    {
        var (doc, problem) = await JsonBody.ReadAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        using (doc)
        {
            if (doc!.RootElement.ValueKind != JsonValueKind.Object)
            {
                return ApiProblems.Invalid("/", "Expected a JSON object.");
            }
            // Start from the current settings so that fields left out keep their value.
            var current = await StageProjection.LoadSettingsAsync(db, ct);
            var merged = JsonNode.Parse(JsonSerializer.Serialize(current, StageProjection.Json))!.AsObject();
            foreach (var field in doc.RootElement.EnumerateObject())
            {
                merged[field.Name] = JsonNode.Parse(field.Value.GetRawText());
            }
            var (updated, bindProblem) = JsonBody.Bind<LadderSettings>(JsonDocument.Parse(merged.ToJsonString()).RootElement);
            if (bindProblem is not null)
            {
                return bindProblem;
            }
            var errors = updated!.Validate();
            if (errors.Count > 0)
            {
                return ApiProblems.Invalid(errors);
            }
            await SettingsStore.SaveAsync(db, StageProjection.SettingsKey, updated, time.GetUtcNow().UtcDateTime, ct);
            sweep.Notify();
            return TypedResults.Ok(updated);
        }
    }

}
