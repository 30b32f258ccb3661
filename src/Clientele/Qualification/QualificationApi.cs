using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;

namespace Clientele.Qualification;

/// <summary><c>/api/v1/qualification/settings</c>: the lead-scoring rules, threshold, half-life and qualifying facts.</summary>
internal static class QualificationApi
{
    public static RouteGroupBuilder MapQualification(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/qualification").WithTags("Qualification");
        group.MapGet("/settings", async (ClienteleDb db, CancellationToken ct) => TypedResults.Ok(await QualificationProjection.LoadSettingsAsync(db, ct)))
            .RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("Lead-scoring rules, threshold, half-life and the interest and authority attributes");
        group.MapPut("/settings", PutSettings).RequireAuthorization(ApiKeys.AdminPolicy).Accepts<QualificationSettings>("application/json")
            .WithSummary("Replace the lead-scoring settings; they apply to events from now on (and to decay at the next daily run)");
        return api;
    }

    internal static async Task<IResult> PutSettings(HttpRequest request, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        var (doc, problem) = await JsonBody.ReadAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        using (doc)
        {
            var (settings, bindProblem) = JsonBody.Bind<QualificationSettings>(doc!.RootElement);
            if (bindProblem is not null)
            {
                return bindProblem;
            }
            var errors = settings!.Validate();
            if (errors.Count > 0)
            {
                return ApiProblems.Invalid(errors);
            }
            await SettingsStore.SaveAsync(db, QualificationProjection.SettingsKey, settings, time.GetUtcNow().UtcDateTime, ct);
            return TypedResults.Ok(settings);
        }
    }
}
