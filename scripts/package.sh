#!/usr/bin/env bash
# Builds the release package (README "Install on a server"): a release binary with the Swift
# runtime and Foundation linked in (--static-swift-stdlib, its own scratch path
# .build-release-static), and out/firstcontact-<version>-linux-<arch>.tar.gz holding the binary,
# the systemd unit, a sample configuration, dialplans/ and the README.
# VERSION=… overrides the version (default: the release `firstcontact --version` names, then the
# commit: 2.0.0-dev+06b77ce). A cold release build takes many minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh

release=$(sed -n 's/.*static let version = "\(.*\)"/\1/p' Sources/FirstContactCore/Support/Release.swift)
[ -n "$release" ] || { echo "package: no release version in Sources/FirstContactCore/Support/Release.swift" >&2; exit 1; }
version="${VERSION:-$release+$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
scratch=.build-release-static
build=(swift build -c release --static-swift-stdlib --product firstcontact --scratch-path "$scratch")
"${build[@]}"
binary="$("${build[@]}" --show-bin-path)/firstcontact"

name="firstcontact-$version-linux-$(uname -m)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/$name"
mkdir -p "$root/bin"
install -m 0755 "$binary" "$root/bin/firstcontact"
# Symbols are most of a static binary's size; crash backtraces still name the functions.
strip --strip-debug "$root/bin/firstcontact"
install -m 0644 scripts/package/firstcontact.service "$root/firstcontact.service"
install -m 0644 samples/firstcontact.yaml "$root/firstcontact.yaml"
cp -R dialplans "$root/dialplans"
install -m 0644 README.md "$root/README.md"

mkdir -p out
tar -C "$stage" --owner=0 --group=0 -czf "out/$name.tar.gz" "$name"
echo "out/$name.tar.gz: $(du -h "out/$name.tar.gz" | cut -f1) ($(stat -c %s "out/$name.tar.gz") bytes; binary $(stat -c %s "$root/bin/firstcontact") bytes)"
