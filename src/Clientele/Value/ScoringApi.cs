using System.Text.Json;
using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Value;

/// <summary>
/// <c>/api/v1/scoring</c>: start a scoring run, follow it, read its diagnostics, and change how value is scored.
/// </summary>
internal static class ScoringApi
{
    public static RouteGroupBuilder MapScoring(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/scoring").WithTags("Customer value");
        group.MapPost("/runs", RequestRun).RequireAuthorization(ApiKeys.WritePolicy)
            .WithSummary("Score customer value now (queued; a run already waiting is returned instead of a second one)");
        group.MapGet("/runs", ListRuns).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("Recent scoring runs, newest first");
        group.MapGet("/runs/{id:guid}", GetRun).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("One scoring run with its fit diagnostics");
        group.MapGet("/settings", GetSettings).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("How value is scored");
        group.MapPut("/settings", PutSettings).RequireAuthorization(ApiKeys.AdminPolicy).Accepts<ScoringSettingsInput>("application/json")
            .WithSummary("Change how value is scored; fields left out keep their value. Takes effect at the next run.");
        return api;
    }

    internal static async Task<IResult> RequestRun(ClienteleDb db, ScoringSignal signal, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var (run, _) = await ScoringJob.RequestAsync(db, "api", http.User.Identity?.Name, time.GetUtcNow().UtcDateTime, ct);
        signal.Notify();
        return TypedResults.Accepted($"/api/v1/scoring/runs/{run.Id}", ScoringRunDto.From(run));
    }

    internal static async Task<IResult> ListRuns(ClienteleDb db, CancellationToken ct, int limit = 20)
    {
        if (limit is < 1 or > 200)
        {
            return ApiProblems.Invalid("limit", "Between 1 and 200.");
        }
        var runs = await db.ScoringRuns.AsNoTracking().OrderByDescending(r => r.RequestedAt).Take(limit).ToListAsync(ct);
        return TypedResults.Ok(runs.Select(ScoringRunDto.From).ToList());
    }

    internal static async Task<IResult> GetRun(Guid id, ClienteleDb db, CancellationToken ct) =>
        await db.ScoringRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct) is { } run
            ? TypedResults.Ok(ScoringRunDto.From(run))
            : ApiProblems.NotFound($"There is no scoring run {id}.");

    internal static async Task<IResult> GetSettings(ClienteleDb db, CancellationToken ct) =>
        TypedResults.Ok(await ScoringJob.LoadSettingsAsync(db, ct));

    internal static async Task<IResult> PutSettings(HttpRequest request, ClienteleDb db, TimeProvider time, CancellationToken ct)
    {
        var (doc, problem) = await JsonBody.ReadAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        using (doc)
        {
            var (input, bindProblem) = JsonBody.Bind<ScoringSettingsInput>(doc!.RootElement);
            if (bindProblem is not null)
            {
                return bindProblem;
            }
            var current = await ScoringJob.LoadSettingsAsync(db, ct);
            var updated = input!.ApplyTo(current);
            var errors = updated.Validate();
            if (errors.Count > 0)
            {
                return ApiProblems.Invalid(errors);
            }
            await ScoringJob.SaveSettingsAsync(db, updated, time.GetUtcNow().UtcDateTime, ct);
            return TypedResults.Ok(updated);
        }
    }
}

/// <summary>A change to <see cref="ScoringSettings"/>; null fields are left as they are.</summary>
internal sealed record ScoringSettingsInput(
    string? Model, double? Margin, double? AnnualDiscountRate, int? HorizonMonths, double? ActiveAbove, double? LapsedBelow)
{
    public ScoringSettings ApplyTo(ScoringSettings s) => new(
        Model?.Trim().ToLowerInvariant() ?? s.Model,
        Margin ?? s.Margin,
        AnnualDiscountRate ?? s.AnnualDiscountRate,
        HorizonMonths ?? s.HorizonMonths,
        ActiveAbove ?? s.ActiveAbove,
        LapsedBelow ?? s.LapsedBelow);
}

internal sealed record ScoringRunDto(
    Guid Id, string Status, string Trigger, string? RequestedBy, DateTime RequestedAt, DateTime? StartedAt, DateTime? FinishedAt,
    int Contacts, string? Error, JsonElement? Diagnostics, JsonElement Settings)
{
    public static ScoringRunDto From(ScoringRun r) => new(
        r.Id, r.Status.ToString().ToLowerInvariant(), r.Trigger, r.RequestedBy, r.RequestedAt, r.StartedAt, r.FinishedAt, r.Contacts, r.Error,
        r.Diagnostics is null ? null : JsonDocument.Parse(r.Diagnostics).RootElement.Clone(),
        JsonDocument.Parse(r.Settings).RootElement.Clone());
}
