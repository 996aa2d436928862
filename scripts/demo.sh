#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds, loads the sample
# water-utility day into an embedded SQLite file, shows the open callbacks and the first
# responders, then runs a live hotline: `serve` on a fresh database with `simulate --live` posting
# today's calls into it (DEMO_SERVE=0 skips that; DEMO_SPEED, DEMO_RATE, DEMO_SEED, DEMO_PORT tune it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
swift build --product firstcontact
fc=.build/debug/firstcontact
config=samples/firstcontact.yaml
db=.demo/firstcontact.sqlite
day=samples/day-2026-11-27
mkdir -p .demo
rm -f "$db" "$db-wal" "$db-shm"

"$fc" check-config --config "$config"
echo
"$fc" ingest --config "$config" --db "$db" "$day/asterisk" "$day/ivr"
echo
# The sample day ends at midnight local time: apply every deadline that ran out by then.
"$fc" tick --config "$config" --db "$db" --now 2026-11-27T23:59:59+08:00
echo
echo "== Callbacks still owed (overdue first) =="
"$fc" obligations --config "$config" --db "$db" --kind callback --state breached pending --limit 25
echo
echo "== First responders (first 20 contacts) =="
"$fc" contacts --config "$config" --db "$db" --limit 20
echo
echo "Database: $db — try: $fc explain --config $config --db $db <contact id>"
if [ "${DEMO_SERVE:-1}" = "1" ]; then
  # The live hotline: a fresh database that `simulate --live` fills through the HTTP ingest as a
  # PBX would, starting with the hours of today that have passed. The sample day stays in $db
  # (its week-old items would sit on top of the board as days late). The live copy of the
  # configuration keeps every department open round the clock (no `calendar: office`), so that
  # clocks run and deadlines fall whenever the demo is started, evenings and weekends included.
  port="${DEMO_PORT:-8080}"
  speed="${DEMO_SPEED:-1}"
  live_config=.demo/live.yaml
  live_db=.demo/live.sqlite
  sed '/^ *calendar: office *$/d' "$config" >"$live_config"
  rm -f "$live_db" "$live_db-wal" "$live_db-shm"
  # The service logs a line per request: to a file, so the terminal keeps what the player says.
  "$fc" serve --config "$live_config" --db "$live_db" --port "$port" >.demo/serve.log 2>&1 &
  server=$!
  "$fc" simulate --live --config "$live_config" --seed "${DEMO_SEED:-7}" --rate "${DEMO_RATE:-2500}" \
    --speed "$speed" --to "http://127.0.0.1:$port" --token demo-pbx &
  player=$!
  stop() {
    trap - INT TERM EXIT
    kill -TERM "$player" "$server" 2>/dev/null || true
    wait "$player" "$server" 2>/dev/null || true
  }
  trap stop INT TERM EXIT
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat .demo/serve.log; exit 1; }
    sleep 0.1
  done
  echo
  echo "== The live hotline (Ctrl-C stops the service and the player) =="
  echo "Today's calls arrive as they happen (new customers at ${speed}x real pace; DEMO_SPEED=20 brings them faster),"
  echo "posted to the HTTP ingest with the pbx token; the hours of today that have passed were posted at start."
  echo "Open http://127.0.0.1:$port/ in a browser and sign in with demo-supervisor (the board) or demo-agent-1001 (my work)."
  echo "Demo tokens (samples/firstcontact.yaml): demo-admin, demo-supervisor, demo-agent-1001, demo-pbx. For example:"
  echo "  curl -H 'Authorization: Bearer demo-supervisor' 'http://127.0.0.1:$port/v1/contacts?status=awaiting_callback&limit=5'"
  echo "Live database: $live_db (configuration $live_config, service log .demo/serve.log)"
  wait -n "$server" "$player"
fi
