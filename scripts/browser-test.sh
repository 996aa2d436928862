#!/usr/bin/env bash
# Browser tests of the web pages in a real headless Chromium: builds the sample-day database
# (as scripts/demo.sh does), starts `firstcontact serve` on it on a free port, runs
# scripts/browser/test_web.py against it; then the live demo (a second server fed by
# `simulate --live`, as scripts/demo.sh runs it) with scripts/browser/test_live.py. Stops what it
# started by pid (TERM, then KILL).
# Screenshots (1366x768 and 1920x1080) land in .build-screens/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
source scripts/install-browser-deps.sh
swift build --product firstcontact
fc=.build/debug/firstcontact
config=samples/firstcontact.yaml
work=.build-browser
db=$work/day.sqlite
mkdir -p "$work" .build-screens
rm -f "$db" "$db-wal" "$db-shm"
"$fc" ingest --config "$config" --db "$db" samples/day-2026-11-27/asterisk >/dev/null
"$fc" tick --config "$config" --db "$db" --now 2026-11-27T23:59:59+08:00 >/dev/null

free_port() { "$FC_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap stop EXIT
serve() {  # serve CONFIG DB LOG: sets $port once the server answers /healthz
  port=$(free_port)
  "$fc" serve --config "$1" --db "$2" --host 127.0.0.1 --port "$port" >"$3" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$3" >&2; exit 1; }
    sleep 0.1
  done
}

serve "$config" "$db" "$work/serve.log"
FC_URL="http://127.0.0.1:$port" FC_SCREENS="$PWD/.build-screens" "$FC_PYTHON" scripts/browser/test_web.py "$@"

# The live demo as scripts/demo.sh runs it (round-the-clock copy of the configuration, a fresh
# database, `simulate --live`), new customers 60 times faster than real and four times the sample
# day's volume, the traffic of 15:00 whenever it runs, so that within a minute missed calls arrive,
# countdowns run out and breaches fall.
live_config=$work/live.yaml
live_db=$work/live.sqlite
sed '/^ *calendar: office *$/d' "$config" >"$live_config"
rm -f "$live_db" "$live_db-wal" "$live_db-shm"
serve "$live_config" "$live_db" "$work/live-serve.log"
live_port=$port
"$fc" simulate --live --config "$live_config" --seed 7 --rate 10000 --speed 60 --plays-as 15:00 \
  --to "http://127.0.0.1:$live_port" --token demo-pbx >"$work/player.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do grep -q "seeded" "$work/player.log" && break; sleep 0.1; done
grep -q "seeded" "$work/player.log" || { cat "$work/player.log" >&2; exit 1; }
FC_URL="http://127.0.0.1:$live_port" FC_SCREENS="$PWD/.build-screens" "$FC_PYTHON" scripts/browser/test_live.py
# README screenshots of the live demo (docs/demo-*.png): UPDATE_SCREENSHOTS=1 ./scripts/browser-test.sh
if [ "${UPDATE_SCREENSHOTS:-0}" = "1" ]; then
  cp .build-screens/live-board-at-risk-1366x768.png docs/demo-board.png
  cp .build-screens/live-my-work-1366x768.png docs/demo-my-work.png
fi
