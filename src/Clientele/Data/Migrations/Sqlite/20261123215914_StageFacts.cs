using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Clientele.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class StageFacts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "StageSince",
                table: "contacts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "contact_stage_facts",
                columns: table => new
                {
                    ContactId = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Facts = table.Column<string>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_contact_stage_facts", x => x.ContactId);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "contact_stage_facts");

            migrationBuilder.DropColumn(
                name: "StageSince",
                table: "contacts");
        }
    }
}
