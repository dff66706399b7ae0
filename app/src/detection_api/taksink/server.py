"""A loopback TAK peer for development and tests: accepts CoT like a TAK Server input does.

It speaks streaming XML, offers TAK protocol v1 on every connection (like TAK Server), answers
pings with pongs *after* reading everything sent before them, and records each event it reads.
Fault injection: no pongs (a peer that does not answer pings), and dropping a connection after N
events (a peer that dies mid-batch). It can be stopped and restarted on the same port.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import ssl
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Final, Self

from detection_api.cot import CotMessage, CotStreamParser, CotWireError, pong_event, to_takproto
from detection_api.cot.control import (
    CONTROL_TYPES,
    is_ping,
    protocol_offer,
    protocol_response,
    requests_protobuf,
)
from detection_api.cot.wire import Wire
from detection_api.taksink.pki import DevPki

SERVER_UID: Final = "detection-api-tak-sink"
READ_CHUNK: Final = 1 << 16


@dataclass(frozen=True, kw_only=True)
class ReceivedEvent(CotMessage):
    """A CoT event as the sink read it: the message plus where and when it arrived."""

    connection: int
    received_at: datetime

    def as_json(self) -> str:
        record = asdict(self)
        del record["tak_control"]
        record["received_at"] = self.received_at.isoformat()
        if self.wire == "xml":
            record["raw"] = self.raw.decode("utf-8", "replace")
        else:
            record["raw"] = base64.b64encode(self.raw).decode()
        return json.dumps(record, separators=(",", ":"))


def server_context(pki: DevPki, *, require_client_cert: bool = True) -> ssl.SSLContext:
    """Server TLS like TAK's 8089 input: our CA's server cert; client certs from the same CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca_cert))
    context.load_cert_chain(str(pki.server.cert), str(pki.server.key))
    context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_NONE
    return context


class TakSink:
    """An asyncio TAK peer on `host:port` (port 0 picks a free port on first start)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
        answer_pings: bool = True,
        offer_protobuf: bool = True,
        drop_after_events: int | None = None,
        record: Path | None = None,
        on_event: Callable[[ReceivedEvent], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.answer_pings = answer_pings
        self.offer_protobuf = offer_protobuf
        self.drop_after_events = drop_after_events
        self.record_path = record
        self.on_event = on_event
        self.events: list[ReceivedEvent] = []
        self.pings_answered = 0
        self.connections_accepted = 0
        self.protobuf_connections = 0
        self._connection_ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._record_file: IO[str] | None = None
        self._arrived = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"{'tls' if self.ssl_context else 'tcp'}://{self.host}:{self.port}"

    @property
    def uids(self) -> list[str]:
        return [event.uid for event in self.events]

    async def start(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, ssl=self.ssl_context, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if self.record_path is not None and self._record_file is None:
            self._record_file = self.record_path.open("a", encoding="utf-8")

    async def stop(self) -> None:
        """Stop listening and drop every open connection at once (like a killed server)."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await server.wait_closed()
        if self._record_file is not None:
            self._record_file.close()
            self._record_file = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def wait_for_events(self, count: int, timeout: float) -> None:
        """Wait until at least `count` events were received; TimeoutError otherwise."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.events) >= count)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = next(self._connection_ids)
        self.connections_accepted += 1
        self._writers.add(writer)
        session = _Session(connection)
        try:
            if self.offer_protobuf:
                writer.write(protocol_offer(SERVER_UID, datetime.now(UTC)))
            while data := await reader.read(READ_CHUNK):
                session.parser.feed(data)
                keep_open = self._handle_buffered(session, writer)
                async with self._arrived:
                    self._arrived.notify_all()
                if not keep_open:
                    writer.transport.abort()
                    return
                await writer.drain()
        except (CotWireError, ConnectionError, ssl.SSLError, OSError):
            writer.transport.abort()
        finally:
            self._writers.discard(writer)
            writer.close()

    def _handle_buffered(self, session: _Session, writer: asyncio.StreamWriter) -> bool:
        """Handle every complete message; False when the connection must drop (fault)."""
        while (message := session.parser.next_message()) is not None:
            if is_ping(message):
                if self.answer_pings:
                    writer.write(session.encode(pong_event(datetime.now(UTC))))
                    self.pings_answered += 1
            elif requests_protobuf(message):
                writer.write(protocol_response(SERVER_UID, datetime.now(UTC), accepted=True))
                session.switch_to_protobuf()
                self.protobuf_connections += 1
            elif message.type not in CONTROL_TYPES:
                self._record(message, session.connection)
                session.events += 1
                if self.drop_after_events is not None and session.events >= self.drop_after_events:
                    return False
        return True

    def _record(self, message: CotMessage, connection: int) -> None:
        event = ReceivedEvent(**vars(message), connection=connection, received_at=datetime.now(UTC))
        self.events.append(event)
        if self._record_file is not None:
            self._record_file.write(event.as_json() + "\n")
            self._record_file.flush()
        if self.on_event is not None:
            self.on_event(event)


class _Session:
    """Per-connection state: the parser and the wire format we answer in."""

    def __init__(self, connection: int) -> None:
        self.connection = connection
        self.parser = CotStreamParser()
        self.wire: Wire = "xml"
        self.events = 0

    def switch_to_protobuf(self) -> None:
        self.wire = "protobuf"
        self.parser.switch_to("protobuf")

    def encode(self, xml: bytes) -> bytes:
        return to_takproto(xml) if self.wire == "protobuf" else xml
