"""Why a TAK delivery failed, as a stable `reason` code for metric labels and log lines."""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Final

from detection_api.cot import CotWireError

REASONS: Final = (
    "refused",
    "unreachable",
    "dns",
    "timeout",
    "closed",
    "tls_untrusted_ca",
    "tls_hostname_mismatch",
    "tls_certificate_expired",
    "tls_client_certificate_rejected",
    "tls_handshake",
    "tls_config",
    "protocol",
)
"""Every reason code a TakError can carry (a bounded label set)."""

# OpenSSL X509_V_ERR_* codes seen when *we* verify the server.
_UNTRUSTED_CODES: Final = frozenset({2, 18, 19, 20, 21, 27})
_EXPIRED_CODES: Final = frozenset({9, 10})  # not yet valid, expired
_HOSTNAME_CODES: Final = frozenset({62, 64})  # hostname mismatch, IP address mismatch
# TLS alerts the *server* sends when it refuses our client certificate.
_REJECTED_ALERTS: Final = frozenset(
    {
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
    }
)
_EXPIRED_ALERT: Final = "SSLV3_ALERT_CERTIFICATE_EXPIRED"
_UNREACHABLE_ERRNOS: Final = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}
)


class TakError(Exception):
    """A delivery attempt failed; nothing sent in it counts as delivered."""

    reason: str = "closed"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason}: {super().__str__()}"


class TakConnectionError(TakError):
    """The peer refused, dropped or never answered the connection."""


class TakTimeoutError(TakConnectionError):
    reason = "timeout"


class TakTlsError(TakError):
    """TLS failed: untrusted CA, hostname mismatch, expired or rejected certificate, config."""

    reason = "tls_handshake"


class TakProtocolError(TakError):
    """The peer spoke something other than a CoT stream, or negotiation broke down."""

    reason = "protocol"


def classify(exc: BaseException, *, where: str) -> TakError:
    """Map a low-level exception to a TakError with a stable reason code."""
    if isinstance(exc, TakError):
        return exc
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _verification_error(exc, where)
    if isinstance(exc, ssl.SSLError):
        return _alert_error(exc, where)
    return _plain_error(exc, where)


def _plain_error(exc: BaseException, where: str) -> TakError:
    if isinstance(exc, TimeoutError):
        return TakTimeoutError(f"{where}: no answer in time")
    if isinstance(exc, CotWireError):
        return TakProtocolError(f"{where}: {exc}")
    if isinstance(exc, ConnectionRefusedError):
        return TakConnectionError(f"{where}: connection refused", reason="refused")
    if isinstance(exc, socket.gaierror):
        return TakConnectionError(f"{where}: cannot resolve host ({exc})", reason="dns")
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE_ERRNOS:
        return TakConnectionError(f"{where}: {exc.strerror}", reason="unreachable")
    return TakConnectionError(f"{where}: connection lost ({type(exc).__name__}: {exc})")


def _verification_error(exc: ssl.SSLCertVerificationError, where: str) -> TakTlsError:
    code = exc.verify_code
    message = f"{where}: server certificate rejected: {exc.verify_message} (X509 error {code})"
    if code in _HOSTNAME_CODES:
        return TakTlsError(message, reason="tls_hostname_mismatch")
    if code in _EXPIRED_CODES:
        return TakTlsError(message, reason="tls_certificate_expired")
    if code in _UNTRUSTED_CODES:
        return TakTlsError(message, reason="tls_untrusted_ca")
    return TakTlsError(message)


def _alert_error(exc: ssl.SSLError, where: str) -> TakTlsError:
    alert = exc.reason or ""
    if alert == _EXPIRED_ALERT:
        return TakTlsError(
            f"{where}: the server says our client certificate has expired",
            reason="tls_certificate_expired",
        )
    if alert in _REJECTED_ALERTS:
        return TakTlsError(
            f"{where}: the server rejected our client certificate ({alert})",
            reason="tls_client_certificate_rejected",
        )
    return TakTlsError(f"{where}: TLS failed ({alert or exc})")
