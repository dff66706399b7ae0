"""A throwaway PKI for the local TAK peer and the TLS tests (never for production).

One CA signs a server certificate (SAN 127.0.0.1 and localhost) and a client certificate, as a
TAK Server installation does; the variants (another CA, expired certificates, a server
certificate for the wrong host) exist to prove that the client refuses them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEV_PKCS12_PASSWORD: Final = "atakatak"  # noqa: S105 - TAK's well-known dev default
_VALIDITY: Final = timedelta(days=30)

Key = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class CertPair:
    cert: Path
    key: Path


@dataclass(frozen=True)
class DevPki:
    """Paths of everything `make_dev_pki` wrote."""

    ca_cert: Path
    server: CertPair
    client: CertPair
    client_p12: Path
    client_p12_password: str
    other_ca_cert: Path
    client_from_other_ca: CertPair
    expired_client: CertPair
    expired_server: CertPair
    wrong_host_server: CertPair


@dataclass(frozen=True)
class _Issuer:
    name: x509.Name
    key: Key


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Detection API dev PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_key() -> Key:
    return ec.generate_private_key(ec.SECP256R1())


def _make_ca(common_name: str, now: datetime) -> tuple[_Issuer, x509.Certificate]:
    key = _new_key()
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _Issuer(name, key), cert


def _issue(
    issuer: _Issuer,
    common_name: str,
    *,
    server: bool,
    window: tuple[datetime, datetime],
    hosts: tuple[str, ...] = (),
) -> tuple[Key, x509.Certificate]:
    not_before, not_after = window
    key = _new_key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    if hosts:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(host) for host in hosts]), critical=False
        )
    return key, builder.sign(issuer.key, hashes.SHA256())


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write_pem(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def _write_pair(directory: Path, stem: str, key: Key, cert: x509.Certificate) -> CertPair:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return CertPair(
        cert=_write_pem(directory / f"{stem}.pem", cert.public_bytes(serialization.Encoding.PEM)),
        key=_write_pem(directory / f"{stem}.key", key_pem),
    )


def make_dev_pki(directory: Path, *, now: datetime | None = None) -> DevPki:
    """Create (or overwrite) a throwaway CA and certificates in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    moment = now or datetime.now(UTC)
    valid = (moment - timedelta(days=1), moment + _VALIDITY)
    expired = (moment - timedelta(days=10), moment - timedelta(days=1))
    local = ("127.0.0.1", "localhost")

    ca, ca_cert = _make_ca("Detection API dev CA", moment)
    other_ca, other_ca_cert = _make_ca("Some other CA", moment)
    ca_path = _write_pem(directory / "ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM))
    other_ca_path = _write_pem(
        directory / "other-ca.pem", other_ca_cert.public_bytes(serialization.Encoding.PEM)
    )

    def pair(
        stem: str,
        issuer: _Issuer,
        *,
        server: bool,
        hosts: tuple[str, ...] = (),
        window: tuple[datetime, datetime] = valid,
    ) -> CertPair:
        key, cert = _issue(issuer, stem, server=server, hosts=hosts, window=window)
        return _write_pair(directory, stem, key, cert)

    client_key, client_cert = _issue(ca, "detection-api", server=False, window=valid)
    client = _write_pair(directory, "client", client_key, client_cert)
    p12 = pkcs12.serialize_key_and_certificates(
        b"detection-api",
        client_key,
        client_cert,
        [ca_cert],
        serialization.BestAvailableEncryption(DEV_PKCS12_PASSWORD.encode()),
    )
    return DevPki(
        ca_cert=ca_path,
        server=pair("server", ca, server=True, hosts=local),
        client=client,
        client_p12=_write_pem(directory / "client.p12", p12),
        client_p12_password=DEV_PKCS12_PASSWORD,
        other_ca_cert=other_ca_path,
        client_from_other_ca=pair("client-other-ca", other_ca, server=False),
        expired_client=pair("client-expired", ca, server=False, window=expired),
        expired_server=pair("server-expired", ca, server=True, hosts=local, window=expired),
        wrong_host_server=pair("server-wrong-host", ca, server=True, hosts=("tak.invalid",)),
    )


def load_or_make_dev_pki(directory: Path) -> DevPki:
    """Reuse the dev PKI in `directory` when complete (clients keep trusting it), else create it."""
    pki = _expected_paths(directory)
    files = [pki.ca_cert, pki.other_ca_cert, pki.client_p12]
    for pair in (pki.server, pki.client, pki.client_from_other_ca, pki.expired_client,
                 pki.expired_server, pki.wrong_host_server):  # fmt: skip
        files += [pair.cert, pair.key]
    if all(path.is_file() for path in files):
        return pki
    return make_dev_pki(directory)


def _expected_paths(directory: Path) -> DevPki:
    def pair(stem: str) -> CertPair:
        return CertPair(cert=directory / f"{stem}.pem", key=directory / f"{stem}.key")

    return DevPki(
        ca_cert=directory / "ca.pem",
        server=pair("server"),
        client=pair("client"),
        client_p12=directory / "client.p12",
        client_p12_password=DEV_PKCS12_PASSWORD,
        other_ca_cert=directory / "other-ca.pem",
        client_from_other_ca=pair("client-other-ca"),
        expired_client=pair("client-expired"),
        expired_server=pair("server-expired"),
        wrong_host_server=pair("server-wrong-host"),
    )
