"""Bring the restored service up as a real process and wait until `/readyz` says it can serve."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from detection_ops.deploy.steps import OperatorError

POLL_SECONDS = 0.2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def service_command() -> list[str]:
    found = shutil.which("detection-api") or str(Path(sys.executable).with_name("detection-api"))
    return [found, "serve", "--no-access-log"]


@dataclass(frozen=True)
class RunningService:
    process: subprocess.Popen[bytes]
    url: str


def wait_ready(service: RunningService, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise OperatorError(
                f"the service exited with {service.process.returncode} before it was ready",
                "read its log above; check DETECTION_API_DATABASE_URL and migrations",
            )
        try:
            answer = httpx.get(f"{service.url}/readyz", timeout=2)
            if answer.status_code == httpx.codes.OK:
                return
            last = f"{answer.status_code} {answer.text[:200]}"
        except httpx.TransportError as error:
            last = str(error)
        time.sleep(POLL_SECONDS)
    raise OperatorError(f"/readyz not ready after {timeout:.0f} s: {last}", "read the service log")


@contextmanager
def serving(
    database_url: str, extra_env: Mapping[str, str], timeout: float
) -> Iterator[RunningService]:
    """Run `detection-api serve` against a database until the block ends (stopped by its PID)."""
    port = free_port()
    env = {
        **os.environ,
        **extra_env,
        "DETECTION_API_DATABASE_URL": database_url,
        "DETECTION_API_HOST": "127.0.0.1",
        "DETECTION_API_PORT": str(port),
        "DETECTION_API_METRICS_PORT": "0",
    }
    process = subprocess.Popen(service_command(), env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    service = RunningService(process, f"http://127.0.0.1:{port}")
    try:
        wait_ready(service, timeout)
        yield service
    finally:
        stop(process, grace=30)


def stop(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM (an orderly drain), then SIGKILL after `grace` seconds; by PID only."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
