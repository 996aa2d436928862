#!/usr/bin/env bash
# Batch ingest on PostgreSQL next to SQLite and `sqlite3 .import` (BENCHMARKS.md, issue
# "PostgreSQL: several serve instances"): a simulated day of STORIES customer stories, its
# Master.csv imported into a plain SQLite table (the physical anchor), then the whole day
# (Master.csv + queue_log) ingested by a release build into SQLite and into a throwaway
# PostgreSQL 15 with its durable defaults (fsync on, as SQLite's synced commits), both exports
# compared byte for byte. Prints wall and CPU seconds, including the PostgreSQL server's own.
# Not a test: nothing fails because a machine is slow.
#   STORIES=70000 ./scripts/postgres-benchmark.sh    (≈ 100,000 calls; BENCH_DIR keeps the day;
#                                                     FC_BIN=path skips the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
stories="${STORIES:-70000}"
work="${BENCH_DIR:-$(mktemp -d /tmp/fc-pg-bench-XXXXXX)}"
mkdir -p "$work"
source scripts/release-binary.sh
FC_BIN="$fc"
config=samples/firstcontact.yaml
[ -f "$work/day/asterisk/Master.csv" ] ||
  "$FC_BIN" simulate --config "$config" --seed 1 --calls "$stories" --date 2026-11-27 --out "$work/day" >/dev/null
echo "Master.csv: $(wc -l <"$work/day/asterisk/Master.csv") rows; queue_log: $(wc -l <"$work/day/asterisk/queue_log") lines"

rm -f "$work/anchor.sqlite"*
/usr/bin/time -f "sqlite3 .import Master.csv: %e s wall" sqlite3 "$work/anchor.sqlite" "PRAGMA journal_mode=WAL;" \
  "CREATE TABLE cdr(accountcode,src,dst,dcontext,clid,channel,dstchannel,lastapp,lastdata,start,answer,end,duration,billsec,disposition,amaflags,uniqueid,userfield,peeraccount,linkedid,sequence);" \
  ".mode csv" ".import $work/day/asterisk/Master.csv cdr" >/dev/null

rm -f "$work/day.sqlite"*
/usr/bin/time -f "SQLite ingest (whole day): %e s wall, %U s user, %S s sys, %M KB peak RSS" \
  "$FC_BIN" ingest --quiet --config "$config" --db "$work/day.sqlite" "$work/day/asterisk" >/dev/null
"$FC_BIN" export --json --config "$config" --db "$work/day.sqlite" >"$work/sqlite.json"

export FC_BIN work config
FC_POSTGRES_DURABLE=1 scripts/with-postgres.sh bash -c '
  set -euo pipefail
  psql "$FC_TEST_POSTGRES_URL" -qc "CREATE DATABASE bench"
  url=$(echo "$FC_TEST_POSTGRES_URL" | sed "s|@/postgres?|@/bench?|")
  server_cpu() { # user+sys seconds of every process of the server (backends included, while alive)
    ps -u postgres -o times= | awk "{s += \$1} END {print s + 0}"
  }
  /usr/bin/time -f "PostgreSQL ingest (whole day): %e s wall, %U s user, %S s sys, %M KB peak RSS" \
    "$FC_BIN" ingest --quiet --config "$config" --db "$url" "$work/day/asterisk" >/dev/null &
  client=$!
  peak=0
  while kill -0 "$client" 2>/dev/null; do
    now=$(server_cpu); [ "$now" -gt "$peak" ] && peak=$now
    sleep 1
  done
  wait "$client"
  echo "PostgreSQL server processes: ≈ $peak s CPU (sampled each second)"
  echo "PostgreSQL database size: $(psql "$url" -Atc "SELECT pg_size_pretty(pg_database_size(current_database()))")"
  "$FC_BIN" export --json --config "$config" --db "$url" >"$work/postgres.json"
'
echo "SQLite database: $(du -h "$work/day.sqlite" | cut -f1)"
if cmp -s "$work/sqlite.json" "$work/postgres.json"; then
  echo "exports: identical ($(wc -c <"$work/sqlite.json") bytes)"
else
  echo "exports differ: $work/sqlite.json $work/postgres.json" >&2
  exit 1
fi
echo "files kept in $work"
