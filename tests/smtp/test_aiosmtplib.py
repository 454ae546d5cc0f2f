"""aiosmtplib against the relay running alone on the test's event loop (what `sgmirror smtp` runs)."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import aiosmtplib
import pytest
from sqlalchemy import func, select

from app.kernel.db.session import Database
from app.mail.models import Message, Recipient
from app.smtp.server import Relay
from tests.conftest import Keys
from tests.smtp.conftest import HOST

pytestmark = pytest.mark.anyio


def _message(subject: str = "Hello from aiosmtplib", to: str = "ann@example.com") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "shop@example.com"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Sent with aiosmtplib")
    return message


def _subjects(db: Database) -> list[str | None]:
    with db.read_session() as session:
        return list(session.scalars(select(Message.subject).where(Message.transport == "smtp")))


async def test_the_starttls_tutorial_works(relay: Relay, keys: Keys, db: Database) -> None:
    await aiosmtplib.send(
        _message(),
        hostname=HOST,
        port=relay.port("smtp"),
        start_tls=True,
        username="apikey",
        password=keys.default,
        validate_certs=False,  # the mirror's certificate is self-signed
    )
    assert _subjects(db) == ["Hello from aiosmtplib"]


async def test_the_implicit_tls_tutorial_works(relay: Relay, keys: Keys, db: Database) -> None:
    errors, response = await aiosmtplib.send(
        _message("over TLS"),
        hostname=HOST,
        port=relay.port("smtps"),
        use_tls=True,
        username="apikey",
        password=keys.default,
        validate_certs=False,
    )
    assert errors == {}
    assert response.startswith("Ok: queued as ")
    assert _subjects(db) == ["over TLS"]


async def test_a_wrong_username_is_535(relay: Relay, keys: Keys, db: Database) -> None:
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as refused:
        await aiosmtplib.send(
            _message(),
            hostname=HOST,
            port=relay.port("smtps"),
            use_tls=True,
            username="sendgrid",
            password=keys.default,
            validate_certs=False,
        )
    assert (refused.value.code, refused.value.message) == (535, "Authentication credentials invalid")
    assert _subjects(db) == []


async def _session(relay: Relay, key: str, number: int) -> list[str]:
    """One connection sending two messages."""
    client = aiosmtplib.SMTP(hostname=HOST, port=relay.port("smtps"), use_tls=True, validate_certs=False)
    replies = []
    async with client:
        await client.login("apikey", key)
        for second in range(2):
            _, reply = await client.send_message(_message(f"c{number}m{second}", f"user{number}@example.com"))
            replies.append(reply)
    return replies


async def test_fifty_concurrent_connections_are_all_served(relay: Relay, keys: Keys, db: Database) -> None:
    replies = await asyncio.gather(*(_session(relay, keys.default, n) for n in range(50)))
    assert all(r.startswith("Ok: queued as ") for pair in replies for r in pair)
    assert sorted(_subjects(db)) == sorted(f"c{n}m{s}" for n in range(50) for s in range(2))
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Recipient)) == 100
