#!/usr/bin/env bash
# Browser tests of the web pages in a real headless Chromium: builds the sample-day database
# (as scripts/demo.sh does), starts `firstcontact serve` on it on a free port, runs
# scripts/browser/test_web.py against it, and stops the server by pid (TERM, then KILL).
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

port=$("$FC_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$fc" serve --config "$config" --db "$db" --host 127.0.0.1 --port "$port" >"$work/serve.log" 2>&1 &
server=$!
stop() {
  kill -TERM "$server" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$server" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.1
done
FC_URL="http://127.0.0.1:$port" FC_SCREENS="$PWD/.build-screens" "$FC_PYTHON" scripts/browser/test_web.py "$@"
