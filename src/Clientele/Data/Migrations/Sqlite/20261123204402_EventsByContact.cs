using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Clientele.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class EventsByContact : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_events_ContactId_OccurredAt",
                table: "events");

            migrationBuilder.CreateIndex(
                name: "IX_events_ContactId",
                table: "events",
                column: "ContactId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_events_ContactId",
                table: "events");

            migrationBuilder.CreateIndex(
                name: "IX_events_ContactId_OccurredAt",
                table: "events",
                columns: new[] { "ContactId", "OccurredAt" });
        }
    }
}
