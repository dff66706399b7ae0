"""TAK destinations from configuration URLs.

`tcp://host:port`, `tls://host:port` and `udp://group:port` (multicast mesh). Non-secret options
may ride in the query string (`?protocol=protobuf&ack=none&ca_file=/etc/tak/ca.pem`); passwords
never do: they are passed as keyword arguments (from a secret file or environment variable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, get_args
from urllib.parse import parse_qsl, urlsplit

Scheme = Literal["tcp", "tls", "udp"]
Protocol = Literal["xml", "protobuf"]
AckMode = Literal["ping", "none"]

DEFAULT_PORTS: Final[dict[Scheme, int]] = {"tcp": 8087, "tls": 8089, "udp": 6969}
_NAME: Final = re.compile(r"[^a-z0-9_.-]+")
MAX_NAME_LENGTH: Final = 48
_PATH_OPTIONS: Final = ("ca_file", "cert_file", "key_file", "pkcs12_file")
_SECRET_OPTIONS: Final = ("key_password", "pkcs12_password", "password")


class DestinationError(ValueError):
    """A destination URL or option is invalid; the message names the field and the reason."""


@dataclass(frozen=True)
class Destination:
    """Where and how to deliver CoT. `ack` says when a batch counts as delivered:

    - `ping` (default): the peer answered a TAK ping sent after the batch (proof of reading);
    - `none`: weaker; the batch was written and drained to the kernel and the connection stayed
      open for `settle_s` afterwards. Bytes still in flight can be lost if the peer dies then.
      UDP can only use `none`.
    """

    scheme: Scheme
    host: str
    port: int
    name: str
    protocol: Protocol = "xml"
    ack: AckMode = "ping"
    settle_s: float = 0.5
    connect_timeout_s: float = 10.0
    negotiation_timeout_s: float = 10.0
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    key_password: str | None = None
    pkcs12_file: Path | None = None
    pkcs12_password: str | None = None
    verify_hostname: bool = True
    server_hostname: str | None = None
    multicast_ttl: int = 1

    def __post_init__(self) -> None:
        if self.scheme == "udp" and (self.ack != "none" or self.protocol != "xml"):
            raise DestinationError(f"{self.name}: udp destinations need ack=none and protocol=xml")
        if self.scheme != "tls" and (self.cert_file or self.pkcs12_file or self.ca_file):
            raise DestinationError(f"{self.name}: certificates are only used with tls://")
        if self.cert_file and self.pkcs12_file:
            raise DestinationError(f"{self.name}: give cert_file/key_file or pkcs12_file, not both")
        if self.key_file and not self.cert_file:
            raise DestinationError(f"{self.name}: key_file needs cert_file")
        if not 1 <= self.port <= 65535:
            raise DestinationError(f"{self.name}: port {self.port} is outside 1-65535")
        for option in ("settle_s", "connect_timeout_s", "negotiation_timeout_s"):
            if getattr(self, option) < 0:
                raise DestinationError(f"{self.name}: {option} must not be negative")

    def __repr__(self) -> str:  # never print passwords
        return f"Destination({self.scheme}://{self.host}:{self.port}, name={self.name!r})"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        name: str | None = None,
        key_password: str | None = None,
        pkcs12_password: str | None = None,
        **options: object,
    ) -> Destination:
        """Parse `url`; keyword `options` override query-string options of the same name."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in get_args(Scheme):
            raise DestinationError(f"{url!r}: scheme must be tcp://, tls:// or udp://")
        if not parts.hostname:
            raise DestinationError(f"{url!r}: needs a host")
        try:
            port = parts.port or DEFAULT_PORTS[scheme]  # type: ignore[index]
        except ValueError as exc:
            raise DestinationError(f"{url!r}: invalid port") from exc
        query = dict(parse_qsl(parts.query, strict_parsing=False))
        name = name or query.pop("name", None)  # a chart names destinations in the query
        leaked = sorted(set(query) & set(_SECRET_OPTIONS))
        if leaked or parts.password:
            raise DestinationError(f"{url!r}: passwords must not be in the URL ({leaked})")
        merged: dict[str, Any] = {**query, **options}
        if scheme == "udp":
            merged.setdefault("ack", "none")  # a datagram cannot be confirmed
        label = name or default_name(scheme, parts.hostname, port)
        return cls(
            scheme=scheme,  # type: ignore[arg-type]
            host=parts.hostname,
            port=port,
            name=safe_name(label),
            key_password=key_password,
            pkcs12_password=pkcs12_password,
            **_typed_options(merged, url),
        )


def default_name(scheme: str, host: str, port: int) -> str:
    return f"{scheme}-{host}-{port}"


def safe_name(label: str) -> str:
    """A short, bounded, metric-label-safe name."""
    cleaned = _NAME.sub("_", label.lower()).strip("_")
    if not cleaned:
        raise DestinationError(f"name: {label!r} has no usable characters")
    return cleaned[:MAX_NAME_LENGTH]


def _typed_options(options: dict[str, Any], url: str) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for key, value in options.items():
        if key in _PATH_OPTIONS:
            typed[key] = None if value in (None, "") else Path(str(value))
        elif key in ("settle_s", "connect_timeout_s", "negotiation_timeout_s"):
            typed[key] = _number(key, value, url)
        elif key == "multicast_ttl":
            typed[key] = int(_number(key, value, url))
        elif key == "verify_hostname":
            typed[key] = _boolean(key, value, url)
        elif key == "protocol":
            typed[key] = _choice(key, value, get_args(Protocol), url)
        elif key == "ack":
            typed[key] = _choice(key, value, get_args(AckMode), url)
        elif key == "server_hostname":
            typed[key] = str(value) or None
        else:
            raise DestinationError(f"{url!r}: unknown option {key!r}")
    return typed


def _number(key: str, value: object, url: str) -> float:
    try:
        return float(str(value))
    except ValueError as exc:
        raise DestinationError(f"{url!r}: {key} must be a number, got {value!r}") from exc


def _boolean(key: str, value: object, url: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise DestinationError(f"{url!r}: {key} must be true or false, got {value!r}")


def _choice(key: str, value: object, allowed: tuple[str, ...], url: str) -> str:
    if value not in allowed:
        raise DestinationError(f"{url!r}: {key} must be one of {', '.join(allowed)}")
    return str(value)
