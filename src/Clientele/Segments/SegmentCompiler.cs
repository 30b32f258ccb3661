using System.Linq.Expressions;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Events;
using Clientele.Lifecycle;
using Clientele.Support;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Segments;

/// <summary>
/// Turns a parsed segment into a predicate on contacts that EF Core translates to SQL (correlated subqueries for
/// orders, lines and events), so a segment is counted and listed inside the database, never in memory.
/// </summary>
internal static class SegmentCompiler
{
    private static readonly string[] TextFields = ["email", "firstName", "lastName", "phone", "locale", "timeZone", "source", "referrer", "utmSource", "utmMedium", "utmCampaign"];
    private static readonly string[] ValueFields = ["pAlive", "expectedPurchases90", "expectedPurchases365", "clv", "rfm"];
    private static readonly string[] OtherFields = ["stage", "score", "health", "tag", "consent.<topic>", "attributes.<name>", "birthday", "createdAt", "lastActivity",
        "nps", "nps.category", "tickets.open", "tickets.breached"];
    private static readonly string[] Calls = ["orders.count", "orders.revenue", "orders.first", "orders.last", "events.count", "events.first", "events.last", "bought", "sent", "opened", "clicked", "segment",
        "survey.answered", "survey.score", "tickets.count"];

    /// <summary>Every score a survey answer can have (NPS 0–10; CSAT and ratings 1–5): comparisons become the scores that satisfy them.</summary>
    private const int LowestScore = 0, HighestScore = 10;

    /// <summary>NPS categories and the scores in each.</summary>
    internal static readonly IReadOnlyDictionary<string, (int Low, int High)> NpsCategories = new Dictionary<string, (int, int)>(StringComparer.OrdinalIgnoreCase)
    {
        ["detractor"] = (0, 6),
        ["passive"] = (7, 8),
        ["promoter"] = (9, 10),
    };

    /// <summary>
    /// The condition as a predicate on contacts. <paramref name="few"/>: the query is limited to a few contacts
    /// (membership updates), so counts over orders and events stay correlated per contact; over everyone (counts,
    /// previews, rebuilds) PostgreSQL gets them as one grouped subquery where that is equivalent.
    /// </summary>
    public static Expression<Func<Contact, bool>> Compile(SegmentNode node, ClienteleDb db, DateTime now, bool few = false)
    {
        var c = Expression.Parameter(typeof(Contact), "c");
        return Expression.Lambda<Func<Contact, bool>>(Build(node, c, db, now, few), c);
    }

    private static Expression Build(SegmentNode node, ParameterExpression c, ClienteleDb db, DateTime now, bool few) => node switch
    {
        SegmentNode.And a => Expression.AndAlso(Build(a.Left, c, db, now, few), Build(a.Right, c, db, now, few)),
        SegmentNode.Or o => Expression.OrElse(Build(o.Left, c, db, now, few), Build(o.Right, c, db, now, few)),
        SegmentNode.Not n => Expression.Not(Build(n.Inner, c, db, now, few)),
        SegmentNode.Compare x => Bind(CompareExpr(x, db, now), c),
        SegmentNode.Call x => Bind(CallExpr(x, db, now, few), c),
        SegmentNode.Within w => Bind(WithinExpr(w, now), c),
        _ => throw new ArgumentOutOfRangeException(nameof(node)),
    };

    /// <summary>Whether a contact with no rows (an aggregate of 0) satisfies <c>op n</c>.</summary>
    private static bool ZeroHolds(string op, SegmentValue at, double n) =>
        Holds(op, 0d.CompareTo(n)) ?? throw Error($"Numbers compare with =, !=, <, <=, > or >=, not {op}.", at);

    /// <summary>
    /// <c>aggregate(rows of the contact) op n</c>, where a contact without rows fails it, as membership of one grouped
    /// subquery that PostgreSQL computes once and hashes, instead of a subquery per contact. (SQLite does better with
    /// the correlated form, which it runs only for contacts that pass the cheaper conditions.)
    /// </summary>
    private static Expression<Func<Contact, bool>> Grouped<T>(IQueryable<T> rows, Expression<Func<T, Guid>> contact,
        Expression<Func<IGrouping<Guid, T>, double>> aggregate, string op, SegmentValue at, double n)
    {
        var having = Expression.Lambda<Func<IGrouping<Guid, T>, bool>>(Numeric(op, at, aggregate.Body, n), aggregate.Parameters);
        var ids = rows.GroupBy(contact).Where(having).Select(g => g.Key);
        return c => ids.Contains(c.Id);
    }

    /// <summary>Inlines a lambda's body with its parameter replaced by the shared contact parameter.</summary>
    private static Expression Bind(Expression<Func<Contact, bool>> lambda, ParameterExpression c) => new Rebind(lambda.Parameters[0], c).Visit(lambda.Body);

    private sealed class Rebind(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }

    private static Expression<Func<Contact, bool>> CompareExpr(SegmentNode.Compare x, ClienteleDb db, DateTime now)
    {
        var field = x.Field;
        if (Is(field, "stage"))
        {
            var stage = StageOf(x.Value);
            return Ordered(x, stage, s => c => c.Stage == s, s => c => c.Stage != s, s => c => c.Stage < s, s => c => c.Stage <= s, s => c => c.Stage > s, s => c => c.Stage >= s);
        }
        if (Is(field, "score"))
        {
            var n = (int)NumberOf(x.Value);
            return Ordered(x, n, v => c => c.Score == v, v => c => c.Score != v, v => c => c.Score < v, v => c => c.Score <= v, v => c => c.Score > v, v => c => c.Score >= v);
        }
        if (Is(field, "health"))
        {
            var word = TextOf(x.Value);
            if (!StageNames.TryParseHealth(word, out var health))
            {
                throw Error($"\"{word}\" is not a health; use active, at-risk, lapsed or unknown.", x.Value);
            }
            return Equality(x, health, h => c => c.Health == h, h => c => c.Health != h);
        }
        if (Is(field, "tag"))
        {
            var tag = TextOf(x.Value);
            return Equality(x, tag, t => c => c.Tags.Contains(t), t => c => !c.Tags.Contains(t));
        }
        if (field.StartsWith("consent.", StringComparison.OrdinalIgnoreCase))
        {
            var topic = field["consent.".Length..];
            if (!ConsentRules.TryParseStatus(TextOf(x.Value), out var status))
            {
                throw Error("A consent is subscribed, unsubscribed or pending.", x.Value);
            }
            return Equality(x, status, s => c => c.Consents.Any(k => k.Topic == topic && k.Status == s), s => c => !c.Consents.Any(k => k.Topic == topic && k.Status == s));
        }
        if (ValueFields.FirstOrDefault(f => Is(field, f)) is { } value)
        {
            if (value == "rfm")
            {
                var cell = TextOf(x.Value);
                return Equality(x, cell, v => c => c.Value != null && c.Value.RfmCell == v, v => c => c.Value == null || c.Value.RfmCell != v);
            }
            var n = NumberOf(x.Value);
            Expression<Func<Contact, double>> selector = value switch
            {
                "pAlive" => c => c.Value!.ProbabilityAlive,
                "expectedPurchases90" => c => c.Value!.ExpectedPurchases90,
                "expectedPurchases365" => c => c.Value!.ExpectedPurchases365,
                _ => c => (double)c.Value!.PredictedValue,
            };
            var body = Numeric(x, selector.Body, n);
            var scored = Expression.NotEqual(Expression.Property(selector.Parameters[0], nameof(Contact.Value)), Expression.Constant(null, typeof(ContactValueScores)));
            return Expression.Lambda<Func<Contact, bool>>(Expression.AndAlso(scored, body), selector.Parameters);
        }
        if (Is(field, "nps"))
        {
            var n = NumberOf(x.Value);
            return LatestScoreIn(db, NpsAnswers, DateTime.MinValue, ScoresWhere(x.Op, x.Value, n));
        }
        if (Is(field, "nps.category"))
        {
            var word = TextOf(x.Value);
            if (!NpsCategories.TryGetValue(word, out var range))
            {
                throw Error($"\"{word}\" is not an NPS category; use detractor (0–6), passive (7–8) or promoter (9–10).", x.Value);
            }
            var scores = x.Op switch
            {
                "=" => Enumerable.Range(range.Low, range.High - range.Low + 1),
                "!=" => Enumerable.Range(0, 11).Where(s => s < range.Low || s > range.High),
                _ => throw Error($"nps.category compares with = or !=, not {x.Op}.", x.Value),
            };
            return LatestScoreIn(db, NpsAnswers, DateTime.MinValue, Texts(scores));
        }
        if (Is(field, "tickets.open"))
        {
            var n = NumberOf(x.Value);
            Expression<Func<Contact, int>> count = c => db.Tickets.Count(t => t.ContactId == c.Id && t.Status != TicketStatus.Solved);
            return Expression.Lambda<Func<Contact, bool>>(Numeric(x, count.Body, n), count.Parameters);
        }
        if (Is(field, "tickets.breached"))
        {
            // Still waiting for a first response past the ticket's breach time, as Sla.State says; a ticket from before
            // breach times were kept is measured against the support.sla setting's limit.
            var n = NumberOf(x.Value);
            var legacy = now - TimeSpan.FromHours(SlaLimitHours(db));
            Expression<Func<Contact, int>> count = c => db.Tickets.Count(t => t.ContactId == c.Id && t.Status != TicketStatus.Solved && t.FirstRespondedAt == null
                && (t.BreachAt != null ? t.BreachAt < now : t.CreatedAt < legacy));
            return Expression.Lambda<Func<Contact, bool>>(Numeric(x, count.Body, n), count.Parameters);
        }
        if (field.StartsWith("attributes.", StringComparison.OrdinalIgnoreCase) && field.Length > "attributes.".Length)
        {
            var key = field["attributes.".Length..];
            var v = TextOf(x.Value);
            var p = Expression.Parameter(typeof(Contact), "c");
            var call = Expression.Call(typeof(ClienteleDb).GetMethod(nameof(ClienteleDb.AttributeText))!,
                Expression.Property(p, nameof(Contact.Attributes)), Expression.Constant(key));
            Expression body = x.Op switch
            {
                "=" => Expression.Equal(call, Expression.Constant(v, typeof(string))),
                "!=" => Expression.NotEqual(Expression.Coalesce(call, Expression.Constant("")), Expression.Constant(v, typeof(string))), // absent counts as different
                "contains" => Expression.AndAlso(
                    Expression.NotEqual(call, Expression.Constant(null, typeof(string))),
                    Expression.Call(call, typeof(string).GetMethod(nameof(string.Contains), [typeof(string)])!, Expression.Constant(v))),
                _ => throw Error($"Attributes compare as text with =, != or contains, not {x.Op}.", x.Value),
            };
            return Expression.Lambda<Func<Contact, bool>>(body, p);
        }
        if (TextFields.FirstOrDefault(f => Is(field, f)) is { } text)
        {
            var property = char.ToUpperInvariant(text[0]) + text[1..];
            var v = TextOf(x.Value);
            var p = Expression.Parameter(typeof(Contact), "c");
            Expression member = Expression.Property(p, property == "Email" ? nameof(Contact.EmailNormalized) : property);
            var compared = property == "Email" ? v.ToLowerInvariant() : v;
            Expression body = x.Op switch
            {
                "=" => Expression.Equal(member, Expression.Constant(compared, typeof(string))),
                "!=" => Expression.NotEqual(member, Expression.Constant(compared, typeof(string))),
                "contains" => Expression.AndAlso(
                    Expression.NotEqual(member, Expression.Constant(null, typeof(string))),
                    Expression.Call(member, typeof(string).GetMethod(nameof(string.Contains), [typeof(string)])!, Expression.Constant(compared))),
                _ => throw Error($"Text fields compare with =, != or contains, not {x.Op}.", x.Value),
            };
            return Expression.Lambda<Func<Contact, bool>>(body, p);
        }
        throw Unknown(field, x.Line, x.Column);
    }

    private static Expression<Func<Contact, bool>> CallExpr(SegmentNode.Call x, ClienteleDb db, DateTime now, bool few)
    {
        var since = x.Args.TryGetValue("within", out var w) ? now - DurationOf(w) : DateTime.MinValue;
        var name = x.Name.ToLowerInvariant();
        switch (name)
        {
            case "orders.count":
                {
                    var n = (int)NumberOf(Required(x));
                    if (!few && db.Kind == DatabaseKind.Postgres && !ZeroHolds(x.Op!, x.Value!, n))
                    {
                        return Grouped(db.Orders.Where(o => o.Status == OrderStatus.Placed && o.PlacedAt >= since), o => o.ContactId, g => g.Count(), x.Op!, x.Value!, n);
                    }
                    Expression<Func<Contact, int>> count = c => db.Orders.Count(o => o.ContactId == c.Id && o.Status == OrderStatus.Placed && o.PlacedAt >= since);
                    return Expression.Lambda<Func<Contact, bool>>(Numeric(x.Op!, x.Value!, count.Body, n), count.Parameters);
                }
            case "orders.revenue":
                {
                    var n = NumberOf(Required(x));
                    if (!few && db.Kind == DatabaseKind.Postgres && !ZeroHolds(x.Op!, x.Value!, n))
                    {
                        return Grouped(db.Orders.Where(o => o.Status == OrderStatus.Placed && o.PlacedAt >= since), o => o.ContactId, g => g.Sum(o => (double)o.Total), x.Op!, x.Value!, n);
                    }
                    Expression<Func<Contact, double>> sum = c => db.Orders.Where(o => o.ContactId == c.Id && o.Status == OrderStatus.Placed && o.PlacedAt >= since).Sum(o => (double)o.Total);
                    return Expression.Lambda<Func<Contact, bool>>(Numeric(x.Op!, x.Value!, sum.Body, n), sum.Parameters);
                }
            case "events.count":
                {
                    var n = (int)NumberOf(Required(x));
                    var filter = EventFilter(x, x.Args.TryGetValue("type", out var t) ? TextOf(t) : null);
                    if (!few && db.Kind == DatabaseKind.Postgres && !ZeroHolds(x.Op!, x.Value!, n))
                    {
                        return Grouped(db.Events.Where(filter).Where(e => e.OccurredAt >= since), e => e.ContactId, g => g.Count(), x.Op!, x.Value!, n);
                    }
                    Expression<Func<Contact, int>> count = c => db.Events.Where(filter).Count(e => e.ContactId == c.Id && e.OccurredAt >= since);
                    return Expression.Lambda<Func<Contact, bool>>(Numeric(x.Op!, x.Value!, count.Body, n), count.Parameters);
                }
            case "events.first" or "events.last":
                {
                    NoComparison(x);
                    var filter = EventFilter(x, x.Args.TryGetValue("type", out var t) ? TextOf(t) : throw new SegmentQueryException($"{x.Name}(…) needs type: \"…\".", x.Line, x.Column));
                    return name == "events.last"
                        ? c => db.Events.Where(filter).Any(e => e.ContactId == c.Id && e.OccurredAt >= since)
                        : c => db.Events.Where(filter).Any(e => e.ContactId == c.Id && e.OccurredAt >= since)
                            && !db.Events.Where(filter).Any(e => e.ContactId == c.Id && e.OccurredAt < since);
                }
            case "orders.first" or "orders.last":
                {
                    NoComparison(x);
                    NoOtherArgs(x, "within");
                    return name == "orders.last"
                        ? c => db.Orders.Any(o => o.ContactId == c.Id && o.Status == OrderStatus.Placed && o.PlacedAt >= since)
                        : c => db.Orders.Any(o => o.ContactId == c.Id && o.Status == OrderStatus.Placed && o.PlacedAt >= since)
                            && !db.Orders.Any(o => o.ContactId == c.Id && o.Status == OrderStatus.Placed && o.PlacedAt < since);
                }
            case "bought":
                {
                    NoComparison(x);
                    var category = x.Args.TryGetValue("category", out var cat) ? TextOf(cat) : null;
                    var sku = x.Args.TryGetValue("sku", out var s) ? TextOf(s) : null;
                    if (category is null && sku is null)
                    {
                        throw new SegmentQueryException("bought(…) needs category: \"…\" or sku: \"…\".", x.Line, x.Column);
                    }
                    return c => db.OrderLines.Any(l => l.ContactId == c.Id
                        && (category == null || l.Category == category) && (sku == null || l.Sku == sku)
                        && db.Orders.Any(o => o.Id == l.OrderId && o.Status == OrderStatus.Placed && o.PlacedAt >= since));
                }
            case "segment":
                {
                    NoComparison(x);
                    var segmentName = x.Args.TryGetValue("name", out var n) ? TextOf(n) : throw new SegmentQueryException("segment(…) needs name: \"…\".", x.Line, x.Column);
                    return c => db.SegmentMembers.Any(m => m.ContactId == c.Id && db.Segments.Any(s => s.Id == m.SegmentId && s.Name == segmentName));
                }
            case "sent" or "opened" or "clicked":
                {
                    NoComparison(x);
                    var filter = EventFilter(x, "email." + name);
                    return c => db.Events.Where(filter).Any(e => e.ContactId == c.Id && e.OccurredAt >= since);
                }
            case "survey.answered":
                {
                    NoComparison(x);
                    var filter = EventFilter(x, "survey.answered");
                    return c => db.Events.Where(filter).Any(e => e.ContactId == c.Id && e.OccurredAt >= since);
                }
            case "survey.score":
                {
                    var value = Required(x);
                    return LatestScoreIn(db, EventFilter(x, "survey.answered"), since, ScoresWhere(x.Op!, value, NumberOf(value)));
                }
            case "tickets.count":
                {
                    NoOtherArgs(x, "within", "channel");
                    var n = (int)NumberOf(Required(x));
                    var channel = x.Args.TryGetValue("channel", out var ch) ? TextOf(ch) : null;
                    Expression<Func<Contact, int>> count = c => db.Tickets.Count(t => t.ContactId == c.Id && t.CreatedAt >= since && (channel == null || t.Channel == channel));
                    return Expression.Lambda<Func<Contact, bool>>(Numeric(x.Op!, x.Value!, count.Body, n), count.Parameters);
                }
            default:
                throw Unknown(x.Name, x.Line, x.Column, Calls);
        }
    }

    /// <summary>
    /// Events of one type (any type when null) whose properties match the call's other arguments as text:
    /// <c>events.count(type: "page.viewed", path: "/pricing")</c> counts views of the pricing page.
    /// </summary>
    private static Expression<Func<Event, bool>> EventFilter(SegmentNode.Call x, string? type)
    {
        var e = Expression.Parameter(typeof(Event), "e");
        Expression body = type is null
            ? Expression.Constant(true)
            : Expression.Equal(Expression.Property(e, nameof(Event.Type)), Expression.Constant(type));
        foreach (var (key, value) in x.Args.Where(a => !Is(a.Key, "type") && !Is(a.Key, "within")).OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            var property = Expression.Call(typeof(ClienteleDb).GetMethod(nameof(ClienteleDb.AttributeText))!,
                Expression.Property(e, nameof(Event.Properties)), Expression.Constant(key));
            var text = value.Number is { } number ? number.ToString(System.Globalization.CultureInfo.InvariantCulture) : TextOf(value);
            body = Expression.AndAlso(body, Expression.Equal(property, Expression.Constant(text, typeof(string))));
        }
        return Expression.Lambda<Func<Event, bool>>(body, e);
    }

    /// <summary>Answers to NPS surveys: <c>survey.answered</c> events of kind <c>nps</c>.</summary>
    private static readonly Expression<Func<Event, bool>> NpsAnswers =
        e => e.Type == "survey.answered" && ClienteleDb.AttributeText(e.Properties, "kind") == "nps";

    /// <summary>
    /// The score of the contact's latest answer among <paramref name="answers"/> since <paramref name="since"/> is one of
    /// <paramref name="scores"/> (as text, as the log holds it); a contact with no such answer matches no comparison.
    /// The latest answer wins, so clicking another score in the same e-mail counts as the new answer.
    /// </summary>
    private static Expression<Func<Contact, bool>> LatestScoreIn(ClienteleDb db, Expression<Func<Event, bool>> answers, DateTime since, List<string> scores) =>
        c => scores.Contains(db.Events.Where(answers).Where(e => e.ContactId == c.Id && e.OccurredAt >= since)
            .OrderByDescending(e => e.OccurredAt).ThenByDescending(e => e.Id)
            .Select(e => ClienteleDb.AttributeText(e.Properties, "score")).FirstOrDefault()!);

    /// <summary>The whole scores that satisfy <c>op n</c>.</summary>
    private static List<string> ScoresWhere(string op, SegmentValue at, double n)
    {
        if (op is not ("=" or "!=" or "<" or "<=" or ">" or ">="))
        {
            throw Error($"Scores compare with =, !=, <, <=, > or >=, not {op}.", at);
        }
        return Texts(Enumerable.Range(LowestScore, HighestScore - LowestScore + 1).Where(s => Holds(op, ((double)s).CompareTo(n)) == true));
    }

    private static List<string> Texts(IEnumerable<int> scores) => [.. scores.Select(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>The acceptable first-response time, in hours, from the support settings (read only for a query that asks about breaches).</summary>
    private static int SlaLimitHours(ClienteleDb db)
    {
        var json = db.Settings.AsNoTracking().Where(s => s.Key == SlaPolicy.Key).Select(s => s.Value).FirstOrDefault();
        var policy = json is null ? SlaPolicy.Default : System.Text.Json.JsonSerializer.Deserialize<SlaPolicy>(json, EventJson.Options) ?? SlaPolicy.Default;
        return policy.LimitHours;
    }

    private static void NoOtherArgs(SegmentNode.Call x, params string[] allowed)
    {
        if (x.Args.Keys.FirstOrDefault(k => !allowed.Any(a => Is(a, k))) is { } other)
        {
            throw new SegmentQueryException($"{x.Name}(…) takes {string.Join(", ", allowed.Select(a => a + ":"))} only, not {other}:.", x.Line, x.Column);
        }
    }

    private static Expression<Func<Contact, bool>> WithinExpr(SegmentNode.Within w, DateTime now)
    {
        var days = (int)Math.Ceiling(w.Span.TotalDays);
        if (Is(w.Field, "birthday"))
        {
            // The next birthday falls in the coming days: match month and day against the dates ahead.
            var ahead = Enumerable.Range(0, Math.Min(days + 1, 366)).Select(d => DateOnly.FromDateTime(now).AddDays(d)).Select(d => d.Month * 100 + d.Day).Distinct().ToList();
            return c => c.Birthday != null && ahead.Contains(c.Birthday.Value.Month * 100 + c.Birthday.Value.Day);
        }
        var since = now - w.Span;
        if (Is(w.Field, "createdAt"))
        {
            return c => c.CreatedAt >= since;
        }
        if (Is(w.Field, "lastActivity"))
        {
            return c => c.LastActivityAt != null && c.LastActivityAt >= since;
        }
        throw new SegmentQueryException($"\"{w.Field}\" cannot be used with within; use birthday, createdAt or lastActivity.", w.Line, w.Column);
    }

    /// <summary>
    /// What a condition says of one loaded contact (with its consents), as far as the contact row alone decides it:
    /// true or false for stage, score, health, tags, consent, predictions and dates; null (unknown) for anything that
    /// needs orders, events, other segments or text matching, which only the database answers. Used to skip queries
    /// that cannot change a membership; it never decides a move on its own.
    /// </summary>
    public static bool? Guess(SegmentNode node, Contact c, DateTime now)
    {
        try
        {
            return c.DeletedAt is not null ? false : GuessNode(node, c, now);
        }
        catch (SegmentQueryException)
        {
            return null;
        }
    }

    private static bool? GuessNode(SegmentNode node, Contact c, DateTime now) => node switch
    {
        SegmentNode.And a => GuessNode(a.Left, c, now) is var l && l == false ? false : GuessNode(a.Right, c, now) is var r && r == false ? false : l == true && r == true ? true : null,
        SegmentNode.Or o => GuessNode(o.Left, c, now) is var l && l == true ? true : GuessNode(o.Right, c, now) is var r && r == true ? true : l == false && r == false ? false : null,
        SegmentNode.Not n => !GuessNode(n.Inner, c, now),
        SegmentNode.Compare x => GuessCompare(x, c),
        SegmentNode.Within w when Is(w.Field, "birthday") => c.Birthday is { } b && Enumerable.Range(0, Math.Min((int)Math.Ceiling(w.Span.TotalDays) + 1, 366))
            .Select(d => DateOnly.FromDateTime(now).AddDays(d)).Any(d => d.Month == b.Month && d.Day == b.Day),
        SegmentNode.Within w when Is(w.Field, "createdAt") => c.CreatedAt >= now - w.Span,
        SegmentNode.Within w when Is(w.Field, "lastActivity") => c.LastActivityAt is { } at && at >= now - w.Span,
        _ => null,
    };

    private static bool? GuessCompare(SegmentNode.Compare x, Contact c)
    {
        var field = x.Field;
        if (Is(field, "stage"))
        {
            return Holds(x.Op, ((int)c.Stage).CompareTo((int)StageOf(x.Value)));
        }
        if (Is(field, "score"))
        {
            return Holds(x.Op, c.Score.CompareTo((int)NumberOf(x.Value)));
        }
        if (Is(field, "health") && StageNames.TryParseHealth(TextOf(x.Value), out var health) && x.Op is "=" or "!=")
        {
            return (c.Health == health) == (x.Op == "=");
        }
        if (Is(field, "tag") && x.Op is "=" or "!=")
        {
            return c.Tags.Contains(TextOf(x.Value), StringComparer.Ordinal) == (x.Op == "=");
        }
        if (field.StartsWith("consent.", StringComparison.OrdinalIgnoreCase) && ConsentRules.TryParseStatus(TextOf(x.Value), out var status) && x.Op is "=" or "!=")
        {
            var topic = field["consent.".Length..];
            return c.Consents.Any(k => k.Topic == topic && k.Status == status) == (x.Op == "=");
        }
        if (ValueFields.FirstOrDefault(f => Is(field, f)) is { } value && value != "rfm")
        {
            if (c.Value is not { } v)
            {
                return false;
            }
            var n = NumberOf(x.Value);
            var actual = value switch
            {
                "pAlive" => v.ProbabilityAlive,
                "expectedPurchases90" => v.ExpectedPurchases90,
                "expectedPurchases365" => v.ExpectedPurchases365,
                _ => (double)v.PredictedValue,
            };
            return Holds(x.Op, actual.CompareTo(n));
        }
        return null;
    }

    private static bool? Holds(string op, int comparison) => op switch
    {
        "=" => comparison == 0,
        "!=" => comparison != 0,
        "<" => comparison < 0,
        "<=" => comparison <= 0,
        ">" => comparison > 0,
        ">=" => comparison >= 0,
        _ => null,
    };

    private static Expression<Func<Contact, bool>> Ordered<T>(SegmentNode.Compare x, T value,
        Func<T, Expression<Func<Contact, bool>>> eq, Func<T, Expression<Func<Contact, bool>>> ne,
        Func<T, Expression<Func<Contact, bool>>> lt, Func<T, Expression<Func<Contact, bool>>> le,
        Func<T, Expression<Func<Contact, bool>>> gt, Func<T, Expression<Func<Contact, bool>>> ge) => x.Op switch
        {
            "=" => eq(value),
            "!=" => ne(value),
            "<" => lt(value),
            "<=" => le(value),
            ">" => gt(value),
            ">=" => ge(value),
            _ => throw Error($"{x.Field} compares with =, !=, <, <=, > or >=, not {x.Op}.", x.Value),
        };

    private static Expression<Func<Contact, bool>> Equality<T>(SegmentNode.Compare x, T value, Func<T, Expression<Func<Contact, bool>>> eq, Func<T, Expression<Func<Contact, bool>>> ne) => x.Op switch
    {
        "=" => eq(value),
        "!=" => ne(value),
        _ => throw Error($"{x.Field} compares with = or !=, not {x.Op}.", x.Value),
    };

    private static Expression Numeric(SegmentNode.Compare x, Expression left, double n) => Numeric(x.Op, x.Value, left, n);

    private static Expression Numeric(string op, SegmentValue at, Expression left, double n)
    {
        var right = Expression.Constant(Convert.ChangeType(n, left.Type, System.Globalization.CultureInfo.InvariantCulture), left.Type);
        return op switch
        {
            "=" => Expression.Equal(left, right),
            "!=" => Expression.NotEqual(left, right),
            "<" => Expression.LessThan(left, right),
            "<=" => Expression.LessThanOrEqual(left, right),
            ">" => Expression.GreaterThan(left, right),
            ">=" => Expression.GreaterThanOrEqual(left, right),
            _ => throw Error($"Numbers compare with =, !=, <, <=, > or >=, not {op}.", at),
        };
    }

    private static SegmentValue Required(SegmentNode.Call x) => x.Value ?? throw new SegmentQueryException(
        $"{x.Name}(…) is a number: compare it, e.g. {x.Name}(within: 90d) >= 2.", x.Line, x.Column);

    private static void NoComparison(SegmentNode.Call x)
    {
        if (x.Op is not null)
        {
            throw new SegmentQueryException($"{x.Name}(…) is true or false: use it alone, or with not.", x.Line, x.Column);
        }
    }

    private static Stage StageOf(SegmentValue v) => StageNames.TryParse(v.Word ?? v.Text, out var stage)
        ? stage
        : throw Error($"\"{v}\" is not a stage; use one of {string.Join(", ", Enum.GetValues<Stage>().Select(s => s.Display()))}.", v);

    private static double NumberOf(SegmentValue v) => v.Number ?? throw Error($"Expected a number, found {v}.", v);

    private static TimeSpan DurationOf(SegmentValue v) => v.Duration ?? throw Error($"Expected a duration such as 30d, found {v}.", v);

    private static string TextOf(SegmentValue v) => v.Text ?? v.Word ?? throw Error($"Expected a \"text\" value, found {v}.", v);

    private static bool Is(string field, string name) => string.Equals(field, name, StringComparison.OrdinalIgnoreCase);

    private static SegmentQueryException Error(string message, SegmentValue at) => new(message, at.Line, at.Column);

    /// <summary>An unknown name, with the closest known one as a suggestion.</summary>
    private static SegmentQueryException Unknown(string name, int line, int column, IEnumerable<string>? known = null)
    {
        var names = (known ?? TextFields.Concat(ValueFields).Concat(OtherFields)).ToList();
        var best = names.MinBy(n => Distance(n.ToLowerInvariant(), name.ToLowerInvariant()));
        var hint = best is not null && Distance(best.ToLowerInvariant(), name.ToLowerInvariant()) <= Math.Max(2, name.Length / 3) ? $" Did you mean {best}?" : "";
        return new SegmentQueryException($"Unknown {(known is null ? "field" : "function")} \"{name}\".{hint}", line, column);
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
        }
        return d[a.Length, b.Length];
    }
}
