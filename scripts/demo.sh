#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds, loads the sample
# water-utility day into an embedded SQLite file, shows the open callbacks and the first
# responders, then runs the service on it (DEMO_SERVE=0 skips that).
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
  echo
  echo "== Starting the service (Ctrl-C stops it) =="
  echo "Open http://127.0.0.1:8080/ in a browser and sign in with demo-supervisor (the board) or demo-agent-1001 (my work)."
  echo "Demo tokens (samples/firstcontact.yaml): demo-admin, demo-supervisor, demo-agent-1001, demo-pbx. For example:"
  echo "  curl -H 'Authorization: Bearer demo-supervisor' 'http://127.0.0.1:8080/v1/contacts?status=awaiting_callback&limit=5'"
  exec "$fc" serve --config "$config" --db "$db"
fi
