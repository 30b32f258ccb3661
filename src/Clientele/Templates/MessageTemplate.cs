using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Fluid;
using Fluid.Ast;
using Fluid.Values;
using Microsoft.Extensions.FileProviders;

namespace Clientele.Templates;

/// <summary>
/// Compiles what the owner wrote into a <see cref="CompiledMessage"/>: the expensive work (Markdown, sanitising, the
/// text part, the brand layout, parsing Liquid) happens here once, so each message only runs Liquid.
/// </summary>
internal static partial class MessageTemplate
{
    public const int MaxSubjectChars = 2_000;
    public const int MaxBodyChars = 256 * 1024;

    private static readonly FluidParser Parser = new();

    /// <summary>
    /// The sandbox every template runs in: no file provider (nothing to include), no .NET members (the member access
    /// strategy has nothing registered and the model is made of Liquid values only), at most
    /// <see cref="LiquidScanner.MaxNesting"/> levels of recursion, and filters that check their results.
    /// </summary>
    internal static readonly TemplateOptions Options = CreateOptions();

    private static readonly HashSet<string> FilterNames = new(Options.Filters.Select(f => f.Key), StringComparer.Ordinal);

    private static TemplateOptions CreateOptions()
    {
        var options = new TemplateOptions
        {
            MemberAccessStrategy = new DefaultMemberAccessStrategy(),
            FileProvider = new NullFileProvider(),
            MaxRecursion = LiquidScanner.MaxNesting,
            MaxSteps = RenderLimits.Default.MaxSteps,
            ModelNamesComparer = StringComparer.Ordinal,
            CultureInfo = CultureInfo.GetCultureInfo("en-US"),
            TimeZone = TimeZoneInfo.Utc,
            // Each render sets its own send time; nothing here may read the clock.
            Now = static () => DateTimeOffset.UnixEpoch,
        };
        LiquidFilters.Register(options.Filters);
        options.Captured = static (_, value, context) =>
        {
            (context as RenderContext)?.CheckSize(value);
            return new ValueTask<FluidValue>(value);
        };
        return options;
    }

    [GeneratedRegex(@"^(?<message>.*?) at \((?<line>\d+):(?<column>\d+)\)", RegexOptions.Singleline)]
    private static partial Regex FluidError();

    /// <summary>Compiles, or throws <see cref="TemplateCompileException"/> saying where the template is wrong.</summary>
    public static CompiledMessage Compile(TemplateSource source, Brand brand, RenderLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(brand);
        var subject = source.Subject ?? "";
        var body = source.Body ?? "";
        if (subject.Length > MaxSubjectChars)
        {
            throw new TemplateCompileException(new TemplateError("subject", 1, 1, $"the subject is longer than {MaxSubjectChars:N0} characters"));
        }
        if (body.Length > MaxBodyChars)
        {
            throw new TemplateCompileException(new TemplateError("body", 1, 1, $"the body is larger than {MaxBodyChars / 1024} KB"));
        }
        var subjectTokens = Validate(subject, "subject");
        var preheaderTokens = source.Preheader is { } p ? Validate(p, "preheader") : null;
        var bodyTokens = Validate(body, "body");

        var markers = LinkMarkers.Create();
        var prepared = BodyMarkup.Prepare(body, source.Format, bodyTokens, brand, markers);
        var frame = BrandLayout.Build(brand, EncodeText(subject, subjectTokens),
            source.Preheader is { } preheader ? EncodeText(preheader, preheaderTokens!) : null, markers);

        var parts = new[] { Parse(subject, "subject"), Parse(frame.Head + prepared.Html + frame.Foot, "body"), Parse(prepared.Text + frame.TextFoot, "body") };
        return new CompiledMessage(
            parts[0],
            parts[1],
            parts[2],
            markers,
            LiquidModel.Business(brand),
            string.IsNullOrWhiteSpace(brand.Currency) ? "USD" : brand.Currency.Trim().ToUpperInvariant(),
            limits ?? RenderLimits.Default)
        {
            ReadsRecommendations = parts.Any(p => Reads(p, "recommendations")),
            ReadsOffer = parts.Any(p => Reads(p, "offer")),
            ReadsReferral = parts.Any(p => Reads(p, "referral")),
            ReadsReview = parts.Any(p => Reads(p, "review")),
        };
    }

    /// <summary>Whether a parsed template reads a top-level name of the model, so a sender fetches only what is shown.</summary>
    private static bool Reads(IFluidTemplate template, string name)
    {
        var reads = new ModelReads(name);
        reads.VisitTemplate(template);
        return reads.Found;
    }

    public static bool TryCompile(TemplateSource source, Brand brand, [NotNullWhen(true)] out CompiledMessage? message, [NotNullWhen(false)] out TemplateError? error, RenderLimits? limits = null)
    {
        try
        {
            message = Compile(source, brand, limits);
            error = null;
            return true;
        }
        catch (TemplateCompileException e)
        {
            message = null;
            error = e.Error;
            return false;
        }
    }

    /// <summary>Finds the part's Liquid and checks it as the owner wrote it, so every position is theirs.</summary>
    private static List<LiquidToken> Validate(string text, string part)
    {
        var tokens = LiquidScanner.Scan(text, part);
        LiquidScanner.Check(text, part, tokens, FilterNames);
        if (Parser.TryParse(text, out _, out var message))
        {
            return tokens;
        }
        var match = FluidError().Match(message ?? "");
        if (!match.Success)
        {
            throw new TemplateCompileException(new TemplateError(part, 1, 1, (message ?? "invalid Liquid").Split('\n')[0].Trim()));
        }
        var line = int.Parse(match.Groups["line"].ValueSpan, CultureInfo.InvariantCulture);
        var column = int.Parse(match.Groups["column"].ValueSpan, CultureInfo.InvariantCulture);
        var what = match.Groups["message"].Value.Trim();
        if (what.StartsWith("Unknown tag", StringComparison.Ordinal))
        {
            // Fluid points past the tag's name; the owner looks for the tag.
            var at = Index(text, line, column);
            if (tokens.FindLast(t => t.Start <= at) is { Length: > 0 } tag && at <= tag.End)
            {
                throw LiquidScanner.Error(text, part, tag.Start, what);
            }
        }
        throw new TemplateCompileException(new TemplateError(part, line, column, what));
    }

    private static int Index(string text, int line, int column)
    {
        var at = 0;
        for (var l = 1; l < line && at >= 0; l++)
        {
            at = text.IndexOf('\n', at) + 1;
        }
        return Math.Max(0, at) + column - 1;
    }

    private static IFluidTemplate Parse(string text, string part)
    {
        if (!Parser.TryParse(text, out var template, out var message))
        {
            // The parts were checked as written; this means the body could not be carried through the conversion.
            throw new TemplateCompileException(new TemplateError(part, 1, 1, "the message could not be prepared: " + (message ?? "").Split('\n')[0]));
        }
        return new RangeGuard().VisitTemplate(template);
    }

    /// <summary>Liquid source whose text is HTML-encoded and whose Liquid is left alone, for the subject and preheader
    /// in the HTML part (Liquid's output there is encoded when it runs).</summary>
    internal static string EncodeText(string source, IReadOnlyList<LiquidToken> tokens)
    {
        var text = new StringBuilder(source.Length + 16);
        var at = 0;
        foreach (var token in tokens)
        {
            text.Append(WebUtility.HtmlEncode(source[at..token.Start]));
            text.Append(token.Kind == LiquidTokenKind.Raw ? Placeholders.EncodeRaw(source.Substring(token.Start, token.Length)) : source.AsSpan(token.Start, token.Length));
            at = token.End;
        }
        text.Append(WebUtility.HtmlEncode(source[at..]));
        return text.ToString();
    }

    /// <summary>Fluid builds the whole list for a range outside a <c>for</c> loop, so <c>(1..100000000)</c> in an
    /// assignment would take gigabytes before any step limit is reached: ranges are capped at the step limit.</summary>
    private sealed class RangeGuard : AstRewriter
    {
        protected override Expression VisitRangeExpression(RangeExpression rangeExpression) =>
            new GuardedRange(rangeExpression.From, rangeExpression.To);
    }

    private sealed class ModelReads(string name) : AstVisitor
    {
        public bool Found { get; private set; }

        protected override Expression VisitMemberExpression(MemberExpression memberExpression)
        {
            if (memberExpression.Segments.Count > 0 && memberExpression.Segments[0] is IdentifierSegment { Identifier: var first } && first == name)
            {
                Found = true;
            }
            return base.VisitMemberExpression(memberExpression);
        }
    }

    private sealed class GuardedRange(Expression from, Expression to) : Expression
    {
        public override async ValueTask<FluidValue> EvaluateAsync(TemplateContext context)
        {
            var start = ToInt((await from.EvaluateAsync(context)).ToNumberValue());
            var end = ToInt((await to.EvaluateAsync(context)).ToNumberValue());
            var max = context is RenderContext render ? render.Limits.MaxSteps : RenderLimits.Default.MaxSteps;
            if ((long)end - start + 1 > max)
            {
                throw new RenderLimitException($"the range ({start}..{end}) has more than {max:N0} numbers");
            }
            var values = new FluidValue[Math.Max(0, end - start + 1)];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = NumberValue.Create(start + i);
            }
            return new ArrayValue(values);
        }

        private static int ToInt(decimal value) => (int)Math.Clamp(Math.Truncate(value), int.MinValue, int.MaxValue);
    }
}
