#!/usr/bin/env bash
# What a sync per acknowledgement costs (BENCHMARKS.md): 16 concurrent clients POST one Asterisk
# Master.csv line each (a new call per request) to /v1/ingest/asterisk-csv of each binary given,
# one after the other in the same run, each on a fresh database. Prints 2xx/s and latency per binary.
# Not a test: nothing fails because a machine is slow.
#   ./scripts/sync-bench.sh BINARY...      (DURATION=15s CONNECTIONS=16 THREADS=2)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi
[ $# -gt 0 ] || set -- "$PWD/.build/debug/firstcontact"
duration="${DURATION:-15s}"
connections="${CONNECTIONS:-16}"
threads="${THREADS:-2}"
work="$(mktemp -d /tmp/fc-sync-bench-XXXXXX)"
pid=""
stop() {
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
trap stop EXIT
n=0
for fc in "$@"; do
  n=$((n + 1))
  db="$work/bench-$n.sqlite"
  "$fc" serve --config samples/firstcontact.yaml --db "$db" --host 127.0.0.1 --port 0 >"$work/serve-$n.out" 2>"$work/serve-$n.err" &
  pid=$!
  port=""
  for _ in $(seq 200); do
    port=$(sed -n 's|.*serving http://[^:]*:\([0-9]*\)/.*|\1|p' "$work/serve-$n.out")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/serve-$n.err" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "sync-bench: $fc printed no port" >&2; exit 1; }
  echo "== $fc"
  wrk --latency -t"$threads" -c"$connections" -d"$duration" --timeout 10s -s scripts/http-bench/asterisk-line.lua \
    "http://127.0.0.1:$port/v1/ingest/asterisk-csv" -- demo-pbx >"$work/wrk-$n.txt"
  grep -E "Requests/sec|^ +(50|99)%|bench:" "$work/wrk-$n.txt"
  stop
  pid=""
  echo "stored legs: $(sqlite3 "$db" 'SELECT count(*) FROM leg'), rejects: $(sqlite3 "$db" 'SELECT count(*) FROM reject')"
done
echo "files kept in $work"
