"""Client TLS context for a TAK destination: CA bundle, client certificate (PEM or PKCS#12).

Verification is always on: certificate chain against `ca_file` (or the system store) and, unless
a destination explicitly opts out, the hostname. PKCS#12 bundles are unpacked with pytak's
`convert_cert` (which writes short-lived private temp files that we delete right after loading,
because OpenSSL only loads certificate chains from files).
"""

from __future__ import annotations

import os
import ssl
import warnings
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

with warnings.catch_warnings():
    # pytak warns at import that aiohttp (for its HTTP enrollment client) is missing; we do not
    # use enrollment, only its PKCS#12 unpacking.
    warnings.simplefilter("ignore", UserWarning)
    from pytak.crypto_functions import convert_cert

from detection_api.delivery.destinations import Destination
from detection_api.delivery.errors import TakTlsError


def client_context(destination: Destination, *, now: datetime | None = None) -> ssl.SSLContext:
    """The SSLContext for `destination`; TakTlsError (tls_config, tls_certificate_expired)."""
    where = destination.name
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if destination.ca_file is not None:
        _require_file(destination.ca_file, "ca_file", where)
        try:
            context.load_verify_locations(cafile=str(destination.ca_file))
        except ssl.SSLError as exc:
            raise TakTlsError(
                f"{where}: ca_file is not a PEM CA bundle ({exc})", reason="tls_config"
            ) from exc
    context.check_hostname = destination.verify_hostname
    if destination.pkcs12_file is not None:
        _load_pkcs12(context, destination, destination.pkcs12_file, now or datetime.now(UTC))
    elif destination.cert_file is not None:
        _load_pem(context, destination, destination.cert_file, now or datetime.now(UTC))
    return context


def _require_file(path: Path, option: str, where: str) -> None:
    if not path.is_file():
        raise TakTlsError(f"{where}: {option} {path} does not exist", reason="tls_config")


def _load_pem(
    context: ssl.SSLContext, destination: Destination, cert_file: Path, now: datetime
) -> None:
    where = destination.name
    _require_file(cert_file, "cert_file", where)
    if destination.key_file is not None:
        _require_file(destination.key_file, "key_file", where)
    check_not_expired(cert_file.read_bytes(), where, now)
    try:
        context.load_cert_chain(
            str(cert_file),
            keyfile=None if destination.key_file is None else str(destination.key_file),
            password=destination.key_password,
        )
    except (ssl.SSLError, ValueError) as exc:
        raise TakTlsError(
            f"{where}: cannot load client certificate/key (wrong key_password or "
            f"mismatched key?): {exc}",
            reason="tls_config",
        ) from exc


def _load_pkcs12(
    context: ssl.SSLContext, destination: Destination, pkcs12_file: Path, now: datetime
) -> None:
    where = destination.name
    _require_file(pkcs12_file, "pkcs12_file", where)
    try:
        paths = convert_cert(str(pkcs12_file), destination.pkcs12_password or "")
    except ValueError as exc:
        raise TakTlsError(
            f"{where}: cannot open pkcs12_file (wrong pkcs12_password?): {exc}", reason="tls_config"
        ) from exc
    try:
        check_not_expired(Path(paths["cert_pem_path"]).read_bytes(), where, now)
        context.load_cert_chain(paths["cert_pem_path"], keyfile=paths["pk_pem_path"])
    finally:
        for path in paths.values():
            if path:
                os.remove(path)


def check_not_expired(cert_pem: bytes, where: str, now: datetime) -> None:
    """Refuse a client certificate outside its validity window before the server has to."""
    certificate = x509.load_pem_x509_certificate(cert_pem)
    if now > certificate.not_valid_after_utc:
        raise TakTlsError(
            f"{where}: client certificate {certificate.subject.rfc4514_string()} expired at "
            f"{certificate.not_valid_after_utc.isoformat()}",
            reason="tls_certificate_expired",
        )
    if now < certificate.not_valid_before_utc:
        raise TakTlsError(
            f"{where}: client certificate is not valid before "
            f"{certificate.not_valid_before_utc.isoformat()}",
            reason="tls_certificate_expired",
        )
