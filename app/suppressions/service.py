"""Suppression lists on the writer's connection: what mail send and the delivery simulator call.

`add` puts an address on a list (idempotent), `drop_reasons` tells which recipients of a send SendGrid would
drop and why, in one query. Both run inside the caller's transaction; neither commits.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Connection, update
from sqlalchemy.dialects import postgresql, sqlite

from app.kernel.db import bulk
from app.kernel.db.base import table_of
from app.kernel.db.writer import transaction_memo
from app.suppressions import rules
from app.suppressions.models import AsmGroup, Suppression
from app.suppressions.rules import NO_BYPASS, Bypass, Kind, bypass_for, bypass_from_settings

__all__ = [
    "NO_BYPASS",
    "Bypass",
    "add",
    "bypass_for",
    "bypass_from_settings",
    "drop_reasons",
    "note_group_send",
]

_SUPPRESSIONS = table_of(Suppression)
_ENTRY_KEY = ("account_id", "email", "kind", "group_id")


def add(
    conn: Connection,
    account_id: str,
    kind: str,
    email: str,
    *,
    reason: str | None = None,
    status: str | None = None,
    group_id: int | None = None,
    created: datetime,
    ip: str | None = None,
    classification: str | None = None,
) -> None:
    """Put `email` on the account's `kind` list; a repeat refreshes reason, status, ip and created."""
    row = entry_row(
        account_id, _kind(kind), email, reason=reason, status=status, group_id=group_id, created=created, ip=ip
    )
    if classification is not None:
        row["classification"] = classification
    upsert(conn, [row])


def entry_row(
    account_id: str,
    kind: Kind,
    email: str,
    *,
    created: datetime,
    reason: str | None = None,
    status: str | None = None,
    group_id: int | None = None,
    ip: str | None = None,
) -> dict[str, Any]:
    """The stored row of one list entry (email lower-cased, group 0 unless a group unsubscribe)."""
    if kind == "group_unsubscribe" and group_id is None:
        raise ValueError("a group unsubscribe needs its group_id")
    return {
        "account_id": account_id,
        "kind": kind,
        "group_id": group_id if kind == "group_unsubscribe" and group_id is not None else rules.NO_GROUP,
        "email": rules.address_key(email),
        "reason": reason,
        "status": status,
        "ip": ip,
        "classification": rules.classify_bounce(status) if kind == "bounce" else None,
        "created_at": created,
    }


def upsert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert list entries; an entry already there keeps its id and takes the new details."""
    if not rows:
        return
    memo = transaction_memo(conn)
    if memo is not None:
        memo.update({(_ANY_LISTED, row["account_id"]): True for row in rows})
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_SUPPRESSIONS).values(rows)
    refreshed = ("reason", "status", "ip", "classification", "created_at")
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=list(_ENTRY_KEY), set_={name: statement.excluded[name] for name in refreshed}
        )
    )


def drop_reasons(
    conn: Connection, account_id: str, emails: Collection[str], *, group_id: int | None, bypass: Bypass
) -> dict[str, str]:
    """The recipients SendGrid would drop, each with the dropped event's reason.

    Keys are the caller's strings (compared lower-cased). `group_id` is the send's asm.group_id: its
    unsubscribes count only then.
    """
    if not emails or bypass.bypasses_everything or not _lists_anyone(conn, account_id):
        return {}
    found: dict[str, set[str]] = {}
    for email, kind, group in _listed(conn, account_id, {email.lower() for email in emails}):
        if _drops(kind, group, group_id=group_id, bypass=bypass):
            found.setdefault(email, set()).add(kind)
    reasons = {email: reason for email, kinds in found.items() if (reason := rules.drop_reason(kinds)) is not None}
    return {email: reasons[email.lower()] for email in emails if email.lower() in reasons}


_ANY_LISTED = "suppressions: any listed"


def _lists_anyone(conn: Connection, account_id: str) -> bool:
    """Whether the account has any entry at all; in the writer, asked once per group commit and account
    (mail send asks per message, and most accounts list nobody)."""
    memo = transaction_memo(conn)
    key = (_ANY_LISTED, account_id)
    if memo is not None and key in memo:
        return bool(memo[key])
    marker = bulk.placeholder(conn)
    listed = bool(
        bulk.fetch(conn, f"SELECT 1 FROM {_SUPPRESSIONS.name} WHERE account_id = {marker} LIMIT 1", [account_id])
    )
    if memo is not None:
        memo[key] = listed
    return listed


def _drops(kind: str, group: int, *, group_id: int | None, bypass: Bypass) -> bool:
    if kind not in rules.DROP_PRIORITY:
        return False
    if kind == "group_unsubscribe":
        return group == group_id
    return not bypass.covers(cast(Kind, kind))


def _listed(conn: Connection, account_id: str, emails: set[str]) -> list[tuple[str, str, int]]:
    """(email, kind, group_id) of the account's entries for these addresses (mail send asks per message)."""
    rows = bulk.fetch(conn, _lookup_sql(bulk.placeholder(conn), len(emails)), [account_id, *emails])
    return [(row[0], row[1], row[2]) for row in rows]


@cache
def _lookup_sql(marker: str, count: int) -> str:
    emails = ", ".join([marker] * count)
    return f"SELECT email, kind, group_id FROM {_SUPPRESSIONS.name} WHERE account_id = {marker} AND email IN ({emails})"


def note_group_send(conn: Connection, account_id: str, group_id: int, *, sent_at: datetime) -> None:
    """Record that mail went out under an unsubscribe group (its `last_email_sent_at`)."""
    conn.execute(
        update(AsmGroup)
        .where(AsmGroup.id == group_id, AsmGroup.account_id == account_id)
        .values(last_email_sent_at=sent_at)
    )


def _kind(kind: str) -> Kind:
    if kind not in rules.KINDS:
        raise ValueError(f"unknown suppression list {kind!r}")
    return kind
