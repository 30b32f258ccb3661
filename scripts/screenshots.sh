#!/usr/bin/env bash
# Refreshes the README's screenshots (docs/screenshots/*.png): runs the user-journey browser tests on the demo
# business with CLIENTELE_SCREENSHOTS_DIR set, which makes them keep the dashboard, a contact's timeline, the
# journey editor and the support inbox there as well. Needs Debian's chromium (./test.sh installs it); pngquant,
# when installed, makes the files smaller.
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out="$PWD/docs/screenshots"
mkdir -p "$out"
dotnet build tests/Clientele.Tests -nologo -v quiet -clp:ErrorsOnly
CLIENTELE_SCREENSHOTS_DIR="$out" dotnet test --project tests/Clientele.Tests --no-build -- --filter-class "*UserJourneyTests"

if command -v pngquant >/dev/null; then
  pngquant --force --skip-if-larger --quality 70-95 --strip --ext .png "$out"/*.png || true
fi
ls -l "$out"/*.png
