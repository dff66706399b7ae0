"""Render a DetectionEvent as CoT 2.0 XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Final

from detection_api.cot.event import UNKNOWN_ERROR, DetectionEvent, Ellipse, Flag

XML_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'
"""Each streamed event starts with a declaration and ends at `</event>` with no newline after it,
as the ATAK/TAK streaming protocol describes (see ADR 0004)."""

# Android colour ints (signed 32-bit ARGB), as ATAK writes them in `<color argb=...>`.
FLAG_ARGB: Final[dict[Flag, int]] = {
    "GREEN": 0xFF00FF00,
    "YELLOW": 0xFFFFFF00,
    "RED": 0xFFFF0000,
}
ELLIPSE_FILL_ALPHA: Final = 0x40


def cot_time(moment: datetime) -> str:
    """RFC 3339 UTC with millisecond precision and a `Z`, e.g. 2026-01-02T03:04:05.678Z."""
    if moment.tzinfo is None:
        raise ValueError("cot_time: datetime must be timezone-aware")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def signed_argb(argb: int) -> int:
    """0xAARRGGBB as Android's signed 32-bit int."""
    return argb - (1 << 32) if argb & 0x80000000 else argb


def hex_argb(argb: int) -> str:
    return f"#{argb & 0xFFFFFFFF:08X}"


def _error_text(value: float | None) -> str:
    return f"{UNKNOWN_ERROR:.0f}" if value is None else f"{value:.2f}"


def remarks_text(event: DetectionEvent) -> str:
    parts = [
        f"{event.object_class} {event.confidence:.0%}",
        f"flag {event.flag}",
        "CE90 unknown" if event.ce90_m is None else f"CE90 {event.ce90_m:.1f} m",
    ]
    if event.category:
        parts.append(event.category)
    parts.append(f"source {event.source}")
    text = " | ".join(parts)
    if event.late:
        text = f"LATE: sent after its original stale time; captured {cot_time(event.start)}. {text}"
    return text


def _ellipse_element(ellipse: Ellipse, argb: int) -> ET.Element:
    # ATAK's ShapeDetailHandler reads full axis lengths (it halves them) and the angle in degrees.
    shape = ET.Element("shape")
    ET.SubElement(
        shape,
        "ellipse",
        major=f"{2 * ellipse.semi_major_m:.2f}",
        minor=f"{2 * ellipse.semi_minor_m:.2f}",
        angle=f"{ellipse.orientation_deg % 360:.1f}",
        color=hex_argb(argb),
        fillColor=hex_argb((argb & 0x00FFFFFF) | (ELLIPSE_FILL_ALPHA << 24)),
        lineWidth="2",
    )
    return shape


def _detail(event: DetectionEvent) -> ET.Element:
    argb = FLAG_ARGB[event.flag]
    detail = ET.Element("detail")
    ET.SubElement(detail, "contact", callsign=event.callsign)
    ET.SubElement(detail, "precisionlocation", geopointsrc=event.geopointsrc, altsrc=event.altsrc)
    ET.SubElement(
        detail,
        "link",
        uid=event.camera_uid,
        type=event.camera_cot_type,
        relation="p-p",
        parent_callsign=event.source,
    )
    ET.SubElement(detail, "color", argb=str(signed_argb(argb)))
    if event.ellipse is not None:
        detail.append(_ellipse_element(event.ellipse, argb))
    ET.SubElement(detail, "remarks").text = remarks_text(event)
    return detail


def render_xml(event: DetectionEvent) -> bytes:
    """The event as one streamable CoT 2.0 message (declaration + `<event>...</event>`)."""
    root = ET.Element(
        "event",
        version="2.0",
        uid=event.uid,
        type=event.cot_type,
        how=event.how,
        time=cot_time(event.time),
        start=cot_time(event.start),
        stale=cot_time(event.stale),
    )
    ET.SubElement(
        root,
        "point",
        lat=f"{event.lat:.7f}",
        lon=f"{event.lon:.7f}",
        hae=f"{event.hae:.2f}",
        ce=_error_text(event.ce_m),
        le=_error_text(event.le_m),
    )
    root.append(_detail(event))
    return XML_DECLARATION + bytes(ET.tostring(root, encoding="utf-8", xml_declaration=False))
