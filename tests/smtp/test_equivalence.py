"""One ingest path: the same message sent over SMTP and over POST /v3/mail/send is stored the same way, and both
are visible through /_mirror/messages and Email Activity (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import select

from app.mail.models import Envelope, Event, Message, Recipient
from tests.conftest import Keys, bearer
from tests.smtp.conftest import HOST, Mirror

HTTP_BODY: dict[str, Any] = {
    "personalizations": [
        {
            "to": [{"email": "alice@example.com", "name": "Alice"}],
            "cc": [{"email": "carol@example.com"}],
            "bcc": [{"email": "bob@example.com"}],
        }
    ],
    "from": {"email": "shop@example.com", "name": "Example Shop"},
    "reply_to": {"email": "help@shop.example"},
    "subject": "Same content",
    "content": [{"type": "text/plain", "value": "Hello"}, {"type": "text/html", "value": "<p>Hello</p>"}],
    "categories": ["receipts", "march"],
    "custom_args": {"order": "42"},
    "asm": {"group_id": 7},
}


def _smtp_message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Example Shop <shop@example.com>"
    message["To"] = "Alice <alice@example.com>"
    message["Cc"] = "carol@example.com"
    message["Reply-To"] = "help@shop.example"
    message["Subject"] = "Same content"
    message["X-SMTPAPI"] = json.dumps(
        {"category": ["receipts", "march"], "unique_args": {"order": "42"}, "asm_group_id": 7}
    )
    message.set_content("Hello")
    message.add_alternative("<p>Hello</p>", subtype="html")
    return message


def _send_both(mirror: Mirror, key: str) -> tuple[str, str]:
    response = httpx.post(mirror.base_url + "/v3/mail/send", headers=bearer(key), json=HTTP_BODY)
    assert response.status_code == 202, response.text
    with smtplib.SMTP(HOST, mirror.port) as server:
        server.starttls()
        server.login("apikey", key)
        server.send_message(_smtp_message(), to_addrs=["alice@example.com", "carol@example.com", "bob@example.com"])
    smtp_id = mirror.get("/_mirror/messages", subject="Same content").json()["messages"][0]["id"]
    return response.headers["x-message-id"], smtp_id


_DIFFERENT = {"id", "transport", "request", "created_at", "message_id", "mime", "recipient_id", "occurred_at",
              "last_event_time"}  # fmt: skip


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in _DIFFERENT}


def _rows(mirror: Mirror, message_id: str) -> dict[str, Any]:
    with mirror.db.read_session() as session:
        message = session.get(Message, message_id)
        envelopes = session.scalars(select(Envelope).where(Envelope.message_id == message_id))
        recipients = list(session.scalars(select(Recipient).where(Recipient.message_id == message_id)))
        events = session.scalars(select(Event).join(Recipient).where(Recipient.message_id == message_id))
        return {
            "message": _columns(message),
            "envelopes": [_columns(e) for e in envelopes],
            "recipients": sorted((_columns(r) for r in recipients), key=lambda r: r["email"]),
            "recipient_ids": sorted(r.id.removeprefix(message_id) for r in recipients),
            "events": sorted(_columns(e)["event"] for e in events),
        }


def test_smtp_and_http_store_the_same_rows(mirror: Mirror, keys: Keys) -> None:
    http_id, smtp_id = _send_both(mirror, keys.default)
    http_rows, smtp_rows = _rows(mirror, http_id), _rows(mirror, smtp_id)
    assert smtp_rows == http_rows
    assert [(r["kind"], r["email"], r["name"]) for r in smtp_rows["recipients"]] == [
        ("to", "alice@example.com", "Alice"),
        ("bcc", "bob@example.com", None),
        ("cc", "carol@example.com", None),
    ]


def test_both_are_visible_in_the_inspection_api_and_email_activity(mirror: Mirror, keys: Keys) -> None:
    http_id, smtp_id = _send_both(mirror, keys.default)
    listed = mirror.get("/_mirror/messages", to="bob@example.com").json()
    assert {(m["id"], m["transport"]) for m in listed["messages"]} == {(http_id, "http"), (smtp_id, "smtp")}
    http_view, smtp_view = mirror.stored(http_id), mirror.stored(smtp_id)
    for field in ("from", "subject", "to", "cc", "bcc", "categories", "custom_args", "status"):
        assert smtp_view[field] == http_view[field], field
    for view in (http_view, smtp_view):
        [envelope] = view["envelopes"]
        assert (envelope["text"].strip(), envelope["html"].strip()) == ("Hello", "<p>Hello</p>")
    activity = mirror.get("/v3/messages", keys.default, query='to_email="alice@example.com"', limit=10).json()
    assert {m["msg_id"].split(".")[0] for m in activity["messages"]} == {http_id, smtp_id}
    detail = mirror.get(f"/v3/messages/{smtp_id}.filter0001.0.0.0", keys.default)
    assert detail.status_code == 200, detail.text
    assert [e["event_name"] for e in detail.json()["events"]] == ["processed", "delivered"]
