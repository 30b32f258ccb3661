using Clientele.Accounts;
using Clientele.Api;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Feedback;

/// <summary><c>/api/v1/surveys</c>: the questions a journey's feedback step asks, with what the answers add up to.</summary>
internal static class SurveysApi
{
    public static RouteGroupBuilder MapSurveys(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/surveys").WithTags("Surveys");
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("Surveys with their answers: count, average, NPS or share satisfied");
        group.MapGet("/{id:guid}", GetAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithSummary("One survey, its results and its latest comments");
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiKeys.WritePolicy).Accepts<SurveyInput>("application/json")
            .WithSummary("Create a survey: {\"name\", \"kind\": \"nps\"|\"csat\"|\"rating\", \"question\", \"followUp\", \"sku\"}");
        api.MapGet("/feedback/settings", SettingsAsync).RequireAuthorization(ApiKeys.ReadPolicy).WithTags("Surveys")
            .WithSummary("Who counts as a detractor or a promoter, the ticket a detractor opens, and the words agreed to when a review is published");
        api.MapPut("/feedback/settings", SaveSettingsAsync).RequireAuthorization(ApiKeys.AdminPolicy).WithTags("Surveys").Accepts<FeedbackSettings>("application/json")
            .WithSummary("Change them: {\"detractor\": {\"nps\", \"csat\", \"rating\"}, \"promoter\": {…}, \"openTickets\", \"ticketPriority\", \"ticketAssignee\", \"consentWording\"}");
        return api;
    }

    private static async Task<IResult> SettingsAsync(ClienteleDb db, CancellationToken ct) =>
        TypedResults.Ok(await SettingsStore.LoadAsync(db, FeedbackSettings.Key, FeedbackSettings.Default, ct));

    private static async Task<IResult> SaveSettingsAsync(HttpRequest request, ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<FeedbackSettings>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (input!.Check() is { Count: > 0 } errors)
        {
            return ApiProblems.Invalid(errors);
        }
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            await SettingsStore.SaveAsync(db, FeedbackSettings.Key, input, time.GetUtcNow().UtcDateTime, ct);
        }
        return TypedResults.Ok(input);
    }

    internal sealed record SurveyInput(string? Name, string? Kind, string? Question, string? FollowUp, string? Sku);

    internal sealed record CommentDto(Guid ContactId, int Score, string Comment, DateTime AnsweredAt);

    internal sealed record SurveyDto(Guid Id, string Name, string Kind, string Question, string FollowUp, string? Sku, int Answers, double? Average,
        double? Nps, double? Satisfied, List<CommentDto> Comments, DateTime CreatedAt);

    internal static async Task<SurveyDto> DtoAsync(ClienteleDb db, Survey s, CancellationToken ct, int comments = 0)
    {
        var scores = await db.SurveyAnswers.AsNoTracking().Where(a => a.SurveyId == s.Id).Select(a => a.Score).ToListAsync(ct);
        var latest = comments == 0 ? [] : await db.SurveyAnswers.AsNoTracking().Where(a => a.SurveyId == s.Id && a.Comment != null)
            .OrderByDescending(a => a.AnsweredAt).Take(comments).Select(a => new CommentDto(a.ContactId, a.Score, a.Comment!, a.AnsweredAt)).ToListAsync(ct);
        return new SurveyDto(s.Id, s.Name, s.Kind, s.Question, s.FollowUp, s.Sku, scores.Count, scores.Count == 0 ? null : Math.Round(scores.Average(), 2),
            s.Kind == "nps" ? SurveyRules.NetPromoterScore(scores) : null, s.Kind == "nps" ? null : SurveyRules.Satisfied(scores), latest, s.CreatedAt);
    }

    private static async Task<IResult> ListAsync(ClienteleDb db, CancellationToken ct)
    {
        var list = new List<SurveyDto>();
        foreach (var s in await db.Surveys.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct))
        {
            list.Add(await DtoAsync(db, s, ct));
        }
        return TypedResults.Ok(list);
    }

    private static async Task<IResult> GetAsync(Guid id, ClienteleDb db, CancellationToken ct) =>
        await db.Surveys.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct) is { } s
            ? TypedResults.Ok(await DtoAsync(db, s, ct, comments: 50))
            : ApiProblems.NotFound($"There is no survey {id}.");

    private static async Task<IResult> CreateAsync(HttpRequest request, ClienteleDatabase database, TimeProvider time, CancellationToken ct)
    {
        var (input, problem) = await JsonBody.ReadAsync<SurveyInput>(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(input!.Name) || input.Name.Length > 200)
        {
            errors.Add(new("/name", "A name of 1 to 200 characters."));
        }
        var kind = input.Kind ?? "nps";
        if (!SurveyRules.Kinds.Contains(kind))
        {
            errors.Add(new("/kind", "The kind is nps (0–10), csat (1–5) or rating (1–5)."));
        }
        if (string.IsNullOrWhiteSpace(input.Question) || input.Question.Length > 500)
        {
            errors.Add(new("/question", "The question, 1 to 500 characters."));
        }
        if (input.FollowUp is { Length: > 500 })
        {
            errors.Add(new("/followUp", "At most 500 characters."));
        }
        if (errors.Count > 0)
        {
            return ApiProblems.Invalid(errors);
        }
        var now = time.GetUtcNow().UtcDateTime;
        var survey = new Survey
        {
            Id = Guid.CreateVersion7(),
            Name = input.Name!.Trim(),
            Kind = kind,
            Question = input.Question!.Trim(),
            FollowUp = string.IsNullOrWhiteSpace(input.FollowUp) ? SurveyRules.DefaultFollowUp(kind) : input.FollowUp.Trim(),
            Sku = input.Sku,
            CreatedAt = now,
        };
        await using var db = database.CreateDbContext();
        using (await database.EnterWriteAsync(ct))
        {
            if (await db.Surveys.AnyAsync(s => s.Name == survey.Name, ct))
            {
                return ApiProblems.Conflict($"There is a survey called \"{survey.Name}\" already.", "/name");
            }
            db.Surveys.Add(survey);
            await db.SaveChangesAsync(ct);
        }
        return TypedResults.Created($"/api/v1/surveys/{survey.Id}", await DtoAsync(db, survey, ct));
    }
}
