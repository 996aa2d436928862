#!/usr/bin/env bash
# Reproduces the FreeSWITCH XML CDR entry of BENCHMARKS.md: a simulated day (default 72,000
# customer stories ≈ 100,000 calls) written as mod_xml_cdr documents, then, in the same run on
# the same machine, decoded by `firstcontact ingest --dry-run` (decode only, no store) and
# parsed by `xmllint --stream --noout` (libxml2's streaming reader, the physical floor for
# "read every byte of every document as XML"). Prints documents/s of each and the ratio.
# Not a test: nothing fails because a machine is slow.
#   STORIES=72000 ./scripts/xml-benchmark.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
command -v xmllint >/dev/null || { echo "xml-benchmark: needs xmllint (apt-get install libxml2-utils)" >&2; exit 1; }
stories="${STORIES:-72000}"
work="${BENCH_DIR:-$(mktemp -d /tmp/fc-xml-bench-XXXXXX)}"
mkdir -p "$work"
swift build -c release --scratch-path .build-release --product firstcontact
fc="$PWD/.build-release/release/firstcontact"
config=samples/firstcontact.yaml
cdr="$work/day/freeswitch/xml_cdr"

[ -d "$cdr" ] || "$fc" simulate --config "$config" --seed 1 --calls "$stories" --date 2026-11-27 --formats freeswitch --out "$work/day" | sed -n 1p
documents=$(find "$cdr" -name '*.cdr.xml' | wc -l)
echo "documents: $documents, $(du -sh "$cdr" | cut -f1) on disk"

# Warm the page cache once so neither side pays for the first read from disk.
find "$cdr" -name '*.cdr.xml' -print0 | xargs -0 cat > /dev/null

seconds() { python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$2"; }

start=$(date +%s.%N)
find "$cdr" -name '*.cdr.xml' -print0 | xargs -0 -n 5000 xmllint --stream --noout
xmllint_s=$(seconds "$start" "$(date +%s.%N)")

start=$(date +%s.%N)
"$fc" ingest --dry-run --json --config "$config" --format freeswitch-xml-cdr "$cdr" > "$work/decode.json"
ours_s=$(seconds "$start" "$(date +%s.%N)")

python3 - "$documents" "$xmllint_s" "$ours_s" "$work/decode.json" <<'PY'
import json, sys
documents, floor, ours = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
summary = json.load(open(sys.argv[4]))
assert summary["records"] == documents and summary["rejects"] == 0, summary
print(f"xmllint --stream --noout: {floor:.2f} s, {documents/floor:,.0f} documents/s")
print(f"firstcontact ingest --dry-run (decode to legs): {ours:.2f} s, {documents/ours:,.0f} documents/s, 0 rejects")
print(f"ratio: {ours/floor:.2f}x xmllint")
PY
echo "files kept in $work"
