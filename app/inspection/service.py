"""The mirror's inspection API: find, read, wait for and delete stored messages (any account)."""

from __future__ import annotations

import email
import email.policy
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, String, bindparam, cast, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import Account
from app.kernel.db.base import as_utc
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest, NotFound
from app.mail import mime, rendering
from app.mail import validation as mail_validation
from app.mail.message import OutboundMessage
from app.mail.models import Envelope, Event, Message, Recipient

MAX_PAGE = 500
# Candidates of a `text` search decoded per round trip.
_SCAN_CHUNK = 100
MAX_WAIT_SECONDS = 120.0
# Other processes' commits do not signal this one, so a waiter also looks on its own now and then.
_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Filters:
    to: str | None = None
    from_: str | None = None
    subject: str | None = None
    category: str | None = None
    custom_arg: str | None = None
    account: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


@dataclass
class Part:
    index: int
    filename: str | None
    content_type: str
    disposition: str | None
    content_id: str | None
    payload: bytes


@dataclass
class ParsedMime:
    headers: list[tuple[str, str]]
    text: str | None = None
    html: str | None = None
    attachments: list[Part] = field(default_factory=list)


def parse_time(raw: str | None, *, name: str) -> datetime | None:
    """ISO 8601 or unix seconds; `now` is the current time."""
    if raw is None or raw == "":
        return None
    if raw == "now":
        return datetime.now(UTC)
    try:
        if raw.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(raw), UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 time or unix seconds", field=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _statement(session: Session, filters: Filters) -> Select[Message]:
    statement = select(Message)
    if filters.to:
        statement = statement.where(_has_recipient(filters.to))
    if filters.from_:
        statement = statement.where(func.lower(Message.from_email) == filters.from_.lower())
    if filters.subject:
        statement = statement.where(Message.subject.ilike(f"%{filters.subject}%"))
    if filters.category:
        statement = statement.where(cast(Message.categories, String).like(f"%{json.dumps(filters.category)}%"))
    if filters.custom_arg:
        statement = statement.where(_has_custom_arg(filters.custom_arg))
    if filters.account:
        statement = statement.where(Message.account_id == _account_id(session, filters.account))
    if filters.since:
        statement = statement.where(Message.created_at > filters.since)
    if filters.until:
        statement = statement.where(Message.created_at <= filters.until)
    if filters.text:
        statement = statement.where(_mentioning(session, statement, filters.text))
    return statement


def _mentioning(session: Session, candidates: Select[Message], needle: str) -> ColumnElement[bool]:
    """Messages whose subject, or any personalization's text or HTML body, holds `needle` in any case.

    The bodies are stored as MIME, or only as the request until first read, so each candidate the other
    filters leave is decoded here; an index of the decoded text can take this function's place.
    """
    wanted = _folded(needle)
    ids = list(session.scalars(candidates.with_only_columns(Message.id).order_by(None)))
    found: list[str] = []
    for start in range(0, len(ids), _SCAN_CHUNK):
        found += _mentions_in(session, ids[start : start + _SCAN_CHUNK], wanted)
    # Inlined rather than bound: a million ids would pass any limit on bound parameters.
    return Message.id.in_(bindparam("mentioning", found, expanding=True, literal_execute=True))


def _mentions_in(session: Session, message_ids: list[str], wanted: str) -> list[str]:
    messages = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(message_ids)))}
    envelopes = session.execute(
        select(Envelope.message_id, Envelope.position, Envelope.subject, Envelope.mime)
        .where(Envelope.message_id.in_(message_ids))
        .order_by(Envelope.message_id, Envelope.position)
    )
    found = {m.id for m in messages.values() if wanted in _folded(m.subject or "")}
    requests: dict[str, OutboundMessage] = {}
    for envelope in envelopes:
        message = messages.get(envelope.message_id)
        if message is None or message.id in found:
            continue
        texts = [envelope.subject or "", *_bodies(message, envelope.position, envelope.mime, requests)]
        if any(wanted in _folded(text) for text in texts):
            found.add(message.id)
    return [m for m in message_ids if m in found]


def _bodies(message: Message, position: int, stored: bytes | None, requests: dict[str, OutboundMessage]) -> list[str]:
    """The text and HTML bodies of one personalization, as GET .../text and .../html give them."""
    if stored is None and message.transport == "smtp":
        stored = rendering.render_stored(message, position)
    if stored is not None:
        return _decoded_bodies(stored)
    # Rendering the MIME only to decode it again would cost milliseconds per message.
    if message.id not in requests:
        created = int(as_utc(message.created_at).timestamp())
        requests[message.id] = mail_validation.parse_mail_send(orjson.loads(message.request), now=created)
    return mime.body_texts(requests[message.id], position)


def _decoded_bodies(raw: bytes) -> list[str]:
    """Every text/plain and text/html part that is not an attachment, decoded (the stdlib's fast compat32 parser)."""
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    bodies = []
    for part in parsed.walk():
        if part.get_content_type() in ("text/plain", "text/html") and part.get_content_disposition() is None:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                bodies.append(_decoded(payload, part.get_content_charset() or "utf-8"))
    return bodies


def _decoded(payload: bytes, charset: str) -> str:
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _folded(text: str) -> str:
    return text.replace("\r\n", "\n").casefold()


def _has_recipient(address: str) -> Any:
    return exists().where(Recipient.message_id == Message.id, Recipient.email == address.lower())


def _has_custom_arg(pair: str) -> Any:
    key, sep, value = pair.partition("=")
    if not sep:
        raise BadRequest("custom_arg must look like key=value", field="custom_arg")
    needle = json.dumps({key: value})[1:-1]
    return exists().where(Envelope.message_id == Message.id, cast(Envelope.custom_args, String).like(f"%{needle}%"))


def _account_id(session: Session, account: str) -> str:
    found = session.scalar(select(Account.id).where(or_(Account.id == account, Account.username == account)))
    return found or account


def search(
    session: Session, filters: Filters, *, limit: int, offset: int, where: ColumnElement[bool] | None = None
) -> tuple[int, list[Message]]:
    """Newest first, with the total count of matches (`where` narrows further, e.g. to one console inbox)."""
    statement = _statement(session, filters) if where is None else _statement(session, filters).where(where)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    page = session.scalars(statement.order_by(Message.created_at.desc(), Message.id).limit(limit).offset(offset))
    return total, list(page)


def recipients_of(session: Session, message_ids: list[str]) -> dict[str, list[Recipient]]:
    grouped: dict[str, list[Recipient]] = {m: [] for m in message_ids}
    rows = session.scalars(
        select(Recipient).where(Recipient.message_id.in_(message_ids)).order_by(Recipient.position, Recipient.id)
    )
    for recipient in rows:
        grouped[recipient.message_id].append(recipient)
    return grouped


def get(session: Session, message_id: str) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound("message not found")
    return message


def envelopes_of(session: Session, message_id: str) -> list[Envelope]:
    return list(session.scalars(select(Envelope).where(Envelope.message_id == message_id).order_by(Envelope.position)))


def envelope(session: Session, message_id: str, position: int) -> Envelope:
    found = session.scalar(select(Envelope).where(Envelope.message_id == message_id, Envelope.position == position))
    if found is None:
        raise NotFound("message not found" if position == 0 else "personalization not found")
    return found


def events_of(session: Session, recipient_ids: list[str]) -> dict[str, list[Event]]:
    grouped: dict[str, list[Event]] = {r: [] for r in recipient_ids}
    for event in session.scalars(select(Event).where(Event.recipient_id.in_(recipient_ids)).order_by(Event.id)):
        grouped[event.recipient_id].append(event)
    return grouped


def parse_mime(raw: bytes) -> ParsedMime:
    """Headers, the first text and html bodies, and every attachment (inline ones included)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    parsed = ParsedMime(headers=[(name, str(value)) for name, value in message.items()])
    for part in message.walk():
        if part.is_multipart():
            continue
        _add_part(parsed, part)
    return parsed


def _add_part(parsed: ParsedMime, part: Any) -> None:
    content_type = part.get_content_type()
    disposition = part.get_content_disposition()
    if disposition is None and content_type == "text/plain" and parsed.text is None:
        parsed.text = part.get_content()
    elif disposition is None and content_type == "text/html" and parsed.html is None:
        parsed.html = part.get_content()
    else:
        payload = part.get_payload(decode=True) or b""
        content_id = (part.get("Content-ID") or "").strip("<> ") or None
        parsed.attachments.append(
            Part(len(parsed.attachments), part.get_filename(), content_type, disposition, content_id, payload)
        )


def raw(session: Session, message_id: str, position: int) -> bytes:
    return rendering.mime_of(session, envelope(session, message_id, position))


def parsed_envelope(session: Session, found: Envelope) -> ParsedMime:
    return parse_mime(rendering.mime_of(session, found))


def body(session: Session, message_id: str, position: int, kind: str) -> str:
    """The text or html body of one personalization; 404 when the message has none."""
    parsed = parse_mime(raw(session, message_id, position))
    found = parsed.text if kind == "text" else parsed.html
    if found is None:
        raise NotFound(f"this message has no {kind} part")
    return found


def attachment(session: Session, message_id: str, position: int, index: int) -> Part:
    parsed = parse_mime(raw(session, message_id, position))
    if not 0 <= index < len(parsed.attachments):
        raise NotFound("attachment not found")
    return parsed.attachments[index]


def delete_one(session: Session, message_id: str) -> None:
    session.delete(get(session, message_id))


def clear(session: Session) -> None:
    for table in (Event, Recipient, Envelope, Message):
        session.execute(delete(table))


async def wait_for(db: Database, filters: Filters, *, timeout: float) -> Message | None:
    """The oldest matching message created after `filters.since`, waiting up to `timeout` seconds."""
    deadline = time.monotonic() + min(max(timeout, 0.0), MAX_WAIT_SECONDS)
    while True:
        with db.read_session() as session:
            found = session.scalars(_statement(session, filters).order_by(Message.created_at, Message.id).limit(1))
            message = found.first()
        remaining = deadline - time.monotonic()
        if message is not None or remaining <= 0:
            return message
        await db.commits.wait(min(remaining, _POLL_SECONDS))
