#!/usr/bin/env bash
# Database bytes per stored call for one simulated day, read from a short directory and from one
# 67 characters longer (record rows and rejects refer to their source by id, so the path should
# not show in the size). Release build; FC_BIN=path measures a binary built already.
#   CALLS=10000 FC_BIN=... ./scripts/source-size-benchmark.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
calls="${CALLS:-10000}"
work="${BENCH_DIR:-$(mktemp -d /tmp/fc-sources-XXXXXX)}"
mkdir -p "$work"
source scripts/release-binary.sh
config=samples/firstcontact.yaml
long="$work/$(printf 'x%.0s' $(seq 1 66))/d"   # "/d" + 66 characters + "/" = 67 more than "$work/d"
day="$work/d"
if [ ! -f "$day/asterisk/Master.csv" ]; then
  "$fc" simulate --config "$config" --seed 7 --calls "$calls" --date 2026-11-27 --out "$day" --formats asterisk,ivr >/dev/null
fi
mkdir -p "$long" && cp -R "$day/asterisk" "$day/ivr" "$long/"
printf '%-6s  %12s  %8s  %14s\n' dir "db bytes" calls "bytes per call"
for dir in "$day" "$long"; do
  name=short; [ "$dir" = "$long" ] && name=long
  db="$work/$name.sqlite"
  rm -f "$db" "$db"-wal "$db"-shm
  "$fc" ingest --quiet --allow-rejects --config "$config" --db "$db" "$dir/asterisk" "$dir/ivr" >/dev/null
  "$fc" tick --config "$config" --db "$db" --now 2026-11-27T23:59:59+08:00 >/dev/null
  bytes=$(python3 -c "import os,sys; print(sum(os.path.getsize(p) for p in sys.argv[1:] if os.path.exists(p)))" "$db" "$db"-wal)
  stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM call').fetchone()[0])" "$db")
  printf '%-6s  %12d  %8d  %14.0f\n' "$name" "$bytes" "$stored" "$(python3 -c "print($bytes / $stored)")"
  rm -f "$db" "$db"-wal "$db"-shm
done
