"""Word search over what was sent (`/_mirror/messages?text=`).

A message's bodies are stored as MIME, or only as the request until first read, so their words are known
only once decoded: too slow for the send itself. The search index pass (`indexer`) decodes what is new and
writes its words: under an FTS5 index on SQLite (unicode61, diacritics folded, kept by triggers), as a
`simple` tsvector under a GIN index on PostgreSQL. A search asks the index, then decodes the few messages the
pass has not reached yet (the tail), so its answer is the same either way.

A text matches a message when its words appear, in that order, in the subject or a text or HTML body (the
HTML's visible text), in any case and with diacritics folded: whole words ("pass" does not find "password").
"""

from __future__ import annotations

import email
import email.policy
import html
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Final

import orjson
from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    column,
    false,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Session

from app.kernel.db.base import as_utc
from app.kernel.errors import SendGridError
from app.mail import mime, rendering
from app.mail import search as mail_search
from app.mail import validation as mail_validation
from app.mail.message import OutboundMessage
from app.mail.models import Envelope, Message, MessageWords
from app.mail.search import Narrowing

log = logging.getLogger("sgmirror.words")

PASS_SECONDS: Final = 1.0
BATCH: Final = 500
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
    all), else None and the caller walks `newest_indexed` chunk by chunk after the `decoded` matches among the
    messages the index pass has not reached."""

    wanted: list[str]
    narrowing: Narrowing | None
    decoded: list[str]


def search_for(
    session: Session,
    candidates: Select[Any],
    ident: ColumnElement[str],
    needle: str,
    *,
    tail: mail_search.Tail,
    may_walk: bool = True,
) -> TextSearch:
    """Plan a `text` filter over `candidates` (messages, by their id column `ident`); without `may_walk` it is
    always a condition (the long poll asks for the oldest match, which a walk does not give)."""
    wanted = tokens(needle)
    if not wanted:
        return TextSearch(wanted, Narrowing(false()), [])
    decoded = _matches_decoded(session, candidates, ident, tail, wanted)
    if may_walk and _index_matches(session, wanted) > mail_search.CANDIDATE_LIMIT:
        return TextSearch(wanted, None, decoded)
    # Read here and inlined: a list the planner drives from (as a subquery, both backends' planners may
    # walk the listing and test every message against it), and longer than a driver's limit on parameters.
    found = set(session.scalars(select(MessageWords.message_id).where(_in_index(session, wanted))))
    found.update(decoded)
    return TextSearch(
        wanted,
        Narrowing(ident.in_(bindparam("text_matches", sorted(found), expanding=True, literal_execute=True))),
        decoded,
    )


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


def _matches_decoded(
    session: Session, candidates: Select[Any], ident: ColumnElement[str], tail: mail_search.Tail, wanted: list[str]
) -> list[str]:
    """The candidates among the `tail` that hold the words, decoded here."""
    if tail.empty:
        return []
    ids = list(session.scalars(candidates.where(ident.in_(tail.messages())).order_by(None)))
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
        try:
            requests[message.id] = mail_validation.parse_mail_send(orjson.loads(message.request), now=created)
        except (SendGridError, orjson.JSONDecodeError):  # it was valid when sent; a later rule may refuse it
            log.warning("message %s: its stored request no longer parses; its bodies are not searched", message.id)
            return []
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
