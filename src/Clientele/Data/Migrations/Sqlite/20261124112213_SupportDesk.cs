using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Clientele.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SupportDesk : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "AlertLevel",
                table: "tickets",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTime>(
                name: "BreachAt",
                table: "tickets",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "FirstResponder",
                table: "tickets",
                type: "TEXT",
                maxLength: 320,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Tags",
                table: "tickets",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<string>(
                name: "MessageId",
                table: "ticket_messages",
                type: "TEXT",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "OutboxMessageId",
                table: "ticket_messages",
                type: "BLOB",
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "TicketId",
                table: "outbox",
                type: "BLOB",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_ticket_messages_MessageId",
                table: "ticket_messages",
                column: "MessageId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ticket_messages_MessageId",
                table: "ticket_messages");

            migrationBuilder.DropColumn(
                name: "AlertLevel",
                table: "tickets");

            migrationBuilder.DropColumn(
                name: "BreachAt",
                table: "tickets");

            migrationBuilder.DropColumn(
                name: "FirstResponder",
                table: "tickets");

            migrationBuilder.DropColumn(
                name: "Tags",
                table: "tickets");

            migrationBuilder.DropColumn(
                name: "MessageId",
                table: "ticket_messages");

            migrationBuilder.DropColumn(
                name: "OutboxMessageId",
                table: "ticket_messages");

            migrationBuilder.DropColumn(
                name: "TicketId",
                table: "outbox");
        }
    }
}
