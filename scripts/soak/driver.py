#!/usr/bin/env python3
"""A soak (scripts/soak.sh runs this; see its header): serve under steady mixed load, sampled
each minute; fails when RSS, open descriptors, the WAL or p99 latency keep growing."""
import argparse
import http.client
import http.cookiejar
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

PBX, SUPERVISOR, AGENT, ADMIN = "demo-pbx", "demo-supervisor", "demo-agent-1001", "demo-admin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []  # seconds, this minute
        self.requests = 0
        self.errors = 0
        self.events = 0
        self.reconnects = 0

    def took(self, seconds, ok):
        with self.lock:
            self.latencies.append(seconds)
            self.requests += 1
            if not ok:
                self.errors += 1

    def take(self):
        with self.lock:
            taken = (self.latencies, self.requests, self.errors, self.events, self.reconnects)
            self.latencies, self.requests, self.errors, self.events, self.reconnects = [], 0, 0, 0, 0
            return taken


def p99(values):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fc", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--speed", type=float, default=20.0, help="simulate --live --speed")
    args = parser.parse_args()
    work = args.work

    # The sample configuration; event streams per token raised to 64 so that 50 streams fit on
    # one token (the default 20 would answer the 21st with 429); no followed files.
    text = open(args.config, encoding="utf-8").read()
    text = re.sub(r"^follow:\n(  - .*\n)+", "", text, flags=re.M)
    text = text.replace("  max_body: 10MB\n", "  max_body: 10MB\n  max_streams_per_token: 64\n")
    if "max_streams_per_token: 64" not in text:
        sys.exit("soak: the sample configuration changed shape; update driver.py")
    config = os.path.join(work, "firstcontact.yaml")
    open(config, "w", encoding="utf-8").write(text)
    db = os.path.join(work, "soak.sqlite")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve_out = os.path.join(work, "serve.out")
    serve = subprocess.Popen([args.fc, "serve", "--config", config, "--db", db, "--host", "127.0.0.1",
                              "--port", str(port)], stdout=open(serve_out, "w"),
                             stderr=open(os.path.join(work, "serve.err"), "w"))
    children = [serve]
    stop = threading.Event()

    def cleanup():
        stop.set()
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()

    try:
        deadline = time.time() + 60
        while "serving http" not in open(serve_out).read():
            if serve.poll() is not None or time.time() > deadline:
                sys.exit(f"soak: serve did not start: {open(os.path.join(work, 'serve.err')).read()[-2000:]}")
            time.sleep(0.05)
        return run(args, work, base, db, serve, children, stop)
    finally:
        cleanup()


def run(args, work, base, db, serve, children, stop):
    stats = Stats()

    # Ingest: today's hotline played live by the simulator, as a PBX and its IVR post it.
    player = subprocess.Popen([args.fc, "simulate", "--config", args.config, "--live", "--to", base, "--token", PBX,
                               "--speed", str(args.speed), "--seed", "30"],
                              stdout=open(os.path.join(work, "live.out"), "w"),
                              stderr=open(os.path.join(work, "live.err"), "w"))
    children.append(player)

    def get(path, token=None, opener=None):
        request = urllib.request.Request(base + path)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        started = time.monotonic()
        ok = False
        try:
            with (opener.open(request, timeout=30) if opener else urllib.request.urlopen(request, timeout=30)) as r:
                r.read()
                ok = 200 <= r.status < 300
        except Exception:  # counted as an error, the loop goes on
            ok = False
        stats.took(time.monotonic() - started, ok)
        return ok

    def reader(paths, token, pause):
        i = 0
        while not stop.is_set():
            get(paths[i % len(paths)], token)
            i += 1
            stop.wait(pause)

    # The board with a supervisor's web session: the sign-in form's nonce and its cookie (double
    # submit), then the session cookie.
    # A load that could not start fails the soak: without it the run would pass on less load.
    setup_failures = []

    def board():
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        try:
            form = opener.open(base + "/ui/login", timeout=30).read().decode()
            nonce = re.search(r'name="nonce" value="([^"]+)"', form).group(1)
            data = urllib.parse.urlencode({"nonce": nonce, "token": SUPERVISOR}).encode()
            opener.open(urllib.request.Request(base + "/ui/login", data=data), timeout=30).read()
        except (OSError, AttributeError) as error:
            setup_failures.append(f"the supervisor's sign-in failed: {error}")
            return
        if not any(c.name == "fc_session" for c in jar):
            setup_failures.append("the supervisor's sign-in gave no session")
            return
        while not stop.is_set():
            get("/ui/board", opener=opener)
            stop.wait(1.0)

    def stream(index):
        last = None
        while not stop.is_set():
            connection = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=30)
            # The admin sees every department's notifications: on a weekend the supervisor's
            # departments keep office hours and announce nothing, the round-the-clock repairs do.
            headers = {"Authorization": f"Bearer {ADMIN}", "Accept": "text/event-stream"}
            if last:
                headers["Last-Event-ID"] = last
            try:
                connection.request("GET", "/v1/events?follow=true", headers=headers)
                response = connection.getresponse()
                if response.status != 200:
                    with stats.lock:
                        stats.requests += 1
                        stats.errors += 1
                    stop.wait(1)
                    continue
                while not stop.is_set():
                    line = response.readline()
                    if not line:
                        break
                    if line.startswith(b"id:"):
                        last = line[3:].strip().decode()
                        with stats.lock:
                            stats.events += 1
            except (OSError, http.client.HTTPException):
                pass
            finally:
                connection.close()
            if not stop.is_set():
                with stats.lock:
                    stats.reconnects += 1
                stop.wait(0.5)

    threads = [threading.Thread(target=stream, args=(i,), daemon=True) for i in range(args.streams)]
    api = ["/v1/reports/missed-callbacks", "/v1/contacts?limit=100", "/v1/obligations?limit=100",
           "/v1/reports/sla", "/healthz"]
    threads += [threading.Thread(target=reader, args=(api, SUPERVISOR, 0.1), daemon=True) for _ in range(2)]
    threads.append(threading.Thread(target=reader, args=(["/v1/reports/missed-callbacks", "/v1/contacts?limit=50"],
                                                         AGENT, 0.5), daemon=True))
    threads.append(threading.Thread(target=reader, args=(["/metrics"], ADMIN, 5.0), daemon=True))
    threads.append(threading.Thread(target=board, daemon=True))
    for t in threads:
        t.start()

    def records():
        try:
            with urllib.request.urlopen(urllib.request.Request(
                    base + "/metrics", headers={"Authorization": f"Bearer {ADMIN}"}), timeout=30) as r:
                text = r.read().decode()
        except Exception:
            return 0
        return int(sum(float(v) for v in re.findall(
            r'^firstcontact_ingested_records_total\{[^}]*\} ([0-9.e+]+)$', text, flags=re.M)))

    rows = []
    header = (f"{'min':>3} {'RSS MB':>7} {'fds':>5} {'WAL MB':>7} {'DB MB':>7} {'requests':>8} {'p99 ms':>8} "
              f"{'errors':>6} {'SSE events':>10} {'reconnects':>10} {'records':>8} {'load':>5}")
    print(header, flush=True)
    started = time.time()
    stats.take()
    for minute in range(1, args.minutes + 1):
        stop.wait(max(0.0, started + minute * 60 - time.time()))
        if serve.poll() is not None:
            sys.exit(f"soak: serve exited with {serve.returncode} in minute {minute}")
        latencies, requests, errors, events, reconnects = stats.take()
        status = open(f"/proc/{serve.pid}/status").read()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
        fds = len(os.listdir(f"/proc/{serve.pid}/fd"))
        wal = os.path.getsize(db + "-wal") / 1e6 if os.path.exists(db + "-wal") else 0.0
        size = os.path.getsize(db) / 1e6
        row = (minute, rss, fds, wal, size, requests, p99(latencies) * 1000, errors, events, reconnects,
               records(), os.getloadavg()[0])
        rows.append(row)
        print(f"{row[0]:>3} {row[1]:>7.1f} {row[2]:>5} {row[3]:>7.1f} {row[4]:>7.1f} {row[5]:>8} {row[6]:>8.1f} "
              f"{row[7]:>6} {row[8]:>10} {row[9]:>10} {row[10]:>8} {row[11]:>5.1f}", flush=True)
    if player.poll() is not None:
        print(f"soak: the live player stopped early ({player.returncode})", file=sys.stderr)

    # Growth: the last third's mean against the first third's (floors keep tiny numbers from
    # counting as growth: a WAL of a few pages, a p99 of a few ms).
    third = max(1, len(rows) // 3)
    failures = list(setup_failures)
    for name, column, floor in (("RSS", 1, 0.0), ("open fds", 2, 0.0), ("WAL", 3, 8.0), ("p99", 6, 100.0)):
        first = statistics.mean(r[column] for r in rows[:third])
        last = statistics.mean(r[column] for r in rows[-third:])
        grew = last / max(first, floor) if max(first, floor) > 0 else 1.0
        print(f"{name}: first third mean {first:.1f}, last third mean {last:.1f} ({grew:.2f}x)")
        if grew > 1.5:
            failures.append(f"{name} grew {grew:.2f}x from the first third to the last")
    if sum(r[7] for r in rows) > sum(r[5] for r in rows) * 0.01:
        failures.append(f"{sum(r[7] for r in rows)} errors")
    if rows[-1][10] <= rows[0][10]:
        failures.append("no records were ingested after the first minute")
    for f in failures:
        print(f"soak: FAILED: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
