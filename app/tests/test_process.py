"""The service as a real process: JSON logs with request ids, metrics on their own port with
bounded labels, and a graceful stop on SIGTERM that gives back every delivery lease."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from app.tests.support import DEV_KEY, ApiProcess, free_port, wait_until
from detection_api.api.examples import example_detection
from detection_api.store.schema import outbox
from detection_api.taksink import TakSink


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
def service(tmp_path: Path, silent_peer: str) -> Iterator[tuple[ApiProcess, int, str]]:
    metrics_port, database = free_port(), f"sqlite:///{tmp_path}/service.db"
    env = {
        "DETECTION_API_DATABASE_URL": database,
        "DETECTION_API_METRICS_PORT": str(metrics_port),
        "DETECTION_API_TAK_DESTINATIONS": silent_peer,
        "DETECTION_API_DELIVERY_SEND_TIMEOUT_SECONDS": "120",
        "DETECTION_API_SHUTDOWN_DRAIN_SECONDS": "5",
    }
    api = ApiProcess(env, tmp_path / "service.log", access_log=True)
    api.start()
    yield api, metrics_port, database
    api.stop()


def outbox_states(database: str) -> list[str]:
    engine = create_engine(database)
    with engine.connect() as connection:
        states = list(connection.execute(select(outbox.c.state)).scalars())
    engine.dispose()
    return states


@pytest.mark.slow
def test_a_real_process_logs_json_serves_metrics_apart_and_stops_gracefully(
    service: tuple[ApiProcess, int, str],
) -> None:
    api, metrics_port, database = service
    headers = {"X-API-Key": DEV_KEY, "X-Request-ID": "trace-42"}
    body = example_detection()
    created = httpx.post(f"{api.url}/v1/detections", json=body, headers=headers, timeout=10)
    assert created.status_code == 201
    assert created.headers["x-request-id"] == "trace-42"
    detection_id = created.json()["detection_id"]
    assert httpx.get(f"{api.url}/v1/detections/{detection_id}", headers=headers).status_code == 200
    assert httpx.get(f"{api.url}/v1/detections/not-a-uuid", headers=headers).status_code == 422

    metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
    assert 'route="/v1/detections/{detection_id}"' in metrics  # templates, never raw paths
    assert detection_id not in metrics
    assert httpx.get(f"{api.url}/metrics").status_code == 404  # not on the public port

    # The silent peer never confirms, so the worker holds the row's lease until stopped.
    wait_until(lambda: outbox_states(database) == ["leased"], timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal: the exit status says SIGTERM.
    assert api.terminate() == -signal.SIGTERM
    assert outbox_states(database) == ["pending"]  # the lease was given back

    lines = [json.loads(line) for line in api.log.read_text().splitlines() if line]
    assert all({"event", "level", "timestamp"} <= set(line) for line in lines)
    traced = [line for line in lines if line.get("request_id") == "trace-42"]
    assert traced, "no log line carries the request id"
    assert [line["event"] for line in lines if line["logger"] == "detection_api"][-1] == "stopped"
