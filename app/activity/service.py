"""Email Activity (/v3/messages): SendGrid's query language over the stored recipients."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from app.activity import query as activity_query
from app.activity import sql as activity_sql
from app.activity.syntax import And, Comparison, Expr, Value
from app.kernel.db.base import as_utc
from app.kernel.errors import BadRequest, NotFound
from app.kernel.principal import Principal
from app.mail import search as mail_search
from app.mail.models import Event, Message, Recipient

MAX_LIMIT = 1000
DEFAULT_LIMIT = 10

# Query fields the mirror stores; the others parse but are refused with a clear message.
COLUMNS: dict[str, ColumnElement[Any]] = {
    name: column.expression
    for name, column in {
        "msg_id": Recipient.id,
        "to_email": Recipient.email,
        "from_email": Recipient.from_email,
        "subject": Recipient.subject,
        "status": Recipient.status,
        "last_event_time": Recipient.last_event_time,
        "opens": Recipient.opens_count,
        "clicks": Recipient.clicks_count,
        "api_key_id": Message.api_key_id,
        "template_id": Message.template_id,
    }.items()
}

# Event names as the activity feed spells them.
_ACTIVITY_EVENT_NAMES = {
    "bounce": "bounced",
    "open": "opened",
    "click": "clicked",
    "spamreport": "spam_report",
}


@dataclass(frozen=True)
class ActivityEvent:
    event_name: str
    processed: datetime
    reason: str | None
    # The feed's extra fields (attempt_num, url, bounce_type, http_user_agent), from the event's detail.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActivityDetail:
    recipient: Recipient
    message: Message
    events: list[ActivityEvent]


def search(session: Session, principal: Principal, *, query: str | None, limit: str | None) -> list[Recipient]:
    """Recipients of the account matching `query`, most recent event first."""
    if query is None or not query.strip():
        raise BadRequest("query parameter is required")
    parsed = activity_query.parse_query(query)
    rewriter = _Rewriter(session, top_level=_conjuncts(parsed))
    condition = activity_sql.compile_query(parsed, COLUMNS, rewriter)
    # Every match may be among a short list of sends or recipients: then the account is tested through no index, or
    # SQLite (without statistics) would rather walk the account's recipients in order and test each one.
    account = func.coalesce(Recipient.account_id, "") if rewriter.by_message else Recipient.account_id
    statement = (
        select(Recipient)
        .join(Message, Message.id == Recipient.message_id)
        .where(account == principal.account_id, Message.sandbox.is_(False), condition)
        .order_by(Recipient.last_event_time.desc(), Recipient.id)
        .limit(_limit(limit))
    )
    return list(session.scalars(statement))


def _conjuncts(expr: Expr) -> list[Expr]:
    """The parts of a query that every match satisfies (its top-level AND chain)."""
    return _conjuncts(expr.left) + _conjuncts(expr.right) if isinstance(expr, And) else [expr]


class _Rewriter:
    """Compiles comparisons that need more than their column, noting whether one of the query's top-level
    conditions became a short list of sends or recipients (`by_message`)."""

    def __init__(self, session: Session, top_level: list[Expr]) -> None:
        self.session = session
        self.top_level = top_level
        self.by_message = False

    def __call__(self, comparison: Comparison) -> ColumnElement[bool] | None:
        if comparison.field == "subject":
            found = _indexed_subject(self.session, comparison)
        elif comparison.field in _LABELLED_FIELDS and comparison.op == "=":
            found = _labelled_field(self.session, comparison.field, comparison.value)
        else:
            return None
        if found is not None and found[1] and any(part is comparison for part in self.top_level):
            self.by_message = True
        return None if found is None else found[0]


# Fields found through the sends' labels (many recipients or few may share a value): the field's column,
# its label kind, and whether the column must still be compared (a label is the send's, the field the
# recipient's own).
_LABELLED_FIELDS = {
    "api_key_id": (Message.api_key_id, "k", False),
    "template_id": (Message.template_id, "p", False),
    "to_email": (Recipient.email, "t", True),
    "from_email": (Recipient.from_email, "f", True),
}
_FEW: Final = 5_000


def _labelled_field(session: Session, field: str, value: Value) -> tuple[ColumnElement[bool], bool] | None:
    """A rare value drives from the sends labelled with it; a common one is compared as recipients are walked
    by last event (the planner, without statistics, would otherwise gather and sort them all). With the
    condition, whether it is a short list of sends."""
    column, kind, also_compared = _LABELLED_FIELDS[field]
    if not isinstance(value, str):
        return None
    wanted = value.lower() if kind in ("t", "f") else value
    labelled = mail_search.labelled_few(session, kind, wanted, Recipient.message_id.expression, _FEW)
    if labelled is None:
        return func.coalesce(column, "") == wanted, False  # coalesce: the same test, through no index
    return (and_(labelled, column == wanted) if also_compared else labelled), True


def _indexed_subject(session: Session, comparison: Comparison) -> tuple[ColumnElement[bool], bool] | None:
    """`subject` LIKE and = through the substring index (the other comparisons compile as usual), and whether
    it became a short list of recipients."""
    if not isinstance(comparison.value, str):
        return None
    if comparison.op == "LIKE":
        return mail_search.recipients_like(session, "subject", comparison.value)
    if comparison.op == "=":
        found, listed = mail_search.recipients_like(session, "subject", mail_search.like_escaped(comparison.value))
        return and_(found, Recipient.subject == comparison.value), listed
    return None


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(float(raw))
    except ValueError:
        raise BadRequest(f"limit must be an integer between 1 and {MAX_LIMIT}") from None
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer between 1 and {MAX_LIMIT}")
    return value


def detail(session: Session, principal: Principal, msg_id: str) -> ActivityDetail:
    row = session.execute(
        select(Recipient, Message)
        .join(Message, Message.id == Recipient.message_id)
        .where(Recipient.id == msg_id, Recipient.account_id == principal.account_id, Message.sandbox.is_(False))
    ).first()
    if row is None:
        raise NotFound("not found", field="message_id")
    recipient, message = row
    events = session.scalars(select(Event).where(Event.recipient_id == recipient.id).order_by(Event.id))
    return ActivityDetail(
        recipient=recipient,
        message=message,
        events=[
            ActivityEvent(
                _ACTIVITY_EVENT_NAMES.get(e.event, e.event), as_utc(e.occurred_at), e.reason, _extra(e.event, e.detail)
            )
            for e in events
        ],
    )


def _extra(event: str, detail: dict[str, Any] | None) -> dict[str, Any]:
    """The activity feed's names for what the event JSON calls attempt, url, type and useragent."""
    if not detail:
        return {}
    extra = {
        "attempt_num": detail.get("attempt") if event == "deferred" else None,
        "url": detail.get("url"),
        "bounce_type": ("hard" if detail.get("type", "bounce") == "bounce" else "soft") if event == "bounce" else None,
        "http_user_agent": detail.get("useragent"),
    }
    return {key: value for key, value in extra.items() if value is not None}
