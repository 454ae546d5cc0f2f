"""The relay's certificate: self-signed in the data dir on first start, or the one SGMIRROR_TLS_CERT names."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from app.kernel import tls
from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.smtp import server as smtp_server
from tests.smtp.conftest import HOST

pytestmark = pytest.mark.anyio


async def _presented(port: int, context: ssl.SSLContext, server_hostname: str | None = None) -> bytes:
    reader, writer = await asyncio.open_connection(HOST, port, ssl=context, server_hostname=server_hostname)
    ssl_object = writer.get_extra_info("ssl_object")
    der: bytes = ssl_object.getpeercert(binary_form=True)
    await reader.readline()
    writer.close()
    return der


def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


async def test_a_self_signed_certificate_is_made_once_and_verifies_for_loopback_names(
    db: Database, relay_settings: Settings, tmp_path: Path
) -> None:
    settings = relay_settings.model_copy(update={"data_dir": tmp_path / "fresh"})
    relay = await smtp_server.start(settings, db)
    try:
        pem = (tmp_path / "fresh" / tls.SELF_SIGNED_NAME).read_bytes()
        verifying = ssl.create_default_context(cadata=pem.decode())
        for name in ("localhost", "127.0.0.1"):
            assert await _presented(relay.port("smtps"), verifying, server_hostname=name)
    finally:
        await relay.close()
    again = await smtp_server.start(settings, db)
    await again.close()
    assert (tmp_path / "fresh" / tls.SELF_SIGNED_NAME).read_bytes() == pem


async def test_a_given_certificate_and_key_are_used(db: Database, relay_settings: Settings, tmp_path: Path) -> None:
    combined = tmp_path / "given.pem"
    tls.write_self_signed(combined, host="mail.example.test")
    key = serialization.load_pem_private_key(combined.read_bytes(), password=None)
    certificate = x509.load_pem_x509_certificate(combined.read_bytes())
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    settings = relay_settings.model_copy(update={"tls_cert": tmp_path / "cert.pem", "tls_key": tmp_path / "key.pem"})
    relay = await smtp_server.start(settings, db)
    try:
        assert await _presented(relay.port("smtps"), _unverified()) == certificate.public_bytes(
            serialization.Encoding.DER
        )
    finally:
        await relay.close()
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "mail.example.test" in names.get_values_for_type(x509.DNSName)
