"""The docker engine the image tasks talk to: the machine's own, or a private dockerd we start.

GitHub runners and laptops have a running Docker (their socket answers `docker version`). The CI
machines here have Debian's dockerd but no running daemon and no registry: there we start one as
root with its data root under `var/image/docker` (kept between runs, so layers stay cached), its
runtime state in a fresh temporary folder, and stop it by its own PID afterwards.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from detection_ops.deploy.steps import OperatorError

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
PROBE_TIMEOUT_S = 10.0
LOCK_TIMEOUT_S = 900.0
LOG_TAIL_LINES = 20


@dataclass(frozen=True)
class Engine:
    """A reachable docker daemon and how to talk to it.

    `private` is true for a dockerd started here: no registry behind it (the base image is made
    locally), and no bridge network (builds and containers use the host's network namespace).
    """

    docker: str
    env: Mapping[str, str]
    private: bool

    def run(
        self, *args: str, timeout: float, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run one docker CLI command; on failure raise an OperatorError with its output's tail."""
        try:
            done = subprocess.run(  # noqa: S603 - fixed executable, our own arguments
                [self.docker, *args],
                env=dict(self.env),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise OperatorError(
                f"`docker {args[0]}` took longer than {timeout:.0f} s",
                "check the daemon's log and the machine's load",
            ) from error
        if check and done.returncode != 0:
            raise OperatorError(
                f"`docker {' '.join(args[:3])} ...` exited {done.returncode}:\n{tail(done)}",
                "read the output above",
            )
        return done


def tail(done: subprocess.CompletedProcess[str], lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join((done.stdout + done.stderr).strip().splitlines()[-lines:])


def find_executable(name: str, tools_bin: Path) -> str:
    found = shutil.which(name, path=f"{tools_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    if not found:
        raise OperatorError(
            f"`{name}` not found",
            "run `uv run inv tools --with docker` (Debian: installs docker.io and debootstrap)",
        )
    return found


def answers(docker: str, env: Mapping[str, str]) -> bool:
    """Whether a daemon answers at the CLI's configured endpoint."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed executable
            [docker, "version", "--format", "{{.Server.Version}}"],
            env=dict(env),
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


@contextmanager
def docker_engine(state: Path, tools_bin: Path) -> Iterator[Engine]:
    """The machine's running docker if it answers, otherwise a private dockerd for the block."""
    docker = find_executable("docker", tools_bin)
    if answers(docker, os.environ):
        yield Engine(docker, dict(os.environ), private=False)
        return
    with private_dockerd(state, docker, find_executable("dockerd", tools_bin)) as engine:
        yield engine


@contextmanager
def private_dockerd(state: Path, docker: str, dockerd: str) -> Iterator[Engine]:
    """Start dockerd on a socket of our own; one holder at a time per data root (file lock)."""
    if os.geteuid() != 0:
        raise OperatorError(
            "no docker daemon answers and starting one needs root",
            "start Docker (laptop) or run as root on the CI machine",
        )
    state.mkdir(parents=True, exist_ok=True)
    with (
        exclusive_lock(state / "dockerd.lock"),
        tempfile.TemporaryDirectory(prefix="dockerd-") as runtime,
    ):
        stop_leftover(state / "dockerd.pid", state / "data")
        socket = Path(runtime) / "docker.sock"
        process = launch(state, Path(runtime), socket, dockerd)
        try:
            env = {**os.environ, "DOCKER_HOST": f"unix://{socket}", "DOCKER_BUILDKIT": "0"}
            wait_until_ready(process, docker, env, state / "dockerd.log")
            yield Engine(docker, env, private=True)
        finally:
            stop(process)
            unmount_below(Path(runtime))


def unmount_below(folder: Path) -> None:
    """dockerd leaves its network namespace bind-mounted under the exec root: release it."""
    prefix = f"{folder}/"
    mounts = [
        fields[4]
        for fields in (
            line.split() for line in Path("/proc/self/mountinfo").read_text().splitlines()
        )
        if fields[4].startswith(prefix)
    ]
    for mount in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "--lazy", mount], capture_output=True, check=False)  # noqa: S603, S607


def launch(state: Path, runtime: Path, socket: Path, dockerd: str) -> subprocess.Popen[bytes]:
    cmd = [
        dockerd,
        f"--data-root={state / 'data'}",
        f"--exec-root={runtime / 'exec'}",
        f"--host=unix://{socket}",
        f"--pidfile={state / 'dockerd.pid'}",
        "--storage-driver=overlay2",
        "--iptables=false",
        "--bridge=none",
    ]
    with (state / "dockerd.log").open("wb") as log:
        return subprocess.Popen(  # noqa: S603 - fixed executable, our own arguments
            cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_until_ready(
    process: subprocess.Popen[bytes], docker: str, env: Mapping[str, str], log: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise OperatorError(
                f"dockerd exited {process.returncode} while starting:\n{log_tail(log)}",
                f"read {log}; it needs root, overlay2 support and containerd",
            )
        if answers(docker, env):
            return
        time.sleep(0.5)
    stop(process)
    raise OperatorError(
        f"dockerd did not answer within {START_TIMEOUT_S:.0f} s:\n{log_tail(log)}",
        f"read {log}",
    )


def log_tail(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines() if log.is_file() else []
    return "\n".join(lines[-LOG_TAIL_LINES:])


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (dockerd stops its containers and containerd), SIGKILL after the timeout."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)


def stop_leftover(pidfile: Path, data_root: Path) -> None:
    """A dockerd of an earlier run that died without stopping it still holds the data root.

    We hold the lock, so no live run owns it: stop it, but only if that PID really is dockerd.
    """
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ValueError):
        return
    ours = f"--data-root={data_root}".encode()
    if not cmdline or not cmdline[0].endswith(b"dockerd") or ours not in cmdline:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)


@contextmanager
def exclusive_lock(path: Path, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    with path.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OperatorError(
                        f"{path} stayed locked for {timeout:.0f} s",
                        "another build or test uses the private dockerd; wait for it",
                    ) from None
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
