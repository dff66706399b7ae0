"""Destination URLs: schemes, defaults, options, bounded names, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from detection_api.delivery.destinations import MAX_NAME_LENGTH, DestinationError
from detection_api.delivery.transport import REASONS, Destination


def test_tcp_defaults() -> None:
    destination = Destination.from_url("tcp://tak.example.org")
    assert (destination.scheme, destination.host, destination.port) == (
        "tcp",
        "tak.example.org",
        8087,
    )
    assert destination.protocol == "xml"
    assert destination.ack == "ping"
    assert destination.name == "tcp-tak.example.org-8087"


def test_tls_with_query_options_and_keyword_secrets() -> None:
    destination = Destination.from_url(
        "tls://10.0.0.5:8089?ca_file=/etc/tak/ca.pem&protocol=protobuf&verify_hostname=true",
        name="TAK Primary!",
        pkcs12_file=Path("/etc/tak/client.p12"),
        pkcs12_password="s3cret",  # noqa: S106 - must not leak into repr
    )
    assert destination.ca_file == Path("/etc/tak/ca.pem")
    assert destination.protocol == "protobuf"
    assert destination.verify_hostname is True
    assert destination.name == "tak_primary"
    assert "s3cret" not in repr(destination)


def test_udp_defaults_to_the_weaker_ack() -> None:
    destination = Destination.from_url("udp://239.2.3.1:6969")
    assert destination.ack == "none"
    with pytest.raises(DestinationError, match="udp destinations need ack=none"):
        Destination.from_url("udp://239.2.3.1:6969?ack=ping")


def test_names_are_bounded_and_metric_safe() -> None:
    destination = Destination.from_url("tcp://" + "a" * 200 + ".example:1")
    assert len(destination.name) == MAX_NAME_LENGTH
    assert set(destination.name) <= set("abcdefghijklmnopqrstuvwxyz0123456789_.-")


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("http://tak:80", {}, "scheme must be tcp://, tls:// or udp://"),
        ("tcp://:8087", {}, "needs a host"),
        ("tcp://tak:99999", {}, "invalid port"),
        ("tls://tak:8089?password=x", {}, "passwords must not be in the URL"),
        ("tls://user:pw@tak:8089", {}, "passwords must not be in the URL"),
        ("tcp://tak:8087?ack=maybe", {}, "ack must be one of ping, none"),
        ("tcp://tak:8087?protocol=json", {}, "protocol must be one of xml, protobuf"),
        ("tcp://tak:8087?settle_s=soon", {}, "settle_s must be a number"),
        ("tcp://tak:8087?settle_s=-1", {}, "settle_s must not be negative"),
        ("tcp://tak:8087?verify_hostname=perhaps", {}, "verify_hostname must be true or false"),
        ("tcp://tak:8087?colour=red", {}, "unknown option 'colour'"),
        ("tcp://tak:8087", {"ca_file": "/ca.pem"}, "only used with tls://"),
        ("tls://tak:8089", {"key_file": "/k.pem"}, "key_file needs cert_file"),
        (
            "tls://tak:8089",
            {"cert_file": "/c.pem", "pkcs12_file": "/c.p12"},
            "not both",
        ),
    ],
)
def test_invalid_destinations_are_explained(
    url: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(DestinationError, match=message):
        Destination.from_url(url, **options)


def test_reason_codes_are_a_small_fixed_set() -> None:
    assert len(REASONS) == len(set(REASONS)) <= 16
    assert {"refused", "timeout", "closed", "tls_untrusted_ca", "protocol"} <= set(REASONS)
