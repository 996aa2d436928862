#!/usr/bin/env bash
# Real SIP traffic end to end (issue 7): SIPp customers call SIPp agents through a real Kamailio
# on loopback, Kamailio's acc + dialog modules write db_text tables, and FirstContact must turn
# them into the right contacts, first responders and callbacks.
#
#   round 1: 20 customer calls (scripts/sip-e2e/inf): 8 answered (1001 ×6, 1005 ×2, one of them
#            hung up by the agent), 4 busy (486, dialled 1002), 4 abandoned (487, dialled 1003,
#            cancelled after 1.5 s), 4 no answer (408, dialled the hotline 96116, routed to 1004).
#            Asserts 16 acc / 12 missed_calls / 20 acc_cdrs rows first (a failing db_text insert
#            still lets SIPp succeed), then the export: 8 first responders, 12 callbacks owed by the
#            dialled agent or the department, busy / abandoned / no_answer told apart by `explain`.
#   round 2: agents call the 12 missed customers back through the same Kamailio; the re-ingested
#            tables (old rows again: idempotent) must satisfy every callback via `callback`.
#   round 3: `serve` on the same database, Kamailio with dialplans/kamailio/firstcontact-route.cfg
#            (-A FC_ROUTING): two customers find 1002 busy, then call the hotline; /v1/route
#            names 1002, who answers the first; the second rings 1002 for ring_first (3 s) and
#            falls back to the queue (1001). Both callbacks satisfied customer_called_back.
#
# Installs kamailio and sip-tester if missing. Every process it starts is stopped by its pid
# (SIGTERM, SIGKILL after 3 s). Ports 5061-5066, 5070, 5081-5083, 5090-5091 (UDP) and 18480
# (TCP) on 127.0.0.1 must be free. FIRSTCONTACT=path/to/binary skips the build. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
recipe="$root/scripts/sip-e2e"

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok    $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
expect_eq() { # name actual expected
  if [ "$2" = "$3" ]; then ok "$1 ($2)"; else fail "$1: got $2, expected $3"; fi
}

# --- what it needs -----------------------------------------------------------------------
missing=()
for p in kamailio kamailio-utils-modules sip-tester; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "sip-e2e: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ -z "${FIRSTCONTACT:-}" ]; then
  source scripts/install-deps.sh
  set +e  # install-deps.sh sets -e; this script counts failures instead of stopping at the first
  swift build --product firstcontact >/dev/null || { echo "sip-e2e: build failed" >&2; echo "0 passed, 1 failed"; exit 1; }
  FIRSTCONTACT="$root/.build/debug/firstcontact"
fi
fc() { "$FIRSTCONTACT" "$@" --config "$recipe/firstcontact.yaml" --db "$work/fc.sqlite"; }

started=$(date +%s.%N)
for port in 5061 5062 5063 5064 5065 5066 5070 5081 5082 5083 5090 5091; do
  if ss -lun | grep -q "127.0.0.1:$port "; then
    echo "sip-e2e: UDP port $port on 127.0.0.1 is in use (another run?); not starting" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
done

if ss -ltn | grep -q "127.0.0.1:18480 "; then
  echo "sip-e2e: TCP port 18480 on 127.0.0.1 (round 3's serve) is in use; not starting" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

work=$(mktemp -d /tmp/fc-sip-e2e.XXXXXX)
mkdir -p "$work/db" "$work/run" "$work/sipp" "$work/explain"
cp "$root"/dialplans/kamailio/dbtext/* "$work/db/"

# --- processes: started in the background, stopped by pid ---------------------------------
pids=()
stop_pid() { # SIGTERM, then SIGKILL (children too, by pid) if it is still there after 3 s
  local pid=$1
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  local children
  children=$(ps -o pid= --ppid "$pid" 2>/dev/null | tr -d ' ')
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "sip-e2e: pid $pid ignored SIGTERM; SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null
    for child in $children; do kill -KILL "$child" 2>/dev/null; done
  fi
  wait "$pid" 2>/dev/null
}
cleanup() {
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  if [ "${KEEP:-0}" = 1 ] || [ "$failed" -gt 0 ]; then echo "sip-e2e: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

sipp_start() { # name port media-port args… (the pid goes to $work/sipp/name.pid)
  local name=$1 port=$2 media=$3
  shift 3
  sipp -nostdin -i 127.0.0.1 -timeout 40 -timeout_error -trace_err -trace_screen -p "$port" -mp "$media" \
    -error_file "$work/sipp/$name.err" -screen_file "$work/sipp/$name.screen" "$@" \
    >/dev/null 2>"$work/sipp/$name.stderr" &
  pids+=($!)
  echo $! >"$work/sipp/$name.pid"
}
sipp_wait() { # round name… : every SIPp exits 0 only when all of its -m calls succeeded
  local round=$1 bad=""
  shift
  for name in "$@"; do
    wait "$(cat "$work/sipp/$name.pid")" || bad+=" $name"
  done
  if [ -z "$bad" ]; then ok "$round: all $# SIPp processes exited 0"; else fail "$round: SIPp failed:$bad (see $work/sipp)"; fi
}
wait_ports() { # port… : up to 5 s for the UDP sockets to be bound
  for _ in $(seq 50); do
    local all=1
    for port in "$@"; do ss -lun | grep -q "127.0.0.1:$port " || all=0; done
    [ $all = 1 ] && return 0
    sleep 0.1
  done
  return 1
}
rows() { tail -n +2 "$work/db/$1" | grep -c .; }  # db_text: line 1 is the header

kamailio -f "$recipe/kamailio.cfg" -DD -E --substdef "!SCRATCH!$work!" >"$work/kamailio.out" 2>"$work/kamailio.log" &
kpid=$!
pids+=("$kpid")
if wait_ports 5070; then ok "kamailio listening on 127.0.0.1:5070 (pid $kpid)"; else fail "kamailio did not start (see $work/kamailio.log)"; fi

# --- round 1: customers call ---------------------------------------------------------------
round1=$(date +%s.%N)
sipp_start agent_answer 5081 6100 -sf "$recipe/scen/agent_answer.xml" -m 6
sipp_start agent_hangup 5083 6130 -sf "$recipe/scen/agent_hangup.xml" -m 2
sipp_start agent_busy 5082 6110 -sf "$recipe/scen/agent_busy.xml" -m 4
sipp_start agent_ring 5090 6120 -sf "$recipe/scen/agent_ring.xml" -m 8
wait_ports 5081 5082 5083 5090 || fail "SIPp agents did not bind their ports"
sipp_start cust_answered 5061 6200 -sf "$recipe/scen/caller_answered.xml" -inf "$recipe/inf/answered.csv" -m 6 -r 4 127.0.0.1:5070
sipp_start cust_agent_hangup 5065 6240 -sf "$recipe/scen/caller_agent_hangup.xml" -inf "$recipe/inf/agent_hangup.csv" -m 2 -r 4 127.0.0.1:5070
sipp_start cust_busy 5062 6210 -sf "$recipe/scen/caller_busy.xml" -inf "$recipe/inf/busy.csv" -m 4 -r 4 127.0.0.1:5070
sipp_start cust_cancel 5063 6220 -sf "$recipe/scen/caller_cancel.xml" -inf "$recipe/inf/cancel.csv" -m 4 -r 4 127.0.0.1:5070
sipp_start cust_noanswer 5064 6230 -sf "$recipe/scen/caller_noanswer.xml" -inf "$recipe/inf/noanswer.csv" -m 4 -r 4 127.0.0.1:5070
sipp_wait "round 1" cust_answered cust_agent_hangup cust_busy cust_cancel cust_noanswer agent_answer agent_hangup agent_busy agent_ring
printf 'sip-e2e: round 1 calls took %.1fs\n' "$(echo "$(date +%s.%N) - $round1" | bc)"

# db_text keeps rows in memory: dump them (Kamailio keeps running for round 2).
if kamcmd -s "unix:$work/run/kamailio_ctl" db_text.dump >/dev/null 2>"$work/kamcmd.err"; then
  ok "kamcmd db_text.dump"
else
  fail "kamcmd db_text.dump: $(cat "$work/kamcmd.err")"
fi
expect_eq "round 1: acc rows (8 INVITE 200 + 8 BYE)" "$(rows acc)" 16
expect_eq "round 1: missed_calls rows (4×486, 4×487, 4×408)" "$(rows missed_calls)" 12
expect_eq "round 1: acc_cdrs rows (one per call)" "$(rows acc_cdrs)" 20

fc ingest --format kamailio-acc --json "$work/db/acc" "$work/db/missed_calls" "$work/db/acc_cdrs" >"$work/ingest1.json"
status=$?
expect_eq "round 1: ingest --format kamailio-acc exit status" "$status" 0
expect_eq "round 1: ingest new records / rejects" \
  "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["new_records"], d["rejects"])' "$work/ingest1.json")" "48 0"
fc export --json >"$work/export1.json"
for id in $(python3 -c 'import json,sys; [print(c["id"]) for c in json.load(open(sys.argv[1]))["contacts"]]' "$work/export1.json"); do
  fc explain "$id" >"$work/explain/$id.txt" 2>&1
done
while IFS= read -r line; do
  case "$line" in
    "ok "*) passed=$((passed + 1)); echo "$line" ;;
    "FAIL "*) failed=$((failed + 1)); echo "$line" ;;
    *) echo "$line" ;;
  esac
done < <(python3 "$recipe/check.py" round1 "$work/export1.json" "$work/explain" 2>&1 || echo "FAIL  check.py round1 crashed")

# --- round 2: agents call the missed customers back -----------------------------------------
round2=$(date +%s.%N)
sipp_start customer_phone 5091 6150 -sf "$recipe/scen/customer_phone.xml" -m 12
wait_ports 5091 || fail "SIPp customer phones did not bind port 5091"
sipp_start agent_callback 5066 6250 -sf "$recipe/scen/agent_callback.xml" -inf "$recipe/inf/callbacks.csv" -m 12 -r 6 127.0.0.1:5070
sipp_wait "round 2" agent_callback customer_phone
printf 'sip-e2e: round 2 calls took %.1fs\n' "$(echo "$(date +%s.%N) - $round2" | bc)"

# SIGTERM makes db_text write its tables; stop_pid waits for it.
stop_pid "$kpid"
grep -qE ' (ERROR|CRITICAL): ' "$work/kamailio.log" && fail "kamailio logged errors (see $work/kamailio.log)" || ok "kamailio log has no ERROR lines"
expect_eq "round 2: acc rows (16 + 12 INVITE 200 + 12 BYE)" "$(rows acc)" 40
expect_eq "round 2: missed_calls rows (unchanged)" "$(rows missed_calls)" 12
expect_eq "round 2: acc_cdrs rows (20 + 12)" "$(rows acc_cdrs)" 32

# The whole db folder, formats detected (the version table is recognised and skipped); the
# round 1 rows come again and must be counted as duplicates.
fc ingest --json "$work/db" >"$work/ingest2.json"
status=$?
expect_eq "round 2: ingest of the db folder (auto-detected) exit status" "$status" 0
expect_eq "round 2: ingest new records / duplicates / rejects" \
  "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["new_records"], d["duplicates"], d["rejects"])' "$work/ingest2.json")" "36 48 0"
fc export --json >"$work/export2.json"
while IFS= read -r line; do
  case "$line" in
    "ok "*) passed=$((passed + 1)); echo "$line" ;;
    "FAIL "*) failed=$((failed + 1)); echo "$line" ;;
    *) echo "$line" ;;
  esac
done < <(python3 "$recipe/check.py" round2 "$work/export2.json" 2>&1 || echo "FAIL  check.py round2 crashed")

# --- round 3: returning callers ring the agent who owes them first (GET /v1/route) ----------
# `serve` on the database of rounds 1 and 2; Kamailio again with firstcontact-route.cfg
# (-A FC_ROUTING). Two new customers dial 1002 directly while 1002 is busy: 1002 owes both a
# callback. Then each calls the hotline 96116: Kamailio asks serve, which names 1002's `sip:`
# device; 1002 answers the first, and lets the second ring until ring_first (3 s), when the
# failure route sends the call to the queue (agent 1001), who answers.
round3=$(date +%s.%N)
api="http://127.0.0.1:18480"
post_tables() { # POSTs the three db_text tables to serve; old rows come again as duplicates
  for table in acc missed_calls acc_cdrs; do
    curl -sf -o /dev/null -H "Authorization: Bearer sip-e2e-pbx" \
      --data-binary @"$work/db/$table" "$api/v1/ingest/kamailio-acc" || return 1
  done
}
route_of() { curl -sf -H "Authorization: Bearer sip-e2e-pbx" "$api/v1/route?format=text&device_prefix=sip:&caller=$1"; }
"$FIRSTCONTACT" serve --config "$recipe/firstcontact.yaml" --db "$work/fc.sqlite" --host 127.0.0.1 --port 18480 \
  >"$work/serve.log" 2>&1 &
spid=$!
pids+=("$spid")
for _ in $(seq 100); do curl -sf -o /dev/null "$api/healthz" && break; sleep 0.1; done
curl -sf -o /dev/null "$api/healthz" && ok "serve listening on 127.0.0.1:18480 (pid $spid)" || fail "serve did not start (see $work/serve.log)"
kamailio -f "$recipe/kamailio.cfg" -A FC_ROUTING -DD -E --substdef "!SCRATCH!$work!" >"$work/kamailio3.out" 2>"$work/kamailio3.log" &
kpid=$!
pids+=("$kpid")
if wait_ports 5070; then ok "round 3: kamailio with firstcontact-route.cfg listening (pid $kpid)"; else fail "round 3: kamailio did not start (see $work/kamailio3.log)"; fi

sipp_start agent_busy3 5082 6110 -sf "$recipe/scen/agent_busy.xml" -m 2
wait_ports 5082 || fail "round 3: SIPp 1002 did not bind its port"
sipp_start cust_busy3 5062 6210 -sf "$recipe/scen/caller_busy.xml" -inf "$recipe/inf/routed_busy.csv" -m 2 -r 4 127.0.0.1:5070
sipp_wait "round 3, direct dials to a busy 1002" cust_busy3 agent_busy3
kamcmd -s "unix:$work/run/kamailio_ctl" db_text.dump >/dev/null 2>"$work/kamcmd.err" || fail "round 3: kamcmd db_text.dump: $(cat "$work/kamcmd.err")"
post_tables && ok "round 3: tables posted to serve" || fail "round 3: posting the tables to serve failed"
answer=$(route_of 5550601)
expect_eq "round 3: /v1/route for 5550601" "$(echo "$answer" | grep -E '^(route|agent|device|ring_first)=' | tr '\n' ' ')" \
  "route=agent agent=1002 device=sip:1002@127.0.0.1:5082 ring_first=3 "

sipp_start agent_answer3 5082 6100 -sf "$recipe/scen/agent_answer.xml" -m 1
wait_ports 5082 || fail "round 3: SIPp 1002 did not bind its port"
sipp_start cust_routed 5061 6200 -sf "$recipe/scen/caller_answered.xml" -inf "$recipe/inf/routed_answered.csv" -m 1 127.0.0.1:5070
sipp_wait "round 3, a routed caller 1002 answers" cust_routed agent_answer3

sipp_start agent_ring3 5082 6120 -sf "$recipe/scen/agent_ring.xml" -m 1
sipp_start queue_answer3 5081 6130 -sf "$recipe/scen/agent_answer.xml" -m 1
wait_ports 5081 5082 || fail "round 3: SIPp 1001 / 1002 did not bind their ports"
fallback=$(date +%s.%N)
sipp_start cust_fallback 5061 6200 -sf "$recipe/scen/caller_answered.xml" -inf "$recipe/inf/routed_fallback.csv" -m 1 127.0.0.1:5070
sipp_wait "round 3, 1002 does not answer and the queue (1001) does" cust_fallback agent_ring3 queue_answer3
# ring_first 3 s at 1002, 1 s of ringing at 1001, 3 s of talk, then BYE.
took=$(echo "$(date +%s.%N) - $fallback" | bc)
if [ "$(echo "$took < 10" | bc)" = 1 ]; then ok "round 3: the fallback call ended in ${took}s (ring_first 3 s + 1 s ring + 3 s talk)"; else fail "round 3: the fallback call took ${took}s"; fi

stop_pid "$kpid"
grep -qE ' (ERROR|CRITICAL): ' "$work/kamailio3.log" && fail "round 3: kamailio logged errors (see $work/kamailio3.log)" || ok "round 3: kamailio log has no ERROR lines"
post_tables && ok "round 3: tables posted to serve again" || fail "round 3: posting the tables to serve failed"
"$FIRSTCONTACT" export --json --config "$recipe/firstcontact.yaml" --db "$work/fc.sqlite" >"$work/export3.json"
for number in 5550601 5550602; do
  id=$(python3 -c 'import json,sys; print(next(c["id"] for c in json.load(open(sys.argv[1]))["contacts"] if c["customer_raw"] == sys.argv[2]))' "$work/export3.json" "$number")
  "$FIRSTCONTACT" explain "$id" --config "$recipe/firstcontact.yaml" --db "$work/fc.sqlite" >"$work/explain/$number.txt" 2>&1
done
while IFS= read -r line; do
  case "$line" in
    "ok "*) passed=$((passed + 1)); echo "$line" ;;
    "FAIL "*) failed=$((failed + 1)); echo "$line" ;;
    *) echo "$line" ;;
  esac
done < <(python3 "$recipe/check.py" round3 "$work/export3.json" "$work/explain" 2>&1 || echo "FAIL  check.py round3 crashed")
printf 'sip-e2e: round 3 took %.1fs\n' "$(echo "$(date +%s.%N) - $round3" | bc)"

printf 'sip-e2e: %.1fs of its own time (Kamailio start to last check, build excluded)\n' "$(echo "$(date +%s.%N) - $started" | bc)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
