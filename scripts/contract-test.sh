#!/usr/bin/env bash
# The API against its document from the outside: a pinned schemathesis runs every check
# (`--checks all`, stateful phase included, fixed seed, small budget) against `serve` on the sample
# day, once per role token; then an agent's token is checked never to reach another agent's
# contact. Expects 0 failures. CONTRACT_EXAMPLES sets the budget per operation (default 8);
# FC_BIN a built binary to serve (default the release build, else a debug build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

venv=.build-tools/schemathesis
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'schemathesis==4.32.5'
fi

if [ -n "${FC_BIN:-}" ]; then
  fc=$FC_BIN
elif [ -x .build/release/firstcontact ]; then
  fc=.build/release/firstcontact
else
  swift build --product firstcontact
  fc=.build/debug/firstcontact
fi
config=samples/firstcontact.yaml
work=$(mktemp -d)
db=$work/firstcontact.sqlite
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$fc" ingest --config "$config" --db "$db" samples/day-2026-11-27/asterisk samples/day-2026-11-27/ivr >/dev/null
"$fc" tick --config "$config" --db "$db" --now 2026-11-27T23:59:59+08:00 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
"$fc" serve --config "$config" --db "$db" --host 127.0.0.1 --port "$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done

failed=0
for token in demo-admin demo-supervisor demo-agent-1001 demo-pbx; do
  echo "== schemathesis as $token =="
  # /v1/events follows the outbox until the client leaves: it is checked below with follow=false.
  # Run from the scratch directory: schemathesis keeps its caches in the working directory, and
  # without an example database every run replays the same seed alone.
  if ! (cd "$work" && "$root/$venv/bin/schemathesis" --config-file "$root/scripts/contract-test.toml" run "$root/docs/openapi.yaml" \
    --url "$base" -H "Authorization: Bearer $token" --generation-database none \
    --checks all --phases examples,coverage,fuzzing,stateful --seed 20261127 \
    --max-examples "${CONTRACT_EXAMPLES:-8}" --exclude-path /v1/events --request-timeout 10 \
    --no-color --workers 1) >"$work/$token.log" 2>&1; then
    failed=1
    cat "$work/$token.log"
  else
    tail -n 4 "$work/$token.log"
  fi
done

echo "== the event stream and role scoping from outside =="
# Every contact the admin sees that agent 1001's list lacks must be a 404 for agent 1001 by id.
python3 - "$base" <<'PY' || failed=1
import http.client, json, sys, urllib.parse
url = urllib.parse.urlparse(sys.argv[1])
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
def get(token, path):
    connection.request("GET", path, headers={"Authorization": "Bearer " + token})
    response = connection.getresponse()
    return response.status, response.read()
def ids(token):
    status, body = get(token, "/v1/contacts?limit=1000")
    assert status == 200, f"{token}: GET /v1/contacts answered {status}"
    return {contact["id"] for contact in json.loads(body)}
# The stream (not fuzzed: it follows until the client leaves) as documented: `event` is the
# kind and `data` the Notification object.
status, body = get("demo-admin", "/v1/events?follow=false")
assert status == 200, f"GET /v1/events?follow=false answered {status}"
events = [block for block in body.decode().split("\n\n") if block.startswith("id:")]
for block in events:
    fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
    data = json.loads(fields["data"])
    assert {"seq", "key", "kind", "at"} <= data.keys() and data["kind"] == fields["event"] and str(data["seq"]) == fields["id"], block
print(f"/v1/events: {len(events)} events, each data a Notification of its event's kind")
everyone, mine = ids("demo-admin"), ids("demo-agent-1001")
others = sorted(everyone - mine)
assert mine and others, "the sample day should have contacts in and outside agent 1001's scope"
leaks = [i for i in others if get("demo-agent-1001", "/v1/contacts/" + i)[0] != 404]
print(f"agent 1001: {len(mine)} contacts in scope, {len(others) - len(leaks)} of {len(others)} others answered 404")
sys.exit(1 if leaks else 0)
PY

[ "$failed" -eq 0 ] && echo "contract: 0 failures"
exit "$failed"
