"""Run real Prometheus and Alertmanager servers on 127.0.0.1 for tests and local checks.

Both come from the Debian packages that `inv tools` unpacks into .tools/bin (`prometheus`,
`prometheus-alertmanager`). Each server gets a free port and its own storage folder, and is stopped
by its own PID.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from detection_api.api.examples import example_detection

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
    port: int

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            if http_ok(self.url + path) if path else port_open(self.port):
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


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((LOOPBACK, port)) == 0


@contextmanager
def running(
    name: str, args: list[str], workdir: Path, ready_path: str, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Start `args` with `{port}` replaced by a free port, wait until it is ready, stop after.

    `ready_path` is an HTTP path on that port, or "" for "the port accepts connections".
    """
    port = free_port()
    log = workdir / f"{name}-{port}.log"
    argv = [part.replace("{port}", str(port)) for part in args]
    environment = {
        **os.environ,
        **{k: v.replace("{port}", str(port)) for k, v in (env or {}).items()},
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own binaries, no shell
            argv, stdout=sink, stderr=subprocess.STDOUT, cwd=workdir, env=environment
        )
    server = Server(name, f"http://{LOOPBACK}:{port}", process, log, port)
    try:
        server.wait_ready(ready_path)
        yield server
    finally:
        server.stop()


def prometheus_server(
    name: str, binary: str, config: Path, workdir: Path, storage_flag: str, *extra: str
) -> AbstractContextManager[Server]:
    """A Prometheus-family server: config file, storage folder, loopback port, /-/ready."""
    storage = workdir / f"{name}-data"
    storage.mkdir(exist_ok=True)
    args = [binary, f"--config.file={config}", f"{storage_flag}={storage}"]
    args += [f"--web.listen-address={LOOPBACK}:{{port}}", *extra]
    return running(name, args, workdir, "/-/ready")


def alertmanager(binary: str, config: Path, workdir: Path) -> AbstractContextManager[Server]:
    """A single Alertmanager (clustering off) with its storage under `workdir`."""
    flags = ("--storage.path", "--cluster.listen-address=")
    return prometheus_server("alertmanager", binary, config, workdir, *flags)


def prometheus(binary: str, config: Path, workdir: Path) -> AbstractContextManager[Server]:
    """A Prometheus with its TSDB under `workdir`."""
    return prometheus_server("prometheus", binary, config, workdir, "--storage.tsdb.path")


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


def detection_api_cli() -> str:
    """The `detection-api` script of the environment running this code."""
    return str(Path(sys.executable).parent / "detection-api")


@contextmanager
def tak_sink(workdir: Path) -> Iterator[Server]:
    """The service's own loopback TAK peer (`detection-api tak-sink`), plain TCP, on a free port."""
    args = [detection_api_cli(), "tak-sink", "--port", "{port}", "--quiet"]
    with running("tak-sink", args, workdir, "") as server:
        yield server


@contextmanager
def detection_api(workdir: Path, settings: dict[str, str]) -> Iterator[Server]:
    """`detection-api serve` on a free port with SQLite under `workdir`, ready when /readyz is.

    `settings` are DETECTION_API_* variables; DETECTION_API_METRICS_PORT must be among them.
    """
    env = {"DETECTION_API_DATABASE_URL": f"sqlite:///{workdir}/detections.db"}
    env |= {"DETECTION_API_PORT": "{port}", "DETECTION_API_LOG_LEVEL": "WARNING", **settings}
    args = [detection_api_cli(), "serve", "--no-access-log"]
    with running("detection-api", args, workdir, "/readyz", env) as server:
        yield server


def sample_detection(**overrides: Any) -> dict[str, Any]:
    """The service's example detection, captured now, with its own id."""
    return example_detection(detection_id=str(uuid.uuid4()), **overrides)
