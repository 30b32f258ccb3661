#!/usr/bin/env bash
# Installs what the tests need, starts a throwaway PostgreSQL 15, checks formatting and runs every suite
# (each data test runs on SQLite and on PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")"

PG_BIN=/usr/lib/postgresql/15/bin
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# --- test dependencies from Debian ---------------------------------------------------------------
missing=()
[ -x "$PG_BIN/initdb" ] || missing+=(postgresql-15)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v runuser >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- a throwaway PostgreSQL ------------------------------------------------------------------------
PG_DIR=$(mktemp -d /tmp/clientele-pg.XXXXXX)
PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PG_DIR"; fi
stop_pg() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PG_DIR"; }
trap stop_pg EXIT
as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync -E UTF8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  start >/dev/null
export CLIENTELE_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
echo "PostgreSQL 15 on port $PG_PORT"

# --- build, format, test ---------------------------------------------------------------------------
dotnet tool restore >/dev/null
dotnet build Clientele.slnx -nologo -v quiet -clp:ErrorsOnly
dotnet format whitespace Clientele.slnx --verify-no-changes --no-restore || {
  echo "Formatting differs: run 'dotnet format whitespace Clientele.slnx' and commit."; exit 1; }

LOG=$(mktemp)
set +e
dotnet test --solution Clientele.slnx --no-build 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -E '^\s+succeeded: [0-9]+' "$LOG" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -E '^\s+failed: [0-9]+' "$LOG" | tail -1 | grep -oE '[0-9]+' || echo 0)
skipped=$(grep -E '^\s+skipped: [0-9]+' "$LOG" | tail -1 | grep -oE '[0-9]+' || echo 0)
rm -f "$LOG"
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
