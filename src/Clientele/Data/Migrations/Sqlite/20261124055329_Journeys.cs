using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Clientele.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Journeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<byte[]>(
                name: "JourneyId",
                table: "outbox",
                type: "BLOB",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "StepId",
                table: "outbox",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "TemplateId",
                table: "outbox",
                type: "BLOB",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "journey_runs",
                columns: table => new
                {
                    Id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    JourneyId = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    ContactId = table.Column<byte[]>(type: "BLOB", nullable: false),
                    EnrollKey = table.Column<string>(type: "TEXT", maxLength: 300, nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    Holdout = table.Column<bool>(type: "INTEGER", nullable: false),
                    StepId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    DueAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Steps = table.Column<int>(type: "INTEGER", nullable: false),
                    EnteredAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    EndedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Reason = table.Column<string>(type: "TEXT", nullable: true),
                    CauseEventId = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_journey_runs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "journey_versions",
                columns: table => new
                {
                    JourneyId = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    Definition = table.Column<string>(type: "TEXT", nullable: false),
                    PublishedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_journey_versions", x => new { x.JourneyId, x.Version });
                });

            migrationBuilder.CreateTable(
                name: "journeys",
                columns: table => new
                {
                    Id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Description = table.Column<string>(type: "TEXT", nullable: true),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    Draft = table.Column<string>(type: "TEXT", nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    TriggerEvent = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    Playbook = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_journeys", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_outbox_JourneyId_StepId",
                table: "outbox",
                columns: new[] { "JourneyId", "StepId" });

            migrationBuilder.CreateIndex(
                name: "IX_journey_runs_ContactId_JourneyId",
                table: "journey_runs",
                columns: new[] { "ContactId", "JourneyId" });

            migrationBuilder.CreateIndex(
                name: "IX_journey_runs_JourneyId_EnrollKey",
                table: "journey_runs",
                columns: new[] { "JourneyId", "EnrollKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_journey_runs_Status_DueAt",
                table: "journey_runs",
                columns: new[] { "Status", "DueAt" });

            migrationBuilder.CreateIndex(
                name: "IX_journeys_Name",
                table: "journeys",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_journeys_Status",
                table: "journeys",
                column: "Status");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "journey_runs");

            migrationBuilder.DropTable(
                name: "journey_versions");

            migrationBuilder.DropTable(
                name: "journeys");

            migrationBuilder.DropIndex(
                name: "IX_outbox_JourneyId_StepId",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "JourneyId",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "StepId",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "TemplateId",
                table: "outbox");
        }
    }
}
