"""Index-backed conditions over stored mail, shared by the inspection API, the console and Email Activity.

Two tools, each answering without a scan at any store size:
- labels (`MessageLabel`): exact values (addresses, categories, custom arguments) in creation order;
- substring search over the recipients' address, sender and subject: on SQLite an FTS5 trigram table kept
  by triggers, on PostgreSQL a pg_trgm GIN index over the three fields joined. Both give candidates for
  the literal runs of a pattern (three characters or more); the caller's own LIKE then decides exactly.

A substring that matches very many recipients is better found by walking messages newest first and testing
each one (the page fills at once) than by collecting every candidate: `CANDIDATE_LIMIT` is where the caller
switches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, bindparam, func, literal_column, select, text
from sqlalchemy.orm import Session

from app.mail.models import LABEL_SEPARATOR, Message, MessageLabel, Recipient

# More candidates than this and a substring search walks messages newest first instead.
CANDIDATE_LIMIT: Final = 5_000
SUBSTRING_FIELDS: Final = ("email", "from_email", "subject")
_MIN_RUN: Final = 3
_RUN_PARTS = re.compile(r"\\(.)|([%_])|(.)", re.DOTALL)
# The expression PostgreSQL's trigram index is built on (the migration's), repeated verbatim so it is used.
_PG_JOINED: ColumnElement[str] = literal_column(
    "(message_recipients.email || ' ' || message_recipients.from_email || ' ' || "
    "coalesce(message_recipients.subject, ''))"
)


def label(kind: str, value: str) -> tuple[str, str]:
    """A label's (kind, value): t recipient, f sender (both lowercased), c category."""
    return (kind, value.lower() if kind in ("t", "f") else value)


def custom_arg_label(key: str, value: str) -> tuple[str, str]:
    return ("a", f"{key}{LABEL_SEPARATOR}{value}")


def has_label(kind: str, value: str) -> ColumnElement[bool]:
    """Messages carrying the label (a semi-join on the label's key)."""
    return Message.id.in_(select(MessageLabel.message_id).where(MessageLabel.kind == kind, MessageLabel.value == value))


def runs(pattern: str) -> list[str]:
    """The literal runs of a LIKE pattern (`\\` escapes) long enough for a trigram index."""
    found: list[str] = []
    current: list[str] = []
    for match in _RUN_PARTS.finditer(pattern):
        escaped, wildcard, plain = match.groups()
        if wildcard is not None:
            found.append("".join(current))
            current = []
        else:
            current.append(escaped if escaped is not None else plain)
    found.append("".join(current))
    return [run for run in found if len(run) >= _MIN_RUN]


def like_escaped(text_: str) -> str:
    """`text_` as a LIKE pattern matching it anywhere, its wildcards escaped with `\\`."""
    return "%" + text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fts_phrases(field: str, pattern_runs: Sequence[str]) -> str:
    return " AND ".join(f'{field} : "{run.replace(chr(34), chr(34) * 2)}"' for run in pattern_runs)


def few_candidates(session: Session, field: str, pattern: str) -> list[tuple[str, str]] | None:
    """(recipient id, message id) of every recipient whose `field` is LIKE `pattern` in any case, when the
    index narrows it to at most CANDIDATE_LIMIT candidates; None when it cannot (too many, or no run long
    enough), and the caller tests rows one by one instead.

    Read here, in one query, rather than left to the planner inside a larger statement: with no statistics
    SQLite may walk a listing's index and test each row against the whole candidate set.
    """
    pattern_runs = runs(pattern)
    if not pattern_runs:
        return None
    if _dialect(session) == "sqlite":
        search = text(
            "SELECT rowid FROM message_recipients_search WHERE message_recipients_search MATCH :phrases LIMIT :limit"
        ).bindparams(phrases=_fts_phrases(field, pattern_runs), limit=CANDIDATE_LIMIT + 1)
        rowids = [row[0] for row in session.execute(search)]
        if len(rowids) > CANDIDATE_LIMIT:
            return None
        candidates: ColumnElement[bool] = literal_column("message_recipients.rowid").in_(rowids)
    else:
        candidates = and_(*(_PG_JOINED.ilike(like_escaped(run), escape="\\") for run in pattern_runs))
        if _count(session, candidates) > CANDIDATE_LIMIT:
            return None
    exact = getattr(Recipient, field).ilike(pattern, escape="\\")
    return [
        (row[0], row[1]) for row in session.execute(select(Recipient.id, Recipient.message_id).where(candidates, exact))
    ]


def _count(session: Session, candidates: ColumnElement[bool]) -> int:
    limited = select(Recipient.id).where(candidates).limit(CANDIDATE_LIMIT + 1).subquery()
    return session.scalar(select(func.count()).select_from(limited)) or 0


@dataclass(frozen=True)
class Narrowing:
    """A condition on messages; `walks` when it is tested message by message as a listing walks newest
    first (its matches are then not counted beyond the page: a count would walk the whole store)."""

    condition: ColumnElement[bool]
    walks: bool = False


def messages_with(session: Session, field: str, pattern: str, ident: ColumnElement[str]) -> Narrowing:
    """Messages (by their id column `ident`) with a recipient whose `field` is LIKE `pattern` in any case.

    Index-backed when the pattern has a long enough literal run and few candidates; otherwise each message
    is tested as the listing walks newest first.
    """
    found = few_candidates(session, field, pattern)
    if found is not None:
        return Narrowing(ident.in_(_inlined("message_ids", {message_id for _, message_id in found})))
    exact = getattr(Recipient, field).ilike(pattern, escape="\\")
    return Narrowing(select(Recipient.id).where(Recipient.message_id == ident, exact).exists(), walks=True)


def recipients_like(session: Session, field: str, pattern: str) -> ColumnElement[bool]:
    """Recipients whose `field` is LIKE `pattern` in any case, index-backed where the pattern allows."""
    found = few_candidates(session, field, pattern)
    if found is not None:
        return Recipient.id.in_(_inlined("recipient_ids", {recipient_id for recipient_id, _ in found}))
    exact: ColumnElement[bool] = getattr(Recipient, field).ilike(pattern, escape="\\")
    return exact


def _inlined(name: str, values: set[str]) -> Any:
    """Values written into the statement (a set of thousands would pass a driver's limit on parameters)."""
    return bindparam(name, sorted(values), expanding=True, literal_execute=True, unique=True)


def _dialect(session: Session) -> str:
    bind: Any = session.get_bind()
    return str(bind.dialect.name)
