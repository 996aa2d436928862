# Sourced by the benchmark scripts: sets `fc` to the binary they measure. FC_BIN names one built
# already (e.g. a copy kept while sources change); else the release build, built if needed.
if [ -n "${FC_BIN:-}" ]; then
  fc="$FC_BIN"
else
  swift build -c release --scratch-path .build-release --product firstcontact
  fc="$PWD/.build-release/release/firstcontact"
fi
