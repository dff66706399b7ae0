"""Stream framing: XML split on </event>, TAK protocol v1 frames, control events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import takproto

from detection_api.cot import (
    CotStreamParser,
    CotWireError,
    is_ping,
    is_pong,
    ping_event,
    pong_event,
    render_xml,
    to_takproto,
)
from detection_api.cot.control import (
    accepts_protobuf,
    offers_protobuf,
    protocol_offer,
    protocol_request,
    protocol_response,
    requests_protobuf,
)
from detection_api.cot.samples import synthetic_event

NOW = datetime(2026, 12, 3, 17, 0, 0, 500000, tzinfo=UTC)


def drain(parser: CotStreamParser) -> list:
    messages = []
    while (message := parser.next_message()) is not None:
        messages.append(message)
    return messages


def test_protobuf_round_trip_keeps_identity_times_and_point() -> None:
    xml = render_xml(synthetic_event("det-9", NOW))
    frame = to_takproto(xml)
    assert frame[0] == 0xBF
    parsed = takproto.parse_proto(bytearray(frame))
    event = parsed.cotEvent
    assert event.uid == "det-9"
    assert event.type == "a-u-G-U-C-I"
    assert event.how == "m-f"
    assert event.lat == pytest.approx(48.137154)
    assert event.ce == pytest.approx(6.57)
    assert event.le == pytest.approx(4.0)
    assert parsed.cotEvent.detail.contact.callsign == "person 91%"
    assert parsed.cotEvent.detail.precisionLocation.geopointsrc == "CALC"
    assert "<remarks>" in event.detail.xmlDetail
    assert "<ellipse" in event.detail.xmlDetail
    parser = CotStreamParser("protobuf")
    parser.feed(frame)
    (message,) = drain(parser)
    assert (message.uid, message.wire) == ("det-9", "protobuf")
    assert message.time == "2026-12-03T17:00:00.500Z"
    assert message.stale == "2026-12-03T17:05:00.500Z"


def test_xml_stream_split_across_arbitrary_chunks() -> None:
    stream = b"".join(render_xml(synthetic_event(f"u{i}", NOW)) for i in range(5))
    parser = CotStreamParser()
    seen = []
    for offset in range(0, len(stream), 7):  # 7-byte reads cut tags and attributes apart
        parser.feed(stream[offset : offset + 7])
        seen += [message.uid for message in drain(parser)]
    assert seen == ["u0", "u1", "u2", "u3", "u4"]


def test_proto_stream_split_across_chunks_and_varint_boundaries() -> None:
    stream = b"".join(to_takproto(render_xml(synthetic_event(f"p{i}", NOW))) for i in range(4))
    parser = CotStreamParser("protobuf")
    seen = []
    for byte in stream:
        parser.feed(bytes([byte]))
        seen += [message.uid for message in drain(parser)]
    assert seen == ["p0", "p1", "p2", "p3"]


def test_switching_wire_mid_buffer_after_negotiation() -> None:
    response = protocol_response("srv", NOW, accepted=True)
    proto = to_takproto(render_xml(synthetic_event("after", NOW)))
    parser = CotStreamParser()
    parser.feed(response + proto)
    first = parser.next_message()
    assert first is not None
    assert accepts_protobuf(first)
    parser.switch_to("protobuf")
    second = parser.next_message()
    assert second is not None
    assert (second.uid, second.wire) == ("after", "protobuf")


def test_oversize_and_garbage_are_refused() -> None:
    parser = CotStreamParser(max_message_bytes=64)
    parser.feed(b"<event " + b"x" * 100)
    with pytest.raises(CotWireError, match="over 64 bytes"):
        parser.next_message()
    proto = CotStreamParser("protobuf")
    proto.feed(b"<event/>")
    with pytest.raises(CotWireError, match="0xbf"):
        proto.next_message()
    bad_xml = CotStreamParser()
    bad_xml.feed(b"<event uid='a'><point></event>")
    with pytest.raises(CotWireError, match="malformed XML"):
        bad_xml.next_message()
    dtd = CotStreamParser()
    dtd.feed(b'<!DOCTYPE e [<!ENTITY a "aaaa">]><event uid="&a;"></event>')
    with pytest.raises(CotWireError, match="DOCTYPE"):
        dtd.next_message()


def test_ping_pong_and_negotiation_events_are_recognised() -> None:
    parser = CotStreamParser()
    parser.feed(
        ping_event("api-ping", NOW)
        + pong_event(NOW)
        + protocol_offer("srv", NOW)
        + protocol_request("api", NOW)
        + protocol_response("srv", NOW, accepted=False)
    )
    ping, pong, offer, request, refusal = drain(parser)
    assert is_ping(ping)
    assert not is_pong(ping)
    assert ping.type == "t-x-c-t"
    assert ping.uid == "api-ping"
    assert is_pong(pong)
    assert pong.type == "t-x-c-t-r"
    assert pong.uid == "takPong"
    assert offers_protobuf(offer)
    assert offer.tak_control == {"TakProtocolSupport": "1"}
    assert requests_protobuf(request)
    assert not accepts_protobuf(refusal)


def test_control_events_carry_a_point_because_tak_server_drops_pointless_ones() -> None:
    assert b"<point " in ping_event("a", NOW)
    pong = takproto.parse_proto(bytearray(to_takproto(pong_event(NOW))))
    assert pong.cotEvent.type == "t-x-c-t-r"
