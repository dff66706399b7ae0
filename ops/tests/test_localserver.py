"""Loopback server processes: ready by HTTP or by port, failures carry the log, stopped by PID."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from detection_ops.localserver import LocalServer, ServerError, free_port

PYTHON = sys.executable


def http_server(port: int, directory: Path) -> list[str]:
    return [PYTHON, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(directory)]


def test_a_server_is_ready_when_its_path_answers_and_stopped_after(tmp_path: Path) -> None:
    (tmp_path / "ready").write_text("yes")
    port = free_port()
    with LocalServer("files", http_server(port, tmp_path), port, ready_path="/ready") as server:
        assert httpx.get(f"{server.url}/ready").text == "yes"
        process = server.process
    assert process is not None
    assert process.returncode is not None


def test_a_bare_tcp_server_is_ready_when_its_port_accepts(tmp_path: Path) -> None:
    port = free_port()
    script = f"import socket, time; s = socket.create_server(('127.0.0.1', {port})); time.sleep(60)"
    with LocalServer("tcp", [PYTHON, "-c", script], port, ready_path=None) as server:
        assert server.cpu_seconds() is not None


def test_a_server_that_exits_raises_with_its_log_and_keeps_it() -> None:
    script = "import sys; print('config file missing: /etc/nowhere.yml'); sys.exit(3)"
    server = LocalServer("broken", [PYTHON, "-c", script], free_port())
    with pytest.raises(ServerError, match="broken exited with 3") as raised:
        server.start()
    assert "config file missing: /etc/nowhere.yml" in str(raised.value)
    assert server.log_path is not None
    assert server.log_path.is_file(), "the log of a failed server is kept for the operator"
    assert str(server.log_path) in str(raised.value)
    server.log_path.unlink()


def test_a_server_never_ready_times_out_with_its_last_answer_and_is_stopped(
    tmp_path: Path,
) -> None:
    port = free_port()
    server = LocalServer("files", http_server(port, tmp_path), port, start_timeout=3)
    with pytest.raises(ServerError, match=r"not ready at /readyz after 3 s \(404"):
        server.start()
    assert server.process is not None
    assert server.process.poll() is not None


def test_a_temporary_log_is_removed_after_a_clean_stop(tmp_path: Path) -> None:
    port = free_port()
    with LocalServer("files", http_server(port, tmp_path), port, ready_path="/") as server:
        log = server.log_path
        assert log is not None
        assert log.is_file()
    assert not log.exists()


def test_a_server_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    port = free_port()
    script = (
        "import signal, socket, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"s = socket.create_server(('127.0.0.1', {port})); time.sleep(60)"
    )
    log = tmp_path / "stubborn.log"
    server = LocalServer("stubborn", [PYTHON, "-c", script], port, {}, log, None, stop_grace=0.5)
    with server:
        pass
    assert server.process is not None
    assert server.process.returncode == -9
    assert log.is_file(), "a log the caller named is the caller's to keep"
