#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what is missing, builds, tests (SQLite
# and a throwaway PostgreSQL 15, under a sanitizer too).
# Tests tagged `slow` (the real binary killed and restarted, serve following files) run only with
# FC_SLOW_TESTS=1, which CI always sets; locally: FC_SLOW_TESTS=1 ./scripts/test.sh
# Under a sanitizer, in its own scratch path so the normal build stays warm (other arguments go
# to `swift test`, e.g. a --filter):
#   ./scripts/test.sh --sanitize=address        (.build-asan; LeakSanitizer on, XCTest's own leaks suppressed)
#   ./scripts/test.sh --sanitize=thread         (.build-tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${CI:-}" = "true" ]; then export FC_SLOW_TESTS=1; fi
sanitize=""
args=()
for arg in "$@"; do
  case "$arg" in
    --sanitize=*) sanitize="${arg#--sanitize=}" ;;
    *) args+=("$arg") ;;
  esac
done
source scripts/install-deps.sh
if [ -z "$sanitize" ]; then
  # Under CI every test starts at once on about 2 cores, and a time limit counts from the start:
  # the full-disk API test, 0.7 s alone, passed its 3 minutes in one CI run and not in the next
  # (the whole run: 614 s). Stretched, a limit still ends a hang long before CI's own.
  if [ "${CI:-}" = "true" ]; then export FC_TEST_TIME_SCALE="${FC_TEST_TIME_SCALE:-4}"; fi
  swift build --build-tests
  # The store conformance suite and the sample-day identity run on PostgreSQL too: a throwaway
  # server for the run (scripts/with-postgres.sh sets FC_TEST_POSTGRES_URL).
  ./scripts/with-postgres.sh swift test --skip-build ${args[@]+"${args[@]}"}
  exit 0
fi
case "$sanitize" in
  address) scratch=.build-asan ;;
  thread) scratch=.build-tsan ;;
  *) echo "test.sh: --sanitize=address or --sanitize=thread, not '$sanitize'" >&2; exit 64 ;;
esac
supp="$PWD/scripts/sanitizers"
# Swift's own crash handler would take the sanitizer's signal first and hide its report.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=0${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
# Tests run 5-15x slower under a sanitizer; their time limits are stretched to match.
export FC_TEST_TIME_SCALE="${FC_TEST_TIME_SCALE:-10}"
# And their resident memory counts the sanitizer's shadow pages (and ASan's redzones around
# every allocation): memory bounds are doubled, tripled under ASan. The 60 stalled event streams
# grow a normal serve by 14 MB, an ASan one by 58 MB with its quarantine off (SlowClientTests).
if [ "$sanitize" = address ]; then memory_scale=3; else memory_scale=2; fi
export FC_TEST_MEMORY_SCALE="${FC_TEST_MEMORY_SCALE:-$memory_scale}"
swift build --build-tests --scratch-path "$scratch" --sanitize="$sanitize"
./scripts/with-postgres.sh swift test --skip-build --scratch-path "$scratch" --sanitize="$sanitize" ${args[@]+"${args[@]}"}
