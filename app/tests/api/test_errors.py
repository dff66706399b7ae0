"""Bad input gets a problem+json answer with a stable code, the field and the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Body = Callable[..., dict[str, Any]]


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pose": {"lat": 91}}, "pose.lat"),
        ({"pose": {"pitch": -91}}, "pose.pitch"),
        ({"pose": {"alt_datum": "agl"}}, "pose.alt_datum"),
        ({"camera": {"fx": 0}}, "camera.fx"),
        ({"camera": {"fx": -5}}, "camera.fx"),
        ({"object": {"confidence": 1.5}}, "object.confidence"),
        ({"pixel": {"x": -1}}, "pixel.x"),
        ({"captured_at": "2026-12-03T12:00:00"}, "captured_at"),
        ({"image_sha256": "not-a-hash"}, "image_sha256"),
        ({"source": ""}, "source"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(
    client: TestClient,
    auth: dict[str, str],
    valid_detection: Body,
    change: dict[str, Any],
    field: str,
) -> None:
    body = valid_detection()
    for key, value in change.items():
        body[key] = {**body[key], **value} if isinstance(value, dict) else value
    found = problem(client.post("/v1/detections", json=body, headers=auth), 422)
    assert found["code"] == "invalid_field"
    assert found["field"] == field
    assert found["errors"][0]["field"] == field


def test_pixel_outside_the_image_is_reported_by_the_engine_as_the_pixel_field(
    client: TestClient, auth: dict[str, str], valid_detection: Body
) -> None:
    body = valid_detection(pixel={"x": 100, "y": 1081})
    found = problem(client.post("/v1/detections", json=body, headers=auth), 422)
    assert found["field"] == "pixel.y"
    assert found["errors"][0]["code"] == "invalid_geometry"


def test_both_or_neither_intrinsics_forms_are_refused(
    client: TestClient, auth: dict[str, str], valid_detection: Body
) -> None:
    camera = {**valid_detection()["camera"], "focal_length_mm": 8.8}
    camera |= {"sensor_width_mm": 13.2, "sensor_height_mm": 8.8}
    found = problem(
        client.post("/v1/detections", json=valid_detection(camera=camera), headers=auth), 422
    )
    assert found["field"] == "camera"


def test_sensor_intrinsics_are_accepted(
    client: TestClient, auth: dict[str, str], valid_detection: Body
) -> None:
    camera = {
        "image_width": 5472, "image_height": 3648, "focal_length_mm": 8.8,
        "sensor_width_mm": 13.2, "sensor_height_mm": 8.8,
    }  # fmt: skip
    pixel = {"x": 2736, "y": 1824}
    response = client.post(
        "/v1/detections", json=valid_detection(camera=camera, pixel=pixel), headers=auth
    )
    assert response.status_code == 201, response.text


def test_unknown_fields_are_refused(
    client: TestClient, auth: dict[str, str], valid_detection: Body
) -> None:
    found = problem(
        client.post("/v1/detections", json=valid_detection(colour="red"), headers=auth), 422
    )
    assert found["field"] == "colour"


def test_malformed_json_is_400(client: TestClient, auth: dict[str, str]) -> None:
    headers = {**auth, "content-type": "application/json"}
    found = problem(client.post("/v1/detections", content=b'{"pose": ', headers=headers), 400)
    assert found["code"] == "malformed_json"
    batch = client.post("/v1/detections:batch", content=b"[1,", headers=headers)
    assert problem(batch, 400)["code"] == "malformed_json"


def test_bodies_over_the_limit_are_413_announced_or_streamed(
    start_client: Callable[..., TestClient], auth: dict[str, str], valid_detection: Body
) -> None:
    client = start_client(max_body_bytes=2048, max_batch_body_bytes=4096)
    big = valid_detection(source="s" * 100, camera_id="c" * 3000)
    assert problem(client.post("/v1/detections", json=big, headers=auth), 413)["code"] == (
        "payload_too_large"
    )

    def chunks() -> Any:
        for _ in range(5):
            yield b" " * 1000

    streamed = client.post(
        "/v1/detections", content=chunks(), headers={**auth, "content-type": "application/json"}
    )
    assert problem(streamed, 413)["code"] == "payload_too_large"
    # The batch endpoint has its own, larger limit.
    over_single_limit = {"items": [valid_detection()] * 5}  # ~2.5 kB
    assert len(str(over_single_limit)) > 2048
    accepted = client.post("/v1/detections:batch", json=over_single_limit, headers=auth)
    assert accepted.status_code == 207
    over_batch_limit = {"items": [valid_detection()] * 20}  # ~7 kB
    assert problem(client.post("/v1/detections:batch", json=over_batch_limit, headers=auth), 413)


def test_error_answers_never_contain_exception_text(
    client: TestClient, auth: dict[str, str]
) -> None:
    response = client.post("/v1/detections", json={"pose": "x" * 50}, headers=auth)
    text = response.text
    assert "Traceback" not in text
    assert "x" * 50 not in text  # the input value is not echoed back
