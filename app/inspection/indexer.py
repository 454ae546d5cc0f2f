"""The search index pass: the search structures of each new message, written a moment after its send.

A send commits only what it must keep (its message, envelopes, recipients, events); what searches read is
derived from those rows and written here, in the background, so that no send pays for it: the message's
labels (`MessageLabel`), its words (`MessageWords`, from the decoded bodies), and on SQLite its recipients'
rows of the trigram table (PostgreSQL keeps that index itself). A message has been indexed once its words
row exists; the pass goes in id order, so a message is indexed when its id is at most the newest words row's.
A search covers the messages the pass has not reached yet (`mail.search.unindexed`, the tail) by testing
them directly, so its answer does not depend on how far the pass has got.

The pass runs a batch a second, at once again while it finds full batches, and yields the event loop
between batches; its writes go through the group commit like any other. While sends are flowing it only
trickles (decoding a message's bodies costs about what its send did), and catches up once they pause.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import Connection, bindparam, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.inspection import words
from app.kernel.db import bulk
from app.kernel.db.base import table_of
from app.kernel.db.session import Database
from app.kernel.errors import StorageUnavailable
from app.mail import search as mail_search
from app.mail import service as mail_service
from app.mail.models import Envelope, Message, MessageLabel, MessageWords, Recipient

log = logging.getLogger("sgmirror.indexer")

PASS_SECONDS: Final = 1.0
BATCH: Final = 500
# Other commits this recent mean sends are flowing: the pass then takes TRICKLE messages a second.
IDLE_SECONDS: Final = 0.5
TRICKLE: Final = 25


@dataclass
class Batch:
    """What one pass writes: per message its words row, then its labels."""

    words: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def pending(session: Session, limit: int = BATCH, settle: timedelta = mail_search.SETTLE) -> list[str]:
    """The next messages to index, in id order: after the newest indexed, sent `settle` ago or earlier."""
    # Every message sent up to `settle` ago, the current millisecond included.
    settled = mail_service.first_message_id_of(int((time.time() - settle.total_seconds()) * 1000) + 1)
    query = mail_search.unindexed_messages(session).where(Message.id < settled)
    return list(session.scalars(query.order_by(Message.id).limit(limit)))


def prepare(session: Session, limit: int = BATCH, settle: timedelta = mail_search.SETTLE) -> Batch:
    """The next pending messages' rows, decoded and built here (never inside the write)."""
    ids = pending(session, limit, settle)
    texts = words.texts_of(session, ids)
    dialect = str(session.get_bind().dialect.name)
    found = Batch()
    for message_id in ids:
        if message_id in texts:  # not deleted meanwhile
            document = words.document(words.tokens(" ".join(texts[message_id])), dialect)
            found.words.append({"message_id": message_id, "words": document})
    found.labels = _labels(session, [row["message_id"] for row in found.words])
    return found


def _labels(session: Session, message_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each message's label rows (see mail.search.labels_of)."""
    if not message_ids:
        return {}
    addresses: dict[str, list[str]] = {m: [] for m in message_ids}
    senders: dict[str, set[str]] = {m: set() for m in message_ids}
    for message_id, email, from_email in session.execute(
        select(Recipient.message_id, Recipient.email, Recipient.from_email).where(Recipient.message_id.in_(message_ids))
    ):
        addresses[message_id].append(email)
        senders[message_id].add(from_email)
    custom_args: dict[str, list[dict[str, Any]]] = {m: [] for m in message_ids}
    for message_id, args in session.execute(
        select(Envelope.message_id, Envelope.custom_args).where(Envelope.message_id.in_(message_ids))
    ):
        custom_args[message_id].append(args)
    rows = session.execute(
        select(
            Message.id, Message.created_at, Message.from_email, Message.api_key_id, Message.template_id,
            Message.categories, Message.custom_args,
        ).where(Message.id.in_(message_ids))
    )  # fmt: skip
    return {
        row.id: mail_search.labels_of(row, [row.custom_args, *custom_args[row.id]], addresses[row.id], senders[row.id])
        for row in rows
    }


def write(conn: Connection, batch: Batch) -> int:
    """Store a prepared batch (a writer job); a message another process indexed first is left alone."""
    sqlite = conn.dialect.name == "sqlite"
    insert = (sqlite_insert if sqlite else pg_insert)(MessageWords)
    statement = insert.on_conflict_do_nothing(index_elements=["message_id"]).returning(MessageWords.seq)
    won = [row["message_id"] for row in batch.words if conn.scalar(statement, row) is not None]
    labels = [label for message_id in won for label in batch.labels.get(message_id, [])]
    if labels:
        prepared = bulk.prepare(table_of(MessageLabel), labels, conn.dialect.name)
        bulk.execute(conn, prepared, prepared.values)
    if sqlite and won:
        conn.execute(
            text(
                "INSERT INTO message_recipients_search (rowid, email, from_email, subject) "
                "SELECT rowid, email, from_email, subject FROM message_recipients WHERE message_id IN :ids"
            ).bindparams(bindparam("ids", won, expanding=True))
        )
    return len(won)


def _prepare_batch(db: Database, limit: int, settle: timedelta) -> Batch:
    with db.read_session() as session:
        return prepare(session, limit, settle)


async def catch_up(db: Database, settle: timedelta = mail_search.SETTLE, limit: int = BATCH) -> int:
    """One pass: index up to `limit` pending messages; how many were written (`settle`: see `pending`)."""
    batch = await asyncio.to_thread(_prepare_batch, db, limit, settle)
    if not batch.words:
        return 0
    written: int = await db.writer.run(lambda conn: write(conn, batch))
    return written


async def _loop(db: Database) -> None:
    own_commits = db.commits.count
    while True:
        # While sends are committing, a trickle only: decoding bodies costs about what a send does, and
        # searches test the messages not reached yet anyway.
        busy = db.commits.count != own_commits and time.monotonic() - db.commits.last_at < IDLE_SECONDS
        try:
            written = await catch_up(db, limit=TRICKLE if busy else BATCH)
        except StorageUnavailable:
            written = 0
        except Exception:
            log.exception("search index pass failed; the next one will try again")
            written = 0
        own_commits = db.commits.count
        await asyncio.sleep(0 if written >= BATCH // 2 else PASS_SECONDS)


def start(db: Database) -> asyncio.Task[None]:
    return asyncio.create_task(_loop(db), name="sgmirror-search-index")
