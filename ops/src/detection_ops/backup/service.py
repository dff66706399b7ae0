"""Bring the restored service up as a real process and wait until `/readyz` says it can serve."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from detection_ops.localserver import LocalServer, free_port

DRAIN_SECONDS = 30.0


def service_command() -> list[str]:
    found = shutil.which("detection-api") or str(Path(sys.executable).with_name("detection-api"))
    return [found, "serve", "--no-access-log"]


@contextmanager
def serving(
    database_url: str, extra_env: Mapping[str, str], timeout: float
) -> Iterator[LocalServer]:
    """Run `detection-api serve` against a database until the block ends (stopped by its PID)."""
    port = free_port()
    env = {
        **extra_env,
        "DETECTION_API_DATABASE_URL": database_url,
        "DETECTION_API_HOST": "127.0.0.1",
        "DETECTION_API_PORT": str(port),
        "DETECTION_API_METRICS_PORT": "0",
    }
    with LocalServer(
        "detection-api",
        service_command(),
        port,
        env,
        start_timeout=timeout,
        stop_grace=DRAIN_SECONDS,
        next_step="check DETECTION_API_DATABASE_URL and that migrations ran",
    ) as server:
        yield server
