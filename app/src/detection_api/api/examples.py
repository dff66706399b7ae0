"""A valid detection, as the OpenAPI example and for smoke tests, demos and benchmarks.

A camera 120 m above flat ground (0 m HAE) looks 45 degrees down on a heading of 30 degrees; the
target at the image centre is about 120 m ahead. The answer is GREEN, CAT2, CE90 about 15 m.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def example_detection(captured_at: datetime | None = None, **overrides: Any) -> dict[str, Any]:
    """The JSON body of one detection; `captured_at` defaults to now (it must be fresh for TAK)."""
    when = (captured_at or datetime.now(UTC)).astimezone(UTC)
    body: dict[str, Any] = {
        "captured_at": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "source": "drone-1",
        "camera_id": "cam-1",
        "object": {"class": "car", "confidence": 0.9},
        "pixel": {"x": 960, "y": 540},
        "camera": {
            "image_width": 1920,
            "image_height": 1080,
            "fx": 1400,
            "fy": 1400,
            "cx": 960,
            "cy": 540,
        },
        "pose": {
            "lat": 48.1,
            "lon": 11.5,
            "alt": 120,
            "alt_datum": "hae",
            "yaw": 30,
            "pitch": -45,
            "roll": 0,
        },
        "terrain": {"height_m": 0, "datum": "hae"},
    }
    body.update(overrides)
    return body
