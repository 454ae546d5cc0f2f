"""Console inboxes: whose mail a signed-in account (or the mirror admin) sees, and one message's views.

Everything is read through `app.inspection.service`; this module only narrows it to a Mailbox.
A customer sees its own mail and its subusers'; a partner also its customers' (and their subusers');
a subuser its own. Every account also sees the mail the mirror sent about it (see `system_mail`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import Account
from app.inspection import service as inspection
from app.kernel.errors import BadRequest, NotFound
from app.mail import html as mail_html
from app.mail import search as mail_search
from app.mail import system as system_mail
from app.mail.models import Envelope, Event, Message, Recipient

PAGE_SIZE = 50
MAX_RAW_SHOWN = 256 * 1024


@dataclass(frozen=True, slots=True)
class Mailbox:
    """The accounts whose mail is shown (None: every account) and the account whose system mail is too."""

    account_ids: tuple[str, ...] | None
    notices_for: str | None = None


ALL_MAIL = Mailbox(account_ids=None)


@dataclass(frozen=True, slots=True)
class Search:
    """The inbox search form: to/from/subject are substrings, category exact, dates whole UTC days."""

    to: str = ""
    from_: str = ""
    subject: str = ""
    category: str = ""
    since: str = ""
    until: str = ""

    def is_empty(self) -> bool:
        return not any((self.to, self.from_, self.subject, self.category, self.since, self.until))


@dataclass
class Row:
    message: Message
    to: list[str]
    account: str


@dataclass
class Page:
    total: int
    total_exact: bool
    offset: int
    rows: list[Row]
    newest: str | None
    next_cursor: str | None
    limit: int = PAGE_SIZE


@dataclass
class RecipientView:
    recipient: Recipient
    events: list[Event]


@dataclass
class MessageView:
    message: Message
    account: str
    envelopes: list[Envelope]
    position: int
    parsed: inspection.ParsedMime
    raw: str
    raw_truncated: bool
    recipients: list[RecipientView]
    links: list[str] = field(default_factory=list)
    remote_content: bool = False


def for_account(session: Session, account: Account) -> Mailbox:
    """The mailbox of a signed-in account (see the module docstring for who sees what)."""
    ids = [account.id]
    if account.kind in ("customer", "partner"):
        children = list(session.scalars(select(Account.id).where(Account.parent_id == account.id)))
        ids += children
        if account.kind == "partner" and children:
            ids += list(session.scalars(select(Account.id).where(Account.parent_id.in_(children))))
    return Mailbox(account_ids=tuple(ids), notices_for=account.id)


def visible(session: Session, mailbox: Mailbox) -> ColumnElement[bool] | None:
    """The SQL condition for messages the mailbox shows (None: all)."""
    if mailbox.account_ids is None:
        return None
    own = Message.account_id.in_(mailbox.account_ids)
    if mailbox.notices_for is None:
        return own
    kind, value = mail_search.custom_arg_label(system_mail.ACCOUNT_ARG, mailbox.notices_for)
    notices = mail_search.labelled(kind, value, Message.id.expression, mail_search.unindexed(session))
    system_ids = select(Account.id).where(Account.kind == system_mail.SYSTEM_KIND)
    return or_(own, and_(Message.account_id.in_(system_ids), notices))


def _day(raw: str, name: str, *, end: bool) -> datetime | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadRequest("Dates look like 2026-11-22.", field=name) from None
    return datetime.combine(day + timedelta(days=1 if end else 0), time(), UTC)


def _query(
    session: Session, mailbox: Mailbox, search: Search
) -> tuple[inspection.Filters, mail_search.Narrowing | None]:
    filters = inspection.Filters(
        subject=search.subject.strip() or None,
        category=search.category.strip() or None,
        since=_day(search.since, "since", end=False),
        until=_day(search.until, "until", end=True),
    )
    shown = visible(session, mailbox)
    narrowings = [mail_search.Narrowing(shown)] if shown is not None else []
    # The sender is searched through its recipients' (lowercased) copy of it.
    for column, wanted in (("email", search.to), ("from_email", search.from_)):
        if wanted.strip():
            pattern = mail_search.like_escaped(wanted.strip())
            tail = mail_search.unindexed(session)
            narrowings.append(mail_search.messages_with(session, column, pattern, Message.id.expression, tail))
    if not narrowings:
        return filters, None
    condition = and_(*(n.condition for n in narrowings))
    return filters, mail_search.Narrowing(condition, walks=any(n.walks for n in narrowings))


def page(session: Session, mailbox: Mailbox, search: Search, *, offset: int, cursor: str | None = None) -> Page:
    """One page of the inbox, newest first: `cursor` (from the page before) seeks, `offset` skips or numbers."""
    filters, where = _query(session, mailbox, search)
    offset = max(offset, 0)
    found = inspection.search(
        session, filters, limit=PAGE_SIZE, offset=0 if cursor else offset, cursor=cursor, where=where
    )
    messages = found.messages
    recipients = inspection.recipients_of(session, [m.id for m in messages])
    names = account_names(session, {m.account_id for m in messages})
    rows = [
        Row(m, [r.email for r in recipients[m.id] if r.kind == "to"], names.get(m.account_id, m.account_id))
        for m in messages
    ]
    first = messages[0].id if offset <= 0 and messages else poll_state(session, mailbox, search)["newest"]
    return Page(found.total, found.total_exact, offset, rows, first, found.next_cursor)


def account_names(session: Session, ids: set[str]) -> dict[str, str]:
    rows = session.execute(select(Account.id, Account.username, Account.email, Account.kind).where(Account.id.in_(ids)))
    return {
        r.id: "SendGrid Mirror" if r.kind == system_mail.SYSTEM_KIND else (r.username or r.email or r.id) for r in rows
    }


def get(session: Session, mailbox: Mailbox, message_id: str) -> Message:
    """A message the mailbox shows; 404 otherwise (other accounts' mail does not exist for it)."""
    where = visible(session, mailbox)
    query = select(Message).where(Message.id == message_id)
    found = session.scalar(query if where is None else query.where(where))
    if found is None:
        raise NotFound("message not found")
    return found


def view(session: Session, mailbox: Mailbox, message_id: str, position: int) -> MessageView:
    """Everything the message page shows for one personalization."""
    message = get(session, mailbox, message_id)
    envelopes = inspection.envelopes_of(session, message_id)
    raw = inspection.raw(session, message_id, position)
    parsed = inspection.parse_mime(raw)
    recipients = inspection.recipients_of(session, [message_id])[message_id]
    events = inspection.events_of(session, [r.id for r in recipients])
    return MessageView(
        message=message, account=account_names(session, {message.account_id}).get(message.account_id, ""),
        envelopes=envelopes, position=position, parsed=parsed,
        raw=raw[:MAX_RAW_SHOWN].decode("utf-8", "replace"), raw_truncated=len(raw) > MAX_RAW_SHOWN,
        recipients=[RecipientView(r, events[r.id]) for r in recipients],
        links=mail_html.links(parsed.html, parsed.text), remote_content=mail_html.has_remote_content(parsed.html or ""),
    )  # fmt: skip


def html_document(session: Session, mailbox: Mailbox, message_id: str, position: int) -> str:
    """The HTML body prepared for the sandboxed iframe (inline images resolved)."""
    get(session, mailbox, message_id)
    parsed = inspection.parse_mime(inspection.raw(session, message_id, position))
    if parsed.html is None:
        raise NotFound("this message has no html part")
    inline = {p.content_id: (p.content_type, p.payload) for p in parsed.attachments if p.content_id}
    return mail_html.inline_document(parsed.html, inline)


def raw(session: Session, mailbox: Mailbox, message_id: str, position: int) -> bytes:
    get(session, mailbox, message_id)
    return inspection.raw(session, message_id, position)


def attachment(session: Session, mailbox: Mailbox, message_id: str, position: int, index: int) -> inspection.Part:
    get(session, mailbox, message_id)
    return inspection.attachment(session, message_id, position, index)


def delete_one(session: Session, mailbox: Mailbox, message_id: str) -> None:
    session.delete(get(session, mailbox, message_id))
    session.flush()


def clear(session: Session, mailbox: Mailbox) -> None:
    """Forget every message the mailbox shows (recipients and events go with them)."""
    where = visible(session, mailbox)
    if where is None:
        inspection.clear(session)
        return
    session.execute(delete(Message).where(where).execution_options(synchronize_session=False))


def poll_state(session: Session, mailbox: Mailbox, search: Search) -> dict[str, Any]:
    """What the inbox page polls: how many messages match and the newest one's id."""
    filters, where = _query(session, mailbox, search)
    found = inspection.search(session, filters, limit=1, where=where)
    return {"total": found.total, "newest": found.messages[0].id if found.messages else None}
