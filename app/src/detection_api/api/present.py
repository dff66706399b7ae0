"""Stored rows as API answers. Built as plain dicts (the response schemas document them, and the
contract tests check every answer against those schemas)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from detection_api.geo import Refusal


def detection_body(row: dict[str, Any]) -> dict[str, Any]:
    located = row["lat"] is not None
    request = row["request"]
    refusal = Refusal(row["refusal"]) if row["refusal"] else None
    return {
        "detection_id": row["id"],
        "received_at": row["received_at"],
        "captured_at": row["captured_at"],
        "source": row["source"],
        "camera_id": row["camera_id"],
        "object": request["object"],
        "location": {"lat": row["lat"], "lon": row["lon"], "hae": row["hae"]} if located else None,
        "accuracy": {
            "ce90_m": row["ce90_m"],
            "le90_m": row["le90_m"],
            "ellipse": _ellipse(row),
            "category": row["category"],
            "flag": row["flag"],
            "refusal": refusal.value if refusal else None,
            "reason": refusal.reason if refusal else None,
        },
        "cot_uid": row["cot_uid"],
        "delivery": {"state": delivery_state(located, row["delivery_states"])},
    }


def delivery_state(located: bool, states: Sequence[str]) -> str:
    """One word for the detection's delivery over all its destinations."""
    if not located:
        return "not_queued"
    if not states:
        return "no_destinations"
    if any(state in {"pending", "leased"} for state in states):
        return "queued"
    if any(state == "failed" for state in states):
        return "failed"
    if any(state == "expired" for state in states):
        return "expired"
    return "delivered"


def _ellipse(row: dict[str, Any]) -> dict[str, float] | None:
    if row["ellipse_semi_major_m"] is None:
        return None
    return {
        "semi_major_m": row["ellipse_semi_major_m"],
        "semi_minor_m": row["ellipse_semi_minor_m"],
        "orientation_deg": row["ellipse_orientation_deg"],
    }
