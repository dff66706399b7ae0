"""Servers for benchmarks and the demo: the real service (and the baseline app) as processes on
loopback, on a fresh SQLite file or a fresh PostgreSQL database, stopped by their own PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import psycopg
from psycopg import sql

DEV_KEY = "dak_dev_dev-only-not-a-secret"
AUTH = {"X-API-Key": DEV_KEY}
POSTGRES_URL = os.environ.get(
    "DETECTION_API_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START_TIMEOUT_SECONDS = 90.0  # the machine may be shared and busy
STOP_TIMEOUT_SECONDS = 20.0


class ServerError(RuntimeError):
    """A server process did not start or stopped on its own; the message carries its log tail."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def venv_executable(name: str) -> str:
    """An entry point of this virtualenv (`detection-api`), next to the running interpreter."""
    path = Path(sys.executable).with_name(name)
    if not path.is_file():
        raise ServerError(f"{name} not found next to {sys.executable}: run `uv sync` first")
    return str(path)


@dataclass
class ServerProcess:
    """A server started as its own process; `url` answers once `ready_path` returned 200."""

    name: str
    command: list[str]
    env: Mapping[str, str]
    port: int
    log_path: Path
    ready_path: str = "/readyz"
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own entry points, no shell
            self.command, env={**os.environ, **self.env}, stdout=self._log, stderr=self._log
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            self.check_running()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + self.ready_path, timeout=2.0).status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise ServerError(
            f"{self.name} not ready after {START_TIMEOUT_SECONDS:.0f} s\n{self.tail()}"
        )

    def check_running(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise ServerError(f"{self.name} exited with {self.process.returncode}\n{self.tail()}")

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the process so far (all threads); None where /proc is absent.

        On a shared machine this, per request, is the figure that does not depend on the others.
        """
        if self.process is None:
            return None
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """SIGTERM (graceful: in-flight requests finish, leases are released), then SIGKILL."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def service(
    database_url: str,
    workdir: Path,
    *,
    tak_url: str | None = None,
    metrics_port: int = 0,
    port: int | None = None,
    extra_env: Mapping[str, str] | None = None,
    log_name: str | None = None,
) -> ServerProcess:
    """`detection-api serve` (migrates first), rate limits out of the way, quiet logs."""
    port = port or free_port()
    env = {
        "DETECTION_API_DATABASE_URL": database_url,
        "DETECTION_API_PORT": str(port),
        "DETECTION_API_METRICS_PORT": str(metrics_port),
        "DETECTION_API_RATE_LIMIT": "10000000/minute",
        "DETECTION_API_TAK_DESTINATIONS": tak_url or "",
        "DETECTION_API_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    command = [venv_executable("detection-api"), "serve", "--no-access-log"]
    log = workdir / (log_name or f"service-{port}.log")
    return ServerProcess("detection-api", command, env, port, log)


def baseline(workdir: Path) -> ServerProcess:
    """The minimal FastAPI app (pydantic validation + one SQLite insert), served by uvicorn."""
    port = free_port()
    command = [
        sys.executable, "-m", "detection_ops.bench.baseline_app",
        "--port", str(port), "--database", str(workdir / "baseline.db"),
    ]  # fmt: skip
    return ServerProcess("baseline", command, {}, port, workdir / "baseline.log", "/healthz")


def sqlite_url(workdir: Path, name: str = "bench.db") -> str:
    return f"sqlite:///{workdir / name}"


def postgres_reachable(url: str = POSTGRES_URL) -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL not reachable at {url}: {str(error).strip()}"
    return None


@contextlib.contextmanager
def postgres_database(url: str = POSTGRES_URL) -> Iterator[str]:
    """A fresh, empty database on the server of `url`, dropped afterwards; yields its URL."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(url), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(_libpq(url), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def available_stores(stores: Sequence[str], say: Callable[[str], object]) -> list[str]:
    """The stores to measure; PostgreSQL is left out (and `say` why) when it is not reachable."""
    found = [store for store in stores if store != "postgresql"]
    if "postgresql" in stores:
        if problem := postgres_reachable():
            say(f"skipping PostgreSQL: {problem}")
        else:
            found.append("postgresql")
    return found


@contextlib.contextmanager
def database(store: str, workdir: Path) -> Iterator[str]:
    """A fresh database of the named store ("sqlite" or "postgresql"); yields its URL."""
    if store == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield sqlite_url(workdir, f"{store}-{uuid.uuid4().hex[:8]}.db")


def _libpq(url: str) -> str:
    """SQLAlchemy's `postgresql+psycopg://` URL as a libpq URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def load_average() -> str:
    """The 1/5/15-minute load averages, as `uptime` shows them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
