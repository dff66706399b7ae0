"""Run real Prometheus and Alertmanager servers on 127.0.0.1 for tests and local checks.

Both come from the Debian packages that `inv tools` unpacks into .tools/bin (`prometheus`,
`prometheus-alertmanager`). Each server gets a free port and its own storage folder, and is stopped
by its own PID.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from detection_api.api.examples import example_detection
from detection_ops.localserver import LOOPBACK, LocalServer, free_port, venv_executable


@contextmanager
def running(
    name: str,
    args: list[str],
    workdir: Path,
    ready_path: str | None,
    env: dict[str, str] | None = None,
) -> Iterator[LocalServer]:
    """Start `args` with `{port}` replaced by a free port, wait until it is ready, stop after.

    `ready_path` is an HTTP path on that port, or None for "the port accepts connections".
    """
    port = free_port()
    argv = [part.replace("{port}", str(port)) for part in args]
    environment = {k: v.replace("{port}", str(port)) for k, v in (env or {}).items()}
    log = workdir / f"{name}-{port}.log"
    with LocalServer(
        name,
        argv,
        port,
        environment,
        log,
        ready_path,
        start_timeout=60.0,
        stop_grace=10.0,
        cwd=workdir,
    ) as server:
        yield server


def prometheus_server(
    name: str, binary: str, config: Path, workdir: Path, storage_flag: str, *extra: str
) -> AbstractContextManager[LocalServer]:
    """A Prometheus-family server: config file, storage folder, loopback port, /-/ready."""
    storage = workdir / f"{name}-data"
    storage.mkdir(exist_ok=True)
    args = [binary, f"--config.file={config}", f"{storage_flag}={storage}"]
    args += [f"--web.listen-address={LOOPBACK}:{{port}}", *extra]
    return running(name, args, workdir, "/-/ready")


def alertmanager(binary: str, config: Path, workdir: Path) -> AbstractContextManager[LocalServer]:
    """A single Alertmanager (clustering off) with its storage under `workdir`."""
    flags = ("--storage.path", "--cluster.listen-address=")
    return prometheus_server("alertmanager", binary, config, workdir, *flags)


def prometheus(binary: str, config: Path, workdir: Path) -> AbstractContextManager[LocalServer]:
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


@contextmanager
def tak_sink(workdir: Path) -> Iterator[LocalServer]:
    """The service's own loopback TAK peer (`detection-api tak-sink`), plain TCP, on a free port."""
    args = [venv_executable("detection-api"), "tak-sink", "--port", "{port}", "--quiet"]
    with running("tak-sink", args, workdir, None) as server:
        yield server


@contextmanager
def detection_api(workdir: Path, settings: dict[str, str]) -> Iterator[LocalServer]:
    """`detection-api serve` on a free port with SQLite under `workdir`, ready when /readyz is.

    `settings` are DETECTION_API_* variables; DETECTION_API_METRICS_PORT must be among them.
    """
    env = {"DETECTION_API_DATABASE_URL": f"sqlite:///{workdir}/detections.db"}
    env |= {"DETECTION_API_PORT": "{port}", "DETECTION_API_LOG_LEVEL": "WARNING", **settings}
    args = [venv_executable("detection-api"), "serve", "--no-access-log"]
    with running("detection-api", args, workdir, "/readyz", env) as server:
        yield server


def sample_detection(**overrides: Any) -> dict[str, Any]:
    """The service's example detection, captured now, with its own id."""
    return example_detection(detection_id=str(uuid.uuid4()), **overrides)
