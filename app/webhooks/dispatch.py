"""Post new events to each enabled Event Webhook, in batches, with retries for 24 hours of mirror time.

A pass has three steps. On the group-commit writer, each enabled webhook's new message_events (read in id
order from its cursor) become pending deliveries holding the exact JSON array to post. Then due deliveries
are claimed — locked with `FOR UPDATE SKIP LOCKED` on PostgreSQL and leased for a minute, so with several
processes each batch goes out from one of them — and POSTed with httpx outside any transaction. Last, each
attempt is logged and its delivery settled: delivered on a 2xx, else retried later (one minute, doubling, at
most an hour apart) until 24 hours after the batch was made.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, exists, insert, select, update

from app.clock import service as clock
from app.kernel.db.base import as_utc
from app.kernel.db.session import Database
from app.mail.models import Envelope, Event, Message, Recipient
from app.webhooks import payload as event_payload
from app.webhooks import posting as webhook_posting
from app.webhooks.models import EventWebhook, WebhookAttempt, WebhookDelivery
from app.webhooks.payload import EVENT_SETTINGS, StoredEvent

log = logging.getLogger("sgmirror.webhooks")

PASS_EVENTS = 2000
CLAIM_SIZE = 20
LEASE = timedelta(seconds=60)
# On PostgreSQL, sequence ids can commit out of order across processes; events written less than this ago
# (by the mirror clock: `recorded_at`, else `occurred_at`) wait, so the cursor never passes an id whose row
# is not visible yet.
POSTGRES_SETTLE = timedelta(seconds=2)
ONE_SHOT_KINDS = frozenset({"test", "replay"})
# The status of a delivery replayed while still pending: its retries stop, the replay posts its events instead.
REPLAYED = "replayed"


def batch_new_events(conn: Connection) -> int:
    """Writer: turn every enabled webhook's new events into pending deliveries; returns the events read."""
    now = clock.read_now(conn)
    hooks = conn.execute(
        select(EventWebhook.id, EventWebhook.account_id, EventWebhook.url, EventWebhook.cursor,
               *(getattr(EventWebhook, name) for name in EVENT_SETTINGS))
        .where(EventWebhook.enabled.is_(True), EventWebhook.url != "")
        .order_by(EventWebhook.id)
        .with_for_update(skip_locked=True)
    ).all()  # fmt: skip
    settled = now if conn.dialect.name == "sqlite" else now - POSTGRES_SETTLE
    return sum(_batch_one(conn, hook, now, settled) for hook in hooks)


def _batch_one(conn: Connection, hook: Any, now: datetime, settled: datetime) -> int:
    events = _events_after(conn, hook.account_id, hook.cursor, now=now, settled=settled)
    if not events:
        return 0
    switches = {name: getattr(hook, name) for name in EVENT_SETTINGS}
    objects = [event_payload.to_json(e) for e in events if event_payload.wanted(e.event, switches)]
    rows = [
        {"account_id": hook.account_id, "webhook_id": hook.id, "kind": "events", "replay_of": None, "url": hook.url,
         "payload": payload, "event_count": count, "status": "pending", "attempts": 0, "next_attempt_at": now,
         "give_up_at": now + event_payload.RETRY_WINDOW, "created_at": now}
        for payload, count in event_payload.batches(objects)
    ]  # fmt: skip
    if rows:
        conn.execute(insert(WebhookDelivery), rows)
    conn.execute(update(EventWebhook).where(EventWebhook.id == hook.id).values(cursor=events[-1].id))
    return len(events)


def _events_after(
    conn: Connection, account_id: str, cursor: int, *, now: datetime, settled: datetime
) -> list[StoredEvent]:
    """The account's events after the cursor, in id order, up to the first that has not happened yet or was
    written after `settled`."""
    rows = conn.execute(
        select(Event.id, Event.event, Event.occurred_at, Event.recorded_at, Event.reason, Event.detail,
               Recipient.id.label("rid"),
               Recipient.email, Recipient.message_id, Recipient.position, Message.categories, Message.template_id,
               Envelope.custom_args)
        .join(Recipient, Recipient.id == Event.recipient_id)
        .join(Message, Message.id == Recipient.message_id)
        .outerjoin(Envelope, and_(Envelope.message_id == Recipient.message_id,
                                  Envelope.position == Recipient.position))
        .where(Recipient.account_id == account_id, Event.id > cursor)
        .order_by(Event.id)
        .limit(PASS_EVENTS)
    )  # fmt: skip
    events: list[StoredEvent] = []
    for row in rows:
        written = as_utc(row.recorded_at or row.occurred_at)
        if as_utc(row.occurred_at) > now or written > settled:
            break
        events.append(
            StoredEvent(
                id=row.id, event=row.event, occurred_at=as_utc(row.occurred_at), recipient_id=row.rid,
                email=row.email, message_id=row.message_id, position=row.position, reason=row.reason,
                detail=row.detail, categories=list(row.categories or []), custom_args=dict(row.custom_args or {}),
                template_id=row.template_id,
            )
        )  # fmt: skip
    return events


def claim_due(conn: Connection) -> list[webhook_posting.Post]:
    """Writer: take up to CLAIM_SIZE due deliveries and lease them; those past their 24 hours fail here."""
    now = clock.read_now(conn)
    due = conn.execute(
        select(WebhookDelivery.id, WebhookDelivery.url, WebhookDelivery.payload, WebhookDelivery.event_count,
               WebhookDelivery.give_up_at, WebhookDelivery.webhook_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(CLAIM_SIZE)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    ).all()  # fmt: skip
    expired = [row.id for row in due if as_utc(row.give_up_at) <= now]
    if expired:
        conn.execute(
            update(WebhookDelivery).where(WebhookDelivery.id.in_(expired)).values(status="failed", next_attempt_at=None)
        )
    live = [row for row in due if row.id not in set(expired)]
    if not live:
        return []
    conn.execute(
        update(WebhookDelivery).where(WebhookDelivery.id.in_([r.id for r in live])).values(next_attempt_at=now + LEASE)
    )
    return [webhook_posting.post_for(conn, r.id, r.url, r.payload, r.event_count, r.webhook_id) for r in live]


def record(conn: Connection, *, results: list[webhook_posting.Result]) -> None:
    """Writer: log each attempt and settle its delivery (delivered, retry later, or failed for good)."""
    if not results:
        return
    conn.execute(insert(WebhookAttempt), [result.attempt_row() for result in results])
    for result in results:
        delivery = conn.execute(
            select(
                WebhookDelivery.attempts, WebhookDelivery.give_up_at, WebhookDelivery.kind, WebhookDelivery.status
            ).where(WebhookDelivery.id == result.delivery_id)
        ).one_or_none()
        if delivery is None:
            continue
        conn.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == result.delivery_id)
            .values(url=result.url, **_settled(delivery, result))
        )


def _settled(delivery: Any, result: webhook_posting.Result) -> dict[str, Any]:
    attempts = delivery.attempts + 1
    if delivery.status == REPLAYED:  # replayed while this attempt was in flight: the replay stands in for retries
        return {"attempts": attempts}
    if result.ok:
        return {"attempts": attempts, "status": "delivered", "next_attempt_at": None}
    next_at = result.at + event_payload.retry_delay(attempts)
    if delivery.kind in ONE_SHOT_KINDS or next_at >= as_utc(delivery.give_up_at):
        return {"attempts": attempts, "status": "failed", "next_attempt_at": None}
    return {"attempts": attempts, "status": "pending", "next_attempt_at": next_at}


@dataclass(frozen=True, slots=True)
class PassResult:
    events: int
    attempts: int


def _anything_to_do(db: Database) -> bool:
    """A cheap read first, so an idle mirror never queues work on the writer."""
    with db.reader.connect() as conn:
        live = select(EventWebhook.id).where(EventWebhook.enabled.is_(True))
        pending = select(WebhookDelivery.id).where(WebhookDelivery.status == "pending")
        return bool(conn.scalar(select(exists(live) | exists(pending))))


async def run_once(db: Database) -> PassResult:
    """Batch every new event and POST every due delivery now; returns the events read and POSTs made."""
    if not _anything_to_do(db):
        return PassResult(0, 0)
    events = 0
    while (read := await db.writer.run(batch_new_events)) > 0:
        events += read
        if read < PASS_EVENTS:
            break
    attempts = 0
    while claimed := await db.writer.run(claim_due):
        results = await webhook_posting.send_all(claimed)
        await db.writer.run(functools.partial(record, results=results))
        attempts += len(results)
    return PassResult(events, attempts)


async def _loop(db: Database, interval: float) -> None:
    while True:
        try:
            await run_once(db)
        except Exception:
            log.exception("event webhook pass failed")
        await asyncio.sleep(interval)


def start(db: Database, interval: float) -> asyncio.Task[None]:
    """Run the dispatcher in the background of the running loop (the server's lifespan)."""
    return asyncio.create_task(_loop(db, interval), name="sgmirror-event-webhooks")
