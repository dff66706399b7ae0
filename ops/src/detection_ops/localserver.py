"""Servers as child processes on loopback: for benchmarks, the demo, DR drills and tests.

One way everywhere: the OS picks a free port, the process writes its output to a log file, it is
ready when an HTTP path answers 2xx (or, for a bare TCP server, when its port accepts a
connection), and it is stopped by its own PID: SIGTERM (an orderly drain), SIGKILL after a grace
period. A server that exits or never gets ready raises `ServerError` with the tail of its log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from detection_ops.deploy.steps import OperatorError

LOOPBACK = "127.0.0.1"
POLL_SECONDS = 0.2


class ServerError(OperatorError):
    """A server did not get ready or exited on its own; the message carries its log tail."""


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((LOOPBACK, port)) == 0


def venv_executable(name: str) -> str:
    """An entry point of this virtualenv (`detection-api`), next to the running interpreter."""
    path = Path(sys.executable).with_name(name)
    if not path.is_file():
        raise ServerError(f"{name} not found next to {sys.executable}", "run `uv sync` first")
    return str(path)


@dataclass
class LocalServer:
    """A server started as its own process on `port`; `url` answers once it is ready.

    `ready_path` is an HTTP path that answers 2xx when ready, or None for "the port accepts
    connections". Without a `log_path` the output goes to a temporary file, removed after a
    clean stop and kept (and named in the error) when the server fails. `next_step` is what the
    error tells an operator to do.
    """

    name: str
    command: Sequence[str]
    port: int
    env: Mapping[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    ready_path: str | None = "/readyz"
    start_timeout: float = 90.0  # the machine may be shared and busy
    stop_grace: float = 20.0
    cwd: Path | None = None
    next_step: str = "read its log"
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None
    _temporary_log: bool = False

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> LocalServer:
        if self.log_path is None:
            handle, name = tempfile.mkstemp(prefix=f"{self.name}-", suffix=".log")
            os.close(handle)
            self.log_path, self._temporary_log = Path(name), True
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own or pinned executables, no shell
            list(self.command),
            env={**os.environ, **self.env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.cwd,
        )
        try:
            self.wait_ready()
        except ServerError:
            self.stop(keep_log=True)
            raise
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last = "no answer"
        while time.monotonic() < deadline:
            self.check_running()
            if self.ready_path is None:
                if port_open(self.port):
                    return
            else:
                try:
                    answer = httpx.get(self.url + self.ready_path, timeout=2.0)
                except httpx.TransportError as error:
                    last = str(error) or type(error).__name__
                else:
                    if answer.is_success:
                        return
                    last = f"{answer.status_code} {answer.text[:200]}"
            time.sleep(POLL_SECONDS)
        where = self.ready_path or "its port"
        raise ServerError(
            f"{self.name} not ready at {where} after {self.start_timeout:.0f} s ({last}); "
            f"its log {self.log_path}:\n{self.tail()}",
            self.next_step,
        )

    def check_running(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise ServerError(
                f"{self.name} exited with {self.process.returncode}; "
                f"its log {self.log_path}:\n{self.tail()}",
                self.next_step,
            )

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

    def stop(self, *, keep_log: bool = False) -> None:
        """SIGTERM (graceful: in-flight requests finish, leases are released), then SIGKILL."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(self.stop_grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._temporary_log and not keep_log and self.log_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.log_path.unlink()

    def tail(self, lines: int = 30) -> str:
        path = self.log_path
        text = path.read_text(errors="replace") if path is not None and path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
