#!/usr/bin/env bash
# Reproduces the in-memory figures of BENCHMARKS.md's "Hostile XML and FreeSWITCH XML CDR
# throughput": the six public corpus documents (../shared/corpus/freeswitch-xml-cdr, read in place)
# decoded ROUNDS times by the CDR decoder and by the XML reader alone, then each hostile XML
# fixture of the tests read once by the hardened reader. Release build in .build-release.
# Not a test: nothing fails because a machine is slow.
#   ROUNDS=5000 ./scripts/xml-decoder-benchmark.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
rounds="${ROUNDS:-5000}"
corpus="${CORPUS:-../shared/corpus/freeswitch-xml-cdr}"
swift build -c release --scratch-path .build-release --product XMLBenchmark
bench="$PWD/.build-release/release/XMLBenchmark"

mapfile -t documents < <(find "$corpus" -maxdepth 1 -name '*.xml' | sort)
[ "${#documents[@]}" -gt 0 ] || { echo "xml-decoder-benchmark: no documents in $corpus" >&2; exit 1; }
echo "== ${#documents[@]} corpus documents, $rounds rounds =="
"$bench" throughput "$rounds" "${documents[@]}"

echo "== hostile fixtures (Tests/FirstContactIngestTests/Fixtures/xml), read once each =="
mapfile -t hostile < <(find Tests/FirstContactIngestTests/Fixtures/xml -maxdepth 1 -name '*.xml' | sort)
"$bench" read "${hostile[@]}"
