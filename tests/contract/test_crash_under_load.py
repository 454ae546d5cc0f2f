"""SIGKILL `sgmirror serve` under HTTP and SMTP load: every acknowledged send is stored whole, nothing is half.

Concurrent HTTP clients and SMTP sessions send distinct messages until the whole process group is killed
mid-run; the mirror is restarted on the same database. Each X-Message-Id acknowledged (HTTP 202, or SMTP
`250 Ok: queued as <id>`) must have its message row with the request exactly as sent, its envelopes, its
recipients and their events, and must render; and no row anywhere may lack the rows it belongs with.
"""

from __future__ import annotations

import base64
import json
import smtplib
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, create_engine, func, select
from sqlalchemy.orm import InstrumentedAttribute

from app.kernel.db.base import Base
from app.mail.models import Envelope, Event, Message, Recipient
from tests.support import mirror_process, postgres

pytestmark = pytest.mark.contract

KEY = "SG." + "crashLoadKey".ljust(22, "0") + "." + "crashLoadSecret".ljust(43, "0")
HTTP_CLIENTS = 4
SMTP_SESSIONS = 4
# Kill once this much is acknowledged on each transport, so the kill lands in the middle of steady load.
ENOUGH_HTTP, ENOUGH_SMTP = 40, 20


@dataclass(frozen=True)
class Sent:
    transport: str
    message_id: str
    request: bytes
    subject: str
    recipients: tuple[str, ...]
    envelopes: int


@dataclass
class Load:
    url: str
    smtp_port: int
    stop: threading.Event = field(default_factory=threading.Event)
    acknowledged: list[Sent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, sent: Sent) -> None:
        with self.lock:
            self.acknowledged.append(sent)

    def count(self, transport: str) -> int:
        with self.lock:
            return sum(1 for sent in self.acknowledged if sent.transport == transport)


def _http_body(client: int, number: int) -> tuple[bytes, str, tuple[str, ...], int]:
    """A distinct send: one or two personalizations, a cc now and then, an attachment every fifth."""
    subject = f"http {client}-{number}"
    personalizations = [{"to": [{"email": f"h{client}.{number}@example.com", "name": "Ann"}]}]
    if number % 2:
        personalizations.append({"to": [{"email": f"h{client}.{number}.b@example.com"}],
                                 "cc": [{"email": f"h{client}.{number}.cc@example.com"}]})  # fmt: skip
    payload: dict[str, object] = {
        "personalizations": personalizations,
        "from": {"email": "sender@example.com", "name": "Sender"},
        "subject": subject,
        "content": [{"type": "text/plain", "value": f"Body of {subject}"}],
        "custom_args": {"client": str(client), "number": str(number)},
    }
    if number % 5 == 0:
        blob = bytes(range(256)) * 256
        payload["attachments"] = [{"content": base64.b64encode(blob).decode(), "filename": "blob.bin"}]
    recipients = tuple(a["email"] for p in personalizations for kind in ("to", "cc") for a in p.get(kind, []))
    return json.dumps(payload).encode(), subject, recipients, len(personalizations)


def _drive_http(load: Load, client: int) -> None:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    number = 0
    with httpx.Client(base_url=load.url, headers=headers, timeout=30) as http:
        while not load.stop.is_set():
            request, subject, recipients, envelopes = _http_body(client, number)
            try:
                response = http.post("/v3/mail/send", content=request)
            except httpx.TransportError:
                return
            if response.status_code != 202:
                load.problems.append(f"HTTP {response.status_code}: {response.text}")
                return
            load.record(Sent("http", response.headers["x-message-id"], request, subject, recipients, envelopes))
            number += 1


def _mime(session: int, number: int) -> tuple[bytes, str, tuple[str, ...]]:
    subject = f"smtp {session}-{number}"
    recipients = (f"s{session}.{number}@example.com",) + (
        (f"s{session}.{number}.cc@example.com",) if number % 2 else ()
    )
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "Sender <sender@example.com>"
    message["To"] = recipients[0]
    if len(recipients) > 1:
        message["Cc"] = recipients[1]
    message["Subject"] = subject
    message["X-SMTPAPI"] = json.dumps({"unique_args": {"session": str(session), "number": str(number)}})
    message.set_content(f"Body of {subject}\n")
    return message.as_bytes(), subject, recipients


def _drive_smtp(load: Load, session: int) -> None:
    number = 0
    try:
        with smtplib.SMTP("127.0.0.1", load.smtp_port, timeout=30) as relay:
            relay.starttls()
            relay.login("apikey", KEY)
            while not load.stop.is_set():
                raw, subject, recipients = _mime(session, number)
                relay.mail("sender@example.com")
                for recipient in recipients:
                    relay.rcpt(recipient)
                _code, reply = relay.data(raw)  # any other reply than 250 raises
                message_id = reply.decode().removeprefix("Ok: queued as ")
                load.record(Sent("smtp", message_id, raw, subject, recipients, 1))
                number += 1
    except smtplib.SMTPResponseException as refused:
        load.problems.append(f"SMTP {refused.smtp_code}: {refused.smtp_error!r}")
    except (OSError, smtplib.SMTPServerDisconnected):
        return  # the relay was killed


def _run_until_killed(mirror: mirror_process.MirrorProcess) -> list[Sent]:
    load = Load(mirror.url, mirror.smtp_port)
    threads = [threading.Thread(target=_drive_http, args=(load, n)) for n in range(HTTP_CLIENTS)]
    threads += [threading.Thread(target=_drive_smtp, args=(load, n)) for n in range(SMTP_SESSIONS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while load.count("http") < ENOUGH_HTTP or load.count("smtp") < ENOUGH_SMTP:
        assert time.monotonic() < deadline, f"too few acknowledgements: {load.count('http')}, {load.count('smtp')}"
        assert not load.problems, load.problems
        time.sleep(0.05)
    mirror.kill()
    load.stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not load.problems, load.problems
    return list(load.acknowledged)


def _check_stored_whole(conn: Connection, sent: Sent) -> None:
    message = conn.execute(select(Message).where(Message.id == sent.message_id)).one_or_none()
    assert message is not None, f"acknowledged {sent.transport} send {sent.message_id} was lost"
    assert (message.transport, message.subject) == (sent.transport, sent.subject)
    assert bytes(message.request) == sent.request
    envelopes = conn.scalar(select(func.count()).select_from(Envelope).where(Envelope.message_id == sent.message_id))
    assert envelopes == sent.envelopes
    recipients = conn.execute(select(Recipient.id, Recipient.email).where(Recipient.message_id == sent.message_id))
    rows = list(recipients)
    assert sorted(email for _, email in rows) == sorted(sent.recipients)
    with_events = conn.scalar(
        select(func.count(func.distinct(Event.recipient_id))).where(Event.recipient_id.in_([rid for rid, _ in rows]))
    )
    assert with_events == len(rows), f"{sent.message_id} has recipients without events"


def _orphans(conn: Connection, rows: type[Base], column: str, belongs_to: InstrumentedAttribute[Any]) -> int:
    """Rows of `rows` whose `column` names no row of `belongs_to`'s table."""
    statement = select(func.count()).select_from(rows).where(~getattr(rows, column).in_(select(belongs_to)))
    return int(conn.scalar(statement) or 0)


def _check_nothing_half_written(conn: Connection) -> None:
    """Every row has the rows it belongs with: no send without envelopes, recipients or events, no orphan."""
    assert _orphans(conn, Message, "id", Envelope.message_id) == 0
    assert _orphans(conn, Message, "id", Recipient.message_id) == 0
    assert _orphans(conn, Recipient, "id", Event.recipient_id) == 0
    assert _orphans(conn, Envelope, "message_id", Message.id) == 0
    assert _orphans(conn, Recipient, "message_id", Message.id) == 0
    assert _orphans(conn, Event, "recipient_id", Recipient.id) == 0


def _check_renders(url: str, sent: list[Sent]) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:
        for one in sent:
            raw = http.get(f"/_mirror/messages/{one.message_id}/raw")
            assert raw.status_code == 200, raw.text
            assert message_from_bytes(raw.content, policy=policy.default)["Subject"] == one.subject


@pytest.mark.parametrize(
    ("backend", "workers"), [("sqlite", 1), pytest.param("postgresql", 2, marks=pytest.mark.postgres)]
)
def test_every_acknowledged_send_survives_sigkill_under_load(
    backend: str, workers: int, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    settings = {"api_key": KEY, "require_verified_sender": "false"}
    if backend == "postgresql":
        server: postgres.PostgresServer = request.getfixturevalue("postgres_server")
        settings["database_url"] = server.create_database("sgmirror_crash_under_load")
    database_url = settings.get("database_url", f"sqlite:///{data_dir / 'sgmirror.db'}")
    mirror = mirror_process.start(data_dir, workers=workers, **settings)
    try:
        acknowledged = _run_until_killed(mirror)
    finally:
        mirror.kill()

    restarted = mirror_process.start(data_dir, workers=workers, **settings)
    try:
        engine = create_engine(database_url)
        with engine.connect() as conn:
            for sent in acknowledged:
                _check_stored_whole(conn, sent)
            _check_nothing_half_written(conn)
        engine.dispose()
        _check_renders(restarted.url, acknowledged)
    finally:
        restarted.stop()
