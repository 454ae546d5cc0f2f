"""Word search over what was sent (`/_mirror/messages?text=`): an index written after the send, and its tail.

A message's bodies are stored as MIME, or only as the request until first read, so their words are known
only once decoded: too slow for the send itself. A background pass (`start`) decodes what is new and writes
its words: under an FTS5 index on SQLite (unicode61, diacritics folded, kept by triggers), under a `simple`
tsvector index on PostgreSQL. A search asks the index, then decodes the few messages the pass has not reached yet (the
tail), so its answer is the same either way.

A text matches a message when its words appear in that order in the subject or a text or HTML body (the
HTML's visible text), in any case, the last word as a prefix ("pass" finds "password").
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import html
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    column,
    false,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.kernel.db.base import as_utc
from app.kernel.db.session import Database
from app.kernel.errors import StorageUnavailable
from app.mail import mime, rendering
from app.mail import search as mail_search
from app.mail import validation as mail_validation
from app.mail.message import OutboundMessage
from app.mail.models import Envelope, Message, MessageWords
from app.mail.search import Narrowing

log = logging.getLogger("sgmirror.words")

PASS_SECONDS: Final = 1.0
BATCH: Final = 500
# Messages committed by other processes can land a little behind the newest indexed one; the tail looks
# back this far for any the pass skipped.
TAIL_MARGIN: Final = timedelta(minutes=5)
_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^>]*>")


def tokens(text_: str) -> list[str]:
    """Words as the index sees them: letters and digits, case and diacritics folded."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text_) if not unicodedata.combining(c))
    return _WORD.findall(plain.casefold())


def has_phrase(haystack: list[str], wanted: list[str]) -> bool:
    """`wanted` as consecutive words of `haystack`."""
    size = len(wanted)
    return any(haystack[start : start + size] == wanted for start in range(len(haystack) - size + 1))


def document(words: list[str], dialect: str) -> str:
    """What the index stores: on SQLite the words; on PostgreSQL a tsvector's text, each word with its position
    (which phrase search needs; PostgreSQL keeps positions up to 16,383)."""
    if dialect == "sqlite":
        return " ".join(words)
    return " ".join(f"{word}:{min(position, 16383)}" for position, word in enumerate(words, 1))


# ------------------------------------------------------------------------------------------ the search


@dataclass(frozen=True)
class TextSearch:
    """How a `text` filter is answered: `narrowing` when few messages hold the words (the index gives them
    all), else None and the caller walks `newest_indexed` chunk by chunk after the unindexed `tail` matches."""

    wanted: list[str]
    narrowing: Narrowing | None
    tail: list[str]


def search_for(
    session: Session, candidates: Select[Any], ident: ColumnElement[str], needle: str, *, may_walk: bool = True
) -> TextSearch:
    """Plan a `text` filter over `candidates` (messages, by their id column `ident`); without `may_walk` it is
    always a condition (the long poll asks for the oldest match, which a walk does not give)."""
    wanted = tokens(needle)
    if not wanted:
        return TextSearch(wanted, Narrowing(false()), [])
    tail = _tail_ids(session, candidates, ident, wanted)
    if may_walk and _index_matches(session, wanted) > mail_search.CANDIDATE_LIMIT:
        return TextSearch(wanted, None, tail)
    indexed = ident.in_(select(MessageWords.message_id).where(_in_index(session, wanted)))
    # Inlined rather than bound: the tail can pass a driver's limit on bound parameters.
    in_tail = ident.in_(bindparam("tail_matches", tail, expanding=True, literal_execute=True))
    return TextSearch(wanted, Narrowing(indexed | in_tail if tail else indexed), tail)


def newest_indexed(session: Session, wanted: list[str], *, below: int | None, count: int) -> list[tuple[int, str]]:
    """(seq, message id) of indexed messages holding the words, newest indexed first, seq below `below`.

    The pass indexes in creation order, so this is creation order too (but for a message another process
    committed a moment late); both backends read it straight off an index in that order.
    """
    if _dialect(session) == "sqlite":
        rows = session.execute(
            text(
                "SELECT f.rowid, w.message_id FROM message_words_search f JOIN message_words w ON w.seq = f.rowid "
                "WHERE message_words_search MATCH :words AND f.rowid < :below ORDER BY f.rowid DESC LIMIT :count"
            ),
            {"words": _fts_query(wanted), "below": below if below is not None else 2**62, "count": count},
        )
    else:
        query = select(MessageWords.seq, MessageWords.message_id).where(_holds(session, wanted))
        if below is not None:
            query = query.where(MessageWords.seq < below)
        rows = session.execute(query.order_by(MessageWords.seq.desc()).limit(count))
    return [(row[0], row[1]) for row in rows]


def seq_of(session: Session, message_id: str) -> int | None:
    """The word-index row of a message (None before the pass reaches it)."""
    return session.scalar(select(MessageWords.seq).where(MessageWords.message_id == message_id))


def _fts_query(wanted: list[str]) -> str:
    return '"' + " ".join(wanted) + '"'


def _tsquery(wanted: list[str]) -> str:
    return " <-> ".join(wanted)


def _index_matches(session: Session, wanted: list[str]) -> int:
    """Rows of the word index holding the phrase, counted up to CANDIDATE_LIMIT + 1 (off the index alone)."""
    if _dialect(session) == "sqlite":
        limited = text(
            "SELECT rowid FROM message_words_search WHERE message_words_search MATCH :words LIMIT :limit"
        ).bindparams(words=_fts_query(wanted), limit=mail_search.CANDIDATE_LIMIT + 1)
        return session.scalar(select(func.count()).select_from(limited.columns(column("rowid")).subquery())) or 0
    query = select(MessageWords.seq).where(_holds(session, wanted)).limit(mail_search.CANDIDATE_LIMIT + 1)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _in_index(session: Session, wanted: list[str]) -> ColumnElement[bool]:
    """Word rows holding the phrase, found through the index."""
    if _dialect(session) == "sqlite":
        matches = text("SELECT rowid FROM message_words_search WHERE message_words_search MATCH :words")
        rowids = matches.bindparams(bindparam("words", _fts_query(wanted), unique=True)).columns(column("rowid"))
        return MessageWords.seq.in_(rowids)
    return _holds(session, wanted)


def _holds(session: Session, wanted: list[str]) -> ColumnElement[bool]:
    """PostgreSQL: this word row holds the phrase (its stored tsvector, under the GIN index)."""
    return MessageWords.words.op("@@")(func.to_tsquery(literal_column("'simple'"), _tsquery(wanted)))


def _tail_ids(session: Session, candidates: Select[Any], ident: ColumnElement[str], wanted: list[str]) -> list[str]:
    """Candidates the indexer has not reached, decoded here: those created since its newest row (less a margin)."""
    newest = session.scalar(select(func.max(MessageWords.created_at)))
    unindexed = ~select(MessageWords.seq).where(MessageWords.message_id == ident).exists()
    pending = candidates.where(unindexed).order_by(None)
    if newest is not None:
        pending = pending.where(ident.in_(select(Message.id).where(Message.created_at > newest - TAIL_MARGIN)))
    ids = list(session.scalars(pending))
    found: list[str] = []
    for start in range(0, len(ids), 100):
        chunk = ids[start : start + 100]
        found += [m for m, texts in texts_of(session, chunk).items() if has_phrase(tokens(" ".join(texts)), wanted)]
    return found


# ------------------------------------------------------------------------------------------ the texts


def texts_of(session: Session, message_ids: list[str]) -> dict[str, list[str]]:
    """Each message's subject, personalization subjects and bodies (HTML as its visible text)."""
    messages = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(message_ids)))}
    found: dict[str, list[str]] = {m.id: [m.subject or ""] for m in messages.values()}
    requests: dict[str, OutboundMessage] = {}
    envelopes = session.execute(
        select(Envelope.message_id, Envelope.position, Envelope.subject, Envelope.mime)
        .where(Envelope.message_id.in_(message_ids))
        .order_by(Envelope.message_id, Envelope.position)
    )
    for envelope in envelopes:
        message = messages.get(envelope.message_id)
        if message is not None:
            bodies = _bodies(message, envelope.position, envelope.mime, requests)
            found[message.id] += [envelope.subject or "", *bodies]
    return found


def _bodies(message: Message, position: int, stored: bytes | None, requests: dict[str, OutboundMessage]) -> list[str]:
    """The text and HTML bodies of one personalization, as GET .../text and .../html give them."""
    if stored is None and message.transport == "smtp":
        stored = rendering.render_stored(message, position)
    if stored is not None:
        return [_visible(body, is_html) for body, is_html in _decoded_bodies(stored)]
    # Rendering the MIME only to decode it again would cost milliseconds per message.
    if message.id not in requests:
        created = int(as_utc(message.created_at).timestamp())
        requests[message.id] = mail_validation.parse_mail_send(orjson.loads(message.request), now=created)
    return [_visible(body, "<" in body) for body in mime.body_texts(requests[message.id], position)]


def _visible(body: str, is_html: bool) -> str:
    return html.unescape(_TAG.sub(" ", body)) if is_html else body


def _decoded_bodies(raw: bytes) -> list[tuple[str, bool]]:
    """Every text/plain and text/html part that is not an attachment, decoded (the stdlib's fast compat32 parser)."""
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    bodies = []
    for part in parsed.walk():
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html") and part.get_content_disposition() is None:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                bodies.append((_decoded(payload, part.get_content_charset() or "utf-8"), kind == "text/html"))
    return bodies


def _decoded(payload: bytes, charset: str) -> str:
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _dialect(session: Session) -> str:
    bind: Any = session.get_bind()
    return str(bind.dialect.name)


# ------------------------------------------------------------------------------------------ the indexer


def pending(session: Session, limit: int = BATCH) -> list[tuple[str, datetime]]:
    """The oldest messages without words, from just before the newest indexed one (an index walk)."""
    newest = session.scalar(select(func.max(MessageWords.created_at)))
    unindexed = ~select(MessageWords.seq).where(MessageWords.message_id == Message.id).exists()
    query = select(Message.id, Message.created_at).where(unindexed)
    if newest is not None:
        query = query.where(Message.created_at > newest - TAIL_MARGIN)
    rows = session.execute(query.order_by(Message.created_at, Message.id).limit(limit))
    return [(row.id, row.created_at) for row in rows]


def prepare(session: Session, limit: int = BATCH) -> list[dict[str, Any]]:
    """Rows for the next pending messages: their words, decoded here (never inside the write)."""
    batch = pending(session, limit)
    texts = texts_of(session, [message_id for message_id, _ in batch])
    return [
        {"message_id": m, "created_at": at, "words": document(tokens(" ".join(texts[m])), _dialect(session))}
        for m, at in batch
        if m in texts  # not deleted meanwhile
    ]


def write(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Store prepared rows (a writer job); a message another process indexed first is left alone."""
    insert = (sqlite_insert if conn.dialect.name == "sqlite" else pg_insert)(MessageWords)
    statement = insert.on_conflict_do_nothing(index_elements=["message_id"]).returning(MessageWords.seq)
    return sum(conn.scalar(statement, row) is not None for row in rows)


def _prepare_batch(db: Database) -> list[dict[str, Any]]:
    with db.read_session() as session:
        return prepare(session)


async def catch_up(db: Database) -> int:
    """One pass: index up to BATCH pending messages; how many were written."""
    rows = await asyncio.to_thread(_prepare_batch, db)
    if not rows:
        return 0
    written: int = await db.writer.run(lambda conn: write(conn, rows))
    return written


async def _loop(db: Database) -> None:
    while True:
        try:
            written = await catch_up(db)
        except StorageUnavailable:
            written = 0
        except Exception:
            log.exception("word index pass failed; the next one will try again")
            written = 0
        if written < BATCH // 2:
            await asyncio.sleep(PASS_SECONDS)


def start(db: Database) -> asyncio.Task[None]:
    return asyncio.create_task(_loop(db), name="sgmirror-words")


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
