"""Cursor-on-Target events for geolocated detections (pure: no I/O)."""

from detection_api.cot.classmap import CotTypeError, CotTypeMap
from detection_api.cot.control import (
    is_ping,
    is_pong,
    ping_event,
    pong_event,
)
from detection_api.cot.event import (
    MACHINE_COMPUTED_HOW,
    UNKNOWN_ERROR,
    CotEventError,
    DetectionEvent,
    Ellipse,
    Flag,
    restamp,
)
from detection_api.cot.wire import (
    CotMessage,
    CotStreamParser,
    CotWireError,
    parse_proto_message,
    parse_xml_message,
    to_takproto,
)
from detection_api.cot.xml import cot_time, render_xml

__all__ = [
    "MACHINE_COMPUTED_HOW",
    "UNKNOWN_ERROR",
    "CotEventError",
    "CotMessage",
    "CotStreamParser",
    "CotTypeError",
    "CotTypeMap",
    "CotWireError",
    "DetectionEvent",
    "Ellipse",
    "Flag",
    "cot_time",
    "is_ping",
    "is_pong",
    "parse_proto_message",
    "parse_xml_message",
    "ping_event",
    "pong_event",
    "render_xml",
    "restamp",
    "to_takproto",
]
