"""The account's suppression lists over HTTP: bounces, blocks, invalid emails, spam reports, global unsubscribes."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from app.kernel.db.base import as_utc
from app.kernel.errors import NotFound
from app.kernel.principal import Principal
from app.suppressions import service as suppressions
from app.suppressions.models import Suppression
from app.suppressions.request_rules import DeleteRequest, ListFilter
from app.suppressions.rules import Kind, address_key

DayCounts = list[tuple[date, list[tuple[str, int]]]]


def list_entries(session: Session, principal: Principal, kind: Kind, wanted: ListFilter) -> list[Suppression]:
    """The list's entries, newest first, filtered and paged as asked."""
    query = (
        select(Suppression).where(*_on_list(principal, kind)).order_by(Suppression.created_at.desc(), Suppression.email)
    )
    if wanted.since is not None:
        query = query.where(Suppression.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(Suppression.created_at <= wanted.until)
    if wanted.email_like is not None:
        query = query.where(Suppression.email.like(wanted.email_like, escape="\\"))
    if wanted.limit is not None:
        query = query.limit(wanted.limit)
    if wanted.offset:
        query = query.offset(wanted.offset)
    return list(session.scalars(query))


def get_entries(session: Session, principal: Principal, kind: Kind, email: str) -> list[Suppression]:
    """The entry for one address as a list of none or one (the spec's shape)."""
    query = select(Suppression).where(*_on_list(principal, kind), Suppression.email == address_key(email))
    return list(session.scalars(query))


def delete_entry(session: Session, principal: Principal, kind: Kind, email: str) -> None:
    """Take one address off the list; 404 when it is not there."""
    entry = delete(Suppression).where(*_on_list(principal, kind), Suppression.email == address_key(email))
    result = session.execute(entry)
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound()


def delete_entries(session: Session, principal: Principal, kind: Kind, request: DeleteRequest) -> None:
    """Empty the list, or take the given addresses off it (absent ones are ignored)."""
    statement = delete(Suppression).where(*_on_list(principal, kind))
    if not request.everything:
        statement = statement.where(Suppression.email.in_(request.emails))
    session.execute(statement)


def add_global(session: Session, principal: Principal, emails: Iterable[str], *, now: datetime) -> None:
    """Put addresses on the global unsubscribe list."""
    rows = [suppressions.entry_row(principal.account_id, "global_unsubscribe", e, created=now) for e in emails]
    suppressions.upsert(session.connection(), rows)


def is_globally_unsubscribed(session: Session, principal: Principal, email: str) -> bool:
    return bool(get_entries(session, principal, "global_unsubscribe", email))


def delete_global(session: Session, principal: Principal, email: str) -> None:
    """Take an address off the global unsubscribe list; absent is fine (SendGrid answers 204 either way)."""
    session.execute(
        delete(Suppression).where(*_on_list(principal, "global_unsubscribe"), Suppression.email == address_key(email))
    )


def classification_totals(session: Session, principal: Principal, start: date | None, end: date | None) -> DayCounts:
    """Bounces per day and classification, days oldest first, counts largest first."""
    return _per_day((day, classification) for day, classification, _ in _bounces(session, principal, start, end))


def classification_domains(
    session: Session, principal: Principal, classification: str, start: date | None, end: date | None
) -> DayCounts:
    """Bounces of one classification per day and recipient domain."""
    rows = _bounces(session, principal, start, end)
    return _per_day((day, email.rpartition("@")[2]) for day, kind, email in rows if kind == classification)


def _bounces(
    session: Session, principal: Principal, start: date | None, end: date | None
) -> list[tuple[date, str, str]]:
    query = select(Suppression.created_at, Suppression.classification, Suppression.email).where(
        *_on_list(principal, "bounce")
    )
    if start is not None:
        query = query.where(Suppression.created_at >= datetime.combine(start, time(), UTC))
    if end is not None:
        query = query.where(Suppression.created_at <= datetime.combine(end, time.max, UTC))
    return [(as_utc(created).date(), kind or "Unclassified", email) for created, kind, email in session.execute(query)]


def _per_day(pairs: Iterable[tuple[date, str]]) -> DayCounts:
    days: defaultdict[date, Counter[str]] = defaultdict(Counter)
    for day, name in pairs:
        days[day][name] += 1
    return [(day, sorted(days[day].items(), key=lambda item: (-item[1], item[0]))) for day in sorted(days)]


def _on_list(principal: Principal, kind: Kind) -> tuple[ColumnElement[bool], ...]:
    # group_id is 0 on these lists; saying so lets the list's index give the entries in creation order.
    return (Suppression.account_id == principal.account_id, Suppression.kind == kind, Suppression.group_id == 0)
