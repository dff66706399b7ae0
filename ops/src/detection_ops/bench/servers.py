"""Servers for benchmarks and the demo: the real service (and the baseline app) as processes on
loopback, on a fresh SQLite file or a fresh PostgreSQL database, stopped by their own PID."""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import psycopg
from psycopg import sql

from detection_ops.localserver import LocalServer, free_port, venv_executable

DEV_KEY = "dak_dev_dev-only-not-a-secret"
AUTH = {"X-API-Key": DEV_KEY}
POSTGRES_URL = os.environ.get(
    "DETECTION_API_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def service(
    database_url: str,
    workdir: Path,
    *,
    tak_url: str | None = None,
    metrics_port: int = 0,
    port: int | None = None,
    extra_env: Mapping[str, str] | None = None,
    log_name: str | None = None,
) -> LocalServer:
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
    return LocalServer("detection-api", command, port, env, log)


def baseline(workdir: Path) -> LocalServer:
    """The minimal FastAPI app (pydantic validation + one SQLite insert), served by uvicorn."""
    port = free_port()
    command = [
        sys.executable, "-m", "detection_ops.bench.baseline_app",
        "--port", str(port), "--database", str(workdir / "baseline.db"),
    ]  # fmt: skip
    return LocalServer("baseline", command, port, {}, workdir / "baseline.log", "/healthz")


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
