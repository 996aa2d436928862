#!/usr/bin/env bash
# /v1/route latency (BENCHMARKS.md, issue "Close the loop"): a release `serve` over a simulated
# day of today with CALLS customer stories (default 200,000: more than 100,000 contacts still
# open), wrk against GET /healthz (this stack's floor here) and then GET /v1/route?format=text
# for random callers (nine in ten with an open contact, one in ten unknown), in the same run.
# Prints req/s, p50/p99, the ratio to /healthz and how the answers split (agent / queue): on a
# weekend or at night the office calendars are closed and most answers are the queue's.
# Not a test: nothing fails because a machine is slow.
#   ./scripts/route-bench.sh    (CALLS=200000 DURATION=15s CONNECTIONS=16 THREADS=2;
#                                BENCH_DIR=dir keeps and reuses the simulated day and database;
#                                FC_BIN=path skips the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
source scripts/lib/bench-serve.sh
install_wrk
duration="${DURATION:-15s}"
connections="${CONNECTIONS:-16}"
threads="${THREADS:-2}"
calls="${CALLS:-200000}"
work="${BENCH_DIR:-$(mktemp -d /tmp/fc-route-bench-XXXXXX)}"
mkdir -p "$work"
source scripts/release-binary.sh
FC_BIN="$fc"

cp samples/firstcontact.yaml "$work/firstcontact.yaml"
db="$work/route.sqlite"
if [ ! -f "$db" ]; then
  today=$(TZ=Asia/Shanghai date +%F)  # the sample configuration's zone
  "$FC_BIN" simulate --config "$work/firstcontact.yaml" --seed 16 --calls "$calls" --date "$today" --out "$work/day" >/dev/null
  /usr/bin/time -f "ingest: %e s, %M KB max RSS" "$FC_BIN" ingest --config "$work/firstcontact.yaml" --db "$db" \
    "$work/day/asterisk" "$work/day/ivr" >/dev/null
fi
open_states="'open', 'awaiting_callback', 'handed_off'"
open=$(sqlite3 "$db" "SELECT count(*) FROM contact WHERE status IN ($open_states)")
sqlite3 "$db" "SELECT customer_raw FROM contact WHERE status IN ($open_states) ORDER BY random() LIMIT 50000" >"$work/callers.txt"
echo "store: $(sqlite3 "$db" "SELECT count(*) FROM contact") contacts, $open open; $(du -h "$db" | cut -f1)"

start_serve "$FC_BIN" "$work/firstcontact.yaml" "$db"
echo "server pid $serve_pid on $base"
echo "== GET /healthz"
wrk_run healthz "$base/healthz"
echo "== GET /v1/route?format=text"
wrk_run route -s scripts/route-bench/route.lua "$base/v1/route" -- demo-pbx "$work/callers.txt"
stop_serve
trap - EXIT

python3 - "$work/healthz.txt" "$work/route.txt" <<'PY'
import re, sys
sys.path.insert(0, "scripts/lib")
from wrk_result import read
_, floor, hp50, hp99 = read(sys.argv[1])
text, rps, p50, p99 = read(sys.argv[2])
agent, queue, other = map(int, re.search(r"bench: route=agent (\d+), route=queue (\d+), not 200 (\d+)", text).groups())
print(f"healthz:   {floor:,.0f} req/s, p50 {hp50:.2f} ms, p99 {hp99:.2f} ms")
print(f"/v1/route: {rps:,.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms; ratio to /healthz {rps / floor:.3f}x")
print(f"answers:   route=agent {agent}, route=queue {queue}, not 200 {other}")
if other:
    sys.exit("route-bench: some answers were not 200")
PY
echo "files kept in $work"
