"""The service as a real process: JSON logs with request ids, metrics on their own port with
bounded labels, and a graceful stop on SIGTERM that gives back every delivery lease."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from detection_api.api.examples import example_detection
from detection_api.store.schema import outbox
from detection_api.taksink import TakSink

KEY = "dak_dev_dev-only-not-a-secret"
SERVE = str(Path(sys.executable).with_name("detection-api"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_peer() -> Iterator[str]:
    """A TAK peer that reads everything and never answers pings: sends stay unconfirmed."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    sink = TakSink(answer_pings=False)
    asyncio.run_coroutine_threadsafe(sink.start(), loop).result(10)
    yield sink.url
    asyncio.run_coroutine_threadsafe(sink.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)


@pytest.fixture
def service(tmp_path: Path, silent_peer: str) -> Iterator[dict[str, Any]]:
    ports = {"http": free_port(), "metrics": free_port()}
    database = f"sqlite:///{tmp_path}/service.db"
    env = {
        **os.environ,
        "DETECTION_API_DATABASE_URL": database,
        "DETECTION_API_PORT": str(ports["http"]),
        "DETECTION_API_METRICS_PORT": str(ports["metrics"]),
        "DETECTION_API_TAK_DESTINATIONS": silent_peer,
        "DETECTION_API_DELIVERY_SEND_TIMEOUT_SECONDS": "120",
        "DETECTION_API_SHUTDOWN_DRAIN_SECONDS": "5",
    }
    process = subprocess.Popen(
        [SERVE, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )  # logs go to stdout as JSON; stderr carries the human hint with the development key
    base = f"http://127.0.0.1:{ports['http']}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None, "the service exited during start-up"
        assert time.monotonic() < deadline, "the service did not become ready"
        time.sleep(0.2)
    yield {"process": process, "base": base, "ports": ports, "database": database}
    if process.poll() is None:
        process.kill()
        process.wait()


def outbox_states(database: str) -> list[str]:
    engine = create_engine(database)
    with engine.connect() as connection:
        states = list(connection.execute(select(outbox.c.state)).scalars())
    engine.dispose()
    return states


@pytest.mark.slow
def test_a_real_process_logs_json_serves_metrics_apart_and_stops_gracefully(
    service: dict[str, Any],
) -> None:
    base, process = service["base"], service["process"]
    headers = {"X-API-Key": KEY, "X-Request-ID": "trace-42"}
    created = httpx.post(
        f"{base}/v1/detections", json=example_detection(), headers=headers, timeout=10
    )
    assert created.status_code == 201
    assert created.headers["x-request-id"] == "trace-42"
    detection_id = created.json()["detection_id"]
    assert httpx.get(f"{base}/v1/detections/{detection_id}", headers=headers).status_code == 200
    assert httpx.get(f"{base}/v1/detections/not-a-uuid", headers=headers).status_code == 422

    metrics = httpx.get(f"http://127.0.0.1:{service['ports']['metrics']}/metrics").text
    assert 'route="/v1/detections/{detection_id}"' in metrics  # templates, never raw paths
    assert detection_id not in metrics
    assert httpx.get(f"{base}/metrics").status_code == 404  # not on the public port

    # The silent peer never confirms, so the worker holds the row's lease until stopped.
    deadline = time.monotonic() + 30
    while outbox_states(service["database"]) != ["leased"]:
        assert time.monotonic() < deadline, "the worker never leased the row"
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal: the exit status says SIGTERM.
    assert process.wait(timeout=30) == -signal.SIGTERM
    assert outbox_states(service["database"]) == ["pending"]  # the lease was given back

    assert process.stdout is not None
    lines = [json.loads(line) for line in process.stdout.read().decode().splitlines() if line]
    assert all({"event", "level", "timestamp"} <= set(line) for line in lines)
    traced = [line for line in lines if line.get("request_id") == "trace-42"]
    assert traced, "no log line carries the request id"
    assert [line["event"] for line in lines if line["logger"] == "detection_api"][-1] == "stopped"
