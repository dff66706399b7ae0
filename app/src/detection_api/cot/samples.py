"""A synthetic, valid detection event for demos, benchmarks and tests of the wire path."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from detection_api.cot.classmap import CotTypeMap
from detection_api.cot.event import MACHINE_COMPUTED_HOW, DetectionEvent, Ellipse

_TYPES = CotTypeMap()


def synthetic_event(uid: str, now: datetime, **overrides: Any) -> DetectionEvent:
    """A person seen by a drone camera near Munich, CE90 14.1 m, stale after five minutes."""
    event = DetectionEvent(
        uid=uid,
        cot_type=_TYPES.cot_type("person", "drone-1"),
        how=MACHINE_COMPUTED_HOW,
        time=now,
        start=now - timedelta(milliseconds=250),
        stale=now + timedelta(minutes=5),
        lat=48.137154,
        lon=11.576124,
        hae=563.2,
        ce_m=6.57,  # CE90 / 2.1460: the 1-sigma of a circular Gaussian
        le_m=4.0,
        ellipse=Ellipse(semi_major_m=8.2, semi_minor_m=4.9, orientation_deg=35.0),
        object_class="person",
        confidence=0.91,
        flag="GREEN",
        ce90_m=14.1,
        category="CAT2",
        source="drone-1",
        camera_uid="drone-1-cam0",
        callsign="person 91%",
    )
    return replace(event, **overrides) if overrides else event
