"""Accounts: creation, lookup and state changes with their on-enter effects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.db.models import Account, ApiKey
from app.domain import account_state, credentials
from app.domain.account_state import AccountState, Effect
from app.errors import BadRequest, NotFound


def create_account(
    session: Session,
    *,
    kind: str,
    parent_id: str | None = None,
    username: str | None = None,
    email: str | None = None,
    profile: dict[str, Any] | None = None,
    is_test: bool = False,
) -> Account:
    account = Account(
        id=credentials.new_account_id(),
        kind=kind,
        parent_id=parent_id,
        username=username,
        email=email,
        state=AccountState.ACTIVATED.value,
        disabled=False,
        is_test=is_test,
        profile=profile or {},
    )
    session.add(account)
    session.flush()
    return account


def by_username(session: Session, username: str) -> Account | None:
    return session.scalar(select(Account).where(Account.username == username))


def get_account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    return account


def set_state(session: Session, account: Account, target: AccountState) -> None:
    """Move an account to `target` and apply the state's effects in this transaction."""
    if not account_state.changes(account.state, target):
        return
    if not account_state.can_transition(account.state, target):
        raise BadRequest(f"account state cannot change from {account.state} to {target.value}", field="state")
    account.state = target.value
    for effect in account_state.on_enter(target):
        _EFFECTS[effect](session, account)
    session.flush()


def _family_ids(session: Session, account: Account) -> list[str]:
    children = session.scalars(select(Account.id).where(Account.parent_id == account.id)).all()
    return [account.id, *children]


def _deactivate_keys(session: Session, account: Account) -> None:
    session.execute(
        update(ApiKey)
        .where(ApiKey.account_id.in_(_family_ids(session, account)), ApiKey.active.is_(True))
        .values(active=False, disabled_by_state=True)
    )


def _restore_keys(session: Session, account: Account) -> None:
    session.execute(
        update(ApiKey)
        .where(ApiKey.account_id.in_(_family_ids(session, account)), ApiKey.disabled_by_state.is_(True))
        .values(active=True, disabled_by_state=False)
    )


def _remove_subusers(session: Session, account: Account) -> None:
    session.execute(delete(Account).where(Account.parent_id == account.id, Account.kind == "subuser"))


def _unassign_ips(session: Session, account: Account) -> None:
    """Dedicated IPs arrive with the IP endpoints; nothing is assigned before that."""


_EFFECTS = {
    Effect.DEACTIVATE_API_KEYS: _deactivate_keys,
    Effect.RESTORE_API_KEYS: _restore_keys,
    Effect.REMOVE_SUBUSERS: _remove_subusers,
    Effect.UNASSIGN_IPS: _unassign_ips,
}
