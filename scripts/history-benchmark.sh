#!/usr/bin/env bash
# Does a day's ingest grow with the history already stored? Simulates DAYS consecutive weekdays
# of CALLS customer stories and ingests them one after another into one database, once with the
# same customers calling again every day (one seed) and once with new customers every day (a seed
# and a range of customers per day, `simulate --first-customer`: no day's caller called before;
# `NEW=pool` gives the days a seed each and one range, so most callers of a later day called on
# an earlier one, as this benchmark's new customers did before the range). Prints a row per day
# (seconds, database size) and day DAYS against day 2. Release build; not a test: nothing fails
# because a machine is slow.
#   DAYS=30 CALLS=10000 ./scripts/history-benchmark.sh          (FC_BIN=path skips the build)
# The days run minutes apart, and this machine's speed drifts by ±30 % over an hour, so a single
# day-DAYS / day-2 quotient says as much about the drift as about the store. After the days, day 2
# and day DAYS are ingested again ROUNDS times (default 3), alternately, each into a fresh copy of
# the database as it stood before that day: the median of those pairs is the ratio to quote.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
days="${DAYS:-30}"
calls="${CALLS:-10000}"
work="${BENCH_DIR:-$(mktemp -d /tmp/fc-history-XXXXXX)}"
mkdir -p "$work"
source scripts/release-binary.sh
config=samples/firstcontact.yaml

# DAYS weekdays from Monday 2026-11-02.
dates=$(python3 - "$days" <<'PY'
import datetime, sys
d, out = datetime.date(2026, 11, 2), []
while len(out) < int(sys.argv[1]):
    if d.weekday() < 5: out.append(d.isoformat())
    d += datetime.timedelta(days=1)
print(" ".join(out))
PY
)

# Copies a database file and its write-ahead log, if any (SQLite rebuilds the -shm index):
# keep <db> <copy>.
keep() {
  rm -f "$2" "$2"-wal "$2"-shm
  cp "$1" "$2"
  [ ! -f "$1-wal" ] || cp "$1-wal" "$2-wal"
}

# Ingests a day into a database; sets wall and cpu (seconds: user + sys, which a busy machine
# disturbs less than the wall clock). A failing ingest ends the script (set -e).
wall="" cpu=""
ingest_timed() { # db day-directory
  /usr/bin/time -f "%e %U %S" -o "$work/time" \
    "$fc" ingest --quiet --allow-rejects --config "$config" --db "$1" "$2/asterisk" "$2/ivr" >/dev/null
  local user sys
  read -r wall user sys < "$work/time"
  cpu=$(python3 -c "print(f'{$user + $sys:.2f}')")
}

run() { # mode: same | new
  local mode=$1 db="$work/$1.sqlite" i=0 second="" last="" second_cpu="" last_cpu=""
  local second_day="" last_day=""
  rm -f "$db" "$db"-wal "$db"-shm
  local kind=$mode
  if [ "$mode" = new ] && [ "${NEW:-}" = pool ]; then kind="new (pool)"; fi
  echo "== $kind customers: $days weekdays of $calls stories, one database =="
  printf '%4s  %-10s  %8s  %8s  %9s  %10s\n' day date seconds "cpu s" "db MB" "input MB"
  for date in $dates; do
    i=$((i + 1))
    local seed=7 first=0 day="$work/$mode-$date"
    if [ "$mode" = new ]; then
      seed=$((1000 + i))
      if [ "${NEW:-}" != pool ]; then
        first=$(((i - 1) * calls))
        day="$work/new-$date-from-$first"
      fi
    fi
    [ -f "$day/asterisk/Master.csv" ] || "$fc" simulate --config "$config" --seed "$seed" --calls "$calls" \
      --first-customer "$first" --date "$date" --out "$day" --formats asterisk,ivr >/dev/null
    # (if, not &&: a copy that fails must end the script, and set -e spares the left of an &&.)
    if [ "$i" -eq 2 ]; then
      keep "$db" "$work/$mode-before-second.sqlite"
      second_day=$day
    fi
    if [ "$i" -eq "$days" ]; then
      keep "$db" "$work/$mode-before-last.sqlite"
      last_day=$day
    fi
    ingest_timed "$db" "$day"
    [ "$i" -eq 2 ] && second=$wall && second_cpu=$cpu
    last=$wall
    last_cpu=$cpu
    local size input
    size=$(du -cm "$db"* | tail -n 1 | cut -f1)
    input=$(du -cm "$day/asterisk" "$day/ivr" | tail -n 1 | cut -f1)
    printf '%4d  %-10s  %8s  %8s  %9s  %10s\n' "$i" "$date" "$wall" "$cpu" "$size" "$input"
  done
  python3 -c "print(f'day $days / day 2: {$last / $second:.2f}x wall, {$last_cpu / $second_cpu:.2f}x cpu (in sequence)')"
  local rounds="${ROUNDS:-3}" round pairs="" a b
  [ "$rounds" -gt 0 ] && [ -n "$second_day" ] && [ -n "$last_day" ] || return 0
  printf '%5s  %13s  %13s  %9s\n' round "day 2 cpu s" "day $days cpu s" ratio
  for round in $(seq 1 "$rounds"); do
    keep "$work/$mode-before-second.sqlite" "$work/$mode-again.sqlite"
    ingest_timed "$work/$mode-again.sqlite" "$second_day"
    a=$cpu
    keep "$work/$mode-before-last.sqlite" "$work/$mode-again.sqlite"
    ingest_timed "$work/$mode-again.sqlite" "$last_day"
    b=$cpu
    pairs="$pairs $a:$b"
    python3 -c "print(f'{$round:5d}  {$a:13.2f}  {$b:13.2f}  {$b / $a:8.2f}x')"
  done
  rm -f "$work/$mode-again.sqlite" "$work/$mode-again.sqlite"-wal "$work/$mode-again.sqlite"-shm
  python3 - "$days" $pairs <<'PY'
import statistics, sys
days, pairs = sys.argv[1], [tuple(map(float, p.split(":"))) for p in sys.argv[2:]]
ratios = sorted(b / a for a, b in pairs)
print(f"day {days} / day 2, alternating: median {statistics.median(ratios):.2f}x cpu "
      f"(rounds {', '.join(f'{r:.2f}' for r in ratios)})")
PY
}

for mode in ${MODES:-same new}; do run "$mode"; done
echo "files kept in $work"
