using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Clientele.Data.Migrations.Postgres
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
                    ContactId = table.Column<Guid>(type: "uuid", nullable: false),
                    Code = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Clicks = table.Column<int>(type: "integer", nullable: false),
                    LastClickedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_referral_codes", x => x.ContactId);
                });

            migrationBuilder.CreateTable(
                name: "referrals",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ReferrerId = table.Column<Guid>(type: "uuid", nullable: false),
                    FriendId = table.Column<Guid>(type: "uuid", nullable: false),
                    Code = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Source = table.Column<string>(type: "character varying(120)", maxLength: 120, nullable: false),
                    ClickedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    SignedUpAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    FirstOrderAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    FirstOrderId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Status = table.Column<int>(type: "integer", nullable: false),
                    RejectionReason = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    FriendCouponId = table.Column<Guid>(type: "uuid", nullable: true),
                    FriendRewardNote = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    ReferrerCouponId = table.Column<Guid>(type: "uuid", nullable: true),
                    ReferrerRewardedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    ReferrerRewardNote = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
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
