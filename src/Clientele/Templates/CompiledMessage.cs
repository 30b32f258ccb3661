using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Text;
using Fluid;
using Fluid.Values;

namespace Clientele.Templates;

/// <summary>Makes the address a link in a message points to, e.g. a signed click-tracking address. Called once per
/// distinct http(s) address per message, never for the unsubscribe or preference links.</summary>
internal delegate string LinkRewriter(string url);

/// <summary>One rendered message: a one-line subject, the HTML part and the plain-text part.</summary>
internal sealed record RenderedMessage(string Subject, string Html, string Text);

/// <summary>
/// A template ready to send: immutable, so one instance renders any number of messages from any number of threads.
/// Rendering runs Liquid three times (subject, HTML, text) and then fixes the marked links in one pass.
/// </summary>
internal sealed class CompiledMessage
{
    private readonly IFluidTemplate _subject;
    private readonly IFluidTemplate _html;
    private readonly IFluidTemplate _text;
    private readonly LinkMarkers _markers;
    private readonly FluidValue _business;
    private readonly string _currency;
    private readonly SearchValues<char> _markStarts = SearchValues.Create("\u0001\u0003");

    internal CompiledMessage(IFluidTemplate subject, IFluidTemplate html, IFluidTemplate text, LinkMarkers markers, FluidValue business, string currency, RenderLimits limits)
    {
        _subject = subject;
        _html = html;
        _text = text;
        _markers = markers;
        _business = business;
        _currency = currency;
        Limits = limits;
    }

    public RenderLimits Limits { get; }

    /// <summary>The template shows <c>recommendations</c>: the sender looks them up for each contact only then.</summary>
    public bool ReadsRecommendations { get; init; }

    /// <summary>Whether the template reads <c>offer</c>, so the contact's coupon is looked up only when it is shown.</summary>
    public bool ReadsOffer { get; init; }

    /// <summary>Whether the template reads <c>referral</c>, so the contact's referral code is looked up (or made) only when it is shown.</summary>
    public bool ReadsReferral { get; init; }

    /// <summary>Whether the template reads <c>review</c>, so the contact's review link is made only when it is shown.</summary>
    public bool ReadsReview { get; init; }

    /// <summary>
    /// Renders one message. Liquid output is HTML-encoded in the HTML part and left as is in the subject and text.
    /// Every http(s) link the body or brand shows goes through <paramref name="rewrite"/>; links whose address turns
    /// out unsafe (e.g. <c>javascript:</c> from contact data) are replaced by <c>#</c>.
    /// </summary>
    /// <param name="openPixelUrl">Overrides <see cref="MessageModel.OpenPixelUrl"/>.</param>
    /// <exception cref="TemplateRenderException">A limit was reached or the template failed for this contact.</exception>
    public RenderedMessage Render(MessageModel model, LinkRewriter? rewrite = null, string? openPixelUrl = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var deadline = Stopwatch.GetTimestamp() + (long)(Limits.Time.TotalSeconds * Stopwatch.Frequency);
        var zone = RenderContext.FindZone(model.Contact.TimeZone);
        var culture = RenderContext.FindCulture(model.Contact.Locale);
        var root = LiquidModel.Root(model, _business, zone);
        try
        {
            RenderContext Context(bool html) => new(root, MessageTemplate.Options, Limits, deadline, html, model.Now, zone, culture, _currency);
            var subject = Run(_subject, Context(false), html: false, ref _sizes[0]);
            var html = Run(_html, Context(true), html: true, ref _sizes[1]);
            var text = Run(_text, Context(false), html: false, ref _sizes[2]);
            var links = new LinkFixer(model.Links, rewrite);
            return new RenderedMessage(
                OneLine(subject),
                Finish(html, links, html: true, openPixelUrl ?? model.OpenPixelUrl),
                Tidy(Finish(text, links, html: false, null)));
        }
        catch (RenderLimitException e)
        {
            throw new TemplateRenderException(e.Message, e);
        }
        catch (TemplateRenderException)
        {
            throw;
        }
        catch (InvalidOperationException e) when (e.Message.Contains("maximum level of recursion", StringComparison.Ordinal))
        {
            // Fluid reports its step limit with the wording of its recursion limit; nesting is already capped at
            // compile time, so here it is always the steps.
            throw new TemplateRenderException($"the message took more than {Limits.MaxSteps:N0} steps to render: a loop runs too long", e);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new TemplateRenderException("the template failed: " + e.Message, e);
        }
    }

    /// <summary>The length of each part's last render (subject, HTML, text): the next one starts with room for about as much.</summary>
    private readonly int[] _sizes = [64, 4096, 2048];

    private string Run(IFluidTemplate template, RenderContext context, bool html, ref int size)
    {
        using var writer = new BudgetWriter(context, Math.Min(size + size / 8, context.Limits.MaxOutputChars));
        var rendering = template.RenderAsync(writer, html ? LiquidFilters.Html : NullEncoder.Default, context);
        if (!rendering.IsCompletedSuccessfully)
        {
            rendering.AsTask().GetAwaiter().GetResult();
        }
        var output = writer.ToString();
        Volatile.Write(ref size, output.Length); // a hint only: a race between senders costs nothing
        return output;
    }

    /// <summary>Replaces each marked address with its checked (and maybe rewritten) form and fills the pixel slot.</summary>
    private string Finish(string rendered, LinkFixer links, bool html, string? pixel)
    {
        var output = new StringBuilder(rendered.Length + 128);
        var at = 0;
        while (true)
        {
            var found = rendered.AsSpan(at).IndexOfAny(_markStarts);
            if (found < 0)
            {
                break;
            }
            var i = at + found;
            output.Append(rendered, at, i - at);
            if (Marks(rendered, i, _markers.Start))
            {
                var from = i + _markers.Start.Length;
                var end = rendered.IndexOf(_markers.End, from, StringComparison.Ordinal);
                if (end < 0)
                {
                    at = from;
                    continue;
                }
                output.Append(links.Fix(rendered[from..end], html));
                at = end + _markers.End.Length;
            }
            else if (Marks(rendered, i, _markers.Pixel))
            {
                if (pixel is { Length: > 0 } && Brand.IsWebUrl(pixel))
                {
                    output.Append("<img src=\"").Append(LiquidFilters.Html.Encode(pixel))
                        .Append("\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;width:1px;height:1px;border:0;\">\n");
                }
                at = i + _markers.Pixel.Length;
            }
            else
            {
                // A stray control character (never a mark: marks carry this template's key) is dropped.
                at = i + 1;
            }
        }
        output.Append(rendered, at, rendered.Length - at);
        return output.ToString();
    }

    private static bool Marks(string text, int at, string mark) => string.CompareOrdinal(text, at, mark, 0, mark.Length) == 0;

    /// <summary>A subject is one header line: every run of white space or control characters becomes one space.</summary>
    internal static string OneLine(string subject)
    {
        var line = new StringBuilder(subject.Length);
        var space = false;
        foreach (var c in subject)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                space = line.Length > 0;
                continue;
            }
            if (space)
            {
                line.Append(' ');
                space = false;
            }
            line.Append(c);
        }
        return line.ToString();
    }

    /// <summary>Trailing spaces go, and blocks a false condition emptied leave at most one blank line.</summary>
    internal static string Tidy(string text)
    {
        var tidy = new StringBuilder(text.Length);
        var blank = 0;
        var rest = text.AsSpan();
        var more = true;
        while (more)
        {
            var newline = rest.IndexOf('\n');
            more = newline >= 0;
            var line = (more ? rest[..newline] : rest).TrimEnd();
            rest = more ? rest[(newline + 1)..] : [];
            if (line.Length == 0)
            {
                blank++;
                continue;
            }
            if (tidy.Length > 0)
            {
                tidy.Append('\n', Math.Min(blank, 1) + 1);
            }
            blank = 0;
            tidy.Append(line);
        }
        return tidy.Append('\n').ToString();
    }

    /// <summary>Checks and rewrites the addresses of one message; each distinct address is rewritten once, so the
    /// HTML and text parts agree.</summary>
    private sealed class LinkFixer(MessageLinks links, LinkRewriter? rewrite)
    {
        private List<KeyValuePair<string, string>>? _done;

        public string Fix(string marked, bool html)
        {
            var url = (html && marked.Contains('&', StringComparison.Ordinal) ? WebUtility.HtmlDecode(marked) : marked).Trim();
            if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            {
                if (rewrite is null || url == links.Unsubscribe || url == links.Preferences)
                {
                    return marked;
                }
                var rewritten = Rewrite(url);
                return html ? LiquidFilters.Html.Encode(rewritten) : rewritten;
            }
            return Harmless(url) ? marked : html ? "#" : "";
        }

        private string Rewrite(string url)
        {
            _done ??= [];
            foreach (var (from, to) in _done)
            {
                if (from == url)
                {
                    return to;
                }
            }
            string rewritten;
            try
            {
                rewritten = rewrite!(url);
            }
            catch (Exception e)
            {
                throw new TemplateRenderException($"the link {url} could not be rewritten: {e.Message}", e);
            }
            _done.Add(new(url, rewritten));
            return rewritten;
        }

        /// <summary>Relative addresses, fragments, mailto: and tel:. Anything else with a scheme (javascript:,
        /// data:, vbscript:) may run code, so it is not kept. Browsers ignore blanks inside a scheme, so this does too.</summary>
        private static bool Harmless(string url)
        {
            var compact = string.Concat(url.Where(c => c > ' '));
            var colon = compact.IndexOf(':', StringComparison.Ordinal);
            var delimiter = compact.IndexOfAny(['/', '?', '#']);
            if (colon < 0 || (delimiter >= 0 && delimiter < colon))
            {
                return true;
            }
            var scheme = compact[..colon];
            return scheme.Equals("mailto", StringComparison.OrdinalIgnoreCase) || scheme.Equals("tel", StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>Collects output and stops the render when it grows past the limit or its time is up.</summary>
    private sealed class BudgetWriter(RenderContext context, int capacity) : TextWriter
    {
        private readonly StringBuilder _text = new(capacity);
        private readonly int _max = context.Limits.MaxOutputChars;

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            _text.Append(value);
            Check();
        }

        public override void Write(string? value)
        {
            _text.Append(value);
            Check();
        }

        public override void Write(char[] buffer, int index, int count)
        {
            _text.Append(buffer, index, count);
            Check();
        }

        public override void Write(ReadOnlySpan<char> buffer)
        {
            _text.Append(buffer);
            Check();
        }

        public override Task WriteAsync(char value)
        {
            Write(value);
            return Task.CompletedTask;
        }

        public override Task WriteAsync(string? value)
        {
            Write(value);
            return Task.CompletedTask;
        }

        public override Task WriteAsync(char[] buffer, int index, int count)
        {
            Write(buffer, index, count);
            return Task.CompletedTask;
        }

        public override Task WriteAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return Task.CompletedTask;
        }

        public override Task FlushAsync() => Task.CompletedTask;

        public override string ToString() => _text.ToString();

        private void Check()
        {
            if (_text.Length > _max)
            {
                throw new RenderLimitException($"output larger than {context.Limits.OutputSize}");
            }
            context.CheckTime();
        }
    }
}
