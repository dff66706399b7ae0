"""Delivery over mutual TLS through the worker: it works with the right PKI; a wrong CA, an
expired server certificate or a hostname mismatch is refused with a reason and a metric, and
nothing is marked delivered."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.tests.support import wait_until
from detection_api.api.examples import example_detection
from detection_api.store.schema import outbox
from detection_api.taksink import DevPki, make_dev_pki, server_context

from .conftest import ThreadedSink

FAST = {"delivery_poll_seconds": 0.05, "delivery_backoff_max_seconds": 0.5}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return make_dev_pki(tmp_path_factory.mktemp("pki"))


def tls_sink(pki: DevPki, server_cert: Any = None) -> ThreadedSink:
    context = server_context(pki)
    if server_cert is not None:
        context.load_cert_chain(str(server_cert.cert), str(server_cert.key))
    sink = ThreadedSink(ssl_context=context)
    sink.start()
    return sink


@pytest.fixture
def sinks() -> Iterator[list[ThreadedSink]]:
    started: list[ThreadedSink] = []
    yield started
    for sink in started:
        sink.close()


def destination(sink: ThreadedSink, ca: Path, client: Any, **options: str) -> str:
    query = f"ca_file={ca}&cert_file={client.cert}&key_file={client.key}"
    query += "".join(f"&{key}={value}" for key, value in options.items())
    return f"{sink.url}?{query}"


def post_now(client: TestClient, auth: dict[str, str], body: dict[str, Any]) -> str:
    body = {**body, "captured_at": example_detection()["captured_at"]}
    response = client.post("/v1/detections", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return str(response.json()["cot_uid"])


def outbox_states(client: TestClient) -> list[str]:
    engine = client.app.state.services.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return list(connection.execute(select(outbox.c.state)).scalars())


def failures(client: TestClient, reason: str) -> float:
    services = client.app.state.services  # type: ignore[attr-defined]
    name = services.delivery.workers[0].destination.name
    value = services.metrics.registry.get_sample_value(
        "detection_api_tak_send_failures_total", {"destination": name, "reason": reason}
    )
    return 0.0 if value is None else float(value)


def test_mutual_tls_delivery_works(
    start_client: Callable[..., TestClient],
    auth: dict[str, str],
    valid_detection: Callable[..., dict[str, Any]],
    pki: DevPki,
    sinks: list[ThreadedSink],
) -> None:
    sinks.append(sink := tls_sink(pki))
    client = start_client(tak_destinations=[destination(sink, pki.ca_cert, pki.client)], **FAST)
    uid = post_now(client, auth, valid_detection())
    wait_until(lambda: outbox_states(client) == ["delivered"])
    assert sink.uids() == [uid]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("wrong_ca", "tls_untrusted_ca"),
        ("expired_server", "tls_certificate_expired"),
        ("wrong_host", "tls_hostname_mismatch"),
    ],
)
def test_untrustworthy_tak_servers_are_refused_and_nothing_is_delivered(
    start_client: Callable[..., TestClient],
    auth: dict[str, str],
    valid_detection: Callable[..., dict[str, Any]],
    pki: DevPki,
    sinks: list[ThreadedSink],
    case: str,
    reason: str,
) -> None:
    server_cert = {"expired_server": pki.expired_server, "wrong_host": pki.wrong_host_server}
    sinks.append(sink := tls_sink(pki, server_cert.get(case)))
    ca = pki.other_ca_cert if case == "wrong_ca" else pki.ca_cert
    client = start_client(tak_destinations=[destination(sink, ca, pki.client)], **FAST)
    post_now(client, auth, valid_detection())
    wait_until(lambda: failures(client, reason) >= 2)
    assert sink.uids() == []
    assert set(outbox_states(client)) <= {"pending", "leased"}
