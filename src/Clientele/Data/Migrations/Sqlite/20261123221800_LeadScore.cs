using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Clientele.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class LeadScore : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Qualified",
                table: "contacts",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "ScoreAttributeFit",
                table: "contacts",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<double>(
                name: "ScoreEngagement",
                table: "contacts",
                type: "REAL",
                nullable: false,
                defaultValue: 0.0);

            migrationBuilder.AddColumn<DateTime>(
                name: "ScoreEngagementAsOf",
                table: "contacts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "ScoreFit",
                table: "contacts",
                type: "REAL",
                nullable: false,
                defaultValue: 0.0);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Qualified",
                table: "contacts");

            migrationBuilder.DropColumn(
                name: "ScoreAttributeFit",
                table: "contacts");

            migrationBuilder.DropColumn(
                name: "ScoreEngagement",
                table: "contacts");

            migrationBuilder.DropColumn(
                name: "ScoreEngagementAsOf",
                table: "contacts");

            migrationBuilder.DropColumn(
                name: "ScoreFit",
                table: "contacts");
        }
    }
}
