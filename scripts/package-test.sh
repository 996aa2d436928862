#!/usr/bin/env bash
# Checks the release package as a server would get it: unpacked into an empty directory, run
# with a bare environment (env -i PATH=/usr/bin:/bin, no Swift toolchain on any library path),
# the binary must not load the toolchain's runtime (ldd), `serve` with the sample configuration
# must answer /healthz and store one ingest POST, and SIGTERM must stop it with status 0.
# Prints the tarball size and the cold start (exec to the first 200 from /healthz).
# Usage: scripts/package-test.sh [out/firstcontact-….tar.gz]   (default: the newest in out/)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
tarball="${1:-$(ls -t out/firstcontact-*-linux-*.tar.gz 2>/dev/null | head -n 1)}"
[ -f "$tarball" ] || { echo "package-test: no tarball (run scripts/package.sh first)" >&2; exit 1; }

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "package-test: FAIL: $*" >&2; [ -f "$work/serve.log" ] && tail -n 20 "$work/serve.log" >&2; exit 1; }

tar -xzf "$tarball" -C "$work"
root="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'firstcontact-*')"
fc="$root/bin/firstcontact"
for file in bin/firstcontact firstcontact.service firstcontact.yaml README.md dialplans/asterisk/cdr.conf; do
  [ -e "$root/$file" ] || fail "$file missing from the package"
done
grep -q '^ProtectSystem=strict' "$root/firstcontact.service" || fail "the unit lacks ProtectSystem=strict"

libraries="$(env -i PATH=/usr/bin:/bin ldd "$fc")"
if grep -Eq 'libswift|libFoundation|libdispatch|libBlocksRuntime|/opt/swift|not found' <<<"$libraries"; then
  fail "the binary needs the Swift toolchain's runtime or a missing library:
$libraries"
fi

# The sample configuration, following files in the work directory, listening on a free port.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$work/data" "$work/log"
sed -e "s#/var/log/asterisk/cdr-csv/Master.csv#$work/log/Master.csv#" \
    -e "s#/var/log/asterisk/queue_log#$work/log/queue_log#" \
    -e "s#^  port: 8080#  port: $port#" "$root/firstcontact.yaml" > "$work/firstcontact.yaml"
grep -q "port: $port" "$work/firstcontact.yaml" || fail "could not set the port in the sample configuration"
run() { env -i PATH=/usr/bin:/bin HOME="$work" "$@"; }
run "$fc" check-config --config "$work/firstcontact.yaml" >/dev/null || fail "check-config on the sample configuration"

started=$(date +%s%N)
env -i PATH=/usr/bin:/bin HOME="$work" "$fc" serve --config "$work/firstcontact.yaml" --db "$work/data/firstcontact.sqlite" >"$work/serve.log" 2>&1 &
pid=$!
until curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || fail "serve exited before answering"
  [ $(( ($(date +%s%N) - started) / 1000000 )) -lt 30000 ] || fail "no answer from /healthz within 30 s"
  sleep 0.005
done
cold=$(( ($(date +%s%N) - started) / 1000000 ))

head -n 50 "$repo/samples/day-2026-11-27/asterisk/Master.csv" > "$work/body.csv"
answer="$(curl -fsS -H 'Authorization: Bearer demo-pbx' --data-binary @"$work/body.csv" "http://127.0.0.1:$port/v1/ingest/asterisk-csv")" \
  || fail "ingest POST"
grep -q '"new" *: *50' <<<"$answer" || fail "ingest answered $answer"
contacts="$(curl -fsS -H 'Authorization: Bearer demo-admin' "http://127.0.0.1:$port/v1/contacts?limit=1000")"
[ "$(grep -o '"id"' <<<"$contacts" | wc -l)" -gt 0 ] || fail "no contacts after the ingest"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || fail "serve exited with $status after SIGTERM"

echo "package-test: ok — $(basename "$tarball") $(stat -c %s "$tarball") bytes ($(du -h "$tarball" | cut -f1)), cold start ${cold} ms (exec to the first 200 from /healthz), ingest $(tr -d " \n" <<<"$answer")"
