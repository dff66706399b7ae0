"""Produced CoT XML parses back with every required attribute in the required format."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from detection_api.cot import (
    CotEventError,
    Ellipse,
    render_xml,
    restamp,
)
from detection_api.cot.samples import synthetic_event
from detection_api.cot.xml import FLAG_ARGB, XML_DECLARATION, cot_time, signed_argb

NOW = datetime(2026, 12, 3, 17, 0, 0, 123456, tzinfo=UTC)
RFC3339_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
FLOAT = re.compile(r"^-?\d+(\.\d+)?$")


def parse(xml: bytes) -> ET.Element:
    assert xml.startswith(XML_DECLARATION)
    assert xml.endswith(b"</event>")  # nothing after </event> on a stream
    return ET.fromstring(xml)  # noqa: S314 - our own output


def test_event_has_every_required_attribute_in_format() -> None:
    event = synthetic_event("det-42", NOW)
    root = parse(render_xml(event))
    assert root.tag == "event"
    assert root.get("version") == "2.0"
    assert root.get("uid") == "det-42"
    assert root.get("type") == "a-u-G-U-C-I"
    assert root.get("how") == "m-f"
    for name in ("time", "start", "stale"):
        assert RFC3339_MS_Z.match(root.get(name, "")), name
    assert root.get("time") == "2026-12-03T17:00:00.123Z"
    assert root.get("start") == "2026-12-03T16:59:59.873Z"
    assert root.get("stale") == "2026-12-03T17:05:00.123Z"
    point = root.find("point")
    assert point is not None
    for name in ("lat", "lon", "hae", "ce", "le"):
        assert FLOAT.match(point.get(name, "")), name
    assert float(point.get("lat", "")) == pytest.approx(48.137154, abs=1e-7)
    assert float(point.get("lon", "")) == pytest.approx(11.576124, abs=1e-7)
    assert float(point.get("hae", "")) == pytest.approx(563.2)


def test_ce_le_are_the_one_sigma_values_and_9999999_only_when_unknown() -> None:
    known = parse(render_xml(synthetic_event("a", NOW, ce_m=6.57, le_m=4.0))).find("point")
    assert known is not None
    assert float(known.get("ce", "")) == pytest.approx(6.57)
    assert float(known.get("le", "")) == pytest.approx(4.0)
    unknown_le = parse(render_xml(synthetic_event("b", NOW, le_m=None))).find("point")
    assert unknown_le is not None
    assert unknown_le.get("le") == "9999999"
    assert float(unknown_le.get("ce", "")) == pytest.approx(6.57)
    zero = parse(render_xml(synthetic_event("c", NOW, ce_m=0.0))).find("point")
    assert zero is not None
    assert zero.get("ce") == "0.00"


@pytest.mark.parametrize("bad", [9999999.0, 1e12, -1.0, float("nan"), float("inf")])
def test_measured_error_cannot_collide_with_unknown_marker(bad: float) -> None:
    with pytest.raises(CotEventError, match="ce_m"):
        synthetic_event("a", NOW, ce_m=bad)


def test_detail_carries_remarks_precision_link_contact_and_ellipse() -> None:
    root = parse(render_xml(synthetic_event("det-1", NOW)))
    detail = root.find("detail")
    assert detail is not None
    contact = detail.find("contact")
    assert contact is not None
    assert contact.get("callsign") == "person 91%"
    precision = detail.find("precisionlocation")
    assert precision is not None
    assert precision.attrib == {"geopointsrc": "CALC", "altsrc": "CALC"}
    link = detail.find("link")
    assert link is not None
    assert link.attrib == {
        "uid": "drone-1-cam0",
        "type": "a-f-G-E-S",
        "relation": "p-p",
        "parent_callsign": "drone-1",
    }
    ellipse = detail.find("shape/ellipse")
    assert ellipse is not None
    # ATAK reads full axis lengths (2 x the 1-sigma semi-axes) and an angle in degrees.
    assert float(ellipse.get("major", "")) == pytest.approx(16.4)
    assert float(ellipse.get("minor", "")) == pytest.approx(9.8)
    assert float(ellipse.get("angle", "")) == pytest.approx(35.0)
    remarks = detail.findtext("remarks")
    assert remarks == "person 91% | flag GREEN | CE90 14.1 m | CAT2 | source drone-1"


def test_no_ellipse_element_without_an_ellipse() -> None:
    root = parse(render_xml(synthetic_event("det-1", NOW, ellipse=None)))
    assert root.find("detail/shape") is None


@pytest.mark.parametrize(
    ("flag", "argb"),
    [("GREEN", 0xFF00FF00), ("YELLOW", 0xFFFFFF00), ("RED", 0xFFFF0000)],
)
def test_colour_follows_the_flag(flag: str, argb: int) -> None:
    root = parse(render_xml(synthetic_event("det-1", NOW, flag=flag)))
    color = root.find("detail/color")
    assert color is not None
    assert int(color.get("argb", "")) == signed_argb(argb)
    assert int(color.get("argb", "")) & 0xFFFFFFFF == argb
    ellipse = root.find("detail/shape/ellipse")
    assert ellipse is not None
    assert ellipse.get("color") == f"#{argb:08X}"
    assert ellipse.get("fillColor", "")[3:] == f"{argb:08X}"[2:]  # same RGB, translucent
    assert "flag " + flag in (root.findtext("detail/remarks") or "")


def test_flag_colours_are_distinct_and_green_is_green() -> None:
    assert len(set(FLAG_ARGB.values())) == 3
    assert signed_argb(FLAG_ARGB["GREEN"]) == -16711936  # Android Color.GREEN
    assert signed_argb(FLAG_ARGB["RED"]) == -65536  # Android Color.RED


def test_times_are_converted_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert cot_time(datetime(2026, 1, 1, 2, 0, 0, 999999, tzinfo=plus_two)) == (
        "2026-01-01T00:00:00.999Z"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        cot_time(datetime(2026, 1, 1))


def test_naive_or_inverted_times_are_rejected() -> None:
    with pytest.raises(CotEventError, match="time: must be timezone-aware"):
        synthetic_event("a", NOW, time=NOW.replace(tzinfo=None))
    with pytest.raises(CotEventError, match="stale: must be after start"):
        synthetic_event("a", NOW, stale=NOW - timedelta(minutes=1))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lat", 91.0, "lat"),
        ("lon", -180.5, "lon"),
        ("flag", "BLUE", "flag"),
        ("confidence", 1.5, "confidence"),
        ("camera_uid", "has space", "camera_uid"),
        ("how", "gps", "how"),
        ("cot_type", "a-u-G ", "cot_type"),
        ("callsign", " ", "callsign"),
    ],
)
def test_invalid_fields_are_named(field: str, value: object, message: str) -> None:
    with pytest.raises(CotEventError, match=message):
        synthetic_event("a", NOW, **{field: value})


def test_invalid_ellipse_is_rejected() -> None:
    with pytest.raises(CotEventError, match="semi_minor_m <= semi_major_m"):
        Ellipse(semi_major_m=2.0, semi_minor_m=3.0, orientation_deg=0.0)


def test_restamp_marks_late_keeps_capture_time_and_is_never_fresh_looking() -> None:
    event = synthetic_event("det-7", NOW)
    later = NOW + timedelta(hours=2)
    late = restamp(event, later, timedelta(minutes=5))
    assert late.late
    assert late.time == later
    assert late.stale == later + timedelta(minutes=5)
    assert late.start == event.start
    assert late.uid == event.uid
    root = parse(render_xml(late))
    remarks = root.findtext("detail/remarks") or ""
    assert remarks.startswith("LATE: sent after its original stale time; captured ")
    assert "2026-12-03T16:59:59.873Z" in remarks
    assert not event.late
    assert "LATE" not in (parse(render_xml(event)).findtext("detail/remarks") or "")
    with pytest.raises(CotEventError, match="stale_after"):
        restamp(event, later, timedelta(0))


def test_text_is_escaped() -> None:
    event = replace(synthetic_event("x", NOW), callsign='<"&>', category="a&b")
    root = parse(render_xml(event))
    assert root.find("detail/contact") is not None
    assert root.find("detail/contact").get("callsign") == '<"&>'  # type: ignore[union-attr]
    assert "a&b" in (root.findtext("detail/remarks") or "")
