"""The relay under abuse: garbage, clients that vanish mid-DATA, 1,000 recipients, oversized messages. It keeps
serving, stores whole messages or nothing, and its memory does not grow with what it refused."""

from __future__ import annotations

import asyncio
import base64
import email.policy
import os
import ssl
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from sqlalchemy import func, select

from app.kernel.db.session import Database
from app.mail.models import Envelope, Message, Recipient
from app.smtp.server import MAX_MESSAGE_BYTES, Relay
from tests.conftest import Keys
from tests.smtp.conftest import HOST

pytestmark = pytest.mark.anyio


class RawClient:
    """Bytes on the implicit-TLS port, for what no well-behaved client library would send."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, relay: Relay) -> RawClient:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        client = cls(*await asyncio.open_connection(HOST, relay.port("smtps"), ssl=context))
        assert (await client.reply())[0] == 220
        return client

    async def reply(self) -> tuple[int, str]:
        lines = [await self.reader.readline()]
        while lines[-1][3:4] == b"-":
            lines.append(await self.reader.readline())
        return int(lines[-1][:3]), b"".join(lines).decode()

    async def send(self, line: bytes) -> tuple[int, str]:
        self.writer.write(line + b"\r\n")
        return await self.reply()

    async def login(self, key: str) -> None:
        assert (await self.send(b"EHLO raw.example"))[0] == 250
        token = base64.b64encode(f"\0apikey\0{key}".encode())
        assert (await self.send(b"AUTH PLAIN " + token))[0] == 235


def _count(db: Database, table: type[Message] | type[Recipient] | type[Envelope]) -> int:
    with db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


async def _send_one(relay: Relay, key: str, subject: str = "still here") -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "shop@example.com", "ann@example.com", subject
    message.set_content("ok")
    await aiosmtplib.send(
        message, hostname=HOST, port=relay.port("smtps"), use_tls=True, username="apikey", password=key,
        validate_certs=False,
    )  # fmt: skip


async def test_garbage_gets_5xx_replies_and_the_relay_keeps_serving(relay: Relay, keys: Keys, db: Database) -> None:
    client = await RawClient.connect(relay)
    assert (await client.send(b"MAIL FROM:<a@example.com>"))[0] == 503  # before EHLO
    assert (await client.send(b"EHLO"))[0] == 501
    assert (await client.send(b"X" * 5000))[0] == 500
    assert (await client.send(b"EHLO \xff\xfe"))[0] == 250
    assert (await client.send(b"RCPT TO:<b@example.com>"))[0] == 503  # before MAIL
    assert (await client.send(b"DATA"))[0] == 503
    assert (await client.send(b"AUTH CRAM-MD5"))[0] == 504
    assert (await client.send(b"AUTH PLAIN !!notbase64!!"))[0] == 501
    for junk in (b"\x00\x01\x02", b"FOO bar", b"GET / HTTP/1.1", b"QUITT"):
        assert (await client.send(junk))[0] == 500
    code, text = await client.send(b"BOGUS")
    assert (code, "Too many unrecognized commands" in text) == (502, True)
    assert await client.reader.read() == b""  # the relay hung up on this one
    await _send_one(relay, keys.default)
    assert _count(db, Message) == 1


async def test_a_client_that_disconnects_mid_data_leaves_nothing_behind(relay: Relay, keys: Keys, db: Database) -> None:
    client = await RawClient.connect(relay)
    await client.login(keys.default)
    assert (await client.send(b"MAIL FROM:<shop@example.com>"))[0] == 250
    assert (await client.send(b"RCPT TO:<ann@example.com>"))[0] == 250
    assert (await client.send(b"DATA"))[0] == 354
    client.writer.write(b"Subject: half\r\n\r\n" + b"line of a message that never ends\r\n" * 10_000)
    await client.writer.drain()
    client.writer.transport.abort()
    await asyncio.sleep(0.2)
    assert (_count(db, Message), _count(db, Recipient), _count(db, Envelope)) == (0, 0, 0)
    await _send_one(relay, keys.default)
    assert _count(db, Message) == 1


async def test_a_thousand_recipients_fit_and_the_next_is_452(relay: Relay, keys: Keys, db: Database) -> None:
    client = aiosmtplib.SMTP(hostname=HOST, port=relay.port("smtps"), use_tls=True, validate_certs=False)
    async with client:
        await client.login("apikey", keys.default)
        await client.mail("shop@example.com")
        for number in range(1000):
            await client.rcpt(f"user{number}@example.com")
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await client.rcpt("user1000@example.com")
        assert refused.value.code == 452
        response = await client.data(
            b"From: shop@example.com\r\nTo: undisclosed-recipients:;\r\nSubject: many\r\n\r\nhi"
        )
    assert response.code == 250
    assert _count(db, Recipient) == 1000
    with db.read_session() as session:
        kinds = set(session.scalars(select(Recipient.kind)))
    assert kinds == {"bcc"}


def _with_attachment(size: int) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "shop@example.com", "ann@example.com", f"{size} bytes"
    message.set_content("see attachment")
    message.add_attachment(os.urandom(size), maintype="application", subtype="octet-stream", filename="blob.bin")
    return message.as_bytes(policy=email.policy.SMTP)


def _rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


async def _data(relay: Relay, key: str, raw: bytes) -> aiosmtplib.SMTPResponse:
    client = aiosmtplib.SMTP(hostname=HOST, port=relay.port("smtps"), use_tls=True, validate_certs=False)
    async with client:
        await client.login("apikey", key)
        await client.mail("shop@example.com")  # no SIZE parameter: the limit must hold during DATA too
        await client.rcpt("ann@example.com")
        try:
            return await client.data(raw)
        except aiosmtplib.SMTPDataError as refused:
            return aiosmtplib.SMTPResponse(refused.code, refused.message)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc")
async def test_a_20_mb_attachment_is_stored_whole_and_a_25_mb_one_is_552(
    relay: Relay, keys: Keys, db: Database
) -> None:
    fits, too_big = _with_attachment(20 * 1024 * 1024), _with_attachment(25 * 1024 * 1024)
    assert len(fits) < MAX_MESSAGE_BYTES < len(too_big)  # base64 makes 25 MB about 34 MB on the wire
    assert (await _data(relay, keys.default, fits)).code == 250
    baseline = _rss_mb()
    response = await _data(relay, keys.default, too_big)
    assert (response.code, response.message) == (552, "Error: Too much mail data")
    assert (await _data(relay, keys.default, fits)).code == 250
    assert _rss_mb() - baseline < 250, "memory grows with each large message"
    with db.read_session() as session:
        stored = list(session.scalars(select(Message.request)))
    assert stored == [fits, fits]
    await _send_one(relay, keys.default)
    assert _count(db, Message) == 3
