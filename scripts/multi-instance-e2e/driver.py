#!/usr/bin/env python3
"""Several `serve` instances on one PostgreSQL database (scripts/multi-instance-e2e.sh runs this
under scripts/with-postgres.sh; see its header for what is checked).

Three instances on different ports share the database FC_TEST_POSTGRES_URL names. A simulated
day's Master.csv, queue_log and IVR events, cut into chunks of whole lines and shuffled, are
posted by several clients spread over the instances while their schedulers run; a fifth of the
CDR and queue_log lines are appended to two followed files instead. Half-way the instance that
reads the followed files (the holder of their lease) is SIGKILLed and restarted. At the end the
database is compared with one SQLite batch `ingest` of the same files at the same clock.
"""
import argparse
import atexit
import glob
import http.client
import os
import queue
import random
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

PBX_TOKEN = "demo-pbx"
ADMIN_TOKEN = "demo-admin"
SECRET = "multi-instance-secret"

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from serve_harness import Receiver, ServeProcess, free_port, lines_of, log  # noqa: E402


class Database:
    """Reads the shared database with psql (the server's own client)."""

    def __init__(self, url):
        self.url = url
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
        self.psql = found[-1] if found else "psql"

    def rows(self, sql):
        out = subprocess.run([self.psql, self.url, "-XAtq", "-F", "\t", "-c", sql], check=True,
                             capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def value(self, sql):
        rows = self.rows(sql)
        return rows[0][0] if rows else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fc", required=True)
    parser.add_argument("--config", required=True, help="the sample configuration to start from")
    parser.add_argument("--work", required=True)
    parser.add_argument("--db", required=True, help="the PostgreSQL URL the instances share")
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--chunk", type=int, default=40, help="lines per POST")
    parser.add_argument("--seconds", type=float, default=30, help="how long the day takes to arrive")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--date", default="2026-11-27")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work, fc = args.work, args.fc
    started = time.time()
    database = Database(args.db)

    day = os.path.join(work, "day")
    subprocess.run([fc, "simulate", "--config", args.config, "--date", args.date, "--calls", str(args.calls),
                    "--seed", str(args.seed), "--out", day], check=True, stdout=subprocess.DEVNULL)
    receiver = Receiver()
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
        sys.exit("multi-instance-e2e: the sample configuration changed shape; update driver.py")
    config = os.path.join(work, "firstcontact.yaml")
    open(config, "w", encoding="utf-8").write(text)

    files = {"asterisk-csv": os.path.join(day, "asterisk", "Master.csv"),
             "asterisk-queue-log": os.path.join(day, "asterisk", "queue_log"),
             "ivr-events": os.path.join(day, "ivr", "events-0001.xml")}
    chunks = []  # (format, body)
    to_follow = {f: [] for f in followed}
    for fmt, path in files.items():
        lines = lines_of(path)
        if fmt == "ivr-events":
            events = [l for l in lines if l.lstrip().startswith(b"<ivr-event ")]
            opening = b"\n".join(l for l in lines if not l.lstrip().startswith(b"<ivr-event ")
                                 and not l.startswith(b"</")) + b"\n"
            for i in range(0, len(events), args.chunk):
                chunks.append((fmt, opening + b"\n".join(events[i:i + args.chunk]) + b"\n</ivr-events>\n"))
            continue
        posted = []
        for l in lines:
            (to_follow[fmt] if rng.random() < 0.2 else posted).append(l)
        for i in range(0, len(posted), args.chunk):
            chunks.append((fmt, b"\n".join(posted[i:i + args.chunk]) + b"\n"))
    rng.shuffle(chunks)
    log(f"day {args.date}: {len(chunks)} chunks over HTTP to {args.instances} instances, "
        f"{sum(len(v) for v in to_follow.values())} lines to followed files")

    instances = [ServeProcess(fc, config, args.db, free_port(), work, SECRET, name=chr(ord("a") + i),
                              script="multi-instance-e2e") for i in range(args.instances)]
    for instance in instances:
        atexit.register(instance.stop)
    for instance in instances:
        instance.start()

    # An event stream (GET /v1/events, as an admin: every notification) on each instance from the
    # start, resumed from the last id after a disconnection (the killed instance's).
    streams = {i.name: [] for i in instances}  # (seq, arrival time)
    streaming = threading.Event()
    streaming.set()

    def stream(instance):
        last = 0
        while streaming.is_set():
            if not instance.up.wait(timeout=0.5):
                continue
            try:
                connection = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=5)
                connection.request("GET", f"/v1/events?after={last}",
                                   headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
                response = connection.getresponse()
                if response.status != 200:
                    time.sleep(0.2)
                    continue
                while streaming.is_set():
                    line = response.fp.readline()
                    if not line:
                        break
                    if line.startswith(b"id: "):
                        last = int(line[4:])
                        streams[instance.name].append((last, time.time()))
                connection.close()
            except (OSError, http.client.HTTPException):
                time.sleep(0.2)

    readers = [threading.Thread(target=stream, args=(i,), daemon=True) for i in instances]
    for reader in readers:
        reader.start()

    pending = queue.Queue()
    for chunk in chunks:
        pending.put(chunk)
    acknowledged = [0]
    stats = {"posts": 0, "statuses": {}, "by_instance": {i.name: 0 for i in instances}}
    lock = threading.Lock()
    pace = args.seconds * args.clients / max(len(chunks), 1)

    def client(index):
        crng = random.Random(args.seed * 100 + index)
        while True:
            try:
                fmt, body = pending.get_nowait()
            except queue.Empty:
                return
            while True:
                up = [i for i in instances if i.up.is_set()]
                target = crng.choice(up) if up else instances[0]
                target.up.wait()
                request = urllib.request.Request(f"{target.base}/v1/ingest/{fmt}", data=body, method="POST",
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
                with lock:
                    stats["posts"] += 1
                    stats["statuses"][status] = stats["statuses"].get(status, 0) + 1
                if status is not None and 200 <= status < 300:
                    with lock:
                        acknowledged[0] += 1
                        stats["by_instance"][target.name] += 1
                    break
                if status is not None and status < 500 and status not in (408, 429):
                    print(f"multi-instance-e2e: FAILED: a chunk of {fmt} was refused with {status} by "
                          f"instance {target.name}", file=sys.stderr)
                    os._exit(1)
                time.sleep(0.05 + crng.random() * 0.2)
            time.sleep(pace * (0.5 + crng.random()))

    # The appender paces itself by the clock and the clients by their answers; on a loaded machine
    # the posts fell behind and the whole followed file was written and read before the kill, so
    # nothing was left to show a take-over. Its second half waits for the kill.
    killed = threading.Event()

    def appender():
        lines = [(fmt, l) for fmt, ls in to_follow.items() for l in ls]
        arng = random.Random(args.seed + 7)
        arng.shuffle(lines)
        handles = {f: open(p, "ab") for f, p in followed.items()}
        step = max(1, len(lines) // max(1, int(args.seconds / 0.1)))
        for i in range(0, len(lines), step):
            if i >= len(lines) // 2:
                killed.wait()
            for fmt, l in lines[i:i + step]:
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

    # Half-way: SIGKILL the instance that reads the followed files (the holder of their lease).
    while acknowledged[0] < len(chunks) // 2:
        time.sleep(0.1)
    lease = f"follow {followed['asterisk-csv']}"
    holder = database.value(f"SELECT holder FROM lease WHERE name = '{lease}'")
    if holder is None:
        sys.exit(f"multi-instance-e2e: nobody holds the lease '{lease}'")
    pid = int(holder.split("/")[1])
    victim = next((i for i in instances if i.process.pid == pid), None)
    if victim is None:
        sys.exit(f"multi-instance-e2e: the lease holder {holder} is none of the instances")
    victim.kill()
    killed_at = time.time()
    # Read once the victim is dead: what it had read before the kill is not a take-over.
    offset_at_kill = int(database.value(
        f"SELECT byte_offset FROM follow_checkpoint WHERE path = '{followed['asterisk-csv']}'") or 0)
    killed.set()
    log(f"killed instance {victim.name} (pid {pid}, follower of the files) at {acknowledged[0]}/{len(chunks)} "
        f"chunks, Master.csv read to byte {offset_at_kill}")
    time.sleep(2)
    victim.start()

    def read_on():
        offset = database.value(f"SELECT byte_offset FROM follow_checkpoint WHERE path = '{followed['asterisk-csv']}'")
        return int(offset or 0) > offset_at_kill

    taken_over = None
    while any(t.is_alive() for t in threads) or taken_over is None:
        if taken_over is None and read_on():
            taken_over = time.time() - killed_at
        if time.time() - killed_at > 120:
            break
        time.sleep(0.5)
    for t in threads:
        t.join()
    log(f"all chunks acknowledged ({stats['posts']} posts); waiting for the followers, schedulers and webhook")
    sizes = {p: os.path.getsize(p) for p in followed.values()}
    deadline = time.time() + 180
    settled_since = None
    while True:
        offsets = dict((p, int(o)) for p, o in database.rows("SELECT path, byte_offset FROM follow_checkpoint"))
        outbox_max = int(database.value("SELECT coalesce(max(seq), 0) FROM outbox"))
        cursor = int(database.value("SELECT coalesce(max(seq), 0) FROM webhook_cursor"))
        outbox_count = int(database.value("SELECT count(*) FROM outbox"))
        # Records posted late hold back the breaches they would announce until the backfill has
        # been quiet for `lateness` (2 s); the tick that moves the clock past that announces them,
        # possibly seconds later: quiet only counts from that tick on.
        clock_now = int(database.value("SELECT coalesce((SELECT value FROM meta WHERE key = 'clock'), '0')"))
        backfill = int(database.value("SELECT coalesce((SELECT value FROM meta WHERE key = 'backfill_last'), '0')"))
        done = (all(offsets.get(p) == s for p, s in sizes.items()) and cursor == outbox_max
                and clock_now - backfill >= 2)
        if done:
            if settled_since is None or settled_since[1] != outbox_count:
                settled_since = (time.time(), outbox_count)
            elif time.time() - settled_since[0] > 8:
                break
        else:
            settled_since = None
        if time.time() > deadline:
            sys.exit(f"multi-instance-e2e: not settled after 180 s: follow offsets {offsets} of {sizes}, "
                     f"webhook cursor {cursor} of outbox {outbox_max}")
        time.sleep(0.5)
    streaming.clear()
    for instance in instances:
        instance.stop()
    for reader in readers:
        reader.join(timeout=10)

    failures = []
    clock = int(database.value("SELECT value FROM meta WHERE key = 'clock'"))
    reference = os.path.join(work, "batch.sqlite")
    subprocess.run([fc, "ingest", "--quiet", "--config", config, "--db", reference] + list(files.values()),
                   check=True, stdout=subprocess.DEVNULL)
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock))
    subprocess.run([fc, "schedule", "--config", config, "--db", reference, "--until", until],
                   check=True, stdout=subprocess.DEVNULL)

    keys = [k for (k,) in database.rows("SELECT key FROM outbox ORDER BY seq")]
    if len(keys) != len(set(keys)):
        failures.append(f"{len(keys) - len(set(keys))} outbox keys exist more than once")
    received = [d for d, _ in receiver.deliveries]
    undelivered = set(keys) - set(received)
    unknown = set(received) - set(keys)
    duplicates = len(received) - len(set(received))
    if undelivered:
        failures.append(f"{len(undelivered)} notifications never reached the webhook, e.g. {sorted(undelivered)[:3]}")
    if unknown:
        failures.append(f"the webhook received {len(unknown)} delivery ids the outbox does not hold")
    # One delivery is in flight at a time per URL: the kill can repeat at most that one.
    if duplicates > 1:
        failures.append(f"the webhook received {duplicates} duplicates; at most the one in flight at the kill")
    seqs = [int(s) for (s,) in database.rows("SELECT seq FROM outbox ORDER BY seq")]
    spreads = []
    arrivals = {name: {} for name in streams}
    for name, events in streams.items():
        got = [seq for seq, _ in events]
        if got != seqs:
            failures.append(f"the event stream of instance {name} carried {len(got)} events "
                            f"({len(set(got))} distinct) of the outbox's {len(seqs)}, or out of order")
        arrivals[name] = dict(events)
    # How far apart the instances that stayed up streamed each notification.
    alive = [name for name in arrivals if name != victim.name]
    for seq in seqs:
        times = [arrivals[name][seq] for name in alive if seq in arrivals[name]]
        if len(times) == len(alive):
            spreads.append(max(times) - min(times))
    spreads.sort()
    spread = (f"{spreads[len(spreads) // 2]:.2f} s median, {spreads[int(len(spreads) * 0.99)]:.2f} s p99"
              if spreads else "none")
    if taken_over is None:
        failures.append("the followed file was not read after its instance was killed")
    elif taken_over > 30:
        failures.append(f"the followed file was taken over {taken_over:.1f} s after the kill, not within 30 s")

    exports = {}
    for name, db in (("instances", args.db), ("batch", reference)):
        out = os.path.join(work, f"export-{name}.json")
        subprocess.run([fc, "export", "--json", "--config", config, "--db", db, "--output", out], check=True)
        exports[name] = open(out, "rb").read()
    same = exports["instances"] == exports["batch"]
    if not same:
        failures.append(f"export --json differs from one SQLite batch ingest at {until}; "
                        f"diff {work}/export-instances.json {work}/export-batch.json")

    print(f"instances {args.instances}, chunks {len(chunks)} ({stats['posts']} posts, answers "
          f"{dict(sorted((str(k), v) for k, v in stats['statuses'].items()))}, acknowledged by "
          f"{stats['by_instance']}), followed file taken over "
          f"{'after %.1f s' % taken_over if taken_over is not None else 'NEVER'}, "
          f"outbox {len(keys)} keys ({len(set(keys))} distinct), webhook deliveries {len(received)} "
          f"({duplicates} duplicates, {len(undelivered)} missing), every instance's event stream "
          f"{'complete' if not any('event stream' in f for f in failures) else 'INCOMPLETE'} "
          f"(apart between the instances that stayed up: {spread}), "
          f"export {'equal to' if same else 'DIFFERENT from'} one SQLite batch ingest at {until}, "
          f"{time.time() - started:.0f} s")
    if failures:
        for f in failures:
            print(f"multi-instance-e2e: FAILED: {f}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
