"""Unsubscribe groups (`/v3/asm/groups`) and the addresses unsubscribed from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, delete, func, select, update
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.kernel.errors import BadRequest, NotFound
from app.kernel.principal import Principal
from app.suppressions import lists as suppression_lists
from app.suppressions import request_rules as requests
from app.suppressions import service as suppressions
from app.suppressions.models import AsmGroup, Suppression
from app.suppressions.request_rules import GroupFields, NewGroup
from app.suppressions.rules import address_key

DUPLICATE_NAME = "Another suppression group with this name already exists"
TOO_MANY_GROUPS = f"You have reached the limit of {requests.MAX_GROUPS} suppression groups"


@dataclass(frozen=True, slots=True)
class GroupView:
    group: AsmGroup
    unsubscribes: int


@dataclass(frozen=True, slots=True)
class GroupSuppression:
    email: str
    group: AsmGroup
    created_at: datetime


def create(session: Session, principal: Principal, fields: NewGroup, *, now: datetime) -> AsmGroup:
    """A new group; names are unique per account and an account has at most MAX_GROUPS."""
    accounts.serialize_account_writes(session, principal.account_id)
    count = session.scalar(select(func.count()).where(AsmGroup.account_id == principal.account_id)) or 0
    if count >= requests.MAX_GROUPS:
        raise BadRequest(TOO_MANY_GROUPS)
    _require_unique_name(session, principal, fields.name, None)
    if fields.is_default:
        _clear_default(session, principal)
    group = AsmGroup(
        account_id=principal.account_id,
        name=fields.name,
        description=fields.description,
        is_default=fields.is_default,
        created_at=now,
    )
    session.add(group)
    session.flush()
    return group


def list_groups(session: Session, principal: Principal, ids: list[int]) -> list[GroupView]:
    """The account's groups (only those of `ids` when given), oldest first, with unsubscribe counts."""
    query = select(AsmGroup).where(AsmGroup.account_id == principal.account_id).order_by(AsmGroup.id)
    if ids:
        query = query.where(AsmGroup.id.in_(ids))
    groups = list(session.scalars(query))
    counts = _unsubscribe_counts(session, principal, [g.id for g in groups])
    return [GroupView(g, counts.get(g.id, 0)) for g in groups]


def get(session: Session, principal: Principal, raw_id: str) -> GroupView:
    group = _group(session, principal, raw_id)
    return GroupView(group, _unsubscribe_counts(session, principal, [group.id]).get(group.id, 0))


def update_group(session: Session, principal: Principal, raw_id: str, fields: GroupFields) -> GroupView:
    """Change the fields the body gives; making a group the default unsets the previous one."""
    group = _group(session, principal, raw_id)
    if fields.name is not None and fields.name != group.name:
        accounts.serialize_account_writes(session, principal.account_id)
        _require_unique_name(session, principal, fields.name, group.id)
        group.name = fields.name
    if fields.description is not None:
        group.description = fields.description
    if fields.is_default is not None:
        if fields.is_default:
            _clear_default(session, principal)
        group.is_default = fields.is_default
    session.flush()
    return get(session, principal, str(group.id))


def delete_group(session: Session, principal: Principal, raw_id: str) -> None:
    """Delete a group and its unsubscribes (mail to those addresses flows again)."""
    group = _group(session, principal, raw_id)
    session.execute(delete(Suppression).where(*_in_group(principal, group.id)))
    session.delete(group)


def add_emails(
    session: Session, principal: Principal, raw_id: str, emails: tuple[str, ...], *, now: datetime
) -> tuple[str, ...]:
    """Unsubscribe addresses from a group; a group that does not exist sends them to the global list."""
    group = _find(session, principal, raw_id)
    if group is None:
        suppression_lists.add_global(session, principal, emails, now=now)
        return emails
    rows = [
        suppressions.entry_row(principal.account_id, "group_unsubscribe", e, group_id=group.id, created=now)
        for e in emails
    ]
    suppressions.upsert(session.connection(), rows)
    return emails


def list_emails(session: Session, principal: Principal, raw_id: str) -> list[str]:
    group = _group(session, principal, raw_id)
    query = _group_entries(principal, group.id).with_only_columns(Suppression.email).order_by(Suppression.email)
    return list(session.scalars(query))


def search_emails(session: Session, principal: Principal, raw_id: str, emails: tuple[str, ...]) -> list[str]:
    """Those of `emails` unsubscribed from the group."""
    group = _group(session, principal, raw_id)
    query = (
        _group_entries(principal, group.id)
        .with_only_columns(Suppression.email)
        .where(Suppression.email.in_(emails))
        .order_by(Suppression.email)
    )
    return list(session.scalars(query))


def remove_email(session: Session, principal: Principal, raw_id: str, email: str) -> None:
    """Resubscribe an address to a group (absent addresses are fine)."""
    group = _group(session, principal, raw_id)
    session.execute(delete(Suppression).where(*_in_group(principal, group.id), Suppression.email == address_key(email)))


def all_suppressions(session: Session, principal: Principal) -> list[GroupSuppression]:
    """Every group unsubscribe of the account, with its group."""
    query = (
        select(Suppression.email, AsmGroup, Suppression.created_at)
        .join(AsmGroup, AsmGroup.id == Suppression.group_id)
        .where(
            Suppression.account_id == principal.account_id,
            Suppression.kind == "group_unsubscribe",
            AsmGroup.account_id == principal.account_id,
        )
        .order_by(Suppression.email, AsmGroup.id)
    )
    return [GroupSuppression(email, group, created) for email, group, created in session.execute(query)]


def groups_for_email(session: Session, principal: Principal, email: str) -> list[tuple[AsmGroup, bool]]:
    """Every group of the account, each with whether `email` is unsubscribed from it."""
    groups = list(
        session.scalars(select(AsmGroup).where(AsmGroup.account_id == principal.account_id).order_by(AsmGroup.id))
    )
    query = select(Suppression.group_id).where(
        Suppression.account_id == principal.account_id,
        Suppression.kind == "group_unsubscribe",
        Suppression.email == address_key(email),
    )
    suppressed = set(session.scalars(query))
    return [(group, group.id in suppressed) for group in groups]


def _group(session: Session, principal: Principal, raw_id: str) -> AsmGroup:
    group = _find(session, principal, raw_id)
    if group is None:
        raise NotFound()
    return group


def _find(session: Session, principal: Principal, raw_id: str) -> AsmGroup | None:
    group_id = requests.group_id(raw_id)
    group = session.get(AsmGroup, group_id) if group_id is not None else None
    return group if group is not None and group.account_id == principal.account_id else None


def _require_unique_name(session: Session, principal: Principal, name: str, own_id: int | None) -> None:
    query = select(AsmGroup.id).where(AsmGroup.account_id == principal.account_id, AsmGroup.name == name)
    found = session.scalar(query)
    if found is not None and found != own_id:
        raise BadRequest(DUPLICATE_NAME, field="name")


def _clear_default(session: Session, principal: Principal) -> None:
    session.execute(
        update(AsmGroup)
        .where(AsmGroup.account_id == principal.account_id, AsmGroup.is_default)
        .values(is_default=False)
    )


def _unsubscribe_counts(session: Session, principal: Principal, group_ids: list[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    query = (
        select(Suppression.group_id, func.count())
        .where(
            Suppression.account_id == principal.account_id,
            Suppression.kind == "group_unsubscribe",
            Suppression.group_id.in_(group_ids),
        )
        .group_by(Suppression.group_id)
    )
    return {group_id: count for group_id, count in session.execute(query)}


def _in_group(principal: Principal, group_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        Suppression.account_id == principal.account_id,
        Suppression.kind == "group_unsubscribe",
        Suppression.group_id == group_id,
    )


def _group_entries(principal: Principal, group_id: int) -> Select[Suppression]:
    return select(Suppression).where(*_in_group(principal, group_id))
