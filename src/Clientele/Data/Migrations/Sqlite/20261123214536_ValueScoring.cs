using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Clientele.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ValueScoring : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ValueCurrency",
                table: "contacts",
                type: "TEXT",
                maxLength: 3,
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "ValueExpectedPurchases365",
                table: "contacts",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "ValueExpectedPurchases90",
                table: "contacts",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<decimal>(
                name: "ValuePredicted",
                table: "contacts",
                type: "TEXT",
                precision: 18,
                scale: 2,
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "ValueProbabilityAlive",
                table: "contacts",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ValueRfmCell",
                table: "contacts",
                type: "TEXT",
                maxLength: 3,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "ValueScoredAt",
                table: "contacts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "scoring_runs",
                columns: table => new
                {
                    Id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Trigger = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    RequestedBy = table.Column<string>(type: "TEXT", maxLength: 320, nullable: true),
                    RequestedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    FinishedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    Contacts = table.Column<int>(type: "INTEGER", nullable: false),
                    Error = table.Column<string>(type: "TEXT", nullable: true),
                    Diagnostics = table.Column<string>(type: "TEXT", nullable: true),
                    Settings = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_scoring_runs", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_scoring_runs_RequestedAt",
                table: "scoring_runs",
                column: "RequestedAt");

            migrationBuilder.CreateIndex(
                name: "IX_scoring_runs_Status_RequestedAt",
                table: "scoring_runs",
                columns: new[] { "Status", "RequestedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "scoring_runs");

            migrationBuilder.DropColumn(
                name: "ValueCurrency",
                table: "contacts");

            migrationBuilder.DropColumn(
                name: "ValueExpectedPurchases365",
                table: "contacts");

            migrationBuilder.DropColumn(
                name: "ValueExpectedPurchases90",
                table: "contacts");

            migrationBuilder.DropColumn(
                name: "ValuePredicted",
                table: "contacts");

            migrationBuilder.DropColumn(
                name: "ValueProbabilityAlive",
                table: "contacts");

            migrationBuilder.DropColumn(
                name: "ValueRfmCell",
                table: "contacts");

            migrationBuilder.DropColumn(
                name: "ValueScoredAt",
                table: "contacts");
        }
    }
}
