"""Prune stored mail past SGMIRROR_RETENTION_MAX_MESSAGES (the oldest first) or older than
SGMIRROR_RETENTION_MAX_AGE_DAYS by the mirror clock, with every row that hangs off each message.

A pass first finds, on a read connection (never the writer), where the kept messages begin: the age cut,
or the newest `max_messages` by (created_at, id), whichever keeps fewer. Both are index walks bounded by
the cap, never the whole table. Then it deletes what lies before that in small batches, each its own short
job in the group commit, so a send waits for one batch at most. On PostgreSQL a batch first takes a
transaction-level advisory lock without waiting: when another process is pruning, this one lets it.

Children go before their parents, in the order the scheduler and the delivery pass lock rows (their queue
rows, then recipients, then events), so a prune and a pass never wait for each other in a cycle.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Final

from sqlalchemy import ColumnElement, Connection, and_, delete, func, or_, select

from app.clock import service as clock
from app.delivery.models import PendingEvent
from app.kernel.config import Settings
from app.kernel.db.base import as_utc
from app.kernel.db.session import Database
from app.kernel.errors import StorageUnavailable
from app.mail.models import Envelope, Event, Message, Recipient
from app.scheduling.models import ScheduledDelivery

log = logging.getLogger("sgmirror.retention")

PASS_SECONDS: Final = 5.0
BATCH_MESSAGES: Final = 200
# A batch also stops once its messages hold this many recipients (each has its events).
BATCH_RECIPIENTS: Final = 500
# pg_try_advisory_xact_lock key: one pruning process at a time.
LOCK_KEY: Final = 0x5347_5245_5445  # "SGRETE"


@dataclass(frozen=True, slots=True)
class Policy:
    """What to keep: at most `max_messages` (0: any number), none older than `max_age` (None: any age)."""

    max_messages: int = 0
    max_age: timedelta | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy | None:
        """The configured policy, or None when nothing is ever pruned."""
        days = settings.retention_max_age_days
        policy = cls(max(settings.retention_max_messages, 0), timedelta(days=days) if days > 0 else None)
        return policy if policy.max_messages or policy.max_age else None


@dataclass(frozen=True, slots=True)
class Cut:
    """Messages before this point go: `created_at` earlier than `at`, or equal to it with an id up to `last_id`."""

    at: datetime
    last_id: str | None = None

    def condition(self) -> ColumnElement[bool]:
        if self.last_id is None:
            return Message.created_at < self.at
        return and_(
            Message.created_at <= self.at,
            or_(Message.created_at < self.at, Message.id <= self.last_id),
        )


def find_cut(conn: Connection, policy: Policy, now: datetime) -> Cut | None:
    """Where the kept messages begin (None: nothing to prune), from the age and the count cap."""
    cuts = []
    if policy.max_age is not None:
        cuts.append(Cut(now - policy.max_age))
    if policy.max_messages:
        by_count = _count_cut(conn, policy.max_messages)
        if by_count is not None:
            cuts.append(by_count)
    if not cuts:
        return None
    return max(cuts, key=lambda cut: (cut.at, cut.last_id is not None, cut.last_id or ""))


def _count_cut(conn: Connection, keep: int) -> Cut | None:
    """The first message beyond the newest `keep` (by created_at, then id), as a cut; None when there are
    no more than `keep`. Walks the created_at index over `keep` entries; only messages at exactly the cut's
    time are read from the table."""
    newest_first = select(Message.created_at).order_by(Message.created_at.desc())
    at = conn.scalar(newest_first.limit(1).offset(keep))
    if at is None:
        return None
    at = as_utc(at)
    newer = conn.scalar(select(func.count()).select_from(Message).where(Message.created_at > at)) or 0
    tied = list(conn.scalars(select(Message.id).where(Message.created_at == at).order_by(Message.id.desc())))
    # Of the messages at exactly `at`, the ones with the highest ids are still among the newest `keep`.
    # (On PostgreSQL each query sees its own snapshot: sends meanwhile can only push more of them out.)
    kept_here = keep - newer
    if kept_here >= len(tied):
        return Cut(at)
    return Cut(at, tied[max(kept_here, 0)])


def prune_batch(conn: Connection, *, cut: Cut) -> tuple[int, bool]:
    """One job in the group commit: delete up to one batch of messages before `cut`, children first.
    Returns (messages deleted, whether more may be waiting)."""
    if conn.dialect.name == "postgresql" and not conn.scalar(select(func.pg_try_advisory_xact_lock(LOCK_KEY))):
        return 0, False
    # One more than a batch, to know whether another batch follows.
    oldest = select(Message.id).where(cut.condition()).order_by(Message.created_at).limit(BATCH_MESSAGES + 1)
    candidates = list(conn.scalars(oldest))
    holder = _holder_of_newest_event(conn)
    eligible = [message_id for message_id in candidates if message_id != holder]
    ids = _within_budget(conn, eligible[:BATCH_MESSAGES])
    if not ids:
        return 0, False
    more = len(ids) < len(eligible)
    recipients = select(Recipient.id).where(Recipient.message_id.in_(ids)).scalar_subquery()
    conn.execute(delete(ScheduledDelivery).where(ScheduledDelivery.message_id.in_(ids)))
    conn.execute(delete(PendingEvent).where(PendingEvent.recipient_id.in_(recipients)))
    conn.execute(delete(Event).where(Event.recipient_id.in_(recipients)))
    conn.execute(delete(Recipient).where(Recipient.message_id.in_(ids)))
    conn.execute(delete(Envelope).where(Envelope.message_id.in_(ids)))
    conn.execute(delete(Message).where(Message.id.in_(ids)))
    return len(ids), more


def _holder_of_newest_event(conn: Connection) -> str | None:
    """SQLite only: the message holding the highest message_events id, which stays. SQLite gives a new
    row the highest id plus one, so deleting that row would hand its id out again, and an Event Webhook
    whose cursor had passed it would skip the events that get it."""
    if conn.dialect.name != "sqlite":
        return None
    newest = select(func.max(Event.id)).scalar_subquery()
    holder = select(Recipient.message_id).join(Event, Event.recipient_id == Recipient.id).where(Event.id == newest)
    found: str | None = conn.scalar(holder)
    return found


def _within_budget(conn: Connection, ids: list[str]) -> list[str]:
    """The oldest of `ids` whose recipients stay within BATCH_RECIPIENTS (at least one message)."""
    if not ids:
        return ids
    per_message = select(Recipient.message_id, func.count()).where(Recipient.message_id.in_(ids))
    counts: dict[str, int] = {row[0]: row[1] for row in conn.execute(per_message.group_by(Recipient.message_id))}
    chosen: list[str] = []
    total = 0
    for message_id in ids:
        total += counts.get(message_id, 0)
        if chosen and total > BATCH_RECIPIENTS:
            break
        chosen.append(message_id)
    return chosen


async def run_once(db: Database, policy: Policy) -> int:
    """Prune everything the policy says goes, one batch per group commit; returns the messages pruned."""
    cut = await asyncio.to_thread(_read_cut, db, policy)
    total = 0
    while cut is not None:
        pruned, more = await db.writer.run(partial(prune_batch, cut=cut))
        total += pruned
        if not more:
            break
    if total:
        log.info("retention pruned %d messages", total)
    return total


def _read_cut(db: Database, policy: Policy) -> Cut | None:
    # On SQLite the connection's one (deferred) transaction gives the count cut's queries one snapshot.
    with db.reader.connect() as conn:
        return find_cut(conn, policy, clock.now(db))


async def _loop(db: Database, policy: Policy) -> None:
    while True:
        try:
            await run_once(db, policy)
        except StorageUnavailable as refused:
            log.warning("retention pass skipped: the database cannot be written (%s)", refused.condition)
        except Exception:
            log.exception("retention pass failed")
        await asyncio.sleep(PASS_SECONDS)


def start(db: Database, settings: Settings) -> asyncio.Task[None] | None:
    """The retention pass in the background of the running loop; None when nothing is ever pruned."""
    policy = Policy.from_settings(settings)
    if policy is None:
        return None
    return asyncio.create_task(_loop(db, policy), name="sgmirror-retention")
