#!/usr/bin/env bash
# HTTP ingest throughput (BENCHMARKS.md): a release `firstcontact serve` on loopback, wrk against
# GET /healthz (the HTTP floor of this stack on this machine), then sustained POSTs of
# FreeSWITCH XML CDRs (a different call from a different customer per request) to
# /v1/ingest/freeswitch-xml-cdr, in the same run. Prints req/s, p50/p99 and the ratio to the
# floor, then checks in the SQLite file that every acknowledged record was committed.
# Not a test: nothing fails because a machine is slow.
#   ./scripts/http-bench.sh                    (DURATION=15s CONNECTIONS=16 THREADS=2; FC_BIN=path;
#                                               CALL_TIMES=now, or corpus for the backfill path)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
source scripts/lib/bench-serve.sh
install_wrk
duration="${DURATION:-15s}"
connections="${CONNECTIONS:-16}"
threads="${THREADS:-2}"
corpus="${CORPUS:-../shared/corpus}"
work="$(mktemp -d /tmp/fc-http-bench-XXXXXX)"

source scripts/release-binary.sh   # FC_BIN=… measures a binary built already

# Templates: the real inbound mod_xml_cdr documents of 5–12 KB (read at run time, never
# committed); the Lua script makes each request a different customer calling the hotline.
templates=()
for f in "$corpus"/freeswitch-xml-cdr/*.xml; do
  size=$(wc -c < "$f")
  grep -q '<direction>inbound<' "$f" && [ "$size" -ge 5120 ] && [ "$size" -le "${MAX_BODY:-12288}" ] && templates+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done
[ ${#templates[@]} -gt 0 ] || { echo "http-bench: no inbound 5–12 KB templates in $corpus/freeswitch-xml-cdr" >&2; exit 1; }
echo "templates: ${#templates[@]} documents, $(for t in "${templates[@]}"; do wc -c < "$t"; done | tr '\n' ' ')bytes"
export CALL_TIMES="${CALL_TIMES:-now}"
echo "call times: $CALL_TIMES ($([ "$CALL_TIMES" = now ] && echo "each call ends as wrk starts: live ingest" || echo "the corpus's own, years before serve's clock: a backfill"))"

cp samples/firstcontact.yaml "$work/firstcontact.yaml"
db="$work/bench.sqlite"
start_serve "$fc" "$work/firstcontact.yaml" "$db"
pid=$serve_pid
# PRAGMA synchronous is per connection: read what the store sets on its own, from its source.
echo "server pid $pid on $base; durability: journal_mode=$(sqlite3 "$db" 'PRAGMA journal_mode;'), $(grep -o 'PRAGMA synchronous = [A-Z]*' Sources/FirstContactStore/SQLite/SQLiteContactStore.swift) (SQLiteContactStore)"

echo "== GET /healthz"
wrk_run healthz "$base/healthz"
# The same bodies to a route that answers 404 before reading them (an unknown format): what
# receiving 5–12 KB POSTs costs this server, without decoding or storing anything.
echo "== POST /v1/ingest/none (404, body not read)"
wrk_run post404 -s scripts/http-bench/freeswitch-cdr.lua "$base/v1/ingest/none" -- demo-pbx "${templates[@]}"
echo "== POST /v1/ingest/freeswitch-xml-cdr"
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }  # the server's user+system clock ticks
cpu_before=$(cpu)
wrk_run ingest -s scripts/http-bench/freeswitch-cdr.lua "$base/v1/ingest/freeswitch-xml-cdr" -- demo-pbx "${templates[@]}"
cpu_ticks=$(( $(cpu) - cpu_before ))
# How well concurrent requests were grouped into one commit.
curl -s -H "Authorization: Bearer demo-admin" "$base/metrics" >"$work/metrics.txt"
groups=$(sed -n 's/^firstcontact_ingest_group_commits_total \([0-9]*\)$/\1/p' "$work/metrics.txt")
grouped=$(sed -n 's/^firstcontact_ingest_group_requests_total \([0-9]*\)$/\1/p' "$work/metrics.txt")
[ -n "$groups" ] && [ "$groups" -gt 0 ] && echo "group commits: $groups for $grouped requests ($(python3 -c "print(round($grouped / $groups, 1))") per commit)"
stop_serve
trap - EXIT

stored=$(sqlite3 "$db" "SELECT count(*) FROM leg")
rejects=$(sqlite3 "$db" "SELECT count(*) FROM reject")
echo "store: $(sqlite3 "$db" "SELECT count(DISTINCT customer_key) FROM call") customers, $(sqlite3 "$db" "SELECT count(*) FROM contact") contacts, $(sqlite3 "$db" "SELECT count(*) FROM obligation") obligations"
python3 - "$work/healthz.txt" "$work/ingest.txt" "$stored" "$rejects" "$work/post404.txt" "$cpu_ticks" "$(getconf CLK_TCK)" <<'PY'
import re, sys
sys.path.insert(0, "scripts/lib")
from wrk_result import read
_, floor, hp50, hp99 = read(sys.argv[1])
text, rps, p50, p99 = read(sys.argv[2])
stored, rejects = int(sys.argv[3]), int(sys.argv[4])
sent, ok = map(int, re.search(r"bench: sent (\d+), 2xx (\d+)", text).groups())
_, post, pp50, pp99 = read(sys.argv[5])
print(f"healthz: {floor:,.0f} req/s, p50 {hp50:.2f} ms, p99 {hp99:.2f} ms")
print(f"POST 404 of the same bodies: {post:,.0f} req/s, p50 {pp50:.2f} ms, p99 {pp99:.2f} ms")
print(f"ingest:  {rps:,.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms; ratio to /healthz {rps / floor:.3f}x, to the POST 404 {rps / post:.3f}x")
print(f"ingest:  {sent} sent, {ok} answered 2xx, {stored} records stored, {rejects} rejects")
cpu = int(sys.argv[6]) / int(sys.argv[7])
print(f"ingest:  server CPU {cpu:.1f} s over the run, {cpu / max(ok, 1) * 1e6:.0f} µs per acknowledged request")
# Each document is one leg. Every 2xx must be in the file; requests still in flight when wrk
# stopped may be stored without wrk having counted their answer.
if not (ok <= stored <= sent) or rejects:
    sys.exit(f"http-bench: FAILED: {ok} acknowledged but {stored} stored (sent {sent}, rejects {rejects})")
print("every acknowledged record is committed")
PY
echo "files kept in $work"
