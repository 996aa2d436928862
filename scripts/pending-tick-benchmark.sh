#!/usr/bin/env bash
# The scheduler's tick with PENDING callbacks pending (BENCHMARKS.md "Scheduler: a tick with
# 1,000,000 pending obligations"): PENDING missed calls, one per customer, to the 24/7 repairs
# queue over 2026-11-27, ingested with `lateness: 2d` so that the ingest fires nothing and every
# callback is pending; then `schedule --until T` with T the 1,000th smallest next_check (1,000
# due, the rest untouched), and again with nothing due (a restart). With STORE=postgres the
# SQLite database is moved into a throwaway PostgreSQL 15 (durable defaults) by `store copy`
# and the same ticks run there. Not a test: nothing fails because a machine is slow.
#   PENDING=1000000 STORE=sqlite|postgres ./scripts/pending-tick-benchmark.sh
#   (BENCH_DIR keeps the generated file and the SQLite database; FC_BIN skips the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${FC_TEST_POSTGRES_URL:-}" ]; then
  source scripts/install-deps.sh
  source scripts/release-binary.sh
  export FC_BIN="$fc"
  export BENCH_DIR="${BENCH_DIR:-$(mktemp -d /tmp/fc-pending-XXXXXX)}"
  export PENDING="${PENDING:-1000000}"
  mkdir -p "$BENCH_DIR"
  work=$BENCH_DIR
  if [ ! -f "$work/pending.sqlite" ]; then
    sed 's/^  lateness: .*/  lateness: 2d/' samples/firstcontact.yaml >"$work/late.yaml"
    grep -q '^  lateness: 2d' "$work/late.yaml" || { echo "pending-tick-benchmark: no lateness line to set" >&2; exit 1; }
    python3 - "$PENDING" >"$work/Master.csv" <<'PY'
import sys
from datetime import datetime, timedelta, timezone
count = int(sys.argv[1])
zone = timezone(timedelta(hours=8))
start = datetime(2026, 11, 27, 0, 0, 0, tzinfo=zone)
for n in range(count):
    at = start + timedelta(seconds=n * 86000 // count)
    end = at + timedelta(seconds=60)
    stamp = lambda t: t.strftime("%Y-%m-%d %H:%M:%S")
    number = f"139{n:08d}"
    uid = f"{int(at.timestamp())}.{n}"
    print(f'"","{number}","96116","from-trunk","{number}","PJSIP/trunk-{n:08x}","","Queue","repairs,t,,,300",'
          f'"{stamp(at)}","{stamp(at + timedelta(seconds=1))}","{stamp(end)}",60,59,"ANSWERED","DOCUMENTATION","{uid}","","","{uid}",{n}')
PY
    /usr/bin/time -f "ingest of $PENDING missed calls: %e s wall, %M KB peak RSS" \
      "$FC_BIN" ingest --quiet --config "$work/late.yaml" --db "$work/pending.sqlite" "$work/Master.csv" >/dev/null
  fi
  echo "pending callbacks: $(sqlite3 "$work/pending.sqlite" "SELECT count(*) FROM obligation WHERE state = 'pending'")"
  if [ "${STORE:-sqlite}" = postgres ]; then
    FC_POSTGRES_DURABLE=1 exec scripts/with-postgres.sh "$0" "$@"
  fi
  db="$work/tick.sqlite"
  rm -f "$db"*
  cp "$work/pending.sqlite" "$db"
else
  work=$BENCH_DIR
  psql "$FC_TEST_POSTGRES_URL" -qc "CREATE DATABASE bench"
  db=$(echo "$FC_TEST_POSTGRES_URL" | sed "s|@/postgres?|@/bench?|")
  /usr/bin/time -f "store copy SQLite -> PostgreSQL: %e s wall, %M KB peak RSS" \
    "$FC_BIN" store copy --from "$work/pending.sqlite" --to "$db" >/dev/null
fi

# T: the 1,000th smallest next_check, as the scheduler would reach it.
at=$(sqlite3 "$work/pending.sqlite" "SELECT next_check FROM customer WHERE next_check IS NOT NULL ORDER BY next_check LIMIT 1 OFFSET 999")
until=$(python3 -c "import sys, datetime; print(datetime.datetime.fromtimestamp(int(sys.argv[1]), datetime.timezone.utc).isoformat())" "$at")
echo "store: $( [ "${STORE:-sqlite}" = postgres ] && echo PostgreSQL || echo SQLite ); --until $until"
/usr/bin/time -f "tick finding 1,000 due among $PENDING pending: %e s wall, %U s user, %S s sys, %M KB peak RSS" \
  "$FC_BIN" schedule --config "$work/late.yaml" --db "$db" --until "$until" >/dev/null
/usr/bin/time -f "again with nothing due (a restart): %e s wall, %M KB peak RSS" \
  "$FC_BIN" schedule --config "$work/late.yaml" --db "$db" --until "$until" >/dev/null
echo "files kept in $work"
