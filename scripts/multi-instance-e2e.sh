#!/usr/bin/env bash
# Several `serve` instances on one PostgreSQL database, end to end (issue 14): a throwaway
# PostgreSQL 15 (scripts/with-postgres.sh), three instances on different ports, a webhook
# receiver in the driver, a simulated day's Master.csv, queue_log and IVR events cut into chunks
# of whole lines, shuffled and posted by several clients spread over the instances while their
# schedulers run, a fifth of the lines appended to two followed files; half-way the instance
# reading the followed files is SIGKILLed and restarted. Then it checks: export --json equals one
# single-process SQLite batch ingest of the same files at the same clock; every outbox key exists
# once; the receiver got every notification, at most the one in flight at the kill twice; the
# followed files went on being read by another instance after the kill.
#   ./scripts/multi-instance-e2e.sh                                  (CALLS=600, the release build)
#   FC_BIN=.build/debug/firstcontact ./scripts/multi-instance-e2e.sh (CI: the debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null || {
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 >/dev/null
}
source scripts/release-binary.sh
work="$(mktemp -d /tmp/fc-multi-instance-XXXXXX)"
status=0
# The driver starts and stops the instances itself (by pid); the server stops with with-postgres.sh.
./scripts/with-postgres.sh bash -c \
  'python3 scripts/multi-instance-e2e/driver.py --fc "$1" --config samples/firstcontact.yaml --work "$2" \
     --db "$FC_TEST_POSTGRES_URL" --calls "${CALLS:-600}" --clients "${CLIENTS:-6}" --instances 3' \
  driver "$fc" "$work" || status=$?
if [ "$status" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "files kept in $work"; fi
exit "$status"
