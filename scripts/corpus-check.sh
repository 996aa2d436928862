#!/usr/bin/env bash
# Ingests every file of the public corpus (../shared/corpus, or $CORPUS) that is in a format
# this build reads, and fails unless each parses as expected:
#   asterisk-csv/*                  every row read, except testsuite_cdrlib_buggy_MALFORMED.csv: exactly one reject
#   asterisk-csv/cdr_custom/*       rejected row by row under the cdr_csv layout, read fully with cdr_columns
#   asterisk-queue-log/*            every line read
#   freeswitch-xml-cdr/*            every document read (one leg per file), 0 rejects
#   freeswitch-esl-plain/*          every socket frame read (events, replies, API responses), 0 rejects
#   kamailio-acc/*                  db_text headers detected and read, 0 rejects
#   asterisk-cel/*                  cel_custom Master.csv files detected as asterisk-cel, every row read
#                                   (the wazo-psql folder holds psql dumps, not cel_custom files: skipped)
# The corpus files are other people's data: they are read in place, never copied into the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${CORPUS:-../shared/corpus}"
if [ ! -d "$corpus" ]; then
  echo "corpus-check: no corpus at $corpus (set CORPUS=...)" >&2
  exit 1
fi
source scripts/install-deps.sh
swift build --product firstcontact
fc="$PWD/.build/debug/firstcontact"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checked=0

# ingest FILE CONFIG → prints "records rejects"
ingest() {
  local db="$work/$(basename "$1").$RANDOM.sqlite"
  "$fc" ingest --config "$2" --db "$db" --json --allow-rejects "$1" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["records"], d["rejects"])'
}

expect() { # name actual-records actual-rejects expected-rejects(or "all")
  local name=$1 records=$2 rejects=$3 want=$4
  checked=$((checked + 1))
  if [ "$want" = all ]; then want=$records; fi
  if [ "$records" -gt 0 ] && [ "$rejects" -eq "$want" ]; then
    printf 'ok    %-70s %5s records, %s rejected\n' "$name" "$records" "$rejects"
  else
    printf 'FAIL  %-70s %5s records, %s rejected (expected %s)\n' "$name" "$records" "$rejects" "$want"
    failures=$((failures + 1))
  fi
}

for f in "$corpus"/asterisk-csv/*; do
  [ -f "$f" ] || continue
  read -r records rejects < <(ingest "$f" scripts/corpus/firstcontact.yaml)
  case "$(basename "$f")" in
    *MALFORMED*) expect "asterisk-csv/$(basename "$f")" "$records" "$rejects" 1 ;;
    *) expect "asterisk-csv/$(basename "$f")" "$records" "$rejects" 0 ;;
  esac
done
for f in "$corpus"/asterisk-csv/cdr_custom/*; do
  [ -f "$f" ] || continue
  read -r records rejects < <(ingest "$f" scripts/corpus/firstcontact.yaml)
  expect "asterisk-csv/cdr_custom/$(basename "$f") as cdr_csv" "$records" "$rejects" all
  read -r records rejects < <(ingest "$f" scripts/corpus/cdr-custom.yaml)
  expect "asterisk-csv/cdr_custom/$(basename "$f") with cdr_columns" "$records" "$rejects" 0
done
# every_file_parses FOLDER: each file of the corpus folder is read with 0 rejects (a missing
# folder is skipped: the corpus may be a subset).
every_file_parses() {
  [ -d "$corpus/$1" ] || return 0
  local f records rejects
  for f in "$corpus/$1"/*; do
    [ -f "$f" ] || continue
    read -r records rejects < <(ingest "$f" scripts/corpus/firstcontact.yaml)
    expect "$1/$(basename "$f")" "$records" "$rejects" 0
  done
}
every_file_parses asterisk-queue-log
every_file_parses freeswitch-xml-cdr
# Wire captures of the event socket: detected as freeswitch-events; they hold IVR and bridge
# events but no hang-up complete, so every frame is read and ignored (counted as records).
every_file_parses freeswitch-esl-plain
# db_text tables holding only their header line: read (the header), 0 rejects.
every_file_parses kamailio-acc
every_file_parses asterisk-cel

echo "corpus-check: $((checked - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
