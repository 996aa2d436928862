#!/usr/bin/env bash
# Fuzzes every decoder, the HTTP ingest body path and the YAML configuration with libFuzzer +
# AddressSanitizer (issue 18 §1): one executable (Sources/FirstContactFuzz), one target per run.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 60 s each, every target below
#
# Seeds are assembled at run time (never committed) from ../shared/corpus (FC_CORPUS), the test
# fixtures and a small `firstcontact simulate` day; the dictionaries are scripts/fuzz/*.dict.
# Everything lands under .build-fuzz/: corpus/<target> (what libFuzzer found worth keeping, kept
# between runs), findings/<target> (crash-*, leak-*, timeout-*, slow-unit-* inputs) and
# logs/<target>.log. A finding fails the script; each one becomes a fixture test.
# Environment: FUZZ_TIMEOUT (s, default 5) fails an input that runs longer; an input over 1 s is a
# slow unit and fails too. FUZZ_MAX_LEN is the largest input tried (default 4096 for the line
# formats, whose decoders work a line at a time, and 16384 for the documents and the configuration).
# FUZZ_RUNS stops a target after that many executions (the long runs: FUZZ_RUNS=10000000 with
# SECONDS as the ceiling), whichever comes first. FUZZ_JOBS=N (default 1) runs N libFuzzer
# processes on the target at once, one per core, sharing its corpus directory (each reloads what
# the others add): FUZZ_RUNS then counts all of them together, and the summary adds up their logs
# (logs/<target>.log, then <target>.2.log …).
# AddressSanitizer runs without allocation stacks (malloc_context_size=0): recording a stack on
# every malloc and free was 17 % of the config target's time and 9 % of freeswitch-events' (perf,
# 2026-12-07); every error is still caught, and a finding run alone (`FC_FUZZ_TARGET=T
# FC_FUZZ_CONFIG=samples/firstcontact.yaml .build-fuzz/build/x86_64-unknown-linux-gnu/release/FirstContactFuzz
# FILE`) gives the full report. ASAN_OPTIONS from the environment is added after, so it can turn them back on.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh

seconds="${1:-60}"
jobs="${FUZZ_JOBS:-1}"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: FUZZ_JOBS must be a whole number of workers, 1 or more (got '$jobs')" >&2; exit 2; }
shift || true
all=(asterisk-csv asterisk-cdr-custom asterisk-queue-log asterisk-cel kamailio-acc freeswitch-xml-cdr
  freeswitch-events ivr-events http-body detect config)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
corpus="${FC_CORPUS:-../shared/corpus}"
timeout="${FUZZ_TIMEOUT:-5}"
scratch=.build-fuzz
work="$scratch/run"

# swift-driver keeps only the last `-sanitize=` flag it is given, and SwiftPM passes one per
# `--sanitize`, in the order of a hash set that changes from run to run: a build came out either
# without coverage (3,935 counters, the C code's only: every target then reports "no interesting
# inputs" at 130,000 exec/s, fuzzing blind) or without AddressSanitizer. The combined flag, passed
# after SwiftPM's own, is the one the driver keeps; `--sanitize` stays for the C targets and the link.
# Built from scratch every run (about a minute) and checked, so a driver that changes this again
# fails here instead of fuzzing blind.
build=(swift build -c release --scratch-path "$scratch/build" --product FirstContactFuzz --sanitize=fuzzer
  --sanitize=address -Xswiftc -sanitize=fuzzer,address)
built=$(date +%s)
instrumented() {
  "${build[@]}" 2>&1 | grep -v "Cannot export local symbol" | tail -n 3
  bin="$("${build[@]}" --show-bin-path)/FirstContactFuzz"
  # The fuzz entry alone has ≈ 4,000 counters; the decoders bring it past 40,000.
  found=$(FC_FUZZ_TARGET=asterisk-csv "$bin" -runs=0 2>&1 | sed -n 's/.*Loaded 1 modules *(\([0-9]*\) inline.*/\1/p' | head -n 1)
  problem="${found:-no} coverage counters (20,000 or more expected)"
  [ "${found:-0}" -ge 20000 ] || return 1
  # And AddressSanitizer in the decoders' own code, not only in the runtime linked in.
  # (Not `nm | grep -q`: under pipefail, grep leaving early makes nm's SIGPIPE the pipe's status.)
  local symbols
  symbols=$(nm "$(find "$scratch/build" -name DecoderRegistry.swift.o | head -n 1)")
  grep -q __asan_init <<<"$symbols" || {
    problem="no AddressSanitizer in the decoders' objects"
    return 1
  }
}
echo "fuzz: building the fuzz executable from scratch (release, fuzzer + address sanitizers, $scratch/build)"
rm -rf "$scratch/build"
if ! instrumented; then
  echo "fuzz: the decoders are not instrumented: $problem" >&2
  exit 1
fi
echo "fuzz: built in $(($(date +%s) - built))s ($found coverage counters)"

# --- seeds ---------------------------------------------------------------------------------------
rm -rf "$work"
mkdir -p "$work/seeds" "$work/dicts"
fixtures=Tests/FirstContactIngestTests/Fixtures
seed() { # seed TARGET FILE... : copies the files that exist into TARGET's seed directory
  local target=$1 f n=0
  shift
  mkdir -p "$work/seeds/$target"
  for f in "$@"; do
    n=$((n + 1))
    [ -f "$f" ] && cp "$f" "$work/seeds/$target/$n-$(basename "$f")"
  done
  return 0
}
if [ ! -d "$corpus" ]; then echo "fuzz: no corpus at $corpus; seeding from fixtures and the simulator only" >&2; fi

fc=.build/debug/firstcontact
[ -x "$fc" ] || swift build --product firstcontact >/dev/null
"$fc" simulate --config samples/firstcontact.yaml --seed 18 --calls 12 --date 2026-03-02 --out "$work/sim" \
  --formats asterisk,asterisk-cel,freeswitch,ivr >/dev/null
sim="$work/sim"

shopt -s nullglob globstar
seed asterisk-csv "$corpus"/asterisk-csv/*.csv "$fixtures"/cdr_csv_*.csv Tests/Fixtures/upgrade/Master.csv "$sim/asterisk/Master.csv"
seed asterisk-cdr-custom "$corpus"/asterisk-csv/cdr_custom/*
seed asterisk-queue-log "$corpus"/asterisk-queue-log/* "$fixtures/queue_log_calls.log" Tests/Fixtures/upgrade/queue_log \
  "$sim/asterisk/queue_log"
seed asterisk-cel "$corpus"/asterisk-cel/*.csv "$fixtures"/asterisk-cel/* "$sim/asterisk/cel-custom/Master.csv"
seed kamailio-acc "$corpus"/kamailio-acc/* "$fixtures"/kamailio/dbtext/acc* "$fixtures"/kamailio/dbtext/missed_calls \
  "$fixtures"/kamailio/flatstore/*.log
cdrs=("$corpus"/freeswitch-xml-cdr/*.xml)
# Globs, not `ls | head`: with pipefail, head closing the pipe early kills ls with SIGPIPE (141).
simulated=("$sim"/freeswitch/xml_cdr/*.cdr.xml)
cdrs+=("${simulated[@]:0:8}")
seed freeswitch-xml-cdr "${cdrs[@]}" "$fixtures"/xml/*.xml
seed freeswitch-events "$corpus"/freeswitch-esl-plain/*
seed ivr-events "$fixtures"/ivr/*.xml "$sim"/ivr/*.xml
seed config samples/firstcontact.yaml scripts/corpus/*.yaml
# Derived seeds: the `cdr=` form mod_xml_cdr posts, event-socket text/event-xml and
# text/event-plain frames cut from the simulator's callcenter events.
python3 - "$work/seeds" "$sim/freeswitch/events.xml" "${cdrs[@]}" <<'PY'
import pathlib, re, sys, urllib.parse
seeds, events, cdrs = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
for i, path in enumerate(cdrs):
    body = pathlib.Path(path).read_bytes()
    (seeds / "freeswitch-xml-cdr" / f"form-{i}").write_bytes(
        b"uuid=a-" + str(i).encode() + b"&cdr=" + urllib.parse.quote_plus(body).encode())
frames = re.findall(rb"<event>.*?</event>", events.read_bytes(), re.S)[:12]
for i in range(0, len(frames), 3):
    xml = b"".join(b"Content-Length: %d\nContent-Type: text/event-xml\n\n%s" % (len(f), f) for f in frames[i:i + 3])
    (seeds / "freeswitch-events" / f"xml-frames-{i}").write_bytes(xml)
    (seeds / "freeswitch-events" / f"xml-doc-{i}").write_bytes(b"\n".join(frames[i:i + 3]))
for path in sorted((seeds / "freeswitch-events").glob("*neventsocket*"))[:2]:
    plain = path.read_bytes()
    (seeds / "freeswitch-events" / f"plain-frame-{path.name}").write_bytes(
        b"Content-Length: %d\nContent-Type: text/event-plain\n\n%s" % (len(plain), plain))
PY
# The cross-format targets: a leading byte picks the format (http-body: InputFormat.allCases
# order) or the file name (detect: the harness's name list), then any format's seeds.
formats=(asterisk-csv asterisk-queue-log asterisk-cel freeswitch-xml-cdr freeswitch-events ivr-events kamailio-acc)
names=(asterisk-csv asterisk-queue-log kamailio-acc freeswitch-xml-cdr freeswitch-events ivr-events)
mkdir -p "$work/seeds/http-body" "$work/seeds/detect"
for i in "${!formats[@]}"; do
  files=("$work/seeds/${formats[$i]}"/*)
  for f in "${files[@]:0:4}"; do
    { printf "\\x$(printf %02x "$i")"; cat "$f"; } >"$work/seeds/http-body/$i-$(basename "$f")"
  done
done
for i in "${!names[@]}"; do
  files=("$work/seeds/${names[$i]}"/*)
  for f in "${files[@]:0:4}"; do
    { printf "\\x$(printf %02x "$i")"; cat "$f"; } >"$work/seeds/detect/$i-$(basename "$f")"
  done
done
cat scripts/fuzz/*.dict >"$work/dicts/all.dict"

# --- runs ----------------------------------------------------------------------------------------
failed=()
summary=()
for target in "${targets[@]}"; do
  name=$target
  config=samples/firstcontact.yaml
  dict="$work/dicts/all.dict"
  max_len=16384
  case $target in
    asterisk-cdr-custom) name=asterisk-csv config=scripts/corpus/cdr-custom.yaml dict=scripts/fuzz/asterisk-csv.dict max_len=4096 ;;
    asterisk-cel) dict=scripts/fuzz/asterisk-csv.dict max_len=4096 ;;
    asterisk-csv | asterisk-queue-log | kamailio-acc) dict="scripts/fuzz/$target.dict" max_len=4096 ;;
    http-body | detect) ;;
    *) [ -f "scripts/fuzz/$target.dict" ] && dict="scripts/fuzz/$target.dict" ;;
  esac
  [ -d "$work/seeds/$target" ] || { echo "fuzz: unknown target $target (targets: ${all[*]})" >&2; exit 2; }
  # Findings are per run: the log and the failure summary have already named earlier ones.
  rm -rf "$scratch/findings/$target"
  mkdir -p "$scratch/corpus/$target" "$scratch/findings/$target" "$scratch/logs"
  log="$scratch/logs/$target.log"
  echo "fuzz: $target for ${seconds}s, $jobs worker(s) ($(ls "$work/seeds/$target" | wc -l) seeds, $(ls "$scratch/corpus/$target" | wc -l) kept)"
  runs=""
  [ -n "${FUZZ_RUNS:-}" ] && runs=$(((FUZZ_RUNS + jobs - 1) / jobs))
  logs=()
  pids=()
  for job in $(seq 1 "$jobs"); do
    [ "$job" -eq 1 ] && jlog=$log || jlog="$scratch/logs/$target.$job.log"
    logs+=("$jlog")
    ASAN_OPTIONS="malloc_context_size=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" SWIFT_BACKTRACE=enable=no \
      FC_FUZZ_TARGET=$name FC_FUZZ_CONFIG=$config nice -n 10 "$bin" \
      -max_total_time="$seconds" ${runs:+-runs="$runs"} -timeout="$timeout" -report_slow_units=1 -max_len="${FUZZ_MAX_LEN:-$max_len}" \
      -dict="$dict" -artifact_prefix="$scratch/findings/$target/" -print_final_stats=1 \
      "$scratch/corpus/$target" "$work/seeds/$target" >"$jlog" 2>&1 &
    pids+=($!)
  done
  status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
  execs=$(cat "${logs[@]}" | sed -n 's/^stat::number_of_executed_units: *//p' | awk '{ n += $1 } END { if (NR) print n }')
  rate=$(cat "${logs[@]}" | sed -n 's/^stat::average_exec_per_sec: *//p' | awk '{ n += $1 } END { if (NR) print n }')
  slow=$(ls "$scratch/findings/$target" | grep -c '^slow-unit-' || true)
  result=ok
  if [ "$status" -ne 0 ]; then
    result="FAILED (exit $status)"
  elif [ "$slow" -gt 0 ]; then
    result="FAILED ($slow inputs over 1 s)"
  fi
  if [ "$result" != ok ]; then
    failed+=("$target")
    cat "${logs[@]}" | grep -E "ERROR: |invariant: |Fatal error|SUMMARY|Slowest unit|Test unit written" | head -n 12 >&2 || true
  fi
  summary+=("$(printf '%-20s %12s execs %8s exec/s  %s' "$target" "${execs:-?}" "${rate:-?}" "$result")")
done

echo "fuzz: ${seconds}s per target, findings in $scratch/findings/"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (logs in $scratch/logs/)" >&2
  exit 1
fi
