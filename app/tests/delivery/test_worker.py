"""The delivery worker against a real TAK peer on loopback, on SQLite and PostgreSQL: delivery,
outages, the stale policies and the blue/green gate."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.tests.support import wait_until
from detection_api.api.examples import example_detection
from detection_api.store.schema import audit_events, outbox

from .conftest import ThreadedSink

Body = Callable[..., dict[str, Any]]
FAST = {
    "delivery_poll_seconds": 0.05,
    "delivery_backoff_max_seconds": 0.5,
    "delivery_send_timeout_seconds": 3.0,
}


def states(client: TestClient) -> list[str]:
    engine = client.app.state.services.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return list(connection.execute(select(outbox.c.state).order_by(outbox.c.id)).scalars())


def audit_kinds(client: TestClient, kind: str) -> int:
    engine = client.app.state.services.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(select(audit_events.c.id).where(audit_events.c.kind == kind))
        return len(rows.all())


def post(client: TestClient, auth: dict[str, str], body: dict[str, Any]) -> str:
    """Post a detection captured now (older ones would already be stale) and return its uid."""
    body = {**body, "captured_at": example_detection()["captured_at"]}
    response = client.post("/v1/detections", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return str(response.json()["cot_uid"])


def metric(client: TestClient, name: str, **labels: str) -> float:
    registry = client.app.state.services.metrics.registry  # type: ignore[attr-defined]
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else float(value)


def test_detections_reach_the_tak_peer_in_order_and_are_marked_delivered(
    start_client: Callable[..., TestClient],
    auth: dict[str, str],
    valid_detection: Body,
    sink: ThreadedSink,
) -> None:
    client = start_client(tak_destinations=[sink.url], **FAST)
    uids = [post(client, auth, valid_detection()) for _ in range(5)]
    wait_until(lambda: states(client) == ["delivered"] * 5)
    assert sink.uids() == uids
    assert audit_kinds(client, "delivered") == 5
    destination = client.app.state.services.delivery.workers[0].destination.name  # type: ignore[attr-defined]
    assert metric(client, "detection_api_tak_events_sent_total", destination=destination) == 5
    assert metric(client, "detection_api_tak_connected", destination=destination) == 1
    assert metric(client, "detection_api_tak_ack_mode", destination=destination, mode="ping") == 1
    detection = client.get(f"/v1/detections/{uids[0].removeprefix('detection-api-')}", headers=auth)
    assert detection.json()["delivery"] == {"state": "delivered"}


def test_an_outage_keeps_every_row_and_delivery_resumes_when_tak_returns(
    start_client: Callable[..., TestClient],
    auth: dict[str, str],
    valid_detection: Body,
    sink: ThreadedSink,
) -> None:
    sink.stop()
    client = start_client(tak_destinations=[sink.url], **FAST)
    uids = [post(client, auth, valid_detection()) for _ in range(4)]
    destination = client.app.state.services.delivery.workers[0].destination.name  # type: ignore[attr-defined]
    wait_until(
        lambda: metric(
            client, "detection_api_tak_send_failures_total", destination=destination,
            reason="refused",
        ) >= 2
    )  # fmt: skip
    assert set(states(client)) <= {"pending", "leased"}
    assert client.get("/readyz").status_code == 200  # the API stays ready: the queue holds
    assert metric(client, "detection_api_tak_connected", destination=destination) == 0
    sink.start()
    wait_until(lambda: states(client) == ["delivered"] * 4)
    assert sink.uids() == uids


@pytest.mark.parametrize("policy", ["drop", "restamp"])
def test_events_that_went_stale_during_an_outage_follow_the_policy(
    start_client: Callable[..., TestClient],
    auth: dict[str, str],
    valid_detection: Body,
    sink: ThreadedSink,
    policy: str,
) -> None:
    sink.stop()
    client = start_client(
        tak_destinations=[sink.url], stale_after_seconds=1.0, stale_policy=policy, **FAST
    )
    uid = post(client, auth, valid_detection())
    time.sleep(2.2)  # the event is stale before TAK comes back
    sink.start()
    if policy == "drop":
        wait_until(lambda: states(client) == ["expired"])
        assert sink.uids() == []
        assert audit_kinds(client, "expired") == 1
    else:
        wait_until(lambda: states(client) == ["delivered"])
        [event] = sink.sink.events
        assert event.uid == uid
        assert "LATE" in event.raw.decode()
        assert event.stale > event.time  # re-stamped: a fresh stale time, and marked late
    destination = client.app.state.services.delivery.workers[0].destination.name  # type: ignore[attr-defined]
    expired = "detection_api_tak_events_expired_total"
    assert metric(client, expired, destination=destination, policy=policy) == 1


def test_only_the_active_colour_drains_and_a_switch_needs_no_restart(
    start_client: Callable[..., TestClient],
    auth: dict[str, str],
    valid_detection: Body,
    sink: ThreadedSink,
    tmp_path: Path,
) -> None:
    active = tmp_path / "activeColor"
    active.write_text("green\n")
    client = start_client(
        tak_destinations=[sink.url], color="blue", active_color_file=active, **FAST
    )
    uid = post(client, auth, valid_detection())
    time.sleep(1.5)
    assert sink.uids() == []
    assert states(client) == ["pending"]
    active.write_text("blue\n")  # what the chart's ConfigMap update does
    wait_until(lambda: states(client) == ["delivered"], timeout=10)
    assert sink.uids() == [uid]
