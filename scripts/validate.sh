#!/usr/bin/env bash
# Static checks CI runs before the tests: source format (swift-format, .swift-format at the root),
# the OpenAPI document is valid OpenAPI 3.0, the module import rules that keep the data flowing
# one way, and patterns STYLE.md forbids in Sources/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
failed=0
fail() { echo "validate: $*" >&2; failed=1; }

echo "== swift-format lint =="
if ! swift format lint --strict --recursive --parallel Package.swift Sources Tests; then
  fail "swift-format: run 'swift format --in-place --recursive Package.swift Sources Tests'"
fi

echo "== OpenAPI document =="
venv=.build-tools/venv
if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'openapi-spec-validator==0.7.1'
fi
"$venv/bin/openapi-spec-validator" docs/openapi.yaml || fail "docs/openapi.yaml is not valid OpenAPI"

echo "== import rules =="
# Core is pure: standard library only, no I/O; Ingest and Store know Core, not each other;
# the app composes them; only the HTTP target speaks HTTP.
forbid_import() { # folder module...
  local dir=$1; shift
  for m in "$@"; do
    if [ -d "Sources/$dir" ] && grep -rlE "^(@preconcurrency )?(public |package )?import $m\b" "Sources/$dir" >/dev/null; then
      fail "Sources/$dir imports $m: $(grep -rlE "^(@preconcurrency )?(public |package )?import $m\b" "Sources/$dir" | tr '\n' ' ')"
    fi
  done
}
forbid_import FirstContactCore Foundation Glibc GRDB Hummingbird FirstContactIngest FirstContactStore FirstContactApp
forbid_import FirstContactIngest FirstContactStore FirstContactApp FirstContactHTTP Hummingbird GRDB
forbid_import FirstContactStore FirstContactIngest FirstContactApp FirstContactHTTP Hummingbird
forbid_import FirstContactApp FirstContactHTTP Hummingbird AsyncHTTPClient Prometheus
forbid_import FirstContactSimulator FirstContactHTTP Hummingbird AsyncHTTPClient GRDB

echo "== forbidden patterns in Sources =="
if grep -rnE 'try!|as! ' Sources --include='*.swift'; then fail "force try / force cast in Sources"; fi
if grep -rnE '(^|[^.A-Za-z])Task(\.detached)? \{' Sources --include='*.swift'; then
  fail "unstructured Task {} in Sources: use a Service or a task group"
fi
# @unchecked Sendable / nonisolated(unsafe) need the proof of safety in the comment just above.
while IFS=: read -r file line _; do
  prev=$((line - 1))
  if [ "$prev" -lt 1 ] || ! sed -n "${prev}p" "$file" | grep -q '//'; then
    fail "$file:$line: @unchecked Sendable / nonisolated(unsafe) without a comment saying why it is safe"
  fi
done < <(grep -rnE '@unchecked Sendable|nonisolated\(unsafe\)' Sources --include='*.swift' || true)

[ "$failed" -eq 0 ] && echo "validate: all checks passed"
exit "$failed"
