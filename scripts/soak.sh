#!/usr/bin/env bash
# A soak (issue 18 §4): a release `serve` under steady mixed load for MINUTES — today's hotline
# played live into it (`simulate --live`), API reads from a supervisor and an agent, /metrics,
# 50 event streams (/v1/events, one admin token; the configuration raises
# http.max_streams_per_token to 64) and the board (/ui/board, a signed-in supervisor session) —
# sampling each minute its RSS, open descriptors, WAL and database size, and the p99 latency of
# the reads and board pages. Prints a table; fails when RSS, descriptors, the WAL or p99 grow
# (the last third's mean over 1.5× the first third's) or more than 1 % of requests fail.
#   ./scripts/soak.sh [MINUTES]        (default 30; SPEED=20 times real arrivals, STREAMS=50)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-30}"
command -v python3 >/dev/null || {
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 >/dev/null
}
source scripts/release-binary.sh
work="$(mktemp -d /tmp/fc-soak-XXXXXX)"
status=0
python3 scripts/soak/driver.py --fc "$fc" --config samples/firstcontact.yaml --work "$work" \
  --minutes "$minutes" --streams "${STREAMS:-50}" --speed "${SPEED:-20}" || status=$?
if [ "$status" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "files kept in $work"; fi
exit "$status"
