using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Clientele.Data.Migrations.Sqlite
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

            migrationBuilder.AddColumn<bool>(
                name: "Ambiguous",
                table: "outbox",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "Attempts",
                table: "outbox",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<byte[]>(
                name: "BroadcastId",
                table: "outbox",
                type: "BLOB",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Class",
                table: "outbox",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTime>(
                name: "ClickedAt",
                table: "outbox",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "DueAt",
                table: "outbox",
                type: "TEXT",
                nullable: false,
                defaultValue: new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified));

            migrationBuilder.AddColumn<string>(
                name: "HtmlBody",
                table: "outbox",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LastAnswer",
                table: "outbox",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "LeaseUntil",
                table: "outbox",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "OpenedAt",
                table: "outbox",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Topic",
                table: "outbox",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Variant",
                table: "outbox",
                type: "TEXT",
                maxLength: 10,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "broadcasts",
                columns: table => new
                {
                    Id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Topic = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Segment = table.Column<string>(type: "TEXT", nullable: true),
                    Subject = table.Column<string>(type: "TEXT", nullable: false),
                    Body = table.Column<string>(type: "TEXT", nullable: false),
                    Format = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    Preheader = table.Column<string>(type: "TEXT", nullable: true),
                    SubjectB = table.Column<string>(type: "TEXT", nullable: true),
                    BodyB = table.Column<string>(type: "TEXT", nullable: true),
                    TestPercent = table.Column<int>(type: "INTEGER", nullable: false),
                    TestMetric = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    TestHours = table.Column<int>(type: "INTEGER", nullable: false),
                    Winner = table.Column<string>(type: "TEXT", maxLength: 10, nullable: true),
                    SendAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LocalTime = table.Column<bool>(type: "INTEGER", nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    Audience = table.Column<int>(type: "INTEGER", nullable: false),
                    Queued = table.Column<bool>(type: "INTEGER", nullable: false),
                    RevenueDays = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    TestEndsAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    FinishedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_broadcasts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "local_mail",
                columns: table => new
                {
                    MessageId = table.Column<byte[]>(type: "BLOB", nullable: false),
                    To = table.Column<string>(type: "TEXT", maxLength: 320, nullable: false),
                    Subject = table.Column<string>(type: "TEXT", nullable: false),
                    Raw = table.Column<byte[]>(type: "BLOB", nullable: false),
                    StoredAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_local_mail", x => x.MessageId);
                });

            migrationBuilder.CreateTable(
                name: "outbox_notes",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    MessageId = table.Column<byte[]>(type: "BLOB", nullable: false),
                    At = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Text = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox_notes", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "suppressions",
                columns: table => new
                {
                    Email = table.Column<string>(type: "TEXT", maxLength: 320, nullable: false),
                    Reason = table.Column<int>(type: "INTEGER", nullable: false),
                    At = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Detail = table.Column<string>(type: "TEXT", nullable: true)
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
