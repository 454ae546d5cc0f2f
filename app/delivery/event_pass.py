"""Simulated events falling due: a pass on the group-commit writer moves them into message_events.

Like the scheduler, the pass takes due rows of pending_events with `FOR UPDATE SKIP LOCKED` on PostgreSQL
(SQLite has one writer at a time), so two processes never apply one event twice. Applying an event writes it
with its due time, updates the recipient (status, opens/clicks, last event time) and fills the suppression
list it names. Scheduled sends keep their pending events undated until the scheduler delivers them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, insert, literal, select, update

from app.clock import service as clock
from app.delivery import fates as delivery_fates
from app.delivery import service as delivery
from app.delivery.fates import Step
from app.delivery.models import PendingEvent
from app.kernel.db.base import as_utc, table_of
from app.mail.models import Event, Recipient

PASS_SIZE = 500
_PENDING = table_of(PendingEvent)


@dataclass
class _Change:
    """What one pass does to one recipient row."""

    status: str | None = None
    opens: int = 0
    clicks: int = 0
    last: datetime | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


def apply_due(conn: Connection) -> int:
    """One pass in the group commit: apply up to PASS_SIZE due events; returns how many."""
    now = clock.read_now(conn)
    query = (
        select(
            PendingEvent.id, PendingEvent.recipient_id, PendingEvent.event, PendingEvent.due_at,
            PendingEvent.reason, PendingEvent.detail, Recipient.account_id, Recipient.email,
        )
        .join(Recipient, Recipient.id == PendingEvent.recipient_id)
        .where(PendingEvent.due_at <= now)
        .order_by(PendingEvent.due_at, PendingEvent.id)
        .limit(PASS_SIZE)
        .with_for_update(of=_PENDING, skip_locked=True)
    )  # fmt: skip
    due = list(conn.execute(query))
    if not due:
        return 0
    changes: dict[str, _Change] = {}
    for row in due:
        at = as_utc(row.due_at)
        one = delivery_fates.step(row.event, 0, row.reason, row.detail)
        _record(changes.setdefault(row.recipient_id, _Change()), row.recipient_id, one, at)
        delivery.add_to_list(conn, row.account_id, row.email, one, at=at)
    events = [{**e, "recorded_at": now} for change in changes.values() for e in change.events]
    conn.execute(insert(Event), events)
    _update_recipients(conn, changes)
    conn.execute(delete(PendingEvent).where(PendingEvent.id.in_([row.id for row in due])))
    return len(due)


def _record(change: _Change, recipient_id: str, one: Step, at: datetime) -> None:
    change.events.append(delivery.event_row(recipient_id, one.event, at, one.reason, one.detail))
    change.status = delivery_fates.STATUS_AFTER.get(one.event, change.status)
    change.opens += one.event == "open"
    change.clicks += one.event == "click"
    change.last = at if change.last is None or at > change.last else change.last


def _update_recipients(conn: Connection, changes: dict[str, _Change]) -> None:
    for recipient_id, change in changes.items():
        last = literal(change.last, Recipient.last_event_time.type)
        values: dict[str, Any] = {
            "opens_count": Recipient.opens_count + change.opens,
            "clicks_count": Recipient.clicks_count + change.clicks,
            "last_event_time": case((Recipient.last_event_time < last, last), else_=Recipient.last_event_time),
        }
        if change.status is not None:
            values["status"] = change.status
        conn.execute(update(Recipient).where(Recipient.id == recipient_id).values(**values))


def release(conn: Connection, recipient_ids: Iterable[str], sent_at: datetime) -> set[str]:
    """A scheduled send goes out: date its recipients' waiting events from `sent_at`; returns who had any."""
    ids = list(recipient_ids)
    if not ids:
        return set()
    waiting = list(
        conn.execute(
            select(PendingEvent.id, PendingEvent.recipient_id, PendingEvent.delay).where(
                PendingEvent.recipient_id.in_(ids), PendingEvent.due_at.is_(None)
            )
        )
    )
    if not waiting:
        return set()
    conn.execute(
        update(PendingEvent).where(PendingEvent.id == bindparam("pid")).values(due_at=bindparam("due")),
        [{"pid": row.id, "due": sent_at + timedelta(seconds=row.delay)} for row in waiting],
    )
    return {row.recipient_id for row in waiting}


def discard(conn: Connection, recipient_ids: Iterable[str]) -> None:
    """A scheduled send will never go out (cancelled, expired): its recipients' waiting events go too."""
    ids = list(recipient_ids)
    if ids:
        conn.execute(delete(PendingEvent).where(PendingEvent.recipient_id.in_(ids), PendingEvent.due_at.is_(None)))
