using System.Collections.Concurrent;
using System.Text.Json;
using Clientele.Broadcasts;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Data;
using Clientele.Offers;
using Clientele.Templates;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using MimeKit.Cryptography;

namespace Clientele.Outbox;

/// <summary>A message that cannot be rendered: it fails with this reason instead of going out broken.</summary>
internal sealed class OutboxContentException(string message) : Exception(message);

/// <summary>
/// Turns an outbox row into the MIME message to send: the sender identity and brand, the content (written whole, or
/// rendered now for this contact from its broadcast), click tracking, the open pixel, unsubscribe links and the DKIM
/// signature. Settings are re-read at most every few seconds and templates are compiled once per brand.
/// </summary>
internal sealed class OutboxContent(ClienteleDatabase database, MailLinks links, TimeProvider time, IConfiguration config, Clientele.Events.EventSignal events)
{
    public const string BrandKey = "brand";
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(5);

    private (SendingRules Rules, Brand Brand, string BrandJson, DateTimeOffset At)? _settings;
    private readonly ConcurrentDictionary<(Guid, string?), CompiledMessage> _compiled = new();
    private readonly ConcurrentDictionary<Guid, Broadcast> _broadcasts = new();
    private readonly ConcurrentDictionary<Guid, (CompiledMessage Compiled, DateTimeOffset At)> _templates = new();
    private readonly Lazy<DkimSigner?> _dkim = new(() => Dkim(config));

    public async Task<SendingRules> RulesAsync(CancellationToken ct) => (await SettingsAsync(ct)).Rules;

    public async Task<Brand> BrandAsync(CancellationToken ct) => (await SettingsAsync(ct)).Brand;

    private async Task<(SendingRules Rules, Brand Brand, string BrandJson, DateTimeOffset At)> SettingsAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_settings is { } cached && now - cached.At < Fresh)
        {
            return cached;
        }
        await using var db = database.CreateDbContext();
        var rules = await SettingsStore.LoadAsync(db, SendingRules.Key, SendingRules.Default, ct);
        var brand = await SettingsStore.LoadAsync(db, BrandKey, new Brand(), ct);
        var json = JsonSerializer.Serialize(brand);
        if (_settings is { } previous && previous.BrandJson != json)
        {
            _compiled.Clear(); // the layout is part of each compiled template
            _templates.Clear();
        }
        var fresh = (rules, brand, json, now);
        _settings = fresh;
        return fresh;
    }

    /// <summary>Forgets cached settings and broadcasts (after they were saved).</summary>
    public void Invalidate()
    {
        _settings = null;
        _compiled.Clear();
        _broadcasts.Clear();
        _templates.Clear();
    }

    public async Task<MimeMessage> ComposeAsync(OutboxMessage m, Contact contact, DateTime now, CancellationToken ct)
    {
        var settings = await SettingsAsync(ct);
        var brand = settings.Brand;
        var from = new MailboxAddress(brand.FromName, brand.FromAddress);
        var replyTo = brand.ReplyTo is { Length: > 0 } r ? MailboxAddress.Parse(r) : null;
        var unsubscribe = m.Class == MessageClass.Marketing ? links.Unsubscribe(m.Id) : null;
        ComposedContent content;
        var source = m.BroadcastId is { } broadcastId ? await CompiledAsync(broadcastId, m.Variant, brand, ct)
            : m.TemplateId is { } templateId ? await TemplateAsync(templateId, brand, ct)
            : null;
        if (source is { } compiled)
        {
            var model = new MessageModel
            {
                Contact = ModelOf(contact),
                Links = new MessageLinks { Unsubscribe = unsubscribe, Preferences = links.Preferences(contact.Id) },
                Recommendations = await RecommendationsAsync(compiled, contact.Id, ct),
                Offer = m.BroadcastId is { } b && _broadcasts.TryGetValue(b, out var broadcast) && broadcast.OfferId is { } offerId && compiled.ReadsOffer
                    ? await BroadcastOfferAsync(broadcast, offerId, contact, now, ct)
                    : await OfferAsync(compiled, contact.Id, now, ct),
                Referral = await ReferralAsync(compiled, contact.Id, now, ct),
                Review = compiled.ReadsReview ? new MessageReview(links.Review(contact.Id)) : null,
                Survey = m.SurveyId is { } surveyId ? await SurveyAsync(m.Id, surveyId, ct) : null,
                Now = new DateTimeOffset(DateTime.SpecifyKind(now, DateTimeKind.Utc)),
                OpenPixelUrl = links.OpenPixel(m.Id),
            };
            try
            {
                var rendered = compiled.Render(model, url => links.Click(m.Id, url));
                content = new ComposedContent(rendered.Subject, rendered.Html, rendered.Text);
            }
            catch (TemplateRenderException ex)
            {
                throw new OutboxContentException(ex.Message);
            }
        }
        else
        {
            content = new ComposedContent(m.Subject, m.HtmlBody, m.TextBody);
        }
        var thread = m.TicketId is { } ticketId ? await ThreadingAsync(m, ticketId, from.Domain, ct) : null;
        return MailComposer.Compose(m, from, replyTo, content, unsubscribe, now, _dkim.Value, thread);
    }

    /// <summary>
    /// A support message's place in its conversation: it answers the customer's latest e-mail before it, refers to every
    /// e-mail of the ticket before it, and names the support address to answer to, so the answer comes back to the inbox.
    /// </summary>
    private async Task<Threading> ThreadingAsync(OutboxMessage m, Guid ticketId, string domain, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        var support = await SettingsStore.LoadAsync(db, Clientele.Support.SupportSettings.Key, Clientele.Support.SupportSettings.Default, ct);
        var before = await db.TicketMessages.AsNoTracking()
            .Where(t => t.TicketId == ticketId && t.CreatedAt <= m.CreatedAt && t.OutboxMessageId != m.Id && (t.MessageId != null || t.OutboxMessageId != null))
            .OrderBy(t => t.CreatedAt).Select(t => new { t.Direction, t.MessageId, t.OutboxMessageId }).ToListAsync(ct);
        var ids = before.Select(t => t.MessageId ?? MailComposer.MessageIdOf(t.OutboxMessageId!.Value, domain)).ToList();
        var answers = before.LastOrDefault(t => t.Direction == "in" && t.MessageId is not null)?.MessageId ?? ids.LastOrDefault();
        MailboxAddress? replyTo = support.Address is { Length: > 0 } address && MailboxAddress.TryParse(address, out var parsed) ? parsed : null;
        return new Threading(answers, ids, replyTo);
    }

    /// <summary>The contact's picks, looked up only for a template that shows them.</summary>
    public async Task<IReadOnlyList<MessageRecommendation>> RecommendationsAsync(CompiledMessage compiled, Guid contactId, CancellationToken ct)
    {
        if (!compiled.ReadsRecommendations)
        {
            return [];
        }
        await using var db = database.CreateDbContext();
        return await Recommendations.ForMessageAsync(db, contactId, ct);
    }

    /// <summary>The survey a feedback request asks, with a signed one-click link for each score of its scale.</summary>
    private async Task<MessageSurvey?> SurveyAsync(Guid messageId, Guid surveyId, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        if (await db.Surveys.AsNoTracking().FirstOrDefaultAsync(s => s.Id == surveyId, ct) is not { } survey)
        {
            return null;
        }
        var (low, high) = Clientele.Feedback.SurveyRules.Scale(survey.Kind);
        return new MessageSurvey(survey.Question, survey.Kind, Enumerable.Range(low, high - low + 1).Select(score => (score, links.Answer(messageId, surveyId, score))).ToList());
    }

    /// <summary>The contact's newest coupon still to use, looked up only for a template that shows an offer.</summary>
    public async Task<MessageOffer?> OfferAsync(CompiledMessage compiled, Guid contactId, DateTime now, CancellationToken ct)
    {
        if (!compiled.ReadsOffer)
        {
            return null;
        }
        await using var db = database.CreateDbContext();
        return await Clientele.Offers.OfferMessages.ForMessageAsync(db, contactId, now, ct);
    }

    /// <summary>
    /// The coupon a broadcast gives this recipient, issued now (once: its key is the broadcast and the contact, so a
    /// retried message shows the same code). When the offer's rules or the fatigue guard refuse it, the message goes
    /// without an offer (a template shows it under <c>{% if offer %}</c>).
    /// </summary>
    private async Task<MessageOffer?> BroadcastOfferAsync(Broadcast broadcast, Guid offerId, Contact contact, DateTime now, CancellationToken ct)
    {
        await using var db = database.CreateDbContext();
        var key = Broadcasts.BroadcastsApi.BroadcastOfferKeyPrefix(broadcast.Id) + contact.Id.ToString("N");
        Coupon? coupon;
        using (await database.EnterWriteAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            if (await db.Offers.AsNoTracking().FirstOrDefaultAsync(o => o.Id == offerId, ct) is not { } offer)
            {
                return null;
            }
            var fatigue = await SettingsStore.LoadAsync(db, OfferFatigue.Key, OfferFatigue.Default, ct);
            var outcome = await OfferIssuer.IssueAsync(db, offer, contact, "broadcast", key, now, fatigue, null, ct);
            coupon = outcome.Coupon;
            if (outcome.Issued is { } issued)
            {
                db.Events.Add(issued);
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        events.Notify();
        return coupon is null ? null : await OfferMessages.OfCouponAsync(db, coupon.Id, ct);
    }

    /// <summary>The contact's referral code and link, looked up (or made) only for a template that shows them.</summary>
    public Task<MessageReferral?> ReferralAsync(CompiledMessage compiled, Guid contactId, DateTime now, CancellationToken ct) =>
        Clientele.Referrals.ReferralCodes.ForMessageAsync(compiled, database, links, contactId, now, ct);

    /// <summary>A saved template, compiled; read again after a few seconds, so an edit reaches the next messages.</summary>
    private async Task<CompiledMessage> TemplateAsync(Guid templateId, Brand brand, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_templates.TryGetValue(templateId, out var cached) && now - cached.At < Fresh)
        {
            return cached.Compiled;
        }
        await using var db = database.CreateDbContext();
        var template = await db.Templates.AsNoTracking().FirstOrDefaultAsync(t => t.Id == templateId, ct)
            ?? throw new OutboxContentException("Its template was deleted.");
        CompiledMessage compiled;
        try
        {
            compiled = MessageTemplate.Compile(template.Source(), brand);
        }
        catch (TemplateCompileException ex)
        {
            throw new OutboxContentException(ex.Message);
        }
        _templates[templateId] = (compiled, now);
        return compiled;
    }

    private async Task<CompiledMessage> CompiledAsync(Guid broadcastId, string? variant, Brand brand, CancellationToken ct)
    {
        if (_compiled.TryGetValue((broadcastId, variant), out var compiled))
        {
            return compiled;
        }
        if (!_broadcasts.TryGetValue(broadcastId, out var broadcast))
        {
            await using var db = database.CreateDbContext();
            broadcast = await db.Broadcasts.AsNoTracking().FirstOrDefaultAsync(b => b.Id == broadcastId, ct)
                ?? throw new OutboxContentException("Its broadcast was deleted.");
            _broadcasts[broadcastId] = broadcast;
        }
        try
        {
            compiled = MessageTemplate.Compile(BroadcastContent.Source(broadcast, variant), brand);
        }
        catch (TemplateCompileException ex)
        {
            throw new OutboxContentException(ex.Message);
        }
        _compiled[(broadcastId, variant)] = compiled;
        return compiled;
    }

    public static MessageContact ModelOf(Contact c) => new()
    {
        Id = c.Id,
        Email = c.Email,
        FirstName = c.FirstName,
        LastName = c.LastName,
        Phone = c.Phone,
        Birthday = c.Birthday,
        TimeZone = c.TimeZone,
        Locale = c.Locale,
        Stage = c.Stage.ToString(),
        Score = c.Score,
        Tags = c.Tags,
        Attributes = MessageContact.ParseAttributes(c.Attributes),
        CreatedAt = new DateTimeOffset(DateTime.SpecifyKind(c.CreatedAt, DateTimeKind.Utc)),
    };

    /// <summary>
    /// DKIM signing with the business's key when <c>Clientele:Dkim:Domain</c>, <c>Selector</c> and <c>PrivateKeyPath</c>
    /// (a PEM file) are set.
    /// </summary>
    private static DkimSigner? Dkim(IConfiguration config)
    {
        var domain = config["Clientele:Dkim:Domain"];
        var selector = config["Clientele:Dkim:Selector"];
        var key = config["Clientele:Dkim:PrivateKeyPath"];
        if (string.IsNullOrEmpty(domain) || string.IsNullOrEmpty(selector) || string.IsNullOrEmpty(key))
        {
            return null;
        }
        return new DkimSigner(key, domain, selector)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            AgentOrUserIdentifier = "@" + domain,
        };
    }
}
