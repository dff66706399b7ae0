"""Smoke test of one colour through its Service: ready, a real authenticated detection that
geolocates to the known ground point, and the same detection read back.

The detection is the service's example (`detection_api.api.examples`): a camera 120 m above flat
ground (HAE 0) looking 45 degrees down at the image centre, so the answer must lie ~120 m from the
camera at height ~0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import httpx

from detection_api.api.examples import example_detection
from detection_ops.deploy.steps import OperatorError

CAMERA_LAT, CAMERA_LON = 48.1, 11.5  # the example's pose
EXPECTED_RANGE_M = 120.0  # 45 degrees down from 120 m
RANGE_TOLERANCE_M = 5.0
EARTH_RADIUS_M = 6_371_008.8


def smoke_detection(source: str = "deploy-smoke") -> dict[str, Any]:
    """The service's own example detection (fresh `captured_at`), tagged as a smoke test."""
    return example_detection(source=source, camera_id="smoke-cam")


def ground_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance; plenty for a 120 m check."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class SmokeResult:
    detection_id: str
    lat: float
    lon: float
    range_m: float


def _expect(answer: httpx.Response, status: int, what: str) -> dict[str, Any]:
    if answer.status_code != status:
        raise OperatorError(
            f"smoke test: {what} answered {answer.status_code}, expected {status}: "
            f"{answer.text[:300]}",
            "the new colour is not healthy; read its pod logs (the deploy rolls back)",
        )
    body: dict[str, Any] = answer.json() if answer.content else {}
    return body


def check_location(body: dict[str, Any]) -> SmokeResult:
    location = body.get("location")
    if not location or body.get("accuracy", {}).get("ce90_m") is None:
        raise OperatorError(
            f"smoke test: the detection was not geolocated: {body}",
            "check the new image's geo engine",
        )
    range_m = ground_distance_m(CAMERA_LAT, CAMERA_LON, location["lat"], location["lon"])
    if (
        abs(range_m - EXPECTED_RANGE_M) > RANGE_TOLERANCE_M
        or abs(location["hae"]) > RANGE_TOLERANCE_M
    ):
        raise OperatorError(
            f"smoke test: geolocated {range_m:.1f} m from the camera "
            f"at height {location['hae']:.1f} m; "
            f"expected {EXPECTED_RANGE_M:.0f} m at height 0",
            "the new image geolocates wrongly: do not switch to it",
        )
    return SmokeResult(body["detection_id"], location["lat"], location["lon"], range_m)


def smoke_test(client: httpx.Client, api_key: str) -> SmokeResult:
    """Run the smoke test against the Service `client` points at (its base_url)."""
    try:
        _expect(client.get("/readyz"), 200, "GET /readyz")
        headers = {"X-API-Key": api_key}
        created = _expect(
            client.post("/v1/detections", json=smoke_detection(), headers=headers),
            201,
            "POST /v1/detections",
        )
        result = check_location(created)
        read = _expect(
            client.get(f"/v1/detections/{result.detection_id}", headers=headers), 200, "GET"
        )
    except httpx.TransportError as error:
        raise OperatorError(
            f"smoke test: cannot reach the service: {error}", "check the preview Service"
        ) from error
    if (
        read.get("detection_id") != result.detection_id
        or read.get("location") != created["location"]
    ):
        raise OperatorError(
            "smoke test: the detection read back differs from the one created", "check the store"
        )
    return result
