#!/usr/bin/env bash
# Does a day's ingest grow with the history already stored? Simulates DAYS consecutive weekdays
# of CALLS customer stories and ingests them one after another into one database, once with the
# same customers calling again every day (one seed) and once with new customers every day (a seed
# per day). Prints a row per day (seconds, database size) and day DAYS against day 2. Release
# build; not a test: nothing fails because a machine is slow.
#   DAYS=30 CALLS=10000 ./scripts/history-benchmark.sh          (FC_BIN=path skips the build)
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

run() { # mode: same | new
  local mode=$1 db="$work/$1.sqlite" i=0 second="" last="" second_cpu="" last_cpu=""
  rm -f "$db" "$db"-wal "$db"-shm
  echo "== $mode customers: $days weekdays of $calls stories, one database =="
  printf '%4s  %-10s  %8s  %8s  %9s  %10s\n' day date seconds "cpu s" "db MB" "input MB"
  for date in $dates; do
    i=$((i + 1))
    local seed=7
    [ "$mode" = new ] && seed=$((1000 + i))
    local day="$work/$mode-$date"
    [ -f "$day/asterisk/Master.csv" ] || "$fc" simulate --config "$config" --seed "$seed" --calls "$calls" \
      --date "$date" --out "$day" --formats asterisk,ivr >/dev/null
    local secs cpu
    # Wall seconds, and CPU seconds (user + sys), which a busy machine disturbs less.
    /usr/bin/time -f "%e %U %S" -o "$work/time" \
      "$fc" ingest --quiet --allow-rejects --config "$config" --db "$db" "$day/asterisk" "$day/ivr" >/dev/null
    read -r secs user sys < "$work/time"
    cpu=$(python3 -c "print(f'{$user + $sys:.2f}')")
    [ "$i" -eq 2 ] && second=$secs && second_cpu=$cpu
    last=$secs
    last_cpu=$cpu
    local size input
    size=$(du -cm "$db"* | tail -n 1 | cut -f1)
    input=$(du -cm "$day/asterisk" "$day/ivr" | tail -n 1 | cut -f1)
    printf '%4d  %-10s  %8s  %8s  %9s  %10s\n' "$i" "$date" "$secs" "$cpu" "$size" "$input"
  done
  python3 -c "print(f'day $days / day 2: {$last / $second:.2f}x wall, {$last_cpu / $second_cpu:.2f}x cpu')"
}

for mode in ${MODES:-same new}; do run "$mode"; done
echo "files kept in $work"
