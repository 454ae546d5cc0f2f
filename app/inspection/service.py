"""The mirror's inspection API: find, read, wait for and delete stored messages (any account)."""

from __future__ import annotations

import base64
import email
import email.policy
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from app.accounts.models import Account
from app.inspection import words
from app.kernel.db.base import as_utc
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest, NotFound
from app.mail import rendering
from app.mail import search as mail_search
from app.mail.models import Envelope, Event, Message, MessageLabel, Recipient

MAX_PAGE = 500
# Counts stop here: beyond it a search reports at least this many (and says the total is not exact).
COUNT_LIMIT = 10_000
# Word-index matches read per step of a `text` walk.
_WALK_CHUNK = 200
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


@dataclass(frozen=True)
class Found:
    """One page of a search: `total` is exact up to COUNT_LIMIT, beyond it `total_exact` is False."""

    total: int
    total_exact: bool
    messages: list[Message]
    next_cursor: str | None


@dataclass(frozen=True)
class _Plan:
    """The ids of matching messages as a statement, with the (created_at, id) columns that order it."""

    ids: Select[Any]
    at: ColumnElement[datetime]
    ident: ColumnElement[str]
    walks: bool = False  # see mail_search.Narrowing
    # A `text` whose words very many messages hold: walked through the word index, newest first.
    text_walk: words.TextSearch | None = None


def _plan(
    session: Session, filters: Filters, where: mail_search.Narrowing | None = None, *, may_walk: bool = True
) -> _Plan:
    """Drive from the first exact label filtered on (its index is in creation order), else from messages.

    Messages the index pass has not reached (`tail`) are tested directly; while there are any, the listing
    drives from messages, and each label filter is a list of ids (a rare value: the labelled messages and
    the tail's plain matches) or a condition tested as the walk goes (a common one).
    """
    tail = mail_search.unindexed(session)
    labels = _labels(filters)
    if labels and tail.empty:
        driver = aliased(MessageLabel, name="driver")
        kind, value = labels[0]
        at, ident = driver.created_at.expression, driver.message_id.expression
        ids = select(ident).where(driver.kind == kind, driver.value == value)
        if filters.account or where is not None:
            ids = ids.join(Message, Message.id == ident)
        labels = labels[1:]
    else:
        at, ident = Message.created_at.expression, Message.id.expression
        ids = select(ident)
    conditions = [_with_label(session, kind, value, ident, tail) for kind, value in labels]
    if filters.account:
        conditions.append(Message.account_id == _account_id(session, filters.account))
    if filters.since:
        conditions.append(at > filters.since)
    if filters.until:
        conditions.append(at <= filters.until)
    narrowings = [where] if where is not None else []
    if filters.subject:
        pattern = mail_search.like_escaped(filters.subject)
        narrowings.append(mail_search.messages_with(session, "subject", pattern, ident, tail))
    ids = ids.where(*conditions, *(n.condition for n in narrowings))
    text_search = None
    if filters.text:
        text_search = words.search_for(session, ids, ident, filters.text, tail=tail, may_walk=may_walk)
        if text_search.narrowing is not None:
            ids = ids.where(text_search.narrowing.condition)
            text_search = None
    walks = any(n.walks for n in narrowings) or text_search is not None
    return _Plan(ids, at, ident, walks, text_search)


def _with_label(
    session: Session, kind: str, value: str, ident: ColumnElement[str], tail: mail_search.Tail
) -> ColumnElement[bool]:
    """A label filter beside a non-empty tail (or after the first, which drives): see `_plan`."""
    few = None if tail.empty else mail_search.labelled_few(session, kind, value, ident, mail_search.CANDIDATE_LIMIT)
    return few if few is not None else mail_search.labelled(kind, value, ident, tail)


def _labels(filters: Filters) -> list[tuple[str, str]]:
    found = []
    if filters.to:
        found.append(mail_search.label("t", filters.to))
    if filters.from_:
        found.append(mail_search.label("f", filters.from_))
    if filters.category:
        found.append(mail_search.label("c", filters.category))
    if filters.custom_arg:
        key, sep, value = filters.custom_arg.partition("=")
        if not sep:
            raise BadRequest("custom_arg must look like key=value", field="custom_arg")
        found.append(mail_search.custom_arg_label(key, value))
    return found


def _account_id(session: Session, account: str) -> str:
    found = session.scalar(select(Account.id).where(or_(Account.id == account, Account.username == account)))
    return found or account


def search(
    session: Session,
    filters: Filters,
    *,
    limit: int,
    offset: int = 0,
    cursor: str | None = None,
    where: mail_search.Narrowing | None = None,
) -> Found:
    """Newest first (`where` narrows further, e.g. to one console inbox); `cursor` continues after a page."""
    plan = _plan(session, filters, where)
    page = plan.ids.add_columns(plan.at)
    after = decode_cursor(cursor) if cursor is not None else None
    if after is not None:
        page = page.where(tuple_(plan.at, plan.ident) < tuple_(*after))
    if plan.text_walk is not None:
        rows = _walk_text(session, plan, plan.text_walk, page, after, end=offset + limit)[offset:]
    else:
        rows = list(session.execute(page.order_by(plan.at.desc(), plan.ident.desc()).limit(limit).offset(offset)))
    messages = _messages(session, [row[0] for row in rows])
    next_cursor = encode_cursor(rows[-1][1], rows[-1][0]) if len(rows) == limit else None
    if plan.walks:  # at least what this page reached; exact only when it ran out
        seen = (offset if cursor is None else 0) + len(rows)
        return Found(seen, next_cursor is None and cursor is None, messages, next_cursor)
    counted = session.scalar(select(func.count()).select_from(plan.ids.limit(COUNT_LIMIT + 1).subquery())) or 0
    return Found(min(counted, COUNT_LIMIT), counted <= COUNT_LIMIT, messages, next_cursor)


def _walk_text(
    session: Session,
    plan: _Plan,
    text_search: words.TextSearch,
    page: Select[Any],
    after: tuple[datetime, str] | None,
    *,
    end: int,
) -> list[Any]:
    """The first `end` rows of `page` among the messages holding the words: the unindexed ones, then the word
    index newest first, a chunk at a time, until enough rows pass the other filters."""
    decoded = text_search.decoded
    collected = list(session.execute(page.where(plan.ident.in_(decoded)))) if decoded else []
    below = words.seq_of(session, after[1]) if after is not None else None
    while len(collected) < end:
        chunk = words.newest_indexed(session, text_search.wanted, below=below, count=_WALK_CHUNK)
        if not chunk:
            break
        below = chunk[-1][0]
        collected += session.execute(page.where(plan.ident.in_([message_id for _, message_id in chunk])))
    collected.sort(key=lambda row: (as_utc(row[1]), row[0]), reverse=True)
    return collected[:end]


def _messages(session: Session, ids: list[str]) -> list[Message]:
    """The messages of `ids`, in that order."""
    found = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def encode_cursor(at: datetime, message_id: str) -> str:
    """An opaque token for the position after (at, message_id) in newest-first order."""
    raw = f"{as_utc(at).isoformat()}|{message_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(token: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
        at, message_id = raw.split("|", 1)
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise BadRequest("cursor is not one this mirror gave out", field="cursor") from None
    return moment, message_id


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
            plan = _plan(session, filters, may_walk=False)
            first = session.scalar(plan.ids.order_by(plan.at, plan.ident).limit(1))
            message = None if first is None else session.get(Message, first)
        remaining = deadline - time.monotonic()
        if message is not None or remaining <= 0:
            return message
        await db.commits.wait(min(remaining, _POLL_SECONDS))
