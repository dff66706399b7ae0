"""Outbox payloads (written at ingest) as CoT events (rendered when sent)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from detection_api.cot import MACHINE_COMPUTED_HOW, CotTypeMap, DetectionEvent, Ellipse

_UID_UNSAFE = re.compile(r"[^A-Za-z0-9._:@-]")


def detection_event(
    payload: dict[str, Any], stale_at: datetime, now: datetime, type_map: CotTypeMap
) -> DetectionEvent:
    """The event as it is sent now: generated `now`, started at capture, stale as queued."""
    ellipse = payload["ellipse_sigma"]
    return DetectionEvent(
        uid=payload["uid"],
        cot_type=type_map.cot_type(payload["object_class"], payload["source"]),
        how=MACHINE_COMPUTED_HOW,
        time=now,
        start=datetime.fromisoformat(payload["captured_at"]),
        stale=stale_at,
        lat=payload["lat"],
        lon=payload["lon"],
        hae=payload["hae"],
        ce_m=payload["ce_sigma_m"],
        le_m=payload["le_sigma_m"],
        ellipse=Ellipse(**ellipse) if ellipse else None,
        object_class=payload["object_class"],
        confidence=payload["confidence"],
        flag=payload["flag"],
        ce90_m=payload["ce90_m"],
        category=payload["category"],
        source=payload["source"],
        camera_uid=camera_uid(payload["source"], payload["camera_id"]),
        callsign=f"{payload['object_class']} {payload['confidence']:.0%}",
    )


def camera_uid(source: str, camera_id: str) -> str:
    return _UID_UNSAFE.sub("_", f"{source}.{camera_id}")[:200]
