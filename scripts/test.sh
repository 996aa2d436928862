#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what is missing, builds, tests (SQLite
# and a throwaway PostgreSQL 15).
# Tests tagged `slow` (the real binary killed and restarted, serve following files) run only with
# FC_SLOW_TESTS=1, which CI always sets; locally: FC_SLOW_TESTS=1 ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${CI:-}" = "true" ]; then export FC_SLOW_TESTS=1; fi
source scripts/install-deps.sh
swift build --build-tests
# The store conformance suite and the sample-day identity run on PostgreSQL too: a throwaway
# server for the run (scripts/with-postgres.sh sets FC_TEST_POSTGRES_URL).
./scripts/with-postgres.sh swift test --skip-build "$@"
