"""Deliver scheduled sends when the mirror clock reaches their send_at, once, whatever the number of processes.

Mail send stores a `scheduled_deliveries` row per personalization with a future send_at (in the same
transaction as the message). A pass, on the group-commit writer, takes the due rows — locked with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two processes never take the same row; SQLite has one writer
at a time — and gives each its fate by its batch's status: delivered, discarded (cancelled) or expired
(paused more than 72 hours past send_at). Paused rows wait. Each row is deleted with its fate.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, insert, or_, select, update

from app.clock import service as clock
from app.delivery import event_pass as delivery_pass
from app.kernel.db.base import table_of
from app.kernel.db.session import Database
from app.kernel.errors import StorageUnavailable
from app.mail.models import Event, Message, Recipient
from app.scheduling.models import ScheduledDelivery, ScheduledSend

log = logging.getLogger("sgmirror.scheduler")

PAUSE_EXPIRY = timedelta(hours=72)
PASS_SIZE = 500
CANCELLED = "Scheduled send cancelled"
EXPIRED = "Scheduled send expired: paused more than 72 hours past its send_at"

_DELIVERIES = table_of(ScheduledDelivery)


def with_deliveries(
    tables: dict[Table, list[dict[str, Any]]], message: dict[str, Any], envelopes: list[dict[str, Any]], now: datetime
) -> dict[Table, list[dict[str, Any]]]:
    """The rows of a send plus a delivery row for each personalization whose send_at is still to come."""
    if message["sandbox"]:
        return tables
    waiting = [
        {
            "message_id": envelope["message_id"],
            "position": envelope["position"],
            "account_id": message["account_id"],
            "batch_id": message["batch_id"],
            "due_at": envelope["send_at"],
        }
        for envelope in envelopes
        if envelope["send_at"] is not None and envelope["send_at"] > now
    ]
    if waiting:
        tables[_DELIVERIES] = waiting
    return tables


@dataclass(frozen=True, slots=True)
class _Due:
    id: int
    message_id: str
    position: int
    fate: str


def deliver_due(conn: Connection) -> int:
    """One pass in the group commit: settle up to PASS_SIZE due deliveries; returns how many."""
    now = clock.read_now(conn)
    due = _take_due(conn, now)
    if not due:
        return 0
    for fate in ("delivered", "cancelled", "expired"):
        chosen = [d for d in due if d.fate == fate]
        if chosen:
            _settle(conn, chosen, fate, now)
    conn.execute(delete(ScheduledDelivery).where(ScheduledDelivery.id.in_([d.id for d in due])))
    _close_messages(conn, {d.message_id for d in due})
    return len(due)


def _take_due(conn: Connection, now: datetime) -> list[_Due]:
    status = ScheduledSend.status
    query = (
        select(ScheduledDelivery.id, ScheduledDelivery.message_id, ScheduledDelivery.position,
               ScheduledDelivery.due_at, status)
        .outerjoin(ScheduledSend, ScheduledSend.batch_id == ScheduledDelivery.batch_id)
        .where(
            ScheduledDelivery.due_at <= now,
            or_(
                status.is_(None),
                status == "cancel",
                and_(status == "pause", ScheduledDelivery.due_at <= now - PAUSE_EXPIRY),
            ),
        )
        .order_by(ScheduledDelivery.due_at, ScheduledDelivery.id)
        .limit(PASS_SIZE)
        .with_for_update(of=_DELIVERIES, skip_locked=True)
    )  # fmt: skip
    fates = {None: "delivered", "cancel": "cancelled", "pause": "expired"}
    return [_Due(row.id, row.message_id, row.position, fates[row.status]) for row in conn.execute(query)]


def _settle(conn: Connection, due: list[_Due], fate: str, now: datetime) -> None:
    """Delivered recipients get `delivered`; discarded ones `dropped` with the reason."""
    wanted = {(d.message_id, d.position) for d in due}
    rows = conn.execute(
        select(Recipient.id, Recipient.message_id, Recipient.position).where(
            Recipient.message_id.in_({d.message_id for d in due}), Recipient.status == "processed"
        )
    )
    ids = [row.id for row in rows if (row.message_id, row.position) in wanted]
    if not ids:
        return
    delivered = fate == "delivered"
    if delivered:
        # Recipients the delivery simulator gave a fate get its events instead (delivery_pass applies them).
        planned = delivery_pass.release(conn, ids, now)
        ids = [i for i in ids if i not in planned]
        if not ids:
            return
    else:
        delivery_pass.discard(conn, ids)
    conn.execute(
        update(Recipient)
        .where(Recipient.id.in_(ids))
        .values(status="delivered" if delivered else "not_delivered", last_event_time=now)
    )
    reason = None if delivered else (CANCELLED if fate == "cancelled" else EXPIRED)
    event = "delivered" if delivered else "dropped"
    conn.execute(
        insert(Event), [{"recipient_id": i, "event": event, "occurred_at": now, "reason": reason} for i in ids]
    )


def _close_messages(conn: Connection, message_ids: set[str]) -> None:
    """A message with nothing left to deliver is `sent` if anyone got it, else cancelled or expired."""
    pending = set(
        conn.scalars(select(ScheduledDelivery.message_id).where(ScheduledDelivery.message_id.in_(message_ids)))
    )
    for message_id in message_ids - pending:
        statuses = set(conn.scalars(select(Recipient.status).where(Recipient.message_id == message_id)))
        events = set(
            conn.scalars(
                select(Event.reason).join(Recipient).where(Recipient.message_id == message_id, Event.event == "dropped")
            )
        )
        # "processed": released to the delivery simulator, whose events come next; recipients dropped as
        # suppressed at ingest were sent too.
        status = "sent"
        if not statuses & {"delivered", "processed"}:
            status = "expired" if EXPIRED in events else ("cancelled" if CANCELLED in events else "sent")
        conn.execute(
            update(Message).where(Message.id == message_id, Message.status == "scheduled").values(status=status)
        )


async def run_once(db: Database) -> int:
    """Deliver everything due now (several passes if needed); returns how many personalizations."""
    total = 0
    while True:
        settled: int = await db.writer.run(deliver_due)
        total += settled
        if settled < PASS_SIZE:
            break
    # Then the delivery simulator's events that are due (including those of sends just delivered).
    while await db.writer.run(delivery_pass.apply_due) >= delivery_pass.PASS_SIZE:
        pass
    return total


async def _loop(db: Database, interval: float) -> None:
    while True:
        try:
            await run_once(db)
        except StorageUnavailable as refused:
            log.warning("scheduler pass skipped: the database cannot be written (%s)", refused.condition)
        except Exception:
            log.exception("scheduler pass failed")
        await asyncio.sleep(interval)


def start(db: Database, interval: float) -> asyncio.Task[None]:
    """Run the scheduler in the background of the running loop (the server's lifespan)."""
    return asyncio.create_task(_loop(db, interval), name="sgmirror-scheduler")
