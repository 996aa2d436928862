#!/usr/bin/env bash
# What does a retention purge cost on a database with more than a year of history? Simulates DAYS
# days one week apart from Monday 2025-08-04 (CALLS customer stories each; every other week the
# same customers call again), ingests them into one database, then times `purge --dry-run` and
# `purge` (policy.retention 400d, as of 2026-12-01) and, on a copy of the database before the
# purge, VACUUM alone (the part of the purge that rewrites the file). Release build unless FC_BIN
# names a binary; not a test: nothing fails because a machine is slow.
#   DAYS=70 CALLS=2500 ./scripts/retention-benchmark.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
days="${DAYS:-70}"
calls="${CALLS:-2500}"
work="${BENCH_DIR:-$(mktemp -d /tmp/fc-retention-XXXXXX)}"
mkdir -p "$work"
source scripts/release-binary.sh
config="$work/firstcontact.yaml"
sed 's/^policy:$/policy:\n  retention: 400d/' samples/firstcontact.yaml > "$config"
grep -q 'retention: 400d' "$config"

dates=$(python3 - "$days" <<'PY'
import datetime, sys
d = datetime.date(2025, 8, 4)
print(" ".join((d + datetime.timedelta(weeks=i)).isoformat() for i in range(int(sys.argv[1]))))
PY
)
db="$work/history.sqlite"
if [ ! -f "$db" ]; then
  i=0
  for date in $dates; do
    i=$((i + 1))
    seed=7
    [ $((i % 2)) -eq 0 ] && seed=$((1000 + i))
    day="$work/day-$date"
    [ -f "$day/asterisk/Master.csv" ] || "$fc" simulate --config "$config" --seed "$seed" --calls "$calls" \
      --date "$date" --out "$day" --formats asterisk,ivr >/dev/null
    "$fc" ingest --quiet --allow-rejects --config "$config" --db "$db" "$day/asterisk" "$day/ivr" >/dev/null
    rm -rf "$day"
  done
  "$fc" tick --config "$config" --db "$db" --now 2026-12-01T00:00:00+08:00 >/dev/null
fi
rm -f "$work"/run.sqlite* "$work"/vacuum.sqlite*
sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
cp "$db" "$work/run.sqlite"
cp "$db" "$work/vacuum.sqlite"
mb() { du -cm "$@" 2>/dev/null | tail -n 1 | cut -f1; }
echo "== $days days one week apart from 2025-08-04, $calls stories a day =="
echo "database before: $(mb "$work/run.sqlite") MB, $(sqlite3 "$work/run.sqlite" 'SELECT count(*) FROM contact') contacts, $(sqlite3 "$work/run.sqlite" 'SELECT (SELECT count(*) FROM leg) + (SELECT count(*) FROM queue_event) + (SELECT count(*) FROM ivr_event)') records"
timed() { /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB max RSS" "$@"; }
echo "-- purge --dry-run"
timed "$fc" purge --dry-run --config "$config" --db "$work/run.sqlite" --now 2026-12-01T00:00:00+08:00
echo "-- purge"
timed "$fc" purge --config "$config" --db "$work/run.sqlite" --now 2026-12-01T00:00:00+08:00
echo "database after: $(mb "$work"/run.sqlite*) MB (with -wal), $(sqlite3 "$work/run.sqlite" 'SELECT count(*) FROM contact') contacts"
echo "-- VACUUM alone, on the database before the purge"
timed sqlite3 "$work/vacuum.sqlite" 'VACUUM;'
echo "-- the next day's purge (nothing old enough left)"
timed "$fc" purge --config "$config" --db "$work/run.sqlite" --now 2026-12-02T00:00:00+08:00
echo "work directory: $work"
