using Clientele.Accounts;
using Clientele.Commerce;
using Clientele.Contacts;
using Clientele.Events;
using Clientele.Lifecycle;
using Clientele.Value;
using Microsoft.EntityFrameworkCore;

namespace Clientele.Data;

/// <summary>The data layer. Each provider has its own subclass so each keeps its own migration set.</summary>
internal abstract class ClienteleDb(DbContextOptions options) : DbContext(options)
{
    public DbSet<Contact> Contacts => Set<Contact>();
    public DbSet<ContactConsent> Consents => Set<ContactConsent>();
    public DbSet<Event> Events => Set<Event>();
    public DbSet<ConsumerCheckpoint> ConsumerCheckpoints => Set<ConsumerCheckpoint>();
    public DbSet<ConsumerFailure> ConsumerFailures => Set<ConsumerFailure>();
    public DbSet<Product> Products => Set<Product>();
    public DbSet<Order> Orders => Set<Order>();
    public DbSet<OrderLine> OrderLines => Set<OrderLine>();
    public DbSet<Trial> Trials => Set<Trial>();
    public DbSet<ProductPair> ProductPairs => Set<ProductPair>();
    public DbSet<ProductSales> ProductSales => Set<ProductSales>();
    public DbSet<User> Users => Set<User>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<LoginFailure> LoginFailures => Set<LoginFailure>();
    public DbSet<IdempotentRequest> IdempotentRequests => Set<IdempotentRequest>();
    public DbSet<Setting> Settings => Set<Setting>();
    public DbSet<ScoringRun> ScoringRuns => Set<ScoringRun>();
    public DbSet<ContactStageFacts> StageFacts => Set<ContactStageFacts>();
    public DbSet<Clientele.Forms.Form> Forms => Set<Clientele.Forms.Form>();
    public DbSet<Clientele.Segments.Segment> Segments => Set<Clientele.Segments.Segment>();
    public DbSet<Clientele.Segments.SegmentMember> SegmentMembers => Set<Clientele.Segments.SegmentMember>();
    public DbSet<Clientele.Segments.SegmentCount> SegmentCounts => Set<Clientele.Segments.SegmentCount>();
    public DbSet<Clientele.Forms.LandingPage> LandingPages => Set<Clientele.Forms.LandingPage>();
    public DbSet<Clientele.Forms.LandingVariant> LandingVariants => Set<Clientele.Forms.LandingVariant>();
    public DbSet<Clientele.Outbox.OutboxMessage> OutboxMessages => Set<Clientele.Outbox.OutboxMessage>();
    public DbSet<Clientele.Outbox.OutboxNote> OutboxNotes => Set<Clientele.Outbox.OutboxNote>();
    public DbSet<Clientele.Outbox.LocalMail> LocalMail => Set<Clientele.Outbox.LocalMail>();
    public DbSet<Clientele.Outbox.Suppression> Suppressions => Set<Clientele.Outbox.Suppression>();
    public DbSet<Clientele.Broadcasts.Broadcast> Broadcasts => Set<Clientele.Broadcasts.Broadcast>();
    public DbSet<Clientele.Templates.Template> Templates => Set<Clientele.Templates.Template>();
    public DbSet<Clientele.Journeys.Journey> Journeys => Set<Clientele.Journeys.Journey>();
    public DbSet<Clientele.Journeys.JourneyVersion> JourneyVersions => Set<Clientele.Journeys.JourneyVersion>();
    public DbSet<Clientele.Journeys.JourneyRun> JourneyRuns => Set<Clientele.Journeys.JourneyRun>();
    public DbSet<Clientele.Journeys.JourneyTest> JourneyTests => Set<Clientele.Journeys.JourneyTest>();
    public DbSet<Clientele.Webhooks.WebhookCall> WebhookCalls => Set<Clientele.Webhooks.WebhookCall>();
    public DbSet<Clientele.Webhooks.WebhookSubscription> WebhookSubscriptions => Set<Clientele.Webhooks.WebhookSubscription>();
    public DbSet<Clientele.Offers.Offer> Offers => Set<Clientele.Offers.Offer>();
    public DbSet<Clientele.Offers.Coupon> Coupons => Set<Clientele.Offers.Coupon>();
    public DbSet<Clientele.Feedback.Survey> Surveys => Set<Clientele.Feedback.Survey>();
    public DbSet<Clientele.Feedback.SurveyAnswer> SurveyAnswers => Set<Clientele.Feedback.SurveyAnswer>();
    public DbSet<Clientele.Support.Ticket> Tickets => Set<Clientele.Support.Ticket>();
    public DbSet<Clientele.Feedback.Review> Reviews => Set<Clientele.Feedback.Review>();
    public DbSet<Clientele.Support.TicketMessage> TicketMessages => Set<Clientele.Support.TicketMessage>();
    public DbSet<Clientele.Referrals.ReferralCode> ReferralCodes => Set<Clientele.Referrals.ReferralCode>();
    public DbSet<Clientele.Referrals.Referral> Referrals => Set<Clientele.Referrals.Referral>();
    public DbSet<Clientele.Knowledge.Article> KnowledgeArticles => Set<Clientele.Knowledge.Article>();
    public DbSet<Clientele.Dashboard.Rollup> Rollups => Set<Clientele.Dashboard.Rollup>();
    public DbSet<Clientele.Privacy.Erasure> Erasures => Set<Clientele.Privacy.Erasure>();

    public abstract DatabaseKind Kind { get; }

    private static string Quote(string column) => "\"" + column + "\"";

    /// <summary>Column type for JSON documents: jsonb on PostgreSQL, text on SQLite.</summary>
    protected abstract string JsonColumnType { get; }

    /// <summary>
    /// The text of one top-level key of a contact's JSON attributes, null when absent. Usable in queries only
    /// (json_extract on SQLite, jsonb_extract_path_text on PostgreSQL); <paramref name="key"/> must be a constant.
    /// </summary>
    public static string? AttributeText(string attributes, string key) => throw new NotSupportedException("AttributeText runs inside database queries only.");

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.HasDbFunction(typeof(ClienteleDb).GetMethod(nameof(AttributeText))!).HasTranslation(args =>
        {
            var key = args[1] is Microsoft.EntityFrameworkCore.Query.SqlExpressions.SqlConstantExpression { Value: string k }
                ? k
                : throw new InvalidOperationException("AttributeText needs a constant key.");
            // json_extract answers a JSON number as a number; as text it compares like PostgreSQL's (2 = "2").
            return Kind == DatabaseKind.Sqlite
                ? new Microsoft.EntityFrameworkCore.Query.SqlExpressions.SqlUnaryExpression(System.Linq.Expressions.ExpressionType.Convert,
                    new Microsoft.EntityFrameworkCore.Query.SqlExpressions.SqlFunctionExpression("json_extract",
                        [args[0], new Microsoft.EntityFrameworkCore.Query.SqlExpressions.SqlConstantExpression("$.\"" + key.Replace("\"", "", StringComparison.Ordinal) + "\"", args[1].TypeMapping)],
                        nullable: true, argumentsPropagateNullability: [false, false], typeof(string), args[1].TypeMapping),
                    typeof(string), args[1].TypeMapping)
                : new Microsoft.EntityFrameworkCore.Query.SqlExpressions.SqlFunctionExpression("jsonb_extract_path_text",
                    [args[0], args[1]], nullable: true, argumentsPropagateNullability: [false, false], typeof(string), args[1].TypeMapping);
        });
        b.Entity<Contact>(e =>
        {
            e.ToTable("contacts");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.EmailNormalized).IsUnique();
            e.HasIndex(x => x.ExternalId).IsUnique();
            e.HasIndex(x => new { x.Stage, x.CreatedAt });
            e.HasIndex(x => x.CreatedAt);
            e.Property(x => x.Email).HasMaxLength(320);
            e.Property(x => x.EmailNormalized).HasMaxLength(320);
            e.Property(x => x.ExternalId).HasMaxLength(200);
            e.Property(x => x.FirstName).HasMaxLength(200);
            e.Property(x => x.LastName).HasMaxLength(200);
            e.Property(x => x.Phone).HasMaxLength(50);
            e.Property(x => x.TimeZone).HasMaxLength(64);
            e.Property(x => x.Locale).HasMaxLength(35);
            e.Property(x => x.Attributes).HasColumnType(JsonColumnType);
            e.HasMany(x => x.Consents).WithOne().HasForeignKey(x => x.ContactId);
            e.OwnsOne(x => x.Value, v =>
            {
                v.Property(x => x.ProbabilityAlive).HasColumnName("ValueProbabilityAlive");
                v.Property(x => x.ExpectedPurchases90).HasColumnName("ValueExpectedPurchases90");
                v.Property(x => x.ExpectedPurchases365).HasColumnName("ValueExpectedPurchases365");
                v.Property(x => x.PredictedValue).HasColumnName("ValuePredicted").HasPrecision(18, 2);
                v.Property(x => x.Currency).HasColumnName("ValueCurrency").HasMaxLength(3);
                v.Property(x => x.RfmCell).HasColumnName("ValueRfmCell").HasMaxLength(3);
                v.Property(x => x.ScoredAt).HasColumnName("ValueScoredAt");
            });
        });
        b.Entity<ContactConsent>(e =>
        {
            e.ToTable("contact_consents");
            e.HasKey(x => new { x.ContactId, x.Topic });
            e.Property(x => x.Topic).HasMaxLength(100);
            e.Property(x => x.Source).HasMaxLength(200);
        });
        b.Entity<Event>(e =>
        {
            e.ToTable("events");
            e.HasKey(x => x.Id);
            // A contact's timeline: one small index on the contact alone (its entries end in the row id),
            // half the cost per appended event of one that also holds the time.
            e.HasIndex(x => x.ContactId);
            // Partial: most events carry no key, and every index entry costs ingest speed.
            e.HasIndex(x => x.IdempotencyKey).IsUnique().HasFilter(Quote("IdempotencyKey") + " IS NOT NULL");
            e.Property(x => x.Type).HasMaxLength(100);
            e.Property(x => x.Source).HasMaxLength(100);
            e.Property(x => x.IdempotencyKey).HasMaxLength(200);
            e.Property(x => x.Properties).HasColumnType(JsonColumnType);
        });
        b.Entity<ConsumerCheckpoint>(e =>
        {
            e.ToTable("consumer_checkpoints");
            e.HasKey(x => x.Consumer);
        });
        b.Entity<ConsumerFailure>(e =>
        {
            e.ToTable("consumer_failures");
            e.HasKey(x => x.Id);
            e.HasIndex(x => new { x.Consumer, x.EventId });
        });
        b.Entity<Product>(e =>
        {
            e.ToTable("products");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.Sku).IsUnique();
            e.Property(x => x.Price).HasPrecision(18, 4);
            e.Property(x => x.Url).HasMaxLength(Product.MaxUrlLength);
            e.Property(x => x.ImageUrl).HasMaxLength(Product.MaxUrlLength);
        });
        b.Entity<ProductPair>(e =>
        {
            e.ToTable("product_pairs");
            e.HasKey(x => new { x.Sku, x.PartnerSku });
            e.HasIndex(x => new { x.Sku, x.Rank });
        });
        b.Entity<ProductSales>(e =>
        {
            e.ToTable("product_sales");
            e.HasKey(x => x.Sku);
            e.HasIndex(x => x.Rank);
        });
        b.Entity<Order>(e =>
        {
            e.ToTable("orders");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.ExternalId).IsUnique();
            e.HasIndex(x => new { x.ContactId, x.PlacedAt });
            e.HasIndex(x => x.PlacedAt);
            e.Property(x => x.Total).HasPrecision(18, 4);
            e.Property(x => x.Currency).HasMaxLength(3);
            e.HasMany(x => x.Lines).WithOne().HasForeignKey(x => x.OrderId).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<OrderLine>(e =>
        {
            e.ToTable("order_lines");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.ContactId);
            e.Property(x => x.Price).HasPrecision(18, 4);
        });
        b.Entity<Trial>(e =>
        {
            e.ToTable("trials");
            e.HasKey(x => x.Id);
            e.HasIndex(x => new { x.ContactId, x.StartedAt });
        });
        b.Entity<User>(e =>
        {
            e.ToTable("users");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.EmailNormalized).IsUnique();
        });
        b.Entity<LoginFailure>(e =>
        {
            e.ToTable("login_failures");
            e.HasKey(x => x.Id);
            e.Property(x => x.EmailNormalized).HasMaxLength(320);
            e.HasIndex(x => new { x.EmailNormalized, x.At });
            e.HasIndex(x => x.At);
        });
        b.Entity<ApiKey>(e =>
        {
            e.ToTable("api_keys");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.Prefix).IsUnique();
        });
        b.Entity<IdempotentRequest>(e =>
        {
            e.ToTable("idempotent_requests");
            e.HasKey(x => new { x.ApiKeyId, x.Key });
            e.HasIndex(x => x.CreatedAt);
        });
        b.Entity<Clientele.Forms.Form>(e =>
        {
            e.ToTable("forms");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.Slug).IsUnique();
            e.Property(x => x.Slug).HasMaxLength(60);
            e.Property(x => x.Fields).HasColumnType(JsonColumnType);
            e.Ignore(x => x.FieldList);
        });
        b.Entity<Clientele.Segments.Segment>(e =>
        {
            e.ToTable("segments");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.Name).IsUnique();
            e.Property(x => x.Name).HasMaxLength(200);
        });
        b.Entity<Clientele.Segments.SegmentMember>(e =>
        {
            e.ToTable("segment_members");
            e.HasKey(x => new { x.SegmentId, x.ContactId });
            e.HasIndex(x => x.ContactId);
        });
        b.Entity<Clientele.Segments.SegmentCount>(e =>
        {
            e.ToTable("segment_counts");
            e.HasKey(x => new { x.SegmentId, x.Day });
        });
        b.Entity<Clientele.Forms.LandingPage>(e =>
        {
            e.ToTable("landing_pages");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.Slug).IsUnique();
            e.Property(x => x.Slug).HasMaxLength(60);
            e.HasMany(x => x.Variants).WithOne().HasForeignKey(x => x.PageId).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<Clientele.Forms.LandingVariant>(e =>
        {
            e.ToTable("landing_variants");
            e.HasKey(x => x.Id);
            e.HasIndex(x => new { x.PageId, x.Key }).IsUnique();
            e.Property(x => x.Key).HasMaxLength(10);
        });
        b.Entity<Clientele.Outbox.OutboxMessage>(e =>
        {
            e.ToTable("outbox");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.IdempotencyKey).IsUnique();
            e.HasIndex(x => new { x.Status, x.DueAt });
            e.HasIndex(x => x.CreatedAt);
            // Frequency caps read a contact's recent sends.
            e.HasIndex(x => new { x.ContactId, x.SentAt });
            e.HasIndex(x => new { x.BroadcastId, x.Status });
            e.HasIndex(x => new { x.JourneyId, x.StepId });
            e.Property(x => x.StepId).HasMaxLength(100);
            e.Property(x => x.To).HasMaxLength(320);
            e.Property(x => x.IdempotencyKey).HasMaxLength(200);
            e.Property(x => x.Kind).HasMaxLength(50);
            e.Property(x => x.Topic).HasMaxLength(100);
            e.Property(x => x.Variant).HasMaxLength(10);
        });
        b.Entity<Clientele.Outbox.OutboxNote>(e =>
        {
            e.ToTable("outbox_notes");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.MessageId);
        });
        b.Entity<Clientele.Outbox.LocalMail>(e =>
        {
            e.ToTable("local_mail");
            e.HasKey(x => x.MessageId);
            e.HasIndex(x => x.StoredAt);
            e.Property(x => x.To).HasMaxLength(320);
        });
        b.Entity<Clientele.Outbox.Suppression>(e =>
        {
            e.ToTable("suppressions");
            e.HasKey(x => x.Email);
            e.Property(x => x.Email).HasMaxLength(320);
            e.HasIndex(x => x.At);
        });
        b.Entity<Clientele.Templates.Template>(e =>
        {
            e.ToTable("templates");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.Name).IsUnique();
            e.Property(x => x.Name).HasMaxLength(200);
            e.Property(x => x.Format).HasMaxLength(10);
        });
        b.Entity<Clientele.Broadcasts.Broadcast>(e =>
        {
            e.ToTable("broadcasts");
            e.HasKey(x => x.Id);
            e.HasIndex(x => new { x.Status, x.SendAt });
            e.HasIndex(x => x.CreatedAt);
            e.Property(x => x.Name).HasMaxLength(200);
            e.Property(x => x.Topic).HasMaxLength(100);
            e.Property(x => x.Format).HasMaxLength(10);
            e.Property(x => x.TestMetric).HasMaxLength(10);
            e.Property(x => x.Winner).HasMaxLength(10);
            e.HasIndex(x => x.TemplateId);
        });
        b.Entity<Clientele.Journeys.Journey>(e =>
        {
            e.ToTable("journeys");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.Name).IsUnique();
            e.HasIndex(x => x.Status);
            e.Property(x => x.Name).HasMaxLength(200);
            e.Property(x => x.Draft).HasColumnType(JsonColumnType);
            e.Property(x => x.TriggerEvent).HasMaxLength(100);
            e.Property(x => x.Playbook).HasMaxLength(100);
        });
        b.Entity<Clientele.Journeys.JourneyVersion>(e =>
        {
            e.ToTable("journey_versions");
            e.HasKey(x => new { x.JourneyId, x.Version });
            e.Property(x => x.Definition).HasColumnType(JsonColumnType);
        });
        b.Entity<Clientele.Journeys.JourneyRun>(e =>
        {
            e.ToTable("journey_runs");
            e.HasKey(x => x.Id);
            // The entry rule, enforced by the database: a run key is used once per journey.
            e.HasIndex(x => new { x.JourneyId, x.EnrollKey }).IsUnique();
            e.HasIndex(x => new { x.Status, x.DueAt });
            e.HasIndex(x => new { x.ContactId, x.JourneyId });
            e.Property(x => x.EnrollKey).HasMaxLength(300);
            e.Property(x => x.StepId).HasMaxLength(100);
            e.Property(x => x.WaitingFor).HasMaxLength(100);
            // Who waits for an event: found when the event arrives.
            e.HasIndex(x => new { x.ContactId, x.WaitingFor });
        });
        b.Entity<Clientele.Journeys.JourneyTest>(e =>
        {
            e.ToTable("journey_tests");
            e.HasKey(x => new { x.JourneyId, x.StepId });
            e.Property(x => x.StepId).HasMaxLength(100);
            e.Property(x => x.Winner).HasMaxLength(200);
            e.Property(x => x.Reason).HasMaxLength(1000);
        });
        b.Entity<Clientele.Webhooks.WebhookCall>(e =>
        {
            e.ToTable("webhook_calls");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.IdempotencyKey).IsUnique();
            e.HasIndex(x => new { x.Status, x.DueAt });
            e.HasIndex(x => new { x.JourneyId, x.StepId });
            e.HasIndex(x => new { x.SubscriptionId, x.CreatedAt });
            e.Property(x => x.Url).HasMaxLength(2000);
            e.Property(x => x.IdempotencyKey).HasMaxLength(300);
            e.Property(x => x.LastError).HasMaxLength(1000);
            e.Property(x => x.StepId).HasMaxLength(100);
        });
        b.Entity<Clientele.Webhooks.WebhookSubscription>(e =>
        {
            e.ToTable("webhook_subscriptions");
            e.HasKey(x => x.Id);
            e.Property(x => x.Name).HasMaxLength(200);
            e.Property(x => x.Url).HasMaxLength(2000);
        });
        b.Entity<Clientele.Offers.Offer>(e =>
        {
            e.ToTable("offers");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.Name).IsUnique();
            e.HasIndex(x => x.SharedCode).IsUnique();
            e.Property(x => x.Name).HasMaxLength(200);
            e.Property(x => x.Title).HasMaxLength(300);
            e.Property(x => x.Description).HasMaxLength(2000);
            e.Property(x => x.Value).HasPrecision(18, 2);
            e.Property(x => x.Currency).HasMaxLength(3);
            e.Property(x => x.FreeSku).HasMaxLength(100);
            e.Property(x => x.SharedCode).HasMaxLength(40);
            e.Property(x => x.Prefix).HasMaxLength(12);
            e.Property(x => x.Segment).HasMaxLength(200);
        });
        b.Entity<Clientele.Offers.Coupon>(e =>
        {
            e.ToTable("coupons");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.IdempotencyKey).IsUnique();
            // A per-contact code is one row; a shared code is one row per contact who has it.
            e.HasIndex(x => new { x.Code, x.ContactId }).IsUnique();
            e.HasIndex(x => new { x.ContactId, x.IssuedAt });
            e.HasIndex(x => new { x.OfferId, x.RedeemedAt });
            e.Property(x => x.Code).HasMaxLength(60);
            e.Property(x => x.Source).HasMaxLength(40);
            e.Property(x => x.IdempotencyKey).HasMaxLength(300);
            e.Property(x => x.OrderId).HasMaxLength(200);
            e.Property(x => x.OrderTotal).HasPrecision(18, 2);
            e.Property(x => x.OrderCurrency).HasMaxLength(3);
        });
        b.Entity<Clientele.Feedback.Survey>(e =>
        {
            e.ToTable("surveys");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.Name).IsUnique();
            e.Property(x => x.Name).HasMaxLength(200);
            e.Property(x => x.Kind).HasMaxLength(10);
            e.Property(x => x.Question).HasMaxLength(500);
            e.Property(x => x.FollowUp).HasMaxLength(500);
            e.Property(x => x.Sku).HasMaxLength(100);
        });
        b.Entity<Clientele.Feedback.SurveyAnswer>(e =>
        {
            e.ToTable("survey_answers");
            e.HasKey(x => x.Id);
            // One answer per message: a second click changes it.
            e.HasIndex(x => new { x.MessageId, x.SurveyId }).IsUnique();
            e.HasIndex(x => new { x.SurveyId, x.AnsweredAt });
            e.HasIndex(x => x.ContactId);
            e.Property(x => x.Comment).HasMaxLength(4000);
        });
        b.Entity<Clientele.Feedback.Review>(e =>
        {
            e.ToTable("reviews");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.IdempotencyKey).IsUnique();
            // The moderation queue and the published list, newest first.
            e.HasIndex(x => new { x.Status, x.CreatedAt });
            e.HasIndex(x => x.ContactId);
            e.Property(x => x.Text).HasMaxLength(Clientele.Feedback.ReviewRules.MaxText);
            e.Property(x => x.Sku).HasMaxLength(100);
            e.Property(x => x.Source).HasMaxLength(20);
            e.Property(x => x.NameStyle).HasMaxLength(20);
            e.Property(x => x.DisplayName).HasMaxLength(100);
            e.Property(x => x.ConsentWording).HasMaxLength(1000);
            e.Property(x => x.ModeratedBy).HasMaxLength(320);
            e.Property(x => x.Note).HasMaxLength(1000);
            e.Property(x => x.IdempotencyKey).HasMaxLength(300);
        });
        b.Entity<Clientele.Support.Ticket>(e =>
        {
            e.ToTable("tickets");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.IdempotencyKey).IsUnique();
            e.HasIndex(x => new { x.Status, x.CreatedAt });
            e.HasIndex(x => x.ContactId);
            e.Property(x => x.Subject).HasMaxLength(300);
            e.Property(x => x.Priority).HasMaxLength(10);
            e.Property(x => x.Assignee).HasMaxLength(320);
            e.Property(x => x.Channel).HasMaxLength(20);
            e.Property(x => x.IdempotencyKey).HasMaxLength(300);
            e.Property(x => x.FirstResponder).HasMaxLength(320);
        });
        b.Entity<Clientele.Support.TicketMessage>(e =>
        {
            e.ToTable("ticket_messages");
            e.HasKey(x => x.Id);
            e.HasIndex(x => new { x.TicketId, x.CreatedAt });
            // An e-mail read twice (a poll interrupted before marking it read) is recognised by its Message-ID.
            e.HasIndex(x => x.MessageId);
            e.Property(x => x.Direction).HasMaxLength(10);
            e.Property(x => x.From).HasMaxLength(320);
            e.Property(x => x.MessageId).HasMaxLength(500);
        });
        b.Entity<Clientele.Referrals.ReferralCode>(e =>
        {
            e.ToTable("referral_codes");
            e.HasKey(x => x.ContactId);
            e.HasIndex(x => x.Code).IsUnique();
            e.Property(x => x.Code).HasMaxLength(20);
        });
        b.Entity<Clientele.Referrals.Referral>(e =>
        {
            e.ToTable("referrals");
            e.HasKey(x => x.Id);
            // A friend is recorded once per referrer; a second claim of the same code changes nothing.
            e.HasIndex(x => new { x.FriendId, x.ReferrerId }).IsUnique();
            e.HasIndex(x => new { x.ReferrerId, x.SignedUpAt });
            e.HasIndex(x => x.SignedUpAt);
            e.Property(x => x.Code).HasMaxLength(20);
            e.Property(x => x.Source).HasMaxLength(120);
            e.Property(x => x.FirstOrderId).HasMaxLength(200);
            e.Property(x => x.RejectionReason).HasMaxLength(1000);
            e.Property(x => x.FriendRewardNote).HasMaxLength(1000);
            e.Property(x => x.ReferrerRewardNote).HasMaxLength(1000);
        });
        b.Entity<Clientele.Knowledge.Article>(e =>
        {
            // The search index (FTS5 table or tsvector column) is made by KnowledgeIndex after migrations.
            e.ToTable("kb_articles");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.Slug).IsUnique();
            e.HasIndex(x => new { x.Published, x.Category });
            e.Property(x => x.Slug).HasMaxLength(Clientele.Knowledge.Slugs.MaxLength);
            e.Property(x => x.Title).HasMaxLength(200);
            e.Property(x => x.Summary).HasMaxLength(500);
            e.Property(x => x.Category).HasMaxLength(100);
            e.Property(x => x.UpdatedBy).HasMaxLength(320);
        });
        b.Entity<ContactStageFacts>(e =>
        {
            e.ToTable("contact_stage_facts");
            e.HasKey(x => x.ContactId);
            e.Property(x => x.Facts).HasColumnType(JsonColumnType);
        });
        b.Entity<ScoringRun>(e =>
        {
            e.ToTable("scoring_runs");
            e.HasKey(x => x.Id);
            e.HasIndex(x => new { x.Status, x.RequestedAt });
            e.HasIndex(x => x.RequestedAt);
            e.Property(x => x.Trigger).HasMaxLength(20);
            e.Property(x => x.RequestedBy).HasMaxLength(320);
            e.Property(x => x.Diagnostics).HasColumnType(JsonColumnType);
            e.Property(x => x.Settings).HasColumnType(JsonColumnType);
        });
        b.Entity<Setting>(e =>
        {
            e.ToTable("settings");
            e.HasKey(x => x.Key);
        });
        b.Entity<Clientele.Dashboard.Rollup>(e =>
        {
            e.ToTable("rollups");
            e.HasKey(x => x.Key);
            e.Property(x => x.Key).HasMaxLength(100);
            e.Property(x => x.Data).HasColumnType(JsonColumnType);
        });
        b.Entity<Clientele.Privacy.Erasure>(e =>
        {
            e.ToTable("erasures");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.At);
            e.Property(x => x.By).HasMaxLength(320);
        });
    }
}

/// <summary>A named piece of configuration kept in the database (business profile, set-up state, …).</summary>
internal sealed class Setting
{
    public string Key { get; set; } = "";
    public string Value { get; set; } = "";
    public DateTime UpdatedAt { get; set; }
}

internal enum DatabaseKind
{
    Sqlite,
    Postgres,
}
