"""Ingest, read back and list detections, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from detection_api.store.database import create_database_engine
from detection_api.store.schema import audit_events, detections, outbox

Body = Callable[..., dict[str, Any]]


def count_rows(client: TestClient, table: Any, *where: Any) -> int:
    engine = client.app.state.services.engine  # type: ignore[attr-defined]
    statement = select(func.count()).select_from(table).where(*where)
    with engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


def test_a_detection_is_geolocated_stored_and_read_back(
    client: TestClient, auth: dict[str, str], valid_detection: Body
) -> None:
    created = client.post("/v1/detections", json=valid_detection(), headers=auth)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["accuracy"]["flag"] == "GREEN"
    assert body["accuracy"]["category"] == "CAT2"
    assert 10 < body["accuracy"]["ce90_m"] < 20
    # 120 m up, 45 degrees down: the target is ~120 m ahead on a heading of 30 degrees.
    assert body["location"]["lat"] == pytest.approx(48.1 + 120 * 0.866 / 111_200, abs=2e-5)
    assert body["location"]["hae"] == pytest.approx(0.0, abs=0.01)
    assert body["cot_uid"] == f"detection-api-{body['detection_id']}"
    assert body["delivery"] == {"state": "no_destinations"}

    fetched = client.get(f"/v1/detections/{body['detection_id']}", headers=auth)
    assert fetched.status_code == 200
    assert fetched.json() == body


def test_a_refused_ray_is_stored_red_with_its_reason_and_not_queued(
    start_client: Callable[..., TestClient], auth: dict[str, str], valid_detection: Body
) -> None:
    client = start_client(tak_destinations=["tcp://127.0.0.1:8087"])
    pose = {**valid_detection()["pose"], "pitch": 5}
    response = client.post("/v1/detections", json=valid_detection(pose=pose), headers=auth)
    assert response.status_code == 201
    body = response.json()
    assert body["location"] is None
    assert body["accuracy"]["flag"] == "RED"
    assert body["accuracy"]["refusal"] == "above_horizon"
    assert "horizon" in body["accuracy"]["reason"]
    assert body["delivery"] == {"state": "not_queued"}
    assert count_rows(client, outbox) == 0


def test_detection_outbox_row_and_audit_events_are_written_together(
    start_client: Callable[..., TestClient], auth: dict[str, str], valid_detection: Body
) -> None:
    client = start_client(tak_destinations=["tcp://127.0.0.1:8087", "tls://tak.example:8089"])
    response = client.post("/v1/detections", json=valid_detection(), headers=auth)
    assert response.json()["delivery"] == {"state": "queued"}
    assert count_rows(client, detections) == 1
    assert count_rows(client, outbox) == 2
    detection_id = response.json()["detection_id"]
    kinds = audit_events.c.kind.in_(["geolocated", "queued"])
    assert count_rows(client, audit_events, audit_events.c.detection_id == detection_id, kinds) == 2


def test_same_detection_id_twice_gives_the_same_answer_and_one_row(
    client: TestClient, auth: dict[str, str], valid_detection: Body
) -> None:
    body = valid_detection(detection_id=str(uuid.uuid4()))
    first = client.post("/v1/detections", json=body, headers=auth)
    second = client.post("/v1/detections", json=body, headers=auth)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert count_rows(client, detections) == 1


def test_idempotency_key_makes_retries_safe(
    client: TestClient, auth: dict[str, str], valid_detection: Body
) -> None:
    headers = {**auth, "Idempotency-Key": "flight-7/frame-1234"}
    first = client.post("/v1/detections", json=valid_detection(), headers=headers)
    second = client.post("/v1/detections", json=valid_detection(), headers=headers)
    assert second.json()["detection_id"] == first.json()["detection_id"]
    assert count_rows(client, detections) == 1


def test_reusing_a_detection_id_for_other_content_is_a_conflict(
    client: TestClient, auth: dict[str, str], valid_detection: Body
) -> None:
    detection_id = str(uuid.uuid4())
    client.post("/v1/detections", json=valid_detection(detection_id=detection_id), headers=auth)
    other = valid_detection(detection_id=detection_id, object={"class": "person", "confidence": 1})
    response = client.post("/v1/detections", json=other, headers=auth)
    assert response.status_code == 409
    assert response.json()["code"] == "detection_id_conflict"
    assert count_rows(client, detections) == 1


def test_batch_reports_refused_items_and_stores_the_valid_ones(
    client: TestClient, auth: dict[str, str], valid_detection: Body
) -> None:
    items = [
        valid_detection(),
        valid_detection(pixel={"x": 5000, "y": 10}),
        valid_detection(object={"class": "dragon", "confidence": 0.5}),
        valid_detection(),
    ]
    response = client.post("/v1/detections:batch", json={"items": items}, headers=auth)
    assert response.status_code == 207
    results = response.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert [r["status"] for r in results] == [201, 422, 422, 201]
    assert results[1]["error"]["field"] == "pixel.x"
    assert results[2]["error"]["code"] == "unknown_class"
    assert results[2]["error"]["field"] == "object.class"
    assert count_rows(client, detections) == 2


def test_a_batch_that_violates_the_schema_is_refused_whole_naming_each_field(
    client: TestClient, auth: dict[str, str], valid_detection: Body
) -> None:
    items = [valid_detection(), {"source": "x"}, valid_detection(pose={"lat": 1})]
    response = client.post("/v1/detections:batch", json={"items": items}, headers=auth)
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"items[1].captured_at", "items[2].pose.lon"} <= fields
    assert count_rows(client, detections) == 0


def test_batch_over_the_item_limit_is_refused_whole(
    start_client: Callable[..., TestClient], auth: dict[str, str], valid_detection: Body
) -> None:
    client = start_client(max_batch_items=3)
    items = [valid_detection() for _ in range(4)]
    response = client.post("/v1/detections:batch", json={"items": items}, headers=auth)
    assert response.status_code == 422
    assert response.json()["field"] == "items"
    assert "at most 3" in response.json()["detail"]
    assert count_rows(client, detections) == 0


def test_listing_pages_through_everything_once_in_order(
    client: TestClient, auth: dict[str, str], valid_detection: Body
) -> None:
    items = [valid_detection() for _ in range(7)]
    client.post("/v1/detections:batch", json={"items": items}, headers=auth)
    pose = {**valid_detection()["pose"], "pitch": 10}
    client.post("/v1/detections", json=valid_detection(pose=pose), headers=auth)
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/detections", params=params, headers=auth).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len({item["detection_id"] for item in seen}) == 8
    received = [(item["received_at"], item["detection_id"]) for item in seen]
    assert received == sorted(received)
    red = client.get("/v1/detections", params={"flag": "RED"}, headers=auth).json()["items"]
    assert len(red) == 1


def test_a_bad_cursor_is_a_field_error(client: TestClient, auth: dict[str, str]) -> None:
    response = client.get("/v1/detections", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=auth)
    assert response.status_code == 422
    assert response.json()["field"] == "cursor"


def test_unknown_detection_is_404(client: TestClient, auth: dict[str, str]) -> None:
    response = client.get(f"/v1/detections/{uuid.uuid4()}", headers=auth)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_outbox_at_its_cap_answers_503_with_retry_after_and_loses_nothing_accepted(
    start_client: Callable[..., TestClient], auth: dict[str, str], valid_detection: Body
) -> None:
    client = start_client(tak_destinations=["tcp://127.0.0.1:8087"], outbox_cap=2)
    statuses = [
        client.post("/v1/detections", json=valid_detection(), headers=auth).status_code
        for _ in range(3)
    ]
    assert statuses == [201, 201, 503]
    refused = client.post("/v1/detections", json=valid_detection(), headers=auth)
    assert refused.headers["Retry-After"] == "5"
    assert refused.json()["code"] == "outbox_full"
    assert count_rows(client, detections) == 2
    assert count_rows(client, outbox) == 2


def test_readiness_reports_a_schema_behind_the_code(
    client: TestClient, database_url: str, migrated: Any
) -> None:
    assert client.get("/readyz").status_code == 200
    from detection_api.store import migrate  # noqa: PLC0415

    migrate.downgrade(create_database_engine(migrated), "base")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"].startswith("at nothing")
    assert client.get("/livez").status_code == 200
