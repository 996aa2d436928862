#!/usr/bin/env bash
# kill -9 under load (issue 18 §3): a simulated day posted to `serve` over HTTP by several
# concurrent clients (chunks of whole lines; each remembers which chunks were answered 2xx) and
# appended to two followed files, while the scheduler runs and a webhook delivers to a receiver
# this script runs; `serve` is SIGKILLed at random moments ROUNDS times and restarted, clients
# retrying what was not acknowledged. Then it checks: every record of a 2xx answer is stored,
# nothing twice, each outbox key once, the receiver holds every delivery id of the outbox, and
# `export --json` equals one batch `ingest` of the same files scheduled to serve's last clock.
# Exits non-zero on any loss or difference.
#   ./scripts/kill-test.sh [ROUNDS]        (default 50; CALLS=2000 customers, CLIENTS=4)
#   FC_BIN=.build/debug/firstcontact ./scripts/kill-test.sh 5     (CI: the debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-50}"
command -v python3 >/dev/null || { source scripts/install-deps.sh; }
command -v python3 >/dev/null || {
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 >/dev/null
}
source scripts/release-binary.sh
work="$(mktemp -d /tmp/fc-kill-test-XXXXXX)"
status=0
python3 scripts/kill-test/driver.py --fc "$fc" --config samples/firstcontact.yaml --work "$work" \
  --rounds "$rounds" --calls "${CALLS:-2000}" --clients "${CLIENTS:-4}" || status=$?
if [ "$status" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "files kept in $work"; fi
exit "$status"
