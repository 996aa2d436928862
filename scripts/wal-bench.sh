#!/usr/bin/env bash
# WAL bytes per acknowledged single-line POST: serve on a database holding the sample day, N
# sequential one-line posts, bytes written to the -wal file counted with strace. Not a test.
#   ./scripts/wal-bench.sh [BINARY]      (N=50)
set -euo pipefail
cd "$(dirname "$0")/.."
fc="${1:-$PWD/.build/debug/firstcontact}"; n="${N:-50}"; work="$(mktemp -d /tmp/walbench-XXXX)"
command -v strace >/dev/null || { SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"; $SUDO apt-get install -y -qq strace >/dev/null; }
"$fc" ingest --config samples/firstcontact.yaml --db "$work/db.sqlite" samples/day-2026-11-27/asterisk >/dev/null
# The clock at the wall clock first: serve's first tick then has nothing to derive, and what is
# counted below is the posts' own writes.
"$fc" tick --config samples/firstcontact.yaml --db "$work/db.sqlite" --now "$(date -u +%FT%TZ)" >/dev/null
strace -f -e trace=pwrite64,write,fsync,fdatasync -y -o "$work/trace" "$fc" serve --config samples/firstcontact.yaml --db "$work/db.sqlite" --host 127.0.0.1 --port 0 >"$work/out" 2>"$work/err" &
pid=$!
serve_pid() { pgrep -P "$pid" -f "serve --config" | head -1; }
for _ in $(seq 300); do port=$(sed -n 's|.*serving http://[^:]*:\([0-9]*\)/.*|\1|p' "$work/out"); [ -n "$port" ] && break; sleep 0.1; done
sleep 2
start=$(grep -c . "$work/trace" || true)
for i in $(seq "$n"); do
  s=$(printf '%02d' $((i % 60)))
  line="\"\",\"139$(printf '%08d' $i)\",\"96116\",\"from-trunk\",\"\",\"PJSIP/trunk-$i\",\"PJSIP/1001-$i\",\"Queue\",\"hotline,t\",\"2026-11-28 10:00:$s\",\"2026-11-28 10:00:$s\",\"2026-11-28 10:03:$s\",180,180,\"ANSWERED\",\"DOCUMENTATION\",\"wb.$i\",\"\",\"\",\"wb.$i\",1"
  curl -s -o /dev/null -w '%{http_code}\n' -H 'Authorization: Bearer demo-pbx' --data-binary "$line" "http://127.0.0.1:$port/v1/ingest/asterisk-csv" | grep -q 200
done
sleep 1
# strace passes no signal on: stop the traced serve itself, then strace ends with it.
kill -TERM "$(serve_pid)" 2>/dev/null || true
wait "$pid" || true
tail -n +"$start" "$work/trace" | grep -- '-wal>' | grep -E 'pwrite64|write\(' | sed -n 's/.*= \([0-9]*\)$/\1/p' | awk -v n="$n" '{s+=$1; c++} END {printf "WAL writes: %d calls, %d bytes, %.0f bytes (%.1f pages of 4096) per acknowledged post\n", c, s, s/n, s/n/4096}'
tail -n +"$start" "$work/trace" | grep -cE 'fsync|fdatasync' | awk -v n="$n" '{printf "syncs: %d (%.1f per post)\n", $1, $1/n}'
rm -rf "$work"
