#!/usr/bin/env bash
# Compares builds on day 2 and day DAYS of the history benchmark, interleaved: each build ingests
# each day again into a fresh copy of ITS OWN database as it stood before that day (the files
# `history-benchmark.sh` keeps in its BENCH_DIR), build after build, ROUNDS times, and prints CPU
# seconds (user + sys) / wall seconds per run, then the medians and day DAYS / day 2 per build.
# Interleaving is what makes two builds comparable on a machine whose speed drifts by ±10–30 %.
# Not a test.
#   ./scripts/history-alternate.sh NAME:BINARY:BENCH_DIR...     (ROUNDS=5, MODE=same)
# e.g. two builds whose `DAYS=30 ROUNDS=0 MODES=same ./scripts/history-benchmark.sh` runs left
# their databases in /tmp/h-old and /tmp/h-new (the days simulated once, linked into both):
#   ./scripts/history-alternate.sh old:/tmp/fc-old:/tmp/h-old new:/tmp/fc-new:/tmp/h-new
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 NAME:BINARY:BENCH_DIR... (each BENCH_DIR a history-benchmark.sh run)" >&2; exit 64; }
mode="${MODE:-same}"
config=samples/firstcontact.yaml
work=$(mktemp -d /tmp/fc-alternate-XXXXXX)
trap 'rm -rf "$work"' EXIT
first_dir=$(echo "$1" | cut -d: -f3)
days=$(ls -d "$first_dir/$mode"-20* | sort)
second_day=$(echo "$days" | sed -n 2p)
last_day=$(echo "$days" | tail -n 1)
echo "day 2: $second_day; last day: $last_day"
: >"$work/runs"
for round in $(seq "${ROUNDS:-5}"); do
  line="round $round"
  for which in second last; do
    day=$([ $which = second ] && echo "$second_day" || echo "$last_day")
    for spec in "$@"; do
      IFS=: read -r name binary dir <<<"$spec"
      rm -f "$work/db"*
      cp "$dir/$mode-before-$which.sqlite" "$work/db"
      [ ! -f "$dir/$mode-before-$which.sqlite-wal" ] || cp "$dir/$mode-before-$which.sqlite-wal" "$work/db-wal"
      /usr/bin/time -f "%U %S %e" -o "$work/time" \
        "$binary" ingest --quiet --allow-rejects --config "$config" --db "$work/db" "$day/asterisk" "$day/ivr" >/dev/null
      read -r user sys wall <"$work/time"
      cpu=$(python3 -c "print(f'{$user + $sys:.2f}')")
      echo "$name $which $cpu $wall" >>"$work/runs"
      line="$line  $name-$which $cpu/$wall"
    done
  done
  echo "$line"
done
python3 - "$work/runs" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(lambda: ([], []))
names = []
for line in open(sys.argv[1]):
    name, which, cpu, wall = line.split()
    if name not in names: names.append(name)
    runs[(name, which)][0].append(float(cpu)); runs[(name, which)][1].append(float(wall))
for name in names:
    (c2, w2), (cl, wl) = runs[(name, "second")], runs[(name, "last")]
    m = statistics.median
    print(f"{name}: CPU day 2 {m(c2):.2f} s, last {m(cl):.2f} s, {m(cl) / m(c2):.2f}x; "
          f"wall {m(w2):.2f} s, {m(wl):.2f} s, {m(wl) / m(w2):.2f}x (medians of {len(c2)} rounds)")
PY
