#!/usr/bin/env bash
# End-to-end ingestion benchmark on SQLite and PostgreSQL (see docs/benchmarks.md).
# Usage: bench/run.sh [--events N] [--singles N]
#        bench/run.sh clv [BenchmarkDotNet options]   customer-value model fits and RFM summary (no database)
#        bench/run.sh forms [--rate 200] [--seconds 30]   form submissions at a steady rate (SQLite and PostgreSQL)
#        bench/run.sh render [--messages N] [--contacts N]   message rendering on one thread (no database)
#        bench/run.sh segments [--contacts N] [--events N] [--orders N]   segments over a generated shop (SQLite and PostgreSQL)
#        bench/run.sh dashboard [--contacts N] [--events N] [--orders N] [--keep DIR]   the dashboard's data load and roll-up over a generated shop (SQLite and PostgreSQL)
#        bench/run.sh recommendations [--orders N] [--products N]   bought-together recomputation over a generated shop (SQLite and PostgreSQL)
#        bench/run.sh smtp [--messages N] [--size 2048]   SMTP transport into postfix's smtp-sink, beside smtp-source
#        bench/run.sh broadcast [--messages N] [--connections 8]   a whole broadcast through the app into smtp-sink (SQLite and PostgreSQL)
#        bench/run.sh journeys [--runs N]   many journey runs due at once through the journey worker (SQLite; PostgreSQL with two workers)
#        bench/run.sh journey-latency [--rate 1000] [--seconds 20]   event to the journey's first e-mail queued, at a steady rate (SQLite and PostgreSQL)
# The ingestion, broadcast, forms and journey-latency runs take --onto-sqlite PATH and --onto-postgres CONN to run onto an
# existing database (such as the shop written by `clientele demo --contacts 1000000`) instead of a fresh one, and
# --only sqlite|postgres to run on one database.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  smtp|broadcast)
    if [ ! -x /usr/sbin/smtp-sink ]; then
      echo "bench/run.sh $1 needs postfix's smtp-sink and smtp-source: apt-get install --no-install-recommends postfix (./test.sh installs it too)" >&2
      exit 1
    fi ;;
esac
if [ "${1:-}" = clv ]; then
  shift
  dotnet build -c Release bench/Clientele.Bench -nologo -v quiet -clp:ErrorsOnly
  exec dotnet bench/Clientele.Bench/bin/Release/net10.0/Clientele.Bench.dll clv "$@"
fi
if [ "${1:-}" = smtp ]; then
  shift
  dotnet build -c Release bench/Clientele.Bench -nologo -v quiet -clp:ErrorsOnly
  exec dotnet bench/Clientele.Bench/bin/Release/net10.0/Clientele.Bench.dll smtp "$@"
fi
if [ "${1:-}" = render ]; then
  shift
  dotnet build -c Release bench/Clientele.Bench -nologo -v quiet -clp:ErrorsOnly
  exec dotnet bench/Clientele.Bench/bin/Release/net10.0/Clientele.Bench.dll render "$@"
fi
. scripts/postgres.sh
trap pg_stop EXIT
pg_start
case "${1:-}" in
  forms|journey-latency|broadcast)
    # The real server in its own process, then the client: both built in Release.
    verb=$1
    shift
    dotnet build -c Release src/Clientele -nologo -v quiet -clp:ErrorsOnly
    dotnet build -c Release bench/Clientele.Bench -nologo -v quiet -clp:ErrorsOnly
    dotnet bench/Clientele.Bench/bin/Release/net10.0/Clientele.Bench.dll "$verb" --postgres "$PG_CONNECTION" "$@"
    exit ;;
esac
if [ "${1:-}" = journeys ]; then
  shift
  dotnet build -c Release bench/Clientele.Bench -nologo -v quiet -clp:ErrorsOnly
  dotnet bench/Clientele.Bench/bin/Release/net10.0/Clientele.Bench.dll journeys --postgres "$PG_CONNECTION" "$@"
  exit
fi
if [ "${1:-}" = recommendations ]; then
  shift
  dotnet build -c Release bench/Clientele.Bench -nologo -v quiet -clp:ErrorsOnly
  dotnet bench/Clientele.Bench/bin/Release/net10.0/Clientele.Bench.dll recommendations --postgres "$PG_CONNECTION" "$@"
  exit
fi
if [ "${1:-}" = dashboard ]; then
  shift
  dotnet build -c Release bench/Clientele.Bench -nologo -v quiet -clp:ErrorsOnly
  dotnet bench/Clientele.Bench/bin/Release/net10.0/Clientele.Bench.dll dashboard --postgres "$PG_CONNECTION" "$@"
  exit
fi
if [ "${1:-}" = segments ]; then
  shift
  dotnet build -c Release bench/Clientele.Bench -nologo -v quiet -clp:ErrorsOnly
  dotnet bench/Clientele.Bench/bin/Release/net10.0/Clientele.Bench.dll segments --postgres "$PG_CONNECTION" "$@"
  exit
fi
dotnet build -c Release src/Clientele -nologo -v quiet -clp:ErrorsOnly
dotnet build -c Release bench/Clientele.Bench -nologo -v quiet -clp:ErrorsOnly
dotnet bench/Clientele.Bench/bin/Release/net10.0/Clientele.Bench.dll ingest --postgres "$PG_CONNECTION" "$@"
