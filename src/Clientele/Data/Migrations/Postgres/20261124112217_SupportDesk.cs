using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Clientele.Data.Migrations.Postgres
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
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTime>(
                name: "BreachAt",
                table: "tickets",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "FirstResponder",
                table: "tickets",
                type: "character varying(320)",
                maxLength: 320,
                nullable: true);

            migrationBuilder.AddColumn<List<string>>(
                name: "Tags",
                table: "tickets",
                type: "text[]",
                nullable: false,
                defaultValueSql: "'{}'");

            migrationBuilder.AddColumn<string>(
                name: "MessageId",
                table: "ticket_messages",
                type: "character varying(500)",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "OutboxMessageId",
                table: "ticket_messages",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "TicketId",
                table: "outbox",
                type: "uuid",
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
