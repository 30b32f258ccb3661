using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Clientele.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Offers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "coupons",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    OfferId = table.Column<Guid>(type: "uuid", nullable: false),
                    ContactId = table.Column<Guid>(type: "uuid", nullable: false),
                    Code = table.Column<string>(type: "character varying(60)", maxLength: 60, nullable: false),
                    IssuedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Source = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    IdempotencyKey = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    RedeemedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    OrderId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    OrderTotal = table.Column<decimal>(type: "numeric(18,2)", precision: 18, scale: 2, nullable: true),
                    OrderCurrency = table.Column<string>(type: "character varying(3)", maxLength: 3, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_coupons", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "offers",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Title = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Description = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    Kind = table.Column<int>(type: "integer", nullable: false),
                    Value = table.Column<decimal>(type: "numeric(18,2)", precision: 18, scale: 2, nullable: false),
                    Currency = table.Column<string>(type: "character varying(3)", maxLength: 3, nullable: true),
                    FreeSku = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    SharedCode = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: true),
                    Prefix = table.Column<string>(type: "character varying(12)", maxLength: 12, nullable: false),
                    ValidDays = table.Column<int>(type: "integer", nullable: true),
                    EndsAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    MaxRedemptions = table.Column<int>(type: "integer", nullable: true),
                    Segment = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Archived = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_offers", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_coupons_Code_ContactId",
                table: "coupons",
                columns: new[] { "Code", "ContactId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_coupons_ContactId_IssuedAt",
                table: "coupons",
                columns: new[] { "ContactId", "IssuedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_coupons_IdempotencyKey",
                table: "coupons",
                column: "IdempotencyKey",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_coupons_OfferId_RedeemedAt",
                table: "coupons",
                columns: new[] { "OfferId", "RedeemedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_offers_Name",
                table: "offers",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_offers_SharedCode",
                table: "offers",
                column: "SharedCode",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "coupons");

            migrationBuilder.DropTable(
                name: "offers");
        }
    }
}
