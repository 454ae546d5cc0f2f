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

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, String, and_, bindparam, cast, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from app.mail.models import LABEL_SEPARATOR, Envelope, Message, MessageLabel, MessageWords, Recipient

# More candidates than this and a substring search walks messages newest first instead.
CANDIDATE_LIMIT: Final = 5_000
# The index pass takes a message once its id (which starts with the real time of its send) is this much
# in the past, so that no send still committing can land behind the pass.
SETTLE: Final = timedelta(seconds=2)
SUBSTRING_FIELDS: Final = ("email", "from_email", "subject")
_MIN_RUN: Final = 3
_RUN_PARTS = re.compile(r"\\(.)|([%_])|(.)", re.DOTALL)
# The expression PostgreSQL's trigram index is built on (the migration's), repeated verbatim so it is used.
_PG_JOINED: ColumnElement[str] = literal_column(
    "(message_recipients.email || ' ' || message_recipients.from_email || ' ' || "
    "coalesce(message_recipients.subject, ''))"
)


# Labels that are a column of the message as it is: the API key and the template.
_MESSAGE_COLUMNS = {"k": Message.api_key_id, "p": Message.template_id}


def label(kind: str, value: str) -> tuple[str, str]:
    """A label's (kind, value): t recipient, f sender (both lowercased), c category, k API key id, p template id."""
    return (kind, value.lower() if kind in ("t", "f") else value)


def custom_arg_label(key: str, value: str) -> tuple[str, str]:
    return ("a", f"{key}{LABEL_SEPARATOR}{value}")


def labels_of(
    message: Any, custom_args: list[dict[str, Any]], addresses: list[str], senders: set[str]
) -> list[dict[str, Any]]:
    """A message's label rows (`message` has its columns as attributes): each distinct recipient address,
    sender (the message's and each personalization's), API key, template, category and custom argument (the
    message's and every personalization's, string values)."""
    found = dict.fromkeys(label("t", address) for address in addresses)
    found.update(dict.fromkeys(label("f", sender) for sender in {message.from_email, *senders}))
    for kind, column in _MESSAGE_COLUMNS.items():
        if getattr(message, column.key) is not None:
            found[(kind, getattr(message, column.key))] = None
    categories = message.categories
    found.update(dict.fromkeys(label("c", category) for category in categories if isinstance(category, str)))
    for args in custom_args:
        found.update(dict.fromkeys(custom_arg_label(k, v) for k, v in args.items() if isinstance(v, str)))
    return [{"kind": k, "value": v, "created_at": message.created_at, "message_id": message.id} for k, v in found]


def labelled(kind: str, value: str, ident: ColumnElement[str], tail: Tail) -> ColumnElement[bool]:
    """Messages with the label: from the label index, and among the `tail` (not labelled yet) those that
    match plainly."""
    indexed = ident.in_(select(MessageLabel.message_id).where(MessageLabel.kind == kind, MessageLabel.value == value))
    if tail.empty:
        return indexed
    return or_(indexed, ident.in_(tail.messages().where(plainly_labelled(kind, value))))


def labelled_few(
    session: Session, kind: str, value: str, ident: ColumnElement[str], limit: int
) -> ColumnElement[bool] | None:
    """Messages with the label as a list of ids read here, when at most `limit` carry it (else None), the
    unindexed tail's plain matches included: a list the planner drives from, where a subquery might become a
    set that each row of a long walk is tested against."""
    labelled_ = select(MessageLabel.message_id).where(MessageLabel.kind == kind, MessageLabel.value == value)
    ids = set(session.scalars(labelled_.limit(limit + 1)))
    if len(ids) > limit:
        return None
    tail = unindexed(session)
    if not tail.empty:
        ids.update(session.scalars(tail.messages().where(plainly_labelled(kind, value))))
    return ident.in_(_inlined("labelled", ids))


def plainly_labelled(kind: str, value: str) -> ColumnElement[bool]:
    """What the label says, read from the message's own rows."""
    if kind in _MESSAGE_COLUMNS:
        return _MESSAGE_COLUMNS[kind] == value
    if kind == "t":
        return select(Recipient.id).where(Recipient.message_id == Message.id, Recipient.email == value).exists()
    if kind == "f":
        by_personalization = select(Recipient.id).where(
            Recipient.message_id == Message.id, Recipient.from_email == value
        )
        return or_(func.lower(Message.from_email) == value, by_personalization.exists())
    if kind == "c":
        return cast(Message.categories, String).contains(json.dumps(value), autoescape=True)
    key, _, arg = value.partition(LABEL_SEPARATOR)
    needle = json.dumps({key: arg})[1:-1]
    in_envelope = select(Envelope.id).where(
        Envelope.message_id == Message.id, cast(Envelope.custom_args, String).contains(needle, autoescape=True)
    )
    return or_(cast(Message.custom_args, String).contains(needle, autoescape=True), in_envelope.exists())


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


def few_candidates(session: Session, field: str, pattern: str, tail: Tail) -> list[tuple[str, str]] | None:
    """(recipient id, message id) of every recipient whose `field` is LIKE `pattern` in any case, when the
    index narrows it to at most CANDIDATE_LIMIT candidates; None when it cannot (too many, or no run long
    enough), and the caller tests rows one by one.

    Read here, in one query, rather than left to the planner inside a larger statement: with no statistics
    SQLite may walk a listing's index and test each row against the whole candidate set. The recipients of
    the `tail` messages, not in the index yet, are tested directly.
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
    found = list(session.execute(select(Recipient.id, Recipient.message_id).where(candidates, exact)))
    if not tail.empty:  # a query of its own: OR-ed into the one above, it would scan the recipients
        tail_recipients = Recipient.message_id.in_(tail.messages())
        found += session.execute(select(Recipient.id, Recipient.message_id).where(tail_recipients, exact))
    return [(row[0], row[1]) for row in found]


def _count(session: Session, candidates: ColumnElement[bool]) -> int:
    limited = select(Recipient.id).where(candidates).limit(CANDIDATE_LIMIT + 1).subquery()
    return session.scalar(select(func.count()).select_from(limited)) or 0


@dataclass(frozen=True)
class Narrowing:
    """A condition on messages; `walks` when it is tested message by message as a listing walks newest
    first (its matches are then not counted beyond the page: a count would walk the whole store)."""

    condition: ColumnElement[bool]
    walks: bool = False


def messages_with(session: Session, field: str, pattern: str, ident: ColumnElement[str], tail: Tail) -> Narrowing:
    """Messages (by their id column `ident`) with a recipient whose `field` is LIKE `pattern` in any case.

    Index-backed when the pattern has a long enough literal run and few candidates; otherwise each message
    is tested as the listing walks newest first.
    """
    found = few_candidates(session, field, pattern, tail)
    if found is not None:
        return Narrowing(ident.in_(_inlined("message_ids", {message_id for _, message_id in found})))
    exact = getattr(Recipient, field).ilike(pattern, escape="\\")
    return Narrowing(select(Recipient.id).where(Recipient.message_id == ident, exact).exists(), walks=True)


def recipients_like(session: Session, field: str, pattern: str) -> tuple[ColumnElement[bool], bool]:
    """Recipients whose `field` is LIKE `pattern` in any case, index-backed where the pattern allows; with the
    condition, whether it is a short list of recipients (which a query should drive from)."""
    found = few_candidates(session, field, pattern, unindexed(session))
    if found is not None:
        return Recipient.id.in_(_inlined("recipient_ids", {recipient_id for recipient_id, _ in found})), True
    exact: ColumnElement[bool] = getattr(Recipient, field).ilike(pattern, escape="\\")
    return exact, False


@dataclass(frozen=True)
class Tail:
    """The messages the search index pass has not reached: those with an id above the last it indexed.

    The pass takes messages in id order (ids start with the real time of the send, whatever the mirror
    clock says), each once it has settled, so everything up to its newest words row is indexed.
    """

    after: str | None  # the newest indexed message id (None: none yet, every message is in the tail)
    empty: bool

    def messages(self) -> Select[Any]:
        """The tail's message ids (a range of the primary key)."""
        query = select(Message.id)
        return query if self.after is None else query.where(Message.id > self.after)


def unindexed(session: Session) -> Tail:
    """The current tail (two primary-key lookups)."""
    after = session.scalar(select(func.max(MessageWords.message_id)))
    tail = Tail(after, empty=False)
    return Tail(after, empty=session.scalar(tail.messages().limit(1)) is None)


def unindexed_messages(session: Session) -> Select[Any]:
    return unindexed(session).messages()


def _inlined(name: str, values: set[str]) -> Any:
    """Values written into the statement (a set of thousands would pass a driver's limit on parameters)."""
    return bindparam(name, sorted(values), expanding=True, literal_execute=True, unique=True)


def _dialect(session: Session) -> str:
    bind: Any = session.get_bind()
    return str(bind.dialect.name)
