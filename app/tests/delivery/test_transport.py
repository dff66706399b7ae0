"""TakLink against the local TAK peer over real TCP sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from detection_api.cot import render_xml
from detection_api.cot.control import protocol_offer
from detection_api.cot.samples import synthetic_event
from detection_api.delivery.transport import Destination, TakError, TakLink, TakTimeoutError
from detection_api.taksink import TakSink


def batch(prefix: str, count: int) -> list[bytes]:
    now = datetime.now(UTC)
    return [render_xml(synthetic_event(f"{prefix}-{i}", now)) for i in range(count)]


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), timeout=30))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_batch_is_confirmed_by_pong_and_arrives_in_order() -> None:
    async def scenario() -> None:
        async with TakSink() as sink:
            link = TakLink(Destination.from_url(sink.url))
            await link.connect()
            assert link.ack_mode == "ping"
            await link.send_confirmed(batch("a", 100), timeout=5)
            # Confirmed means read: the sink has every event before we return.
            assert sink.uids == [f"a-{i}" for i in range(100)]
            assert sink.pings_answered == 1
            await link.send_confirmed(batch("b", 3), timeout=5)
            assert sink.uids[-3:] == ["b-0", "b-1", "b-2"]
            assert {event.wire for event in sink.events} == {"xml"}
            await link.close()

    run(scenario)


def test_pongless_peer_times_out_and_nothing_is_confirmed() -> None:
    async def scenario() -> None:
        async with TakSink(answer_pings=False) as sink:
            link = TakLink(Destination.from_url(sink.url))
            await link.connect()
            with pytest.raises(TakTimeoutError) as caught:
                await link.send_confirmed(batch("a", 10), timeout=0.5)
            assert caught.value.reason == "timeout"
            assert not link.connected  # a timed-out link is dropped; the caller reconnects
            with pytest.raises(TakError):
                await link.send_confirmed(batch("b", 1), timeout=0.5)
            await link.close()

    run(scenario)


def test_pongless_peer_with_ack_none_uses_the_weaker_rule() -> None:
    async def scenario() -> None:
        async with TakSink(answer_pings=False) as sink:
            destination = Destination.from_url(f"{sink.url}?ack=none&settle_s=0.05")
            link = TakLink(destination)
            await link.connect()
            assert link.ack_mode == "none"
            await link.send_confirmed(batch("a", 20), timeout=2)
            await sink.wait_for_events(20, timeout=2)
            assert sink.pings_answered == 0
            await link.close()

    run(scenario)


def test_ack_none_still_fails_when_the_peer_drops_the_connection() -> None:
    async def scenario() -> None:
        async with TakSink(drop_after_events=5) as sink:
            link = TakLink(Destination.from_url(f"{sink.url}?ack=none&settle_s=0.3"))
            await link.connect()
            with pytest.raises(TakError) as caught:
                await link.send_confirmed(batch("a", 50), timeout=2)
            assert caught.value.reason == "closed"

    run(scenario)


def test_peer_killed_mid_batch_raises_and_nothing_is_falsely_confirmed() -> None:
    async def scenario() -> None:
        async with TakSink(drop_after_events=20) as sink:
            link = TakLink(Destination.from_url(sink.url))
            await link.connect()
            with pytest.raises(TakError) as caught:
                await link.send_confirmed(batch("a", 500), timeout=5)
            assert caught.value.reason == "closed"
            assert len(sink.events) == 20
            assert sink.pings_answered == 0

    run(scenario)


def test_sink_stopped_between_batches_then_restarted_on_the_same_port() -> None:
    async def scenario() -> None:
        sink = TakSink()
        await sink.start()
        port = sink.port
        link = TakLink(Destination.from_url(sink.url))
        await link.connect()
        await link.send_confirmed(batch("a", 10), timeout=5)
        await sink.stop()
        with pytest.raises(TakError) as caught:
            await link.send_confirmed(batch("b", 10), timeout=2)
        assert caught.value.reason in {"closed", "timeout"}
        with pytest.raises(TakError) as refused:
            await TakLink(Destination.from_url(sink.url)).connect()
        assert refused.value.reason == "refused"
        await sink.start()
        assert sink.port == port
        again = TakLink(Destination.from_url(sink.url))
        await again.connect()
        await again.send_confirmed(batch("b", 10), timeout=5)
        assert sink.uids == [f"a-{i}" for i in range(10)] + [f"b-{i}" for i in range(10)]
        await again.close()
        await sink.stop()

    run(scenario)


def test_connection_refused_has_a_reason() -> None:
    async def scenario() -> None:
        link = TakLink(Destination.from_url(f"tcp://127.0.0.1:{free_port()}"))
        with pytest.raises(TakError) as caught:
            await link.connect()
        assert caught.value.reason == "refused"
        assert "connection refused" in str(caught.value)

    run(scenario)


def test_negotiates_protobuf_when_asked() -> None:
    async def scenario() -> None:
        async with TakSink() as sink:
            link = TakLink(Destination.from_url(f"{sink.url}?protocol=protobuf"))
            await link.connect()
            assert link.wire == "protobuf"
            await link.send_confirmed(batch("p", 50), timeout=5)
            assert sink.uids == [f"p-{i}" for i in range(50)]
            assert {event.wire for event in sink.events} == {"protobuf"}
            assert sink.protobuf_connections == 1
            assert sink.pings_answered == 1  # ping and pong travelled as protobuf
            await link.close()

    run(scenario)


def test_xml_destination_ignores_the_protobuf_offer() -> None:
    async def scenario() -> None:
        async with TakSink() as sink:
            link = TakLink(Destination.from_url(sink.url))
            await link.connect()
            await link.send_confirmed(batch("x", 5), timeout=5)
            assert link.wire == "xml"
            assert sink.protobuf_connections == 0
            await link.close()

    run(scenario)


def test_protobuf_wanted_but_not_offered_stays_on_xml() -> None:
    async def scenario() -> None:
        async with TakSink(offer_protobuf=False) as sink:
            url = f"{sink.url}?protocol=protobuf&negotiation_timeout_s=0.2"
            link = TakLink(Destination.from_url(url))
            await link.connect()
            assert link.wire == "xml"
            await link.send_confirmed(batch("x", 5), timeout=5)
            assert {event.wire for event in sink.events} == {"xml"}
            await link.close()

    run(scenario)


def test_garbage_from_the_peer_is_a_protocol_error() -> None:
    async def scenario() -> None:
        async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n" + b"x" * 2_000_000)
            await writer.drain()
            await reader.read()

        server = await asyncio.start_server(garbage, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        link = TakLink(Destination.from_url(f"tcp://127.0.0.1:{port}"))
        await link.connect()
        with pytest.raises(TakError) as caught:
            await link.send_confirmed(batch("g", 1), timeout=5)
        assert caught.value.reason == "protocol"
        server.close()

    run(scenario)


def test_udp_datagrams_reach_a_listener() -> None:
    async def scenario() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
            listener.bind(("127.0.0.1", 0))
            listener.settimeout(2)
            port = listener.getsockname()[1]
            link = TakLink(Destination.from_url(f"udp://127.0.0.1:{port}"))
            assert link.ack_mode == "none"
            await link.connect()
            events = batch("u", 3)
            await link.send_confirmed(events, timeout=1)
            received = [listener.recv(65536) for _ in range(3)]
            assert received == events
            await link.close()

    run(scenario)


def test_the_same_link_reconnects_after_a_failure() -> None:
    async def scenario() -> None:
        sink = TakSink()
        await sink.start()
        link = TakLink(Destination.from_url(sink.url))
        await link.connect()
        await sink.stop()
        with pytest.raises(TakError):
            await link.send_confirmed(batch("a", 5), timeout=2)
        assert not link.connected
        await sink.start()
        await link.connect()
        assert link.connected
        await link.send_confirmed(batch("b", 5), timeout=5)
        assert sink.uids == [f"b-{i}" for i in range(5)]
        await link.close()
        await sink.stop()

    run(scenario)


def test_unanswered_protobuf_request_is_a_protocol_error() -> None:
    async def scenario() -> None:
        async def offers_then_mute(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            writer.write(protocol_offer("mute", datetime.now(UTC)))
            await reader.read()

        server = await asyncio.start_server(offers_then_mute, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        url = f"tcp://127.0.0.1:{port}?protocol=protobuf&negotiation_timeout_s=0.3"
        link = TakLink(Destination.from_url(url))
        with pytest.raises(TakError) as caught:
            await link.connect()
        assert caught.value.reason == "protocol"
        assert "not answered" in str(caught.value)
        assert not link.connected
        server.close()

    run(scenario)


def test_a_cancelled_send_drops_the_link_so_a_late_pong_confirms_nothing() -> None:
    async def scenario() -> None:
        async with TakSink(answer_pings=False) as sink:
            link = TakLink(Destination.from_url(sink.url))
            await link.connect()
            sending = asyncio.create_task(link.send_confirmed(batch("a", 5), timeout=10))
            await sink.wait_for_events(5, timeout=5)
            sending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await sending
            assert not link.connected
            sink.answer_pings = True
            with pytest.raises(TakError):
                await link.send_confirmed(batch("b", 1), timeout=2)
            await link.close()

    run(scenario)
