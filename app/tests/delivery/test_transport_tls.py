"""Mutual TLS to the local TAK peer, and every way TLS must refuse (nothing confirmed)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from detection_api.cot import render_xml
from detection_api.cot.samples import synthetic_event
from detection_api.delivery.errors import classify
from detection_api.delivery.tls import client_context
from detection_api.delivery.transport import Destination, TakError, TakLink, TakTlsError
from detection_api.taksink import CertPair, DevPki, TakSink, make_dev_pki, server_context


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return make_dev_pki(tmp_path_factory.mktemp("pki"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def batch(count: int) -> list[bytes]:
    now = datetime.now(UTC)
    return [render_xml(synthetic_event(f"t-{i}", now)) for i in range(count)]


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), timeout=30))


def sink_with(pki: DevPki, server: CertPair | None = None) -> TakSink:
    context = server_context(pki)
    if server is not None:
        context.load_cert_chain(str(server.cert), str(server.key))
    return TakSink(ssl_context=context)


def tls_destination(sink: TakSink, pki: DevPki, **options: object) -> Destination:
    defaults: dict[str, object] = {
        "ca_file": pki.ca_cert,
        "cert_file": pki.client.cert,
        "key_file": pki.client.key,
    }
    return Destination.from_url(sink.url, **{**defaults, **options})


async def connect_and_send(link: TakLink) -> None:
    await link.connect()
    await link.send_confirmed(batch(5), timeout=5)


async def refused(sink: TakSink, destination: Destination) -> TakError:
    """Connect and send; return the TakError raised, asserting the sink recorded nothing."""
    link = TakLink(destination)
    with pytest.raises(TakError) as caught:
        await connect_and_send(link)
    await link.close()
    assert sink.events == []
    assert sink.pings_answered == 0
    return caught.value


def test_mutual_tls_with_pem_files(pki: DevPki) -> None:
    async def scenario() -> None:
        async with sink_with(pki) as sink:
            assert sink.url.startswith("tls://127.0.0.1:")
            link = TakLink(tls_destination(sink, pki))
            await link.connect()
            await link.send_confirmed(batch(50), timeout=5)
            assert len(sink.events) == 50
            await link.close()

    run(scenario)


def test_mutual_tls_with_pkcs12_and_localhost_name(pki: DevPki) -> None:
    async def scenario() -> None:
        async with sink_with(pki) as sink:
            destination = Destination.from_url(
                f"tls://localhost:{sink.port}",
                ca_file=pki.ca_cert,
                pkcs12_file=pki.client_p12,
                pkcs12_password=pki.client_p12_password,
            )
            link = TakLink(destination)
            await link.connect()
            await link.send_confirmed(batch(5), timeout=5)
            assert len(sink.events) == 5
            await link.close()

    run(scenario)


def test_mutual_tls_with_protobuf(pki: DevPki) -> None:
    async def scenario() -> None:
        async with sink_with(pki) as sink:
            link = TakLink(tls_destination(sink, pki, protocol="protobuf"))
            await link.connect()
            assert link.wire == "protobuf"
            await link.send_confirmed(batch(5), timeout=5)
            assert [event.wire for event in sink.events] == ["protobuf"] * 5
            await link.close()

    run(scenario)


def test_server_from_an_untrusted_ca_is_refused(pki: DevPki) -> None:
    async def scenario() -> None:
        async with sink_with(pki) as sink:
            error = await refused(sink, tls_destination(sink, pki, ca_file=pki.other_ca_cert))
            assert isinstance(error, TakTlsError)
            assert error.reason == "tls_untrusted_ca"
            assert "server certificate rejected" in str(error)

    run(scenario)


def test_expired_server_certificate_is_refused(pki: DevPki) -> None:
    async def scenario() -> None:
        async with sink_with(pki, server=pki.expired_server) as sink:
            error = await refused(sink, tls_destination(sink, pki))
            assert error.reason == "tls_certificate_expired"

    run(scenario)


def test_hostname_mismatch_is_refused_unless_the_name_is_overridden(pki: DevPki) -> None:
    async def scenario() -> None:
        async with sink_with(pki, server=pki.wrong_host_server) as sink:
            error = await refused(sink, tls_destination(sink, pki))
            assert error.reason == "tls_hostname_mismatch"
            # The operator can name the host the certificate was issued for.
            link = TakLink(tls_destination(sink, pki, server_hostname="tak.invalid"))
            await link.connect()
            await link.send_confirmed(batch(1), timeout=5)
            assert len(sink.events) == 1
            await link.close()

    run(scenario)


def test_expired_client_certificate_is_refused_before_connecting(pki: DevPki) -> None:
    async def scenario() -> None:
        async with sink_with(pki) as sink:
            error = await refused(
                sink,
                tls_destination(
                    sink, pki, cert_file=pki.expired_client.cert, key_file=pki.expired_client.key
                ),
            )
            assert error.reason == "tls_certificate_expired"
            assert "expired at" in str(error)
            assert sink.connections_accepted == 0

    run(scenario)


def test_server_rejecting_our_client_certificate_is_reported(pki: DevPki) -> None:
    async def scenario() -> None:
        async with sink_with(pki) as sink:
            other = pki.client_from_other_ca
            error = await refused(
                sink, tls_destination(sink, pki, cert_file=other.cert, key_file=other.key)
            )
            # Python's asyncio TLS server drops the connection without sending the TLS alert,
            # so the client sees a bare close; a TAK Server's alert maps to
            # tls_client_certificate_rejected (see test_alerts_are_classified).
            assert error.reason == "closed"
            assert "rejected our client certificate" in str(error)

    run(scenario)


def test_openssl_server_alert_for_a_foreign_client_certificate(
    pki: DevPki, require_tool: Callable[[str], str]
) -> None:
    """A TLS server that sends the alert (as TAK Server does) gives the precise reason."""
    openssl = require_tool("openssl")
    port = free_port()
    command = [openssl, "s_server", "-accept", f"127.0.0.1:{port}", "-quiet"]
    command += ["-cert", str(pki.server.cert), "-key", str(pki.server.key)]
    command += ["-CAfile", str(pki.ca_cert), "-Verify", "1", "-verify_return_error"]
    server = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port)
        other = pki.client_from_other_ca
        destination = Destination.from_url(
            f"tls://127.0.0.1:{port}", ca_file=pki.ca_cert, cert_file=other.cert, key_file=other.key
        )

        async def scenario() -> None:
            link = TakLink(destination)
            with pytest.raises(TakTlsError) as caught:
                await connect_and_send(link)
            await link.close()
            assert caught.value.reason == "tls_client_certificate_rejected"
            assert "TLSV1_ALERT_UNKNOWN_CA" in str(caught.value)

        run(scenario)
    finally:
        server.kill()
        server.wait()


def test_missing_client_certificate_is_reported(pki: DevPki) -> None:
    async def scenario() -> None:
        async with sink_with(pki) as sink:
            destination = Destination.from_url(sink.url, ca_file=pki.ca_cert)
            error = await refused(sink, destination)
            assert error.reason == "closed"
            assert "rejected our client certificate" in str(error)

    run(scenario)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pkcs12_password": "wrong"}, "wrong pkcs12_password"),
        ({"ca_file": Path("/nonexistent/ca.pem")}, "ca_file /nonexistent/ca.pem does not exist"),
    ],
)
def test_bad_tls_configuration_is_a_config_error(
    pki: DevPki, options: dict[str, object], message: str
) -> None:
    async def scenario() -> None:
        base: dict[str, object] = {
            "ca_file": pki.ca_cert,
            "pkcs12_file": pki.client_p12,
            "pkcs12_password": pki.client_p12_password,
        }
        merged = {**base, **options}
        password = merged.pop("pkcs12_password")
        destination = Destination.from_url(
            "tls://127.0.0.1:8089", pkcs12_password=str(password), **merged
        )
        with pytest.raises(TakTlsError, match=message) as caught:
            await TakLink(destination).connect()
        assert caught.value.reason == "tls_config"

    run(scenario)


def test_client_context_verifies_by_default(pki: DevPki) -> None:
    context = client_context(Destination.from_url("tls://127.0.0.1:1", ca_file=pki.ca_cert))
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


@pytest.mark.parametrize(
    ("alert", "reason"),
    [
        ("TLSV1_ALERT_UNKNOWN_CA", "tls_client_certificate_rejected"),
        ("TLSV13_ALERT_CERTIFICATE_REQUIRED", "tls_client_certificate_rejected"),
        ("SSLV3_ALERT_CERTIFICATE_EXPIRED", "tls_certificate_expired"),
        ("WRONG_VERSION_NUMBER", "tls_handshake"),
    ],
)
def test_alerts_are_classified(alert: str, reason: str) -> None:
    error = ssl.SSLError(1, f"[SSL: {alert}] alert")
    error.reason = alert
    assert classify(error, where="tak").reason == reason
