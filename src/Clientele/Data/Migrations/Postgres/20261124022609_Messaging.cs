using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Clientele.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Messaging : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_outbox_ContactId",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_outbox_Status_CreatedAt",
                table: "outbox");

            migrationBuilder.AlterColumn<string>(
                name: "Kind",
                table: "outbox",
                type: "character varying(50)",
                maxLength: 50,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "text");

            migrationBuilder.AddColumn<bool>(
                name: "Ambiguous",
                table: "outbox",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "Attempts",
                table: "outbox",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<Guid>(
                name: "BroadcastId",
                table: "outbox",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Class",
                table: "outbox",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTime>(
                name: "ClickedAt",
                table: "outbox",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "DueAt",
                table: "outbox",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified));

            migrationBuilder.AddColumn<string>(
                name: "HtmlBody",
                table: "outbox",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LastAnswer",
                table: "outbox",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "LeaseUntil",
                table: "outbox",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "OpenedAt",
                table: "outbox",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Topic",
                table: "outbox",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Variant",
                table: "outbox",
                type: "character varying(10)",
                maxLength: 10,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "broadcasts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Topic = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Segment = table.Column<string>(type: "text", nullable: true),
                    Subject = table.Column<string>(type: "text", nullable: false),
                    Body = table.Column<string>(type: "text", nullable: false),
                    Format = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: false),
                    Preheader = table.Column<string>(type: "text", nullable: true),
                    SubjectB = table.Column<string>(type: "text", nullable: true),
                    BodyB = table.Column<string>(type: "text", nullable: true),
                    TestPercent = table.Column<int>(type: "integer", nullable: false),
                    TestMetric = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: false),
                    TestHours = table.Column<int>(type: "integer", nullable: false),
                    Winner = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: true),
                    SendAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LocalTime = table.Column<bool>(type: "boolean", nullable: false),
                    Status = table.Column<int>(type: "integer", nullable: false),
                    Audience = table.Column<int>(type: "integer", nullable: false),
                    Queued = table.Column<bool>(type: "boolean", nullable: false),
                    RevenueDays = table.Column<int>(type: "integer", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    TestEndsAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_broadcasts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "local_mail",
                columns: table => new
                {
                    MessageId = table.Column<Guid>(type: "uuid", nullable: false),
                    To = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: false),
                    Subject = table.Column<string>(type: "text", nullable: false),
                    Raw = table.Column<byte[]>(type: "bytea", nullable: false),
                    StoredAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_local_mail", x => x.MessageId);
                });

            migrationBuilder.CreateTable(
                name: "outbox_notes",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    MessageId = table.Column<Guid>(type: "uuid", nullable: false),
                    At = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Text = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox_notes", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "suppressions",
                columns: table => new
                {
                    Email = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: false),
                    Reason = table.Column<int>(type: "integer", nullable: false),
                    At = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Detail = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_suppressions", x => x.Email);
                });

            migrationBuilder.CreateIndex(
                name: "IX_outbox_BroadcastId_Status",
                table: "outbox",
                columns: new[] { "BroadcastId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_outbox_ContactId_SentAt",
                table: "outbox",
                columns: new[] { "ContactId", "SentAt" });

            migrationBuilder.CreateIndex(
                name: "IX_outbox_CreatedAt",
                table: "outbox",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_Status_DueAt",
                table: "outbox",
                columns: new[] { "Status", "DueAt" });

            migrationBuilder.CreateIndex(
                name: "IX_broadcasts_CreatedAt",
                table: "broadcasts",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_broadcasts_Status_SendAt",
                table: "broadcasts",
                columns: new[] { "Status", "SendAt" });

            migrationBuilder.CreateIndex(
                name: "IX_local_mail_StoredAt",
                table: "local_mail",
                column: "StoredAt");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_notes_MessageId",
                table: "outbox_notes",
                column: "MessageId");

            migrationBuilder.CreateIndex(
                name: "IX_suppressions_At",
                table: "suppressions",
                column: "At");

            // Messages queued before classes existed were confirmations: transactional.
            migrationBuilder.Sql("UPDATE outbox SET \"Class\" = 1 WHERE \"Kind\" = 'confirmation'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "broadcasts");

            migrationBuilder.DropTable(
                name: "local_mail");

            migrationBuilder.DropTable(
                name: "outbox_notes");

            migrationBuilder.DropTable(
                name: "suppressions");

            migrationBuilder.DropIndex(
                name: "IX_outbox_BroadcastId_Status",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_outbox_ContactId_SentAt",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_outbox_CreatedAt",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_outbox_Status_DueAt",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "Ambiguous",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "Attempts",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "BroadcastId",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "Class",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "ClickedAt",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "DueAt",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "HtmlBody",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "LastAnswer",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "LeaseUntil",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "OpenedAt",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "Topic",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "Variant",
                table: "outbox");

            migrationBuilder.AlterColumn<string>(
                name: "Kind",
                table: "outbox",
                type: "text",
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(50)",
                oldMaxLength: 50);

            migrationBuilder.CreateIndex(
                name: "IX_outbox_ContactId",
                table: "outbox",
                column: "ContactId");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_Status_CreatedAt",
                table: "outbox",
                columns: new[] { "Status", "CreatedAt" });
        }
    }
}
