#!/usr/bin/env bash
# HTTP ingest on PostgreSQL with one and with three `serve` instances on one database
# (BENCHMARKS.md, issue "PostgreSQL: several serve instances"): a throwaway PostgreSQL 15 with its
# durable defaults, release `serve` instances on loopback, wrk against GET /healthz of one
# instance (the floor), then POSTs of FreeSWITCH XML CDRs (a different call from a different
# customer per request, scripts/http-bench/freeswitch-cdr.lua) to one instance, then to three
# at once (one wrk per instance). Prints req/s, p50/p99, the ratios, and checks that every
# acknowledged record is stored. Not a test: nothing fails because a machine is slow.
#   ./scripts/postgres-http-bench.sh    (DURATION=15s CONNECTIONS=16 INSTANCES=3;
#                                        FC_BIN=path skips the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${FC_TEST_POSTGRES_URL:-}" ]; then
  source scripts/install-deps.sh
  source scripts/lib/bench-serve.sh
  install_wrk
  source scripts/release-binary.sh
  export FC_BIN="$fc"
  FC_POSTGRES_DURABLE="${FC_POSTGRES_DURABLE:-1}" exec scripts/with-postgres.sh "$0" "$@"
fi

duration="${DURATION:-15s}"
connections="${CONNECTIONS:-16}"
instances="${INSTANCES:-3}"
corpus="${CORPUS:-../shared/corpus}"
work="$(mktemp -d /tmp/fc-pg-http-XXXXXX)"
psql "$FC_TEST_POSTGRES_URL" -qc "CREATE DATABASE bench"
url=$(echo "$FC_TEST_POSTGRES_URL" | sed "s|@/postgres?|@/bench?|")
cp samples/firstcontact.yaml "$work/firstcontact.yaml"

templates=()
for f in "$corpus"/freeswitch-xml-cdr/*.xml; do
  size=$(wc -c <"$f")
  grep -q '<direction>inbound<' "$f" && [ "$size" -ge 5120 ] && [ "$size" -le 12288 ] &&
    templates+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done
[ ${#templates[@]} -gt 0 ] || { echo "postgres-http-bench: no inbound 5–12 KB templates in $corpus" >&2; exit 1; }

pids=()
bases=()
stop_all() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_all EXIT
for i in $(seq "$instances"); do
  "$FC_BIN" serve --config "$work/firstcontact.yaml" --db "$url" --host 127.0.0.1 --port 0 \
    >"$work/serve$i.out" 2>"$work/serve$i.err" &
  pids+=($!)
  port=""
  for _ in $(seq 600); do
    port=$(sed -n 's|.*serving http://[^:]*:\([0-9]*\)/.*|\1|p' "$work/serve$i.out")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$work/serve$i.err" >&2; exit 1; }
  bases+=("http://127.0.0.1:$port")
done
echo "instances: ${bases[*]} on one PostgreSQL (fsync on)"

post() { # LABEL PROCESS BASE THREADS CONNECTIONS
  WRK_PROCESS=$2 wrk --latency -t"$4" -c"$5" -d"$duration" --timeout 10s -s scripts/http-bench/freeswitch-cdr.lua \
    "$3/v1/ingest/freeswitch-xml-cdr" -- demo-pbx "${templates[@]}" >"$work/$1.txt"
}
wrk --latency -t2 -c"$connections" -d"$duration" "${bases[0]}/healthz" >"$work/healthz.txt"
post one 0 "${bases[0]}" 2 "$connections"
per=$(( (connections + instances - 1) / instances ))
clients=()
for i in $(seq 0 $((instances - 1))); do
  post "many$i" "$((i + 1))" "${bases[$i]}" 1 "$per" &
  clients+=($!)
done
wait "${clients[@]}"
stored=$(psql "$url" -Atc "SELECT count(*) FROM leg")
rejects=$(psql "$url" -Atc "SELECT count(*) FROM reject")
stop_all
trap - EXIT

python3 - "$work" "$instances" "$stored" "$rejects" <<'PY'
import re, sys
sys.path.insert(0, "scripts/lib")
from wrk_result import read
work, instances, stored, rejects = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
_, floor, hp50, hp99 = read(f"{work}/healthz.txt")
print(f"healthz (one instance): {floor:,.0f} req/s, p50 {hp50:.2f} ms, p99 {hp99:.2f} ms")
sent_all = ok_all = 0
def counts(text):
    return map(int, re.search(r"bench: sent (\d+), 2xx (\d+)", text).groups())
text, rps, p50, p99 = read(f"{work}/one.txt")
sent, ok = counts(text)
sent_all += sent; ok_all += ok
print(f"ingest, 1 instance:  {rps:,.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms; {rps / floor:.3f}x /healthz")
total = 0.0
worst99 = 0.0
for i in range(instances):
    text, rps, p50, p99 = read(f"{work}/many{i}.txt")
    sent, ok = counts(text)
    sent_all += sent; ok_all += ok
    total += rps; worst99 = max(worst99, p99)
print(f"ingest, {instances} instances: {total:,.0f} req/s together, worst p99 {worst99:.2f} ms; {total / floor:.3f}x /healthz")
print(f"records: {sent_all} sent, {ok_all} answered 2xx, {stored} stored, {rejects} rejects")
if not (ok_all <= stored <= sent_all) or rejects:
    sys.exit("postgres-http-bench: FAILED: an acknowledged record is missing")
print("every acknowledged record is stored")
PY
echo "files kept in $work"
