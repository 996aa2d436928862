#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: a simulated ~1,000,000-call day ingested by a release build,
# against `sqlite3 .import` of the same Master.csv into a plain table (the physical anchor for
# "parse and store"), in the same run on the same machine. Prints records/s, the ratio and
# peak memory. Not a test: nothing fails because a machine is slow.
#   STORIES=700000 ./scripts/benchmark.sh        (700k customer stories ≈ 1.0M calls)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
stories="${STORIES:-700000}"
work="${BENCH_DIR:-$(mktemp -d /tmp/fc-bench-XXXXXX)}"
mkdir -p "$work"
source scripts/release-binary.sh
config=samples/firstcontact.yaml
measure() { # label command… → prints "label: seconds, peak KB"
  local label=$1; shift
  /usr/bin/time -f "$label: %e s wall, %U s user, %S s sys, %M KB peak RSS" "$@" >/dev/null 2>"$work/time.txt" || { cat "$work/time.txt"; exit 1; }
  tail -n 1 "$work/time.txt"
}

[ -f "$work/day/asterisk/Master.csv" ] || measure "simulate $stories stories" \
  "$fc" simulate --config "$config" --seed 1 --calls "$stories" --date 2026-11-27 --out "$work/day"
rows=$(wc -l < "$work/day/asterisk/Master.csv")
echo "Master.csv: $rows rows, $(du -h "$work/day/asterisk/Master.csv" | cut -f1); queue_log: $(wc -l < "$work/day/asterisk/queue_log") lines"

rm -f "$work/anchor.sqlite"*
anchor=$( { /usr/bin/time -f "%e" sqlite3 "$work/anchor.sqlite" "PRAGMA journal_mode=WAL;" \
  "CREATE TABLE cdr(accountcode,src,dst,dcontext,clid,channel,dstchannel,lastapp,lastdata,start,answer,end,duration,billsec,disposition,amaflags,uniqueid,userfield,peeraccount,linkedid,sequence);" \
  ".mode csv" ".import $work/day/asterisk/Master.csv cdr" >/dev/null; } 2>&1 | tail -n 1)
echo "anchor sqlite3 .import Master.csv: $anchor s"

rm -f "$work/fc.sqlite"*
start=$(date +%s.%N)
measure "firstcontact ingest Master.csv" "$fc" ingest --quiet --config "$config" --db "$work/fc.sqlite" "$work/day/asterisk/Master.csv"
ours=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$start" "$(date +%s.%N)")
python3 - "$rows" "$anchor" "$ours" <<'PY'
import sys
rows, anchor, ours = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"records/s: firstcontact {rows/ours:,.0f}, sqlite3 .import {rows/anchor:,.0f}; ratio {ours/anchor:.1f}x the anchor")
PY

rm -f "$work/day.sqlite"*
measure "firstcontact ingest whole day (Master.csv + queue_log)" "$fc" ingest --quiet --config "$config" --db "$work/day.sqlite" "$work/day/asterisk"
echo "files kept in $work"
