using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Clientele.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Referrals : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "referral_codes",
                columns: table => new
                {
                    ContactId = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Code = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Clicks = table.Column<int>(type: "INTEGER", nullable: false),
                    LastClickedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_referral_codes", x => x.ContactId);
                });

            migrationBuilder.CreateTable(
                name: "referrals",
                columns: table => new
                {
                    Id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    ReferrerId = table.Column<byte[]>(type: "BLOB", nullable: false),
                    FriendId = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Code = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    Source = table.Column<string>(type: "TEXT", maxLength: 120, nullable: false),
                    ClickedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    SignedUpAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    FirstOrderAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    FirstOrderId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    RejectionReason = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    FriendCouponId = table.Column<byte[]>(type: "BLOB", nullable: true),
                    FriendRewardNote = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    ReferrerCouponId = table.Column<byte[]>(type: "BLOB", nullable: true),
                    ReferrerRewardedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ReferrerRewardNote = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_referrals", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_referral_codes_Code",
                table: "referral_codes",
                column: "Code",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_referrals_FriendId_ReferrerId",
                table: "referrals",
                columns: new[] { "FriendId", "ReferrerId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_referrals_ReferrerId_SignedUpAt",
                table: "referrals",
                columns: new[] { "ReferrerId", "SignedUpAt" });

            migrationBuilder.CreateIndex(
                name: "IX_referrals_SignedUpAt",
                table: "referrals",
                column: "SignedUpAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "referral_codes");

            migrationBuilder.DropTable(
                name: "referrals");
        }
    }
}
