#!/usr/bin/env bash
# Board benchmark (BENCHMARKS.md): simulates a day big enough for >= 10,000 open obligations,
# serves it, and measures in headless Chromium the board's first render and one live update.
# Usage: scripts/web-benchmark.sh [calls]   (default 50000 stories; debug build unless FC_RELEASE=1)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
source scripts/install-browser-deps.sh
calls=${1:-50000}
config=samples/firstcontact.yaml
work=.build-browser/bench
mkdir -p "$work"
if [ "${FC_RELEASE:-0}" = "1" ]; then
  # The release scratch path the other benchmarks share (scripts/benchmark.sh): built once.
  swift build -c release --scratch-path .build-release --product firstcontact; fc=.build-release/release/firstcontact
else
  swift build --product firstcontact; fc=.build/debug/firstcontact
fi
db=$work/db-$calls.sqlite
if [ ! -f "$db" ]; then
  rm -rf "$work/day-$calls"
  "$fc" simulate --config "$config" --seed 7 --calls "$calls" --date 2026-11-27 --out "$work/day-$calls" >/dev/null
  "$fc" ingest --config "$config" --db "$db" "$work/day-$calls/asterisk" >/dev/null
  "$fc" tick --config "$config" --db "$db" --now 2026-11-27T23:59:59+08:00 >/dev/null
fi
echo "open obligations: $(sqlite3 "$db" "select count(*) from obligation where state in ('pending','breached')")"
port=$("$FC_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$fc" serve --config "$config" --db "$db" --host 127.0.0.1 --port "$port" >"$work/serve.log" 2>&1 &
server=$!
stop() {
  kill -TERM "$server" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$server" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 1 3000); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
FC_URL="http://127.0.0.1:$port" "$FC_PYTHON" scripts/browser/bench_web.py
