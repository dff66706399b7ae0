"""CoT on the wire: XML and TAK protocol v1 framing, and an incremental stream parser.

Pure: bytes in, messages out. The transport and the local TAK peer drive it with socket reads.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal

import takproto
from takproto.proto import TakMessage

from detection_api.cot.xml import cot_time

Wire = Literal["xml", "protobuf"]

PROTO_MAGIC: Final = 0xBF
EVENT_END: Final = b"</event>"
DEFAULT_MAX_MESSAGE_BYTES: Final = 1 << 20
_MAX_VARINT_BYTES: Final = 10


class CotWireError(ValueError):
    """The peer sent bytes that are not a CoT stream (bad frame, oversize message, bad XML)."""


@dataclass(frozen=True)
class CotMessage:
    """One received CoT event, reduced to what routing, confirmation and recording need."""

    uid: str
    type: str
    how: str
    time: str
    start: str
    stale: str
    raw: bytes
    wire: Wire
    tak_control: dict[str, str] = field(default_factory=dict)
    """For XML control events: TakControl child element -> its version/status attribute."""


def to_takproto(xml: bytes) -> bytes:
    """An XML CoT event as a TAK protocol v1 *stream* frame (0xbf, varint length, TakMessage)."""
    return bytes(takproto.xml2proto(xml, takproto.TAKProtoVer.STREAM))


def _tak_control(root: ET.Element) -> dict[str, str]:
    control = root.find("detail/TakControl")
    if control is None:
        return {}
    return {child.tag: child.get("version", child.get("status", "")) for child in control}


def parse_xml_message(raw: bytes) -> CotMessage:
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise CotWireError("XML CoT must not carry a DOCTYPE or entity declarations")
    try:
        # DTDs are refused above and expat (>= 2.4) caps entity amplification.
        root = ET.fromstring(raw)  # noqa: S314
    except ET.ParseError as exc:
        raise CotWireError(f"malformed XML CoT: {exc}") from exc
    if root.tag != "event":
        raise CotWireError(f"expected <event>, got <{root.tag}>")
    return CotMessage(
        uid=root.get("uid", ""),
        type=root.get("type", ""),
        how=root.get("how", ""),
        time=root.get("time", ""),
        start=root.get("start", ""),
        stale=root.get("stale", ""),
        raw=raw,
        wire="xml",
        tak_control=_tak_control(root),
    )


def _ms_time(milliseconds: int) -> str:
    return cot_time(datetime.fromtimestamp(milliseconds / 1000, UTC))


def parse_proto_message(raw: bytes) -> CotMessage:
    """Parse one complete stream frame (as returned by CotStreamParser in protobuf mode)."""
    _, offset = _decode_varint(raw, 1)
    message = TakMessage()
    try:
        message.ParseFromString(raw[offset:])
    except Exception as exc:  # protobuf raises its own DecodeError hierarchy
        raise CotWireError(f"malformed TAK protocol message: {exc}") from exc
    event = message.cotEvent
    return CotMessage(
        uid=event.uid,
        type=event.type,
        how=event.how,
        time=_ms_time(event.sendTime),
        start=_ms_time(event.startTime),
        stale=_ms_time(event.staleTime),
        raw=raw,
        wire="protobuf",
    )


def _decode_varint(buffer: bytes | bytearray, offset: int) -> tuple[int | None, int]:
    """(value, offset after it), or (None, offset) while the varint is still incomplete."""
    value = 0
    for index in range(_MAX_VARINT_BYTES):
        position = offset + index
        if position >= len(buffer):
            return None, offset
        byte = buffer[position]
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return value, position + 1
    raise CotWireError("TAK protocol length varint is longer than 10 bytes")


class CotStreamParser:
    """Splits a TCP byte stream into CoT messages; the wire format can switch between messages
    (TAK protocol negotiation switches right after the `t-x-takp-r` response)."""

    def __init__(
        self, wire: Wire = "xml", max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    ) -> None:
        self.wire: Wire = wire
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self._scanned = 0  # bytes already searched for </event>, so scanning stays linear

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def switch_to(self, wire: Wire) -> None:
        """Parse the bytes after the current message as `wire`."""
        self.wire = wire
        self._scanned = 0

    def next_message(self) -> CotMessage | None:
        """The next complete message, or None until more bytes arrive."""
        frame = self._next_xml_frame() if self.wire == "xml" else self._next_proto_frame()
        if frame is None:
            return None
        if self.wire == "xml":
            return parse_xml_message(frame)
        return parse_proto_message(frame)

    def _next_xml_frame(self) -> bytes | None:
        start = max(0, self._scanned - len(EVENT_END) + 1)
        end = self._buffer.find(EVENT_END, start)
        if end < 0:
            self._scanned = len(self._buffer)
            if len(self._buffer) > self.max_message_bytes:
                raise CotWireError(f"XML CoT message over {self.max_message_bytes} bytes")
            return None
        stop = end + len(EVENT_END)
        frame = bytes(self._buffer[:stop]).strip()
        del self._buffer[:stop]
        self._scanned = 0
        if len(frame) > self.max_message_bytes:
            raise CotWireError(f"XML CoT message over {self.max_message_bytes} bytes")
        return frame

    def _next_proto_frame(self) -> bytes | None:
        if not self._buffer:
            return None
        if self._buffer[0] != PROTO_MAGIC:
            raise CotWireError(f"TAK protocol frame must start with 0xbf, got {self._buffer[0]:#x}")
        length, offset = _decode_varint(self._buffer, 1)
        if length is None:
            return None
        if length > self.max_message_bytes:
            raise CotWireError(f"TAK protocol message over {self.max_message_bytes} bytes")
        if len(self._buffer) < offset + length:
            return None
        frame = bytes(self._buffer[: offset + length])
        del self._buffer[: offset + length]
        return frame
