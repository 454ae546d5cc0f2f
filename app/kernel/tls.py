"""The TLS of HTTPS and the relay: the configured certificate, or a self-signed one made once in the data dir."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.kernel.config import Settings

SELF_SIGNED_NAME: Final = "smtp-tls.pem"  # key and certificate (the name predates HTTPS)
TRUST_NAME: Final = "tls-cert.pem"  # the certificate alone, for clients to trust
COMMON_NAME: Final = "sendgrid-mirror"
_VALID_DAYS: Final = 3650


def server_context(settings: Settings) -> ssl.SSLContext:
    """A server-side context (TLS 1.2+) holding the mirror's certificate and key."""
    return context_for(*certificate_files(settings))


def context_for(cert: Path, key: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def certificate_files(settings: Settings) -> tuple[Path, Path | None]:
    """SGMIRROR_TLS_CERT (and _KEY), or the self-signed PEM of the data dir, made on first use."""
    if settings.tls_cert is not None:
        return settings.tls_cert, settings.tls_key
    path = settings.data_dir / SELF_SIGNED_NAME
    if not path.exists():
        write_self_signed(path, host=settings.host)
    return path, None


def trust_file(settings: Settings) -> Path:
    """The certificate clients should trust, without the private key: SGMIRROR_TLS_CERT, or the self-signed one."""
    cert, _ = certificate_files(settings)
    if settings.tls_cert is not None:
        return cert
    path = settings.data_dir / TRUST_NAME
    certificates = x509.load_pem_x509_certificates(cert.read_bytes())
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)
    if not path.exists() or path.read_bytes() != pem:
        _write_atomically(path, pem)
    return path


def write_self_signed(path: Path, *, host: str) -> None:
    """Key and certificate in one PEM file, written atomically (so concurrent first starts stay consistent)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + _certificate(key, host).public_bytes(serialization.Encoding.PEM)
    _write_atomically(path, pem)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tls-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _certificate(key: rsa.RSAPrivateKey, host: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_alternative_names(host)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )


def _alternative_names(host: str) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host and host != "localhost":
            names.append(x509.DNSName(host))
        return names
    if not address.is_unspecified and not address.is_loopback:
        names.append(x509.IPAddress(address))
    return names
