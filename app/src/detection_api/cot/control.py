"""TAK control events: ping/pong (delivery confirmation) and TAK protocol negotiation.

TAK Server answers a client's `t-x-c-t` ping with a `t-x-c-t-r` pong (uid `takPong`) on the same
stream. Because a TCP stream is read in order, a pong proves the server read every byte sent
before the ping. Negotiation: the server offers `t-x-takp-v` (TakProtocolSupport version="1"),
the client asks `t-x-takp-q` (TakRequest version="1"), the server answers `t-x-takp-r`
(TakResponse status="true"); after that response both directions speak TAK protocol v1.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Final

from detection_api.cot.wire import CotMessage
from detection_api.cot.xml import XML_DECLARATION, cot_time

PING: Final = "t-x-c-t"
PONG: Final = "t-x-c-t-r"
PROTOCOL_OFFER: Final = "t-x-takp-v"
PROTOCOL_REQUEST: Final = "t-x-takp-q"
PROTOCOL_RESPONSE: Final = "t-x-takp-r"
TAK_PROTOCOL_VERSION: Final = "1"
CONTROL_TYPES: Final = frozenset({PING, PONG, PROTOCOL_OFFER, PROTOCOL_REQUEST, PROTOCOL_RESPONSE})

_CONTROL_STALE: Final = timedelta(seconds=20)


def _control_event(
    uid: str, cot_type: str, now: datetime, control: tuple[str, str, str] | None = None
) -> bytes:
    stamp = cot_time(now)
    root = ET.Element(
        "event",
        version="2.0",
        uid=uid,
        type=cot_type,
        how="m-g",
        time=stamp,
        start=stamp,
        stale=cot_time(now + _CONTROL_STALE),
    )
    # TAK Server drops messages without a point, even control messages.
    ET.SubElement(root, "point", lat="0.0", lon="0.0", hae="0.0", ce="9999999", le="9999999")
    if control is not None:
        element, attribute, value = control
        tak_control = ET.SubElement(ET.SubElement(root, "detail"), "TakControl")
        ET.SubElement(tak_control, element, {attribute: value})
    return XML_DECLARATION + bytes(ET.tostring(root, encoding="utf-8", xml_declaration=False))


def ping_event(uid: str, now: datetime) -> bytes:
    """A TAK ping from `uid` (ATAK uses `<device uid>-ping`)."""
    return _control_event(uid, PING, now)


def pong_event(now: datetime) -> bytes:
    return _control_event("takPong", PONG, now)


def is_ping(message: CotMessage) -> bool:
    return message.type == PING


def is_pong(message: CotMessage) -> bool:
    return message.type == PONG


def protocol_offer(uid: str, now: datetime) -> bytes:
    return _control_event(
        uid, PROTOCOL_OFFER, now, ("TakProtocolSupport", "version", TAK_PROTOCOL_VERSION)
    )


def protocol_request(uid: str, now: datetime) -> bytes:
    return _control_event(
        uid, PROTOCOL_REQUEST, now, ("TakRequest", "version", TAK_PROTOCOL_VERSION)
    )


def protocol_response(uid: str, now: datetime, *, accepted: bool) -> bytes:
    status = "true" if accepted else "false"
    return _control_event(uid, PROTOCOL_RESPONSE, now, ("TakResponse", "status", status))


def offers_protobuf(message: CotMessage) -> bool:
    return (
        message.type == PROTOCOL_OFFER
        and message.tak_control.get("TakProtocolSupport") == TAK_PROTOCOL_VERSION
    )


def requests_protobuf(message: CotMessage) -> bool:
    return (
        message.type == PROTOCOL_REQUEST
        and message.tak_control.get("TakRequest") == TAK_PROTOCOL_VERSION
    )


def accepts_protobuf(message: CotMessage) -> bool:
    return message.type == PROTOCOL_RESPONSE and message.tak_control.get("TakResponse") == "true"
