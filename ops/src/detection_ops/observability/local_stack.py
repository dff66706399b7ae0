"""Run real Prometheus and Alertmanager servers on 127.0.0.1 for tests and local checks.

Both come from the Debian packages that `inv tools` unpacks into .tools/bin (`prometheus`,
`prometheus-alertmanager`). Each server gets a free port and its own storage folder, and is stopped
by its own PID.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Server:
    """A started server process and its base URL."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def wait_ready(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            if http_ok(self.url + path):
                return
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready at {self.url}{path} after {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextmanager
def running(name: str, args: list[str], workdir: Path, ready_path: str) -> Iterator[Server]:
    """Start `args` (which must listen on the port in `url`), wait for `ready_path`, stop after."""
    port = free_port()
    log = workdir / f"{name}.log"
    argv = [part.replace("{port}", str(port)) for part in args]
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, cwd=workdir)  # noqa: S603
    server = Server(name, f"http://{LOOPBACK}:{port}", process, log)
    try:
        server.wait_ready(ready_path)
        yield server
    finally:
        server.stop()


@contextmanager
def alertmanager(binary: str, config: Path, workdir: Path) -> Iterator[Server]:
    """A single Alertmanager (clustering off) with its storage under `workdir`."""
    storage = workdir / "alertmanager-data"
    storage.mkdir(exist_ok=True)
    args = [
        binary,
        f"--config.file={config}",
        f"--storage.path={storage}",
        f"--web.listen-address={LOOPBACK}:{{port}}",
        "--cluster.listen-address=",
    ]
    with running("alertmanager", args, workdir, "/-/ready") as server:
        yield server


@contextmanager
def prometheus(binary: str, config: Path, workdir: Path) -> Iterator[Server]:
    """A Prometheus with its TSDB under `workdir`."""
    storage = workdir / "prometheus-data"
    storage.mkdir(exist_ok=True)
    args = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={storage}",
        f"--web.listen-address={LOOPBACK}:{{port}}",
    ]
    with running("prometheus", args, workdir, "/-/ready") as server:
        yield server


@dataclass
class WebhookSink:
    """An HTTP endpoint that records every Alertmanager webhook notification it receives."""

    url: str
    notifications: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.notifications)


@contextmanager
def webhook_sink() -> Iterator[WebhookSink]:
    """Serve a webhook receiver on a free loopback port in a background thread."""
    sink = WebhookSink(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with sink.lock:
                sink.notifications.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test asserts on what arrived."""

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    sink.url = f"http://{LOOPBACK}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
