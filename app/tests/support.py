"""Helpers for tests that run the service as a real process on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

DEV_KEY = "dak_dev_dev-only-not-a-secret"
SERVE = str(Path(sys.executable).with_name("detection-api"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


class ApiProcess:
    """`detection-api serve` as a real process that a test can kill and restart.

    Its JSON logs (stdout) go to `log`; stderr (human hints) to `log` + `.err`.
    """

    def __init__(self, env: dict[str, str], log: Path, *, access_log: bool = False) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env, "DETECTION_API_PORT": str(self.port)}
        self.log = log
        self.args = [SERVE, "serve"] + ([] if access_log else ["--no-access-log"])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out, self.log.with_suffix(".err").open("ab") as err:
            self.process = subprocess.Popen(self.args, env=self.env, stdout=out, stderr=err)
        wait_until(self._ready, timeout=60)

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the API exited early; see {self.log}")
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
