"""The wire half of delivery: one connection to one TAK destination, with proof of reading.

`TakLink.send_confirmed` writes a batch, then a TAK ping, and returns only when the pong comes
back on the same stream. TCP delivers bytes in order and a TAK server reads its stream in order,
so the pong proves the server read every event before it. Anything else (timeout, reset, EOF,
TLS alert, garbage) raises a TakError and the whole batch counts as NOT delivered; the link is
then closed and the caller reconnects. No queue lives here: the durable outbox is the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from detection_api.cot import CotMessage, CotStreamParser, ping_event, to_takproto
from detection_api.cot.control import (
    PROTOCOL_RESPONSE,
    accepts_protobuf,
    is_pong,
    offers_protobuf,
    protocol_request,
)
from detection_api.cot.wire import Wire
from detection_api.delivery.destinations import AckMode, Destination
from detection_api.delivery.errors import (
    REASONS,
    TakConnectionError,
    TakError,
    TakProtocolError,
    TakTimeoutError,
    TakTlsError,
    classify,
)
from detection_api.delivery.tls import client_context

__all__ = [
    "REASONS",
    "Destination",
    "TakConnectionError",
    "TakError",
    "TakLink",
    "TakProtocolError",
    "TakTimeoutError",
    "TakTlsError",
]

READ_CHUNK: Final = 1 << 16
_CLOSE_TIMEOUT_S: Final = 2.0


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.error: Exception | None = None

    def error_received(self, exc: Exception) -> None:
        self.error = exc


class TakLink:
    """One connection to a destination. Not safe for concurrent `send_confirmed` calls."""

    def __init__(self, destination: Destination, *, uid: str | None = None) -> None:
        self.destination = destination
        self.uid = uid or f"detection-api-{uuid.uuid4().hex[:12]}"
        self._writer: asyncio.StreamWriter | None = None
        self._datagrams: tuple[asyncio.DatagramTransport, _Datagrams] | None = None
        self._read_task: asyncio.Task[None] | None = None
        self._reset_connection_state()

    def _reset_connection_state(self) -> None:
        """Everything that belongs to one connection; a reconnect starts from scratch."""
        self._wire: Wire = "xml"
        self._parser = CotStreamParser()
        self._failure: TakError | None = None
        self._pong: asyncio.Future[None] | None = None
        self._negotiated = asyncio.Event()
        self._negotiation_requested = False
        self.messages_received = 0

    @property
    def ack_mode(self) -> AckMode:
        return self.destination.ack

    @property
    def wire(self) -> Wire:
        """The wire format in use: `xml`, or `protobuf` once negotiated."""
        return self._wire

    @property
    def connected(self) -> bool:
        if self._datagrams is not None:
            return not self._datagrams[0].is_closing()
        return self._writer is not None and self._failure is None

    async def connect(self) -> None:
        """Open the connection (and negotiate protobuf when asked); raise TakError on failure.

        Calling it again after a failure drops the old connection and starts a fresh one.
        """
        await self.close()
        self._reset_connection_state()
        if self.destination.scheme == "udp":
            await self._open_udp()
            return
        context = client_context(self.destination) if self.destination.scheme == "tls" else None
        try:
            async with asyncio.timeout(self.destination.connect_timeout_s):
                reader, self._writer = await asyncio.open_connection(
                    self.destination.host,
                    self.destination.port,
                    ssl=context,
                    server_hostname=self._server_hostname(context),
                    limit=READ_CHUNK,
                )
        except Exception as exc:
            raise classify(exc, where=self._where("connect")) from exc
        self._read_task = asyncio.create_task(
            self._read_loop(reader, self._writer), name=f"tak-read-{self.uid}"
        )
        if self.destination.protocol == "protobuf":
            try:
                await self._negotiate()
            except TakError as error:
                await self._abort(error)
                raise

    def _server_hostname(self, context: ssl.SSLContext | None) -> str | None:
        if context is None:
            return None
        return self.destination.server_hostname or self.destination.host

    async def _open_udp(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, protocol = await loop.create_datagram_endpoint(
                _Datagrams, remote_addr=(self.destination.host, self.destination.port)
            )
        except OSError as exc:
            raise classify(exc, where=self._where("connect")) from exc
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, self.destination.multicast_ttl)
        self._datagrams = (transport, protocol)

    async def _negotiate(self) -> None:
        """Wait for the server's offer; switch to protobuf when it accepts our request.

        A server that offers nothing within `negotiation_timeout_s` keeps XML (TAK's rule). A
        request left unanswered is fatal: the server's wire format is then unknown.
        """
        try:
            async with asyncio.timeout(self.destination.negotiation_timeout_s):
                await self._negotiated.wait()
        except TimeoutError as exc:
            if self._negotiation_requested:
                raise TakProtocolError(self._where("protobuf request was not answered")) from exc
            self._negotiated.set()  # no offer: stay on XML for this connection
        if self._failure is not None:
            raise self._failure

    async def send_confirmed(self, events: Sequence[bytes], timeout: float) -> None:
        """Deliver `events` (rendered XML CoT) with the destination's ack rule, within `timeout`.

        Returns only when the batch is proven read (ack=ping) or written and settled (ack=none).
        """
        if self._datagrams is not None:
            await self._send_datagrams(*self._datagrams, events)
            return
        writer = self._writer
        if writer is None or self._failure is not None:
            raise self._failure or TakConnectionError(self._where("not connected"))
        try:
            async with asyncio.timeout(timeout):
                await self._send_stream(writer, events)
        except asyncio.CancelledError:
            # A pong for this batch could still arrive; it must never confirm a later one.
            self._fail(TakConnectionError(self._where("send cancelled")))
            writer.transport.abort()
            if self._read_task is not None:
                self._read_task.cancel()
            raise
        except Exception as exc:
            error = self._failure or classify(exc, where=self._where("send"))
            await self._abort(error)
            raise error from exc

    async def _send_stream(self, writer: asyncio.StreamWriter, events: Sequence[bytes]) -> None:
        frames = [self._encode(event) for event in events]
        if self.ack_mode == "ping":
            self._pong = asyncio.get_running_loop().create_future()
            frames.append(self._encode(ping_event(f"{self.uid}-ping", datetime.now(UTC))))
        writer.write(b"".join(frames))
        await writer.drain()
        if self._pong is not None:
            await self._pong
            self._pong = None
        else:
            await asyncio.sleep(self.destination.settle_s)
        if self._failure is not None:
            raise self._failure

    async def _send_datagrams(
        self, transport: asyncio.DatagramTransport, protocol: _Datagrams, events: Sequence[bytes]
    ) -> None:
        for event in events:
            transport.sendto(event)
        await asyncio.sleep(0)  # let error_received run for an immediate ICMP error
        if protocol.error is not None:
            error = classify(protocol.error, where=self._where("send"))
            protocol.error = None
            raise error

    def _encode(self, xml: bytes) -> bytes:
        return to_takproto(xml) if self._wire == "protobuf" else xml

    async def _read_loop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(READ_CHUNK)
                if not data:
                    raise TakConnectionError(self._where(self._eof_explanation()))
                self._parser.feed(data)
                while (message := self._parser.next_message()) is not None:
                    self._on_message(message, writer)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._fail(classify(exc, where=self._where("read")))

    def _eof_explanation(self) -> str:
        if self.destination.scheme == "tls" and self.messages_received == 0:
            # Some servers drop a refused client certificate without a TLS alert.
            return (
                "peer closed the connection before sending anything; over TLS this usually "
                "means it rejected our client certificate"
            )
        return "peer closed the connection"

    def _on_message(self, message: CotMessage, writer: asyncio.StreamWriter) -> None:
        self.messages_received += 1
        if is_pong(message):
            if self._pong is not None and not self._pong.done():
                self._pong.set_result(None)
        elif offers_protobuf(message):
            self._request_protobuf(writer)
        elif message.type == PROTOCOL_RESPONSE and self._negotiation_requested:
            if accepts_protobuf(message):
                self._wire = "protobuf"
                self._parser.switch_to("protobuf")
            self._negotiated.set()

    def _request_protobuf(self, writer: asyncio.StreamWriter) -> None:
        wanted = self.destination.protocol == "protobuf"
        if not wanted or self._negotiation_requested or self._negotiated.is_set():
            return
        self._negotiation_requested = True
        writer.write(protocol_request(self.uid, datetime.now(UTC)))

    def _fail(self, error: TakError) -> None:
        if self._failure is None:
            self._failure = error
        if self._pong is not None and not self._pong.done():
            self._pong.set_exception(error)
        self._negotiated.set()

    async def _abort(self, error: TakError) -> None:
        self._fail(error)
        if self._writer is not None:
            self._writer.transport.abort()
        await self._stop_reader()

    async def _stop_reader(self) -> None:
        if self._read_task is not None:
            self._read_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._read_task
            self._read_task = None
        if self._pong is not None and not self._pong.done():
            self._pong.cancel()
        if self._pong is not None and self._pong.done() and not self._pong.cancelled():
            self._pong.exception()  # retrieved: no "exception never retrieved" warning

    async def close(self) -> None:
        """Close gracefully (idempotent)."""
        if self._datagrams is not None:
            self._datagrams[0].close()
            self._datagrams = None
            return
        self._fail(TakConnectionError(self._where("closed by us")))
        await self._stop_reader()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                    await writer.wait_closed()

    def _where(self, what: str) -> str:
        return f"{self.destination.name} ({self.destination.url}): {what}"
