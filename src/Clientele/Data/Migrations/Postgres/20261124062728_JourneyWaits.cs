using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Clientele.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class JourneyWaits : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Heard",
                table: "journey_runs",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "WaitingFor",
                table: "journey_runs",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_journey_runs_ContactId_WaitingFor",
                table: "journey_runs",
                columns: new[] { "ContactId", "WaitingFor" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_journey_runs_ContactId_WaitingFor",
                table: "journey_runs");

            migrationBuilder.DropColumn(
                name: "Heard",
                table: "journey_runs");

            migrationBuilder.DropColumn(
                name: "WaitingFor",
                table: "journey_runs");
        }
    }
}
