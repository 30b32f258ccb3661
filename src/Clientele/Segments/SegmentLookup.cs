using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;
using Clientele.Contacts;
using Clientele.Data;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Segments;

/// <summary>
/// "Is this one contact in this segment now?" as an EF Core compiled query, kept per segment definition and day.
/// A membership update after a single event asks this for each segment the contact row cannot decide; a compiled
/// query skips the per-call work EF Core otherwise does on the expression tree (parameter extraction, cache lookup),
/// which is most of the cost of a one-contact query.
/// </summary>
internal static class SegmentLookup
{
    private static readonly ConcurrentDictionary<(DatabaseKind Kind, string Query, DateOnly Day, int Limit), Func<ClienteleDb, Guid, DateTime, Task<bool>>> Compiled = new();

    /// <summary>Whether the contact matches; throws <see cref="SegmentQueryException"/> for a query that does not compile.</summary>
    public static async Task<bool> MatchesAsync(ClienteleDb db, string query, SegmentNode node, Guid contactId, DateTime now)
    {
        var day = DateOnly.FromDateTime(now);
        if (Compiled.Count > 10_000)
        {
            Compiled.Clear(); // yesterday's entries and changed definitions: start again rather than grow
        }
        // A breach is measured against the response limit in the settings, which the compiled query holds: a changed limit compiles anew.
        var limit = SegmentDependencies.FollowsTheClock(node)
            ? (await SettingsStore.LoadAsync(db, Clientele.Support.SlaPolicy.Key, Clientele.Support.SlaPolicy.Default, CancellationToken.None)).LimitHours
            : 0;
        var lookup = Compiled.GetOrAdd((db.Kind, query, day, limit), _ => Build(node, db, now));
        return await lookup(db, contactId, now);
    }

    private static Func<ClienteleDb, Guid, DateTime, Task<bool>> Build(SegmentNode node, ClienteleDb sample, DateTime compiledAt)
    {
        var predicate = SegmentCompiler.Compile(node, sample, compiledAt, few: true);
        var db = Expression.Parameter(typeof(ClienteleDb), "db");
        var id = Expression.Parameter(typeof(Guid), "id");
        var now = Expression.Parameter(typeof(DateTime), "now");
        var body = new Parameterize(sample, db, now, compiledAt).Visit(predicate.Body);
        var c = predicate.Parameters[0];
        var match = Expression.Lambda<Func<Contact, bool>>(
            Expression.AndAlso(
                Expression.AndAlso(
                    Expression.Equal(Expression.Property(c, nameof(Contact.Id)), id),
                    Expression.Equal(Expression.Property(c, nameof(Contact.DeletedAt)), Expression.Constant(null, typeof(DateTime?)))),
                body),
            c);
        var contacts = Expression.Property(db, nameof(ClienteleDb.Contacts));
        var any = Expression.Call(typeof(Queryable), nameof(Queryable.Any), [typeof(Contact)], contacts, Expression.Quote(match));
        return EF.CompileAsyncQuery(Expression.Lambda<Func<ClienteleDb, Guid, DateTime, bool>>(any, db, id, now));
    }

    /// <summary>
    /// Turns the values the compiler captured into what a compiled query can hold: the context becomes its parameter,
    /// a window start (<c>now − span</c> when compiled) becomes <c>now.AddSeconds(−span)</c> on the parameter, an
    /// inner filter is quoted, anything else becomes a constant of the definition.
    /// </summary>
    private sealed class Parameterize(ClienteleDb sample, ParameterExpression db, ParameterExpression now, DateTime compiledAt) : ExpressionVisitor
    {
        protected override Expression VisitMember(MemberExpression node)
        {
            if (node.Expression is not null && TryEvaluate(node.Expression, out var inner) && ReferenceEquals(inner, sample))
            {
                return Expression.MakeMemberAccess(db, node.Member); // db.Orders, db.Events, …
            }
            if (!TryEvaluate(node, out var value))
            {
                return base.VisitMember(node);
            }
            return value switch
            {
                ClienteleDb => db,
                DateTime at when at != DateTime.MinValue && at <= compiledAt =>
                    Expression.Call(now, typeof(DateTime).GetMethod(nameof(DateTime.AddSeconds))!, Expression.Constant(-(compiledAt - at).TotalSeconds)),
                LambdaExpression lambda => Expression.Quote(Visit(lambda)),
                _ => Expression.Constant(value, node.Type),
            };
        }

        /// <summary>The value of a chain of field and property reads that starts at a captured object (no parameters).</summary>
        private static bool TryEvaluate(Expression expression, out object? value)
        {
            switch (expression)
            {
                case ConstantExpression constant:
                    value = constant.Value;
                    return true;
                case MemberExpression member when member.Expression is null || TryEvaluate(member.Expression, out _):
                    {
                        object? target = null;
                        if (member.Expression is not null)
                        {
                            TryEvaluate(member.Expression, out target);
                        }
                        value = member.Member switch
                        {
                            FieldInfo f => f.GetValue(target),
                            PropertyInfo p => p.GetValue(target),
                            _ => null,
                        };
                        return member.Member is FieldInfo or PropertyInfo;
                    }
                default:
                    value = null;
                    return false;
            }
        }
    }
}
