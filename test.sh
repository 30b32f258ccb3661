#!/usr/bin/env bash
# Installs what the tests need, starts a throwaway PostgreSQL 15, checks formatting and runs every suite
# (each data test runs on SQLite and on PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# --- test dependencies from Debian ---------------------------------------------------------------
missing=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v runuser >/dev/null || missing+=(util-linux)
command -v python3 >/dev/null || missing+=(python3)
[ -x /usr/sbin/smtp-sink ] || missing+=(postfix)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
[ -x /usr/lib/dovecot/imap ] || missing+=(dovecot-imapd)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  # postfix asks how to configure itself: it is only here for smtp-sink and smtp-source.
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- a throwaway PostgreSQL ------------------------------------------------------------------------
. scripts/postgres.sh
trap pg_stop EXIT
pg_start
export CLIENTELE_TEST_POSTGRES="$PG_CONNECTION"

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
if [ "$failed" != "0" ]; then
  # Repeated last, so the names of failed tests are at the end of the output with their first lines.
  echo "Failed tests:"
  grep -E -A6 '^\s*failed [A-Za-z]' "$LOG" | cut -c1-300 || true
fi
rm -f "$LOG"
shots=tests/Clientele.Tests/bin/Debug/net10.0/TestResults/screenshots
[ -d "$shots" ] && echo "Screenshots of the pages the browser tests passed through: $shots"
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
