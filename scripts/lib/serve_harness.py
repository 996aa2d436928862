"""What the process-level scripts share (scripts/kill-test/driver.py,
scripts/multi-instance-e2e/driver.py): a webhook receiver, `serve` processes on fixed ports that
can be killed and restarted, and small helpers."""
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lines_of(path):
    with open(path, "rb") as f:
        return f.read().split(b"\n")[:-1]  # the files end with a newline


class Receiver(http.server.ThreadingHTTPServer):
    """The webhook consumer: records each delivery id and body (and, given a path, appends them
    there as JSON lines), answers 204."""

    daemon_threads = True

    def __init__(self, path=None):
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.lock = threading.Lock()
        self.deliveries = []  # (id, body)
        self.record = open(path, "a", encoding="utf-8") if path else None


class _ReceiverHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        delivery = self.headers.get("X-FirstContact-Delivery", "")
        with self.server.lock:
            self.server.deliveries.append((delivery, body))
            if self.server.record:
                self.server.record.write(json.dumps({"id": delivery, "body": body.decode("utf-8")}) + "\n")
                self.server.record.flush()
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


class ServeProcess:
    """One `serve` process at a time on a fixed port (restarted on the same one, so that clients
    need not follow it). `name`, when there are several, names its output files and its errors."""

    def __init__(self, fc, config, db, port, work, secret, name=None, script="serve-harness"):
        self.fc, self.config, self.db, self.port, self.work = fc, config, db, port, work
        self.secret, self.name, self.script = secret, name, script
        self.label = f"serve-{name}" if name else "serve"
        self.process = None
        self.starts = 0
        self.up = threading.Event()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.starts += 1
        out = open(os.path.join(self.work, f"{self.label}-{self.starts}.out"), "w")
        err = open(os.path.join(self.work, f"{self.label}-{self.starts}.err"), "w")
        env = dict(os.environ, FC_WEBHOOK_SECRET=self.secret)
        self.process = subprocess.Popen(
            [self.fc, "serve", "--config", self.config, "--db", self.db, "--host", "127.0.0.1",
             "--port", str(self.port)],
            stdout=out, stderr=err, env=env)
        deadline = time.time() + 120
        while time.time() < deadline:
            if "serving http" in open(out.name).read():
                self.up.set()
                return
            if self.process.poll() is not None:
                sys.exit(f"{self.script}: {self.label} exited with {self.process.returncode} on start "
                         f"{self.starts}: {open(err.name).read()[-2000:]}")
            time.sleep(0.02)
        sys.exit(f"{self.script}: {self.label} printed no address within 120 s")

    def kill(self):
        self.up.clear()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        self.up.clear()
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
