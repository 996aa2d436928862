#!/usr/bin/env bash
# Installs the system packages FirstContact needs to build and test, skipping what is there.
# Called first by scripts/demo.sh, scripts/test.sh and .ci/run.
set -euo pipefail

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
  else
    echo "install-deps: no Swift toolchain found (need Swift 6.2 or newer on PATH)" >&2
    exit 1
  fi
fi

packages=(libsqlite3-dev libxml2-dev libxml2-utils pkg-config sqlite3 time)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
