"""The local TAK peer: recording, faults, restart, dev PKI and the blocking entry point."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from detection_api.cot import render_xml
from detection_api.cot.samples import synthetic_event
from detection_api.delivery.transport import Destination, TakLink
from detection_api.taksink import TakSink, make_dev_pki
from detection_api.taksink.pki import load_or_make_dev_pki


def batch(prefix: str, count: int) -> list[bytes]:
    now = datetime.now(UTC)
    return [render_xml(synthetic_event(f"{prefix}-{i}", now)) for i in range(count)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_records_events_in_memory_and_jsonl(tmp_path: Path) -> None:
    record = tmp_path / "received.jsonl"

    async def scenario() -> None:
        async with TakSink(record=record) as sink:
            link = TakLink(Destination.from_url(sink.url))
            await link.connect()
            await link.send_confirmed(batch("r", 3), timeout=5)
            await link.close()
            event = sink.events[0]
            assert (event.uid, event.type, event.wire) == ("r-0", "a-u-G-U-C-I", "xml")
            assert event.stale > event.time
            assert event.raw.startswith(b"<?xml")

    asyncio.run(scenario())
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [line["uid"] for line in lines] == ["r-0", "r-1", "r-2"]
    assert lines[0]["raw"].endswith("</event>")
    assert {"uid", "type", "time", "start", "stale", "received_at"} <= set(lines[0])


def test_control_messages_are_not_recorded_as_events() -> None:
    async def scenario() -> None:
        async with TakSink() as sink:
            link = TakLink(Destination.from_url(f"{sink.url}?protocol=protobuf"))
            await link.connect()
            await link.send_confirmed([], timeout=5)  # only the ping
            assert sink.events == []
            assert sink.pings_answered == 1
            await link.close()

    asyncio.run(scenario())


def test_wait_for_events_times_out() -> None:
    async def scenario() -> None:
        async with TakSink() as sink:
            try:
                await sink.wait_for_events(1, timeout=0.05)
            except TimeoutError:
                return
            raise AssertionError("wait_for_events returned without events")

    asyncio.run(scenario())


def test_dev_pki_has_the_promised_certificates(tmp_path: Path) -> None:
    pki = make_dev_pki(tmp_path)
    server = x509.load_pem_x509_certificate(pki.server.cert.read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    client = x509.load_pem_x509_certificate(pki.client.cert.read_bytes())
    usage = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usage
    expired = x509.load_pem_x509_certificate(pki.expired_client.cert.read_bytes())
    assert expired.not_valid_after_utc < datetime.now(UTC)
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    assert client.issuer == ca.subject
    other = x509.load_pem_x509_certificate(pki.client_from_other_ca.cert.read_bytes())
    assert other.issuer != ca.subject
    assert oct(pki.client.key.stat().st_mode & 0o777) == "0o600"
    assert load_or_make_dev_pki(tmp_path).ca_cert.read_bytes() == pki.ca_cert.read_bytes()


def test_run_tak_sink_prints_and_records(tmp_path: Path) -> None:
    port = free_port()
    record = tmp_path / "sink.jsonl"
    code = (
        "from pathlib import Path; from detection_api.taksink import run_tak_sink; "
        f"run_tak_sink(port={port}, record=Path({str(record)!r}))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)

        async def send() -> None:
            link = TakLink(Destination.from_url(f"tcp://127.0.0.1:{port}"))
            await link.connect()
            await link.send_confirmed(batch("cli", 2), timeout=5)
            await link.close()

        asyncio.run(send())
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    text = output.decode()
    assert f"listening on tcp://127.0.0.1:{port}" in text
    assert "uid=cli-0" in text
    assert "received 2 events, answered 1 pings" in text
    assert len(record.read_text().splitlines()) == 2
