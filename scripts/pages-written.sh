#!/usr/bin/env bash
# Which tables and indexes one ingest writes, page by page: ingests the day's files into a copy of
# DB under strace, then maps every page the checkpoints wrote back to the database file to the
# B-tree that owns it (SQLite's dbstat). A B-tree whose written pages approach its size is
# touched all over every day, so its cost grows with history. Not a test; a diagnosis.
#   ./scripts/pages-written.sh STORE.sqlite DAY_DIR...        (FC_BIN=path skips the build)
# e.g. the history benchmark's day-30 database and the simulated day after it:
#   ./scripts/pages-written.sh /tmp/fc-history-X/same.sqlite /tmp/day-31/asterisk /tmp/day-31/ivr
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  echo "usage: $0 STORE.sqlite DAY_DIR... (a database and the files of one more day)" >&2
  exit 64
fi
db=$1
shift
for tool in strace sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "pages-written.sh: needs $tool" >&2; exit 69; }
done
source scripts/install-deps.sh
source scripts/release-binary.sh
work=$(mktemp -d /tmp/fc-pages-XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$db" "$work/store.sqlite"
[ -f "$db-wal" ] && cp "$db-wal" "$work/store.sqlite-wal"
sqlite3 "$work/store.sqlite" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
strace -f -e trace=pwrite64 -e signal=none -o "$work/trace" \
  "$fc" ingest --quiet --allow-rejects --config samples/firstcontact.yaml --db "$work/store.sqlite" "$@" >/dev/null
python3 - "$work/trace" "$work/store.sqlite" <<'PY'
import collections, os, re, sqlite3, sys
trace, path = sys.argv[1], sys.argv[2]
db = sqlite3.connect(path)
page_size = db.execute("PRAGMA page_size").fetchone()[0]
# The descriptors are found by what is written: WAL frames are a page plus a 24-byte header,
# written as two calls; the database file gets whole pages at page-aligned offsets.
writes = collections.defaultdict(list)
for line in open(trace):
    m = re.search(r'pwrite64\((\d+), .*, (\d+), (\d+)\) = \d+$', line)
    if m:
        writes[m.group(1)].append((int(m.group(2)), int(m.group(3))))
def is_wal(calls): return any(size == 24 for size, _ in calls)
frames = sum(1 for fd, calls in writes.items() if is_wal(calls) for size, _ in calls if size == page_size)
pages = collections.Counter(
    offset // page_size + 1 for fd, calls in writes.items() if not is_wal(calls)
    for size, offset in calls if size == page_size and offset % page_size == 0)
owner = dict((pageno, name) for name, pageno in db.execute("SELECT name, pageno FROM dbstat"))
size = dict(db.execute("SELECT name, count(*) FROM dbstat GROUP BY name"))
written = collections.Counter(owner.get(p, "(freed)") for p in pages)
print(f"WAL frames {frames}, distinct database pages written {len(pages)} "
      f"({len(pages) * page_size / 1048576:.0f} MiB), database {os.path.getsize(path) / 1048576:.0f} MiB")
print(f"{'table or index':36} {'pages written':>13} {'of its pages':>12} {'share':>6}")
for name, count in written.most_common():
    total = size.get(name, 0)
    share = f"{count / total:.0%}" if total else ""
    print(f"{name:36} {count:13} {total:12} {share:>6}")
PY
