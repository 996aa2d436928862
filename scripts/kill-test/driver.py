#!/usr/bin/env python3
"""kill -9 under load (scripts/kill-test.sh runs this; see its header for what is checked).

A simulated day goes into a `serve` over HTTP from several concurrent clients (chunks of whole
lines) and through two followed files, while the scheduler and a webhook run; `serve` is
SIGKILLed at random moments and restarted. Clients retry every chunk not answered 2xx.
At the end the store is compared with one batch `ingest` of the same files.
"""
import argparse
import atexit
import os
import queue
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

PBX_TOKEN = "demo-pbx"
SECRET = "kill-test-secret"

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from serve_harness import Receiver, ServeProcess, free_port, lines_of, log  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fc", required=True)
    parser.add_argument("--config", required=True, help="the sample configuration to start from")
    parser.add_argument("--work", required=True)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=40, help="lines per POST")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--date", default="2026-11-27")
    parser.add_argument("--max-interval", type=float, default=3.0,
                        help="the longest pause between a start and the next kill, seconds")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work, fc = args.work, args.fc
    started = time.time()

    # The day, the configuration: the sample's, with a webhook to our receiver, two followed
    # files, and a lateness of 2 s so that a backfill settles (and breaches) while we kill.
    day = os.path.join(work, "day")
    subprocess.run([fc, "simulate", "--config", args.config, "--date", args.date, "--calls", str(args.calls),
                    "--seed", str(args.seed), "--out", day], check=True, stdout=subprocess.DEVNULL)
    receiver = Receiver(os.path.join(work, "deliveries.jsonl"))
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    followed = {"asterisk-csv": os.path.join(work, "follow", "Master.csv"),
                "asterisk-queue-log": os.path.join(work, "follow", "queue_log")}
    os.makedirs(os.path.join(work, "follow"))
    for path in followed.values():
        open(path, "wb").close()
    text = open(args.config, encoding="utf-8").read()
    text = text.replace("lateness: 10m", "lateness: 2s")
    follow = "follow:\n" + "".join(f"  - {{path: \"{p}\", format: {f}}}\n" for f, p in followed.items())
    text = re.sub(r"^follow:\n(  - .*\n)+", follow, text, flags=re.M)
    text = re.sub(r"^# webhooks:\n#.*\n", "webhooks:\n  - {url: \"http://127.0.0.1:%d/hook\", secret_env: "
                  "FC_WEBHOOK_SECRET, from: start}\n" % receiver.server_address[1], text, flags=re.M)
    if "lateness: 2s" not in text or str(followed["asterisk-csv"]) not in text or "from: start" not in text:
        sys.exit("kill-test: the sample configuration changed shape; update driver.py")
    config = os.path.join(work, "firstcontact.yaml")
    open(config, "w", encoding="utf-8").write(text)

    # Inputs: every line of the day is either posted (in a chunk) or appended to a followed file.
    files = {"asterisk-csv": os.path.join(day, "asterisk", "Master.csv"),
             "asterisk-queue-log": os.path.join(day, "asterisk", "queue_log"),
             "ivr-events": os.path.join(day, "ivr", "events-0001.xml")}
    chunks = []  # (format, [line numbers, 1-based], body)
    to_follow = {f: [] for f in followed}
    for fmt, path in files.items():
        lines = lines_of(path)
        numbered = list(enumerate(lines, start=1))
        if fmt == "ivr-events":
            head = [(n, l) for n, l in numbered if not l.lstrip().startswith(b"<ivr-event ")]
            events = [(n, l) for n, l in numbered if l.lstrip().startswith(b"<ivr-event ")]
            opening = b"\n".join(l for n, l in head if not l.startswith(b"</")) + b"\n"
            for i in range(0, len(events), args.chunk):
                part = events[i:i + args.chunk]
                body = opening + b"\n".join(l for _, l in part) + b"\n</ivr-events>\n"
                chunks.append((fmt, [n for n, _ in part], body))
            continue
        posted = []
        for n, l in numbered:
            # A fifth of the CDRs and queue_log lines arrive through the followed files.
            (to_follow[fmt] if rng.random() < 0.2 else posted).append((n, l))
        for i in range(0, len(posted), args.chunk):
            part = posted[i:i + args.chunk]
            chunks.append((fmt, [n for n, _ in part], b"\n".join(l for _, l in part) + b"\n"))
    rng.shuffle(chunks)
    log(f"day {args.date}: {sum(len(c[1]) for c in chunks)} lines in {len(chunks)} chunks over HTTP, "
        f"{sum(len(v) for v in to_follow.values())} lines to followed files")

    db = os.path.join(work, "serve.sqlite")
    server = ServeProcess(fc, config, db, free_port(), work, SECRET, script="kill-test")
    base = f"http://127.0.0.1:{server.port}"
    atexit.register(server.stop)
    server.start()

    # Clients: take a chunk, post it until some answer is 2xx; a chunk whose answer was lost is
    # posted again (harmless by the API's contract). The work is paced to last the rounds.
    pending = queue.Queue()
    for chunk in chunks:
        pending.put(chunk)
    acknowledged = []  # (format, line numbers)
    stats = {"posts": 0, "errors": 0, "statuses": {}}
    stats_lock = threading.Lock()
    expected_duration = args.rounds * (0.25 + args.max_interval) / 2 + args.rounds * 0.5
    pace = max(0.0, expected_duration * args.clients / max(len(chunks), 1) * 0.8)

    def client(index):
        crng = random.Random(args.seed * 100 + index)
        while True:
            try:
                chunk = pending.get_nowait()
            except queue.Empty:
                return
            fmt, numbers, body = chunk
            while True:
                server.up.wait()
                request = urllib.request.Request(f"{base}/v1/ingest/{fmt}", data=body, method="POST",
                                                 headers={"Authorization": f"Bearer {PBX_TOKEN}"})
                status = None
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        response.read()
                        status = response.status
                except urllib.error.HTTPError as error:
                    status = error.code
                except (urllib.error.URLError, ConnectionError, OSError):
                    status = None
                with stats_lock:
                    stats["posts"] += 1
                    stats["statuses"][status] = stats["statuses"].get(status, 0) + 1
                if status is not None and 200 <= status < 300:
                    with stats_lock:
                        acknowledged.append((fmt, numbers))
                    break
                if status is not None and status < 500 and status not in (408, 429):
                    print(f"kill-test: FAILED: a chunk of {fmt} was refused with {status}", file=sys.stderr)
                    server.stop()
                    os._exit(1)
                time.sleep(0.05 + crng.random() * 0.2)
            time.sleep(pace * (0.5 + crng.random()))

    def appender():
        # Lines go to the followed files a few at a time, each write whole lines and flushed,
        # spread over the run.
        queue_ = [(fmt, l) for fmt, lines in to_follow.items() for _, l in lines]
        arng = random.Random(args.seed + 7)
        arng.shuffle(queue_)
        handles = {f: open(p, "ab") for f, p in followed.items()}
        step = max(1, len(queue_) // max(1, int(expected_duration * 0.8 / 0.1)))
        for i in range(0, len(queue_), step):
            for fmt, l in queue_[i:i + step]:
                handles[fmt].write(l + b"\n")
            for h in handles.values():
                h.flush()
            time.sleep(0.1)
        for h in handles.values():
            h.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
    threads.append(threading.Thread(target=appender, daemon=True))
    for t in threads:
        t.start()

    for round_ in range(1, args.rounds + 1):
        time.sleep(0.25 + rng.random() * (args.max_interval - 0.25))
        server.kill()
        with stats_lock:
            acked = len(acknowledged)
        if round_ % 10 == 0 or round_ == args.rounds:
            log(f"round {round_}: killed; {acked}/{len(chunks)} chunks acknowledged so far")
        server.start()

    # After the last restart: everything in, followers caught up, the backfill settled, every
    # notification delivered; then a graceful stop.
    for t in threads:
        t.join()
    log(f"all chunks acknowledged ({stats['posts']} posts); waiting for the followers, scheduler and webhook")
    sizes = {p: os.path.getsize(p) for p in followed.values()}
    deadline = time.time() + 300
    settled_since = None
    while True:
        watch = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            offsets = dict(watch.execute("SELECT path, byte_offset FROM follow_checkpoint").fetchall())
            outbox_max = watch.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()[0]
            cursor = watch.execute("SELECT coalesce(max(seq), 0) FROM webhook_cursor").fetchone()[0]
            outbox_count = watch.execute("SELECT count(*) FROM outbox").fetchone()[0]
        finally:
            watch.close()
        done = all(offsets.get(p) == s for p, s in sizes.items()) and cursor == outbox_max
        # Settled: nothing new in the outbox for a while (breaches wait lateness after the sources
        # go quiet, then the scheduler's tick).
        if done:
            if settled_since is None or settled_since[1] != outbox_count:
                settled_since = (time.time(), outbox_count)
            elif time.time() - settled_since[0] > 8:
                break
        else:
            settled_since = None
        if time.time() > deadline:
            sys.exit(f"kill-test: not settled after 300 s: follow offsets {offsets} of {sizes}, "
                     f"webhook cursor {cursor} of outbox {outbox_max}")
        time.sleep(0.5)
    server.stop()

    # The reference: one batch ingest of the same files, scheduled to the clock serve stopped at.
    store = sqlite3.connect(db)
    clock = int(store.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()[0])
    reference = os.path.join(work, "batch.sqlite")
    subprocess.run([fc, "ingest", "--quiet", "--config", config, "--db", reference] + list(files.values()),
                   check=True, stdout=subprocess.DEVNULL)
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock))
    subprocess.run([fc, "schedule", "--config", config, "--db", reference, "--until", until],
                   check=True, stdout=subprocess.DEVNULL)
    ref = sqlite3.connect(reference)
    ref_clock = int(ref.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()[0])

    failures = []
    tables = {"asterisk-csv": "leg", "asterisk-queue-log": "queue_event", "ivr-events": "ivr_event"}
    stored_keys = {}
    # A record stored twice would be a second row: more rows than the batch ingest of the same
    # input holds (a key twice in one table the schema refuses, so counting keys would prove nothing).
    duplicated = 0
    for fmt, table in tables.items():
        stored_keys[fmt] = {k for (k,) in store.execute(f"SELECT event_key FROM {table}")}
        rows = store.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        duplicated += max(0, rows - ref.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    by_line = {fmt: dict(ref.execute(f"SELECT line, event_key FROM {table} WHERE source_id = (SELECT id FROM source WHERE name = ?)", (files[fmt],)))
               for fmt, table in tables.items()}
    acked_records, lost = 0, []
    for fmt, numbers in acknowledged:
        for n in numbers:
            key = by_line[fmt].get(n)
            if key is None:
                continue  # a line that is no record (queue_log's QUEUESTART)
            acked_records += 1
            if key not in stored_keys[fmt]:
                lost.append((fmt, n, key))
    followed_records = sum(1 for fmt, lines in to_follow.items() for n, _ in lines if n in by_line[fmt])
    followed_lost = [(fmt, n) for fmt, lines in to_follow.items() for n, _ in lines
                     if n in by_line[fmt] and by_line[fmt][n] not in stored_keys[fmt]]
    all_ref = {fmt: set(by_line[fmt].values()) for fmt in tables}
    extra = sum(len(stored_keys[fmt] - all_ref[fmt]) for fmt in tables)
    if lost:
        failures.append(f"{len(lost)} acknowledged records not stored, e.g. {lost[:3]}")
    if followed_lost:
        failures.append(f"{len(followed_lost)} followed lines not stored, e.g. {followed_lost[:3]}")
    if duplicated or extra:
        failures.append(f"{duplicated} records stored twice, {extra} records not in the input")

    # Each outbox key exists once by the schema (UNIQUE); what can go wrong is a delivery, below.
    outbox = [k for (k,) in store.execute("SELECT key FROM outbox ORDER BY seq")]
    received = [d for d, _ in receiver.deliveries]
    undelivered = set(outbox) - set(received)
    unknown = set(received) - set(outbox)
    if undelivered:
        failures.append(f"{len(undelivered)} outbox notifications never reached the webhook, "
                        f"e.g. {sorted(undelivered)[:3]}")
    if unknown:
        failures.append(f"the webhook received {len(unknown)} delivery ids the outbox does not hold")
    bodies = {}
    changed = 0
    for d, body in receiver.deliveries:
        if d in bodies and bodies[d] != body:
            changed += 1
        bodies.setdefault(d, body)
    if changed:
        failures.append(f"{changed} re-sent deliveries carried a different body")

    exports = {}
    for name, path in (("serve", db), ("batch", reference)):
        out = os.path.join(work, f"export-{name}.json")
        subprocess.run([fc, "export", "--json", "--config", config, "--db", path, "--output", out], check=True)
        exports[name] = open(out, "rb").read()
    same_export = exports["serve"] == exports["batch"]
    if ref_clock != clock:
        failures.append(f"the batch store's clock {ref_clock} is not serve's {clock}")
    if not same_export:
        failures.append(f"export --json differs from one batch ingest at the same clock ({until}); "
                        f"diff {work}/export-serve.json {work}/export-batch.json")
    ref_outbox = {k for (k,) in ref.execute("SELECT key FROM outbox")}

    print(f"rounds {args.rounds}, records acknowledged {acked_records} (+{followed_records} followed), "
          f"lost {len(lost) + len(followed_lost)}, duplicated {duplicated}, "
          f"posts {stats['posts']} (answers {dict(sorted((str(k), v) for k, v in stats['statuses'].items()))}), "
          f"outbox {len(outbox)} keys (unique by the schema; batch {len(ref_outbox)}), "
          f"webhook deliveries {len(received)} ({len(set(received))} ids, {len(undelivered)} missing), "
          f"export {'equal to' if same_export else 'DIFFERENT from'} one batch ingest at {until}, "
          f"{time.time() - started:.0f} s")
    if failures:
        for f in failures:
            print(f"kill-test: FAILED: {f}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
