#!/usr/bin/env bash
# Installs what the browser tests need, skipping what is there: Debian's chromium and
# chromium-driver (the driver selenium is pointed at, so it never downloads one), CJK fonts for
# the Chinese names in screenshots, and selenium from PyPI in a venv under .build-browser/.
# Sourced by scripts/browser-test.sh and scripts/web-benchmark.sh; sets FC_PYTHON.
set -euo pipefail

packages=(chromium chromium-driver fonts-noto-cjk python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# python3-venv is Debian's; a python3 from elsewhere (pyenv) brings venv itself.
if [ ${#missing[@]} -gt 0 ] && [ "${missing[*]}" = "python3-venv" ] && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing=()
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-browser-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

venv=.build-browser/venv
if ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
  echo "install-browser-deps: installing selenium into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'selenium>=4.20,<5'
fi
export FC_PYTHON="$PWD/$venv/bin/python"
